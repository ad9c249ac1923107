"""What every method gives the training loop: `training_step` on the step's views, `check_sizes`, and the
backbone to evaluate."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class StepOutput:
    loss: torch.Tensor
    metrics: dict[str, float] = field(default_factory=dict)


class Method(nn.Module):
    """Base class. Subclasses set `name` and `default_policy` and implement `training_step`."""

    name = "method"
    default_policy = "mocov2"
    # views of each item the step draws for the method (`ssl_kit.augment.step_views`): two of each image, or one
    # of each member of a given pair (two frames of a video, a region tracked in time); one for supervised
    n_views = 2
    # buffers that hold NaN on purpose until they are first set: skipped by the finite check of checkpoints
    unset_nan_buffers: tuple[str, ...] = ()

    def training_step(
        self, views: list[torch.Tensor], index: torch.Tensor, labels: torch.Tensor
    ) -> StepOutput:
        """The loss of one step on `views` (`n_views` normalised float tensors (B, 3, S, S), view-major: views[0]
        holds every item's first view), the items' `index` into the source and their `labels`."""
        raise NotImplementedError

    def check_sizes(self, batch_size: int, dataset_size: int) -> None:
        """Refuse, with a ConfigError, a batch or data size the method cannot train with; any size by default."""

    def forward(self, views, index, labels) -> StepOutput:
        """`forward` is the training step, so that DistributedDataParallel can wrap the whole method."""
        return self.training_step(views, index, labels)

    def feature_backbone(self) -> nn.Module:
        """The network whose pool5 features are evaluated (kNN, probes, invariance)."""
        raise NotImplementedError
