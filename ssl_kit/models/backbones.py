"""torchvision ResNets as trunks that return pooled features (pool5, after ReLU, 512-d or 2048-d), and
`resnet18_w32`, a ResNet-18 of half the width (256-d) for CPU budgets.

`small_stem=True` replaces the 7x7/2 convolution and the max-pool with a 3x3/1 convolution, the usual
change for inputs of 64 px or less (CIFAR-style): the last feature map stays large enough to mean something.
Plain convolutions become `SmallMapConv2d` (same parameters; a faster weight gradient on tiny CPU maps).
Every layer keeps its torchvision name (`conv1`, `layer3.1.conv2`, `avgpool`, ...), so weights from
torchvision, MoCo or VISSL checkpoints load by name and any layer can be tapped for features.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models import resnet18, resnet34, resnet50
from torchvision.models.resnet import BasicBlock, ResNet

from ssl_kit.errors import ConfigError
from ssl_kit.models.small_map_conv import use_small_map_convs


class NarrowResNet18(ResNet):
    """ResNet-18 with `width` channels in its first stage instead of 64 (then 2x, 4x, 8x), same depth and layer
    names; at width 32 it costs a quarter of the compute. Initialised as torchvision initialises ResNets."""

    def __init__(self, width: int = 32, zero_init_residual: bool = False):
        super().__init__(BasicBlock, [2, 2, 2, 2])
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._make_layer(BasicBlock, width, 2)
        self.layer2 = self._make_layer(BasicBlock, width * 2, 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, width * 4, 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, width * 8, 2, stride=2)
        self.fc = nn.Linear(width * 8, 1000)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)


def resnet18_w32(weights=None, zero_init_residual: bool = False) -> ResNet:
    if weights is not None:
        raise ConfigError("resnet18_w32 has no pretrained weights")
    return NarrowResNet18(32, zero_init_residual)


ARCHS = {"resnet18": resnet18, "resnet18_w32": resnet18_w32, "resnet34": resnet34, "resnet50": resnet50}


def build_backbone(
    arch: str = "resnet18", small_stem: bool = False, zero_init_residual: bool = False
) -> nn.Module:
    """A ResNet with `fc = Identity`: `model(x)` is the (B, D) pool5 feature. No weights are downloaded."""
    if arch not in ARCHS:
        raise ConfigError(f"unknown architecture {arch!r} (expected one of {', '.join(ARCHS)})")
    model = ARCHS[arch](weights=None, zero_init_residual=zero_init_residual)
    if small_stem:
        model.conv1 = nn.Conv2d(3, model.conv1.out_channels, kernel_size=3, stride=1, padding=1, bias=False)
        nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
        model.maxpool = nn.Identity()
    model.feature_dim = model.fc.in_features
    model.fc = nn.Identity()
    return use_small_map_convs(model)  # a CPU speed-up for the last stages' tiny maps (see small_map_conv.py)


def feature_dim(model: nn.Module) -> int:
    if hasattr(model, "feature_dim"):
        return int(model.feature_dim)
    with torch.no_grad():
        return int(model(torch.zeros(2, 3, 32, 32)).shape[1])
