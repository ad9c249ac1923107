"""What changes with the step, in one place: the learning rate, the views' size and MoCo's key momentum.

`prepare` builds a run's `Schedule` from its config; each step asks it once (`schedule.set(step)`), which sets
the optimizer's learning rate and the method's key momentum for that step and returns the step's learning rate
and view size. The step itself knows none of the recipe options behind them (warm-up, the batch-norm learning
rate multiple, progressive resolution, the key-momentum schedule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


def learning_rate(base: float, step: int, total: int, warmup_steps: int) -> float:
    """Linear warm-up over `warmup_steps`, then a cosine decay to zero over the rest of the `total` steps."""
    if step < warmup_steps:
        return base * (step + 1) / warmup_steps
    t = (step - warmup_steps) / max(1, total - warmup_steps)
    return base * 0.5 * (1 + math.cos(math.pi * t))


def view_size(crop_size: int, progressive_from: int | None, step: int, total: int) -> int:
    """The side of step `step`'s views: `crop_size`, or with `progressive_from` growing from it in steps of 4 px
    to `crop_size` over the first half of the run (progressive resolution: early steps on small views are
    cheaper, and the second half trains at the full size the network is evaluated at)."""
    start = progressive_from
    if start is None or start >= crop_size:
        return crop_size
    t = min(1.0, step / max(1, total // 2))
    return min(crop_size, start + int(t * (crop_size - start + 4)) // 4 * 4)


def key_momentum(start: float, end: float | None, step: int, total: int) -> float:
    """The key encoder's momentum at `step` of `total`: constant `start`, or from `start` up to `end` along a half
    cosine (BYOL, Grill et al. 2020: 1 - (1 - m0) (cos(pi t / T) + 1) / 2 when the end is 1)."""
    if end is None:
        return start
    return end - (end - start) * (math.cos(math.pi * step / max(1, total)) + 1) / 2


@dataclass
class Schedule:
    """The step-dependent values of one run (see the module doc). Each optimizer group's `lr_scale` multiplies
    the learning rate (the batch-norm group of `bn_lr_scale`); `momentum_end` None keeps the key momentum the
    method was built with."""

    opt: torch.optim.Optimizer
    method: nn.Module
    lr: float
    total: int  # steps of the whole schedule (the cosine spans them, whatever `max_steps` stops at)
    warmup_steps: int
    crop_size: int
    progressive_from: int | None = None
    momentum: float | None = None
    momentum_end: float | None = None

    def set(self, step: int) -> tuple[float, int]:
        """Set step `step`'s learning rate and key momentum; returns its learning rate and view size."""
        lr = learning_rate(self.lr, step, self.total, self.warmup_steps)
        for group in self.opt.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        if self.momentum is not None and self.momentum_end is not None:  # a method with a key encoder
            self.method.momentum = key_momentum(self.momentum, self.momentum_end, step, self.total)
        return lr, view_size(self.crop_size, self.progressive_from, step, self.total)
