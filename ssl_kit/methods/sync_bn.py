"""Batch norm over the global batch of all processes (`--sync-bn`), on every device torch.distributed runs on.

Under DDP each process normalises its own share of the batch by default (per-GPU batch norm). With
`sync_bn`, every BatchNorm2d takes its mean and variance over the whole global batch, so a run on W processes
of B/W images each computes what one process computes on B images (the kit's two-process test). On CUDA this is
torch's `nn.SyncBatchNorm`; torch's refuses CPU tensors, so elsewhere it is `GlobalBatchNorm2d`: the same
statistics from two differentiable all-reduces (the per-channel sum, then the sum of squared deviations from the
global mean), whose backward sums each process's gradient as SyncBatchNorm's does. Both keep BatchNorm2d's
parameters and buffers, so a checkpoint loads into a plain network.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
from torch import nn

from ssl_kit.common import distributed as D


def _global_sum(x: torch.Tensor) -> torch.Tensor:
    """The sum over every process of `x`, with the gradient of every process's use of it flowing back."""
    return dist_fn.all_reduce(x, op=dist.ReduceOp.SUM) if D.is_distributed() else x


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the global batch over all processes.

    In one process it is BatchNorm2d. In eval mode, or without tracked statistics at eval, it is BatchNorm2d too.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and D.is_distributed() and D.world_size() > 1):
            return super().forward(x)
        c = x.shape[1]
        xf = x if x.dtype in (torch.float32, torch.float64) else x.float()  # statistics in float32 at least
        count = _global_sum(torch.tensor([float(x.numel() // c)], device=x.device))
        mean = _global_sum(xf.sum(dim=(0, 2, 3))) / count
        centred = xf - mean.view(1, c, 1, 1)
        var = _global_sum(centred.square().sum(dim=(0, 2, 3))) / count  # biased: what normalises
        out = centred * torch.rsqrt(var + self.eps).view(1, c, 1, 1)
        if self.affine:
            out = out * self.weight.view(1, c, 1, 1) + self.bias.view(1, c, 1, 1)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                n = float(count)
                unbiased = var.detach() * (n / max(n - 1.0, 1.0))
                self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), m)
                self.running_var.lerp_(unbiased.to(self.running_var.dtype), m)
        return out.to(x.dtype)


def sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """`module` with every BatchNorm2d made global-batch (torch's SyncBatchNorm on CUDA, GlobalBatchNorm2d
    elsewhere), parameters and statistics kept."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            new = GlobalBatchNorm2d(
                child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats
            )
            # the same parameter and buffer objects: values, devices and requires_grad (MoCo's key encoder) kept
            for key, value in [*child.named_parameters(recurse=False), *child.named_buffers(recurse=False)]:
                setattr(new, key, value)
            new.train(child.training)
            setattr(module, name, new)
        else:
            sync_batchnorm(child, device)
    return module
