"""An encoder = a backbone (pool5 features) + an optional projection head; and split batch norm.

`SplitBatchNorm2d` normalises each of `num_splits` interleaved sub-batches with its own statistics, which
emulates the per-GPU batch norm of multi-GPU training on one device (MoCo's shuffling-BN argument relies on
keys and queries seeing different sub-batch statistics).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssl_kit.models import LinearHead, MLPHead, build_backbone


class Encoder(nn.Module):
    def __init__(self, backbone: nn.Module, head: nn.Module | None):
        super().__init__()
        self.backbone = backbone
        self.head = head if head is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def make_encoder(arch: str, small_stem: bool, head: str, dim: int = 128) -> Encoder:
    """`head` is "linear" (MoCo v1, PIRL), "mlp" (MoCo v2, SimCLR) or "none"."""
    backbone = build_backbone(arch, small_stem)
    d = backbone.feature_dim
    heads = {"linear": lambda: LinearHead(d, dim), "mlp": lambda: MLPHead(d, dim), "none": lambda: None}
    return Encoder(backbone, heads[head]())


class SplitBatchNorm2d(nn.BatchNorm2d):
    """Batch norm over `num_splits` interleaved sub-batches (sample i belongs to split i % num_splits)."""

    def __init__(self, num_features: int, num_splits: int, **kw):
        super().__init__(num_features, **kw)
        self.num_splits = num_splits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        s = self.num_splits
        if not self.training or s <= 1 or n % s:
            return super().forward(x)
        mean = self.running_mean.repeat(s)
        var = self.running_var.repeat(s)
        out = F.batch_norm(
            x.reshape(n // s, c * s, h, w),
            mean,
            var,
            self.weight.repeat(s),
            self.bias.repeat(s),
            True,
            self.momentum if self.momentum is not None else 0.1,
            self.eps,
        ).reshape(n, c, h, w)
        with torch.no_grad():
            self.running_mean.copy_(mean.view(s, c).mean(0))
            self.running_var.copy_(var.view(s, c).mean(0))
            self.num_batches_tracked += 1
        return out


def split_batchnorm(module: nn.Module, num_splits: int) -> nn.Module:
    """Replace every BatchNorm2d in `module` by a SplitBatchNorm2d with the same parameters and buffers."""
    if num_splits <= 1:
        return module
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d) and not isinstance(child, SplitBatchNorm2d):
            new = SplitBatchNorm2d(child.num_features, num_splits, eps=child.eps, momentum=child.momentum)
            new.load_state_dict(child.state_dict())
            setattr(module, name, new)
        else:
            split_batchnorm(child, num_splits)
    return module
