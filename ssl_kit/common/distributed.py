"""Thin helpers over torch.distributed that also work (as no-ops) in a single process."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    return rank() == 0


def init_from_env(device: torch.device) -> bool:
    """Join the process group that `torchrun` describes in the environment (NCCL on CUDA, gloo on CPU).

    Returns True when running distributed. A single process (no WORLD_SIZE, or 1) stays local.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or is_distributed():
        return is_distributed()
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend)
    return True


def local_device(device: torch.device) -> torch.device:
    """This process's device: under torchrun on CUDA, the GPU `LOCAL_RANK` of this machine (made current), so
    that the processes of one machine use one GPU each; otherwise `device` unchanged."""
    if device.type == "cuda" and device.index is None and "LOCAL_RANK" in os.environ:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    return device


def from_main(obj):
    """Rank 0's `obj` on every rank (pickled over the process group; `obj` of the other ranks is ignored): what
    only rank 0 may read, e.g. the run folder on a machine the others do not share."""
    if not is_distributed():
        return obj
    box = [obj if is_main() else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


@torch.no_grad()
def concat_all_gather(x: torch.Tensor) -> torch.Tensor:
    """All ranks' `x` concatenated along dim 0, in rank order (no gradient)."""
    if not is_distributed():
        return x
    parts = [torch.empty_like(x) for _ in range(world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def local_rows(x: torch.Tensor, n_local: int) -> torch.Tensor:
    """This rank's `n_local` rows of `x`, drawn for the global batch (`world_size() * n_local` rows, ranks in
    order): randomness drawn this way from one seed does not depend on how the batch is split over processes."""
    return x[rank() * n_local : (rank() + 1) * n_local]


def broadcast_(x: torch.Tensor, src: int = 0) -> torch.Tensor:
    if is_distributed():
        dist.broadcast(x, src)
    return x
