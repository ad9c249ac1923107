"""What a run holds while it trains (`Run`): built by `prepare`, read and updated by the step and the hooks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ssl_kit.augment.policy import AugmentPolicy
from ssl_kit.batches import BatchSource, Steps
from ssl_kit.methods import Method
from ssl_kit.runs.config import TrainConfig
from ssl_kit.training.schedule import Schedule


@dataclass
class Run:
    """What a run holds while it trains: built by `prepare`, read by the step and the hooks."""

    cfg: TrainConfig  # resolved, with its input mode decided
    out: Path  # the run folder
    device: torch.device
    method: Method  # the network being trained
    model: nn.Module  # `method`, wrapped for DDP when distributed: what the step calls
    opt: torch.optim.Optimizer
    schedule: Schedule  # the learning rate, view size and key momentum of each step
    source: BatchSource
    policy: AugmentPolicy  # what the device applies to a batch (`source.device_policy`)
    steps: Steps  # the steps this call takes: `steps.start` (0, or the resumed step) .. `steps.last` - 1
    steps_per_epoch: int
    identity: dict | None  # the data's identity, saved with each checkpoint
    good_step: int | None  # the step of the last checkpoint checked finite (None: none yet)
