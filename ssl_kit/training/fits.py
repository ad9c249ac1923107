"""Will a run fit in memory? A lower bound on what it needs, checked before its data is read or its network built.

A run holds its network's weights and buffers (MoCo's queue, PIRL's memory bank), a gradient and a momentum for
each trainable weight, the activations one step keeps for the backward pass, and with `--input memory` its
training images. The network is built on PyTorch's meta device (shapes only, no memory) to count the first
three: the activations are the outputs of its convolutions at `crop_size` for one view of each image of a batch,
at 2 bytes (bf16) each, which every real step exceeds. A run whose bound exceeds the memory available is
refused with the bound, its parts and the flags that set them (`ssl_kit.common.memory_budget.check_fits`); so
is a run whose `out` has no room on its disk for one checkpoint.
"""

from __future__ import annotations

import torch
from torch import nn

from ssl_kit.common.memory_budget import check_fits
from ssl_kit.common.writable import check_room
from ssl_kit.data.memory import resident_bytes
from ssl_kit.runs.config import TrainConfig, method_from_config

_ACTIVATION_BYTES = 2  # bf16: the smallest a step keeps an activation in


def conv_outputs(backbone: nn.Module, size: int) -> int:
    """Elements the convolutions of `backbone` (built on the meta device: shapes only) output for one `size` x
    `size` image."""
    count = [0]
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: count.__setitem__(0, count[0] + out.numel()))
        for m in backbone.modules()
        if isinstance(m, nn.Conv2d)
    ]
    training = backbone.training
    try:
        with torch.no_grad():
            backbone.eval()(torch.empty(1, 3, size, size, device="meta"))  # eval: batch norm of one image
    finally:
        backbone.train(training)
        for h in hooks:
            h.remove()
    return count[0]


def run_memory(cfg: TrainConfig, num_classes: int, dataset_size: int, held_images: int = 0) -> dict[str, int]:
    """A lower bound on the memory the run `cfg` (resolved) needs, in bytes, by what it holds."""
    with torch.device("meta"):
        method = method_from_config(cfg, num_classes, dataset_size)
    state = sum(t.numel() * t.element_size() for t in method.state_dict().values())
    trained = sum(p.numel() * p.element_size() for p in method.parameters() if p.requires_grad)
    activations = cfg.batch_size * conv_outputs(method.feature_backbone(), cfg.crop_size) * _ACTIVATION_BYTES
    parts = {
        f"the network's weights and buffers (--arch {cfg.arch}"
        + (f", --queue-size {cfg.queue_size}" if getattr(method, "queue", None) is not None else "")
        + ")": state,
        "a gradient and a momentum per weight": 2 * trained,
        f"one step's activations (--batch-size {cfg.batch_size} at --crop-size {cfg.crop_size})": activations,
    }
    if held_images:
        parts[f"the {held_images} training images held at --image-size {cfg.image_size}"] = resident_bytes(
            held_images, cfg.image_size
        )
    return parts


def checkpoint_bytes(parts: dict[str, int]) -> int:
    """About what a checkpoint of the run takes on disk: its weights and buffers, and the optimizer's momentum
    (`run_memory`'s parts)."""
    state = next(v for k, v in parts.items() if k.startswith("the network's weights"))
    return state + parts["a gradient and a momentum per weight"] // 2


def check_run_fits(
    cfg: TrainConfig, num_classes: int, dataset_size: int, held_images: int, device: torch.device
) -> None:
    """Refuse the run `cfg` when `run_memory`'s bound exceeds the memory available on `device`, or when the
    disk of its `out` has no room for one checkpoint."""
    parts = run_memory(cfg, num_classes, dataset_size, held_images)
    check_fits(parts, "this run", "lower the largest part (the flags are named above)", device)
    check_room(cfg.out, checkpoint_bytes(parts), "a checkpoint of this run", "--out")
