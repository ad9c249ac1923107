"""torchvision ResNets as trunks that return pooled features (pool5, after ReLU, 512-d or 2048-d).

`small_stem=True` replaces the 7x7/2 convolution and the max-pool with a 3x3/1 convolution, the usual
change for inputs of 64 px or less (CIFAR-style): the last feature map stays large enough to mean something.
Every layer keeps its torchvision name (`conv1`, `layer3.1.conv2`, `avgpool`, ...), so weights from
torchvision, MoCo or VISSL checkpoints load by name and any layer can be tapped for features.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models import resnet18, resnet34, resnet50

from ssl_kit.errors import ConfigError

ARCHS = {"resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50}


def build_backbone(
    arch: str = "resnet18", small_stem: bool = False, zero_init_residual: bool = False
) -> nn.Module:
    """A ResNet with `fc = Identity`: `model(x)` is the (B, D) pool5 feature. No weights are downloaded."""
    if arch not in ARCHS:
        raise ConfigError(f"unknown architecture {arch!r} (expected one of {', '.join(ARCHS)})")
    model = ARCHS[arch](weights=None, zero_init_residual=zero_init_residual)
    if small_stem:
        model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
        model.maxpool = nn.Identity()
    model.feature_dim = model.fc.in_features
    model.fc = nn.Identity()
    return model


def feature_dim(model: nn.Module) -> int:
    if hasattr(model, "feature_dim"):
        return int(model.feature_dim)
    with torch.no_grad():
        return int(model(torch.zeros(2, 3, 32, 32)).shape[1])
