"""What every method gives the training loop: `training_step`, its hooks (`check_sizes`, `on_step`) and the
backbone to evaluate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

# images (uint8, B x 3 x H x W, on the device) -> one augmented, normalised float view
ViewFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class StepOutput:
    loss: torch.Tensor
    metrics: dict[str, float] = field(default_factory=dict)


def given_views(images: torch.Tensor, view: ViewFn) -> list[torch.Tensor]:
    """The views of (B, V, 3, H, W) images, each passed through `view` in one batched call: V tensors (B, ...)."""
    b, v = images.shape[:2]
    return list(view(images.transpose(0, 1).flatten(0, 1)).chunk(v))


class Method(nn.Module):
    """Base class. Subclasses set `name` and `default_policy` and implement `training_step`."""

    name = "method"
    default_policy = "mocov2"
    # views of each image a step takes: with images (B, 3, H, W) the method draws them with `view`; with
    # (B, n_views, 3, H, W) they are given (video pairs, or crops of the original images when streaming) and
    # `view` applies the rest of the augmentation to each
    n_views = 2
    # buffers that hold NaN on purpose until they are first set: skipped by the finite check of checkpoints
    unset_nan_buffers: tuple[str, ...] = ()

    def training_step(
        self, images: torch.Tensor, index: torch.Tensor, labels: torch.Tensor, view: ViewFn
    ) -> StepOutput:
        raise NotImplementedError

    def check_sizes(self, batch_size: int, dataset_size: int) -> None:
        """Refuse, with a ConfigError, a batch or data size the method cannot train with; any size by default."""

    def on_step(self, step: int, total: int) -> None:
        """Called before training step `step` of `total` (e.g. MoCo's key-momentum schedule); nothing by default."""

    def forward(self, images, index, labels, view: ViewFn) -> StepOutput:
        """`forward` is the training step, so that DistributedDataParallel can wrap the whole method."""
        return self.training_step(images, index, labels, view)

    def feature_backbone(self) -> nn.Module:
        """The network whose pool5 features are evaluated (kNN, probes, invariance)."""
        raise NotImplementedError
