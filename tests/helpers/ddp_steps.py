"""A few training steps of every method, in one process or as one of several under torchrun (tests/training/test_ddp.py).

    python tests/helpers/ddp_steps.py OUT.json                                  # one process, the global batch
    python -m torch.distributed.run --nproc_per_node 2 tests/helpers/ddp_steps.py OUT.json   # each rank half of it

Each case builds its method with the loop's own `build` (with `sync_bn`), wraps it with the loop's `distributed`
(DDP under torchrun) and takes STEPS SGD steps on a fixed global batch of BATCH images, each rank its rows of
it. Views are a fixed normalisation (so that a view does not depend on the rank that makes it) and the global
RNG is seeded alike on every rank before each step, so what a method draws (MoCo's key shuffle, PIRL's jigsaw
and negatives) may depend on the seed but must not depend on how the batch is split. Rank 0 writes, per case:
the global loss of each step, a summary of the first step's gradients, of the final weights and of the buffers
(queue, memory bank, batch-norm statistics), whether all ranks hold the same weights and buffers, and whether
DDP broadcasts buffers. A summary is, per tensor, its sum, its norm and its projection on a random vector
seeded by its name: enough to tell two tensors apart without writing millions of numbers.
"""

from __future__ import annotations

import json
import os
import sys
import zlib

import torch
import torch.distributed as dist

from ssl_kit.common import distributed as D
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.training.prepare import build, distributed, sgd

BATCH, STEPS, N, CLASSES, SIZE = 8, 3, 24, 4, 32
DTYPE = getattr(torch, os.environ.get("DDP_STEPS_DTYPE", "float32"))
CASES = {
    "mocov1": dict(method="mocov1", queue_size=16),
    "mocov2": dict(method="mocov2", queue_size=16),
    "mocov2_symmetric": dict(method="mocov2", queue_size=32, symmetric=True),
    "simclr": dict(method="simclr"),
    "pirl_nce": dict(method="pirl", pirl_loss="nce", num_negatives=8),
    "pirl_infonce": dict(method="pirl", pirl_loss="infonce", num_negatives=8),
    "supervised": dict(method="supervised"),
    "fti": dict(method="fti", queue_size=16),  # the video methods: MoCo v2 on (B, 2, ...) positive pairs
}


def summary(name: str, t: torch.Tensor) -> list[float]:
    t = t.detach().double().flatten()
    r = torch.randn(
        t.numel(), generator=torch.Generator().manual_seed(zlib.crc32(name.encode())), dtype=t.dtype
    )
    return [t.sum().item(), t.norm().item(), (t * r).sum().item()]


def run_case(name: str, overrides: dict, device: torch.device) -> dict:
    print(f"case {name}", file=sys.stderr, flush=True)
    cfg = resolve(
        TrainConfig(scale="smoke", arch="resnet18_w32", batch_size=BATCH, sync_bn=True, **overrides)
    )
    method = build(cfg, CLASSES, N, device).to(DTYPE)
    model = distributed(method, device)
    opt = sgd(method, 0.05, cfg.sgd_momentum, cfg.weight_decay)
    data = torch.Generator().manual_seed(1)
    pairs = overrides["method"] == "fti"
    shape = (N, 2, 3, SIZE, SIZE) if pairs else (N, 3, SIZE, SIZE)
    images = torch.randint(0, 256, shape, generator=data, dtype=torch.uint8)
    labels = torch.randint(0, CLASSES, (N,), generator=data)
    local = BATCH // D.world_size()

    def views(x):  # a fixed normalisation of each of the method's views (each member of a given pair)
        x = x if x.ndim == 5 else x.unsqueeze(1).expand(-1, method.n_views, -1, -1, -1)
        return [
            ((v.to(DTYPE) / 255 - 0.5) / 0.25).contiguous(memory_format=torch.channels_last)
            for v in x.unbind(1)
        ]

    losses, grads = [], {}
    for step in range(STEPS):
        idx = D.local_rows(torch.arange(step * BATCH, (step + 1) * BATCH) % N, local)
        torch.manual_seed(100 + step)  # alike on every rank
        method.train()
        result = model(views(images[idx]), idx, labels[idx])
        opt.zero_grad(set_to_none=True)
        result.loss.backward()
        if step == 0:
            grads = {n: summary(n, p.grad) for n, p in method.named_parameters() if p.grad is not None}
        opt.step()
        loss = result.loss.detach().reshape(1).clone()
        if D.is_distributed():
            dist.all_reduce(loss)
            loss /= D.world_size()
        losses.append(loss.item())
    state = {n: t for n, t in method.state_dict().items() if not n.endswith("num_batches_tracked")}
    flat = torch.cat([t.detach().double().flatten() for t in state.values()]).nan_to_num(
        nan=0.0
    )  # log_z: NaN until set
    copies = D.concat_all_gather(flat[None])
    return {
        "loss": losses,
        "grad0": grads,
        "state": {n: summary(n, t) for n, t in state.items()},
        "ranks_agree": all(torch.equal(copies[0], c) for c in copies),
        "broadcast_buffers": getattr(model, "broadcast_buffers", None),
    }


def main(out: str) -> None:
    device = torch.device("cpu")
    D.init_from_env(device)
    torch.set_num_threads(1)
    result = {"world": D.world_size(), "cases": {n: run_case(n, o, device) for n, o in CASES.items()}}
    if D.is_main():
        with open(out, "w") as f:
            json.dump(result, f)
    if D.is_distributed():
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
