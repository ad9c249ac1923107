"""The supervised baseline: the same backbone, a linear classifier, cross entropy on category labels."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from ssl_kit.methods.base import Method, StepOutput
from ssl_kit.models import build_backbone


class Supervised(Method):
    name = "supervised"
    default_policy = "supervised"
    n_views = 1

    def __init__(self, num_classes: int, arch: str = "resnet18", small_stem: bool = False):
        super().__init__()
        self.backbone = build_backbone(arch, small_stem)
        self.classifier = nn.Linear(self.backbone.feature_dim, num_classes)

    def feature_backbone(self) -> nn.Module:
        return self.backbone

    def training_step(self, views, index, labels) -> StepOutput:
        (x,) = views
        logits = self.classifier(self.backbone(x))
        loss = F.cross_entropy(logits.float(), labels)
        return StepOutput(loss, {"train_acc": (logits.argmax(1) == labels).float().mean().item()})
