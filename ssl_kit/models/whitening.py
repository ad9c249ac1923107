"""A frozen patch-whitening first layer: the filters of a network's first convolution set from the training
images instead of learned (Keller Jordan's airbench, the CIFAR-10 speed runs, credits it with its largest
single gain).

The image patches the first convolution sees (C x k x k numbers each) are strongly correlated: neighbouring
pixels and channels mostly agree. The eigenvectors of their second-moment matrix are the directions of
variation, largest first; a filter `v / sqrt(lambda + eps)` projects a patch on one of them and scales it to
unit variance. The first layer keeps the `out_channels / 2` leading eigenvectors, each with its negative (so the
ReLU after it passes both signs), and is frozen: from the first step the rest of the network sees decorrelated
inputs of equal scale, and no gradient is spent on learning edge and colour detectors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssl_kit.common.imagenet import IMAGENET_MEAN, IMAGENET_STD

EPS = 1e-2  # added to each eigenvalue: the kept directions' scale stays finite for a flat set of images


def normalised(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) images as the network sees them: scaled to [0, 1], normalised with ImageNet's mean/std."""
    x = images.float() / 255
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def whitening_filters(
    images: torch.Tensor, kernel: int, out_channels: int, max_patches: int = 100_000, seed: int = 0
) -> torch.Tensor:
    """Filters (out_channels, C, kernel, kernel) that whiten the `kernel` x `kernel` patches of `images`.

    `images`: float (N, C, H, W), as the network sees them. At most `max_patches` patches (drawn with `seed`)
    estimate the second-moment matrix; its `out_channels // 2` leading eigenvectors, each scaled by
    1 / sqrt(eigenvalue + EPS), are the first half of the filters and their negatives the second half."""
    n, c, h, w = images.shape
    dims = c * kernel * kernel
    if out_channels % 2 or out_channels // 2 > dims:
        raise ValueError(
            f"out_channels must be even and at most twice the patch size ({2 * dims}), got {out_channels}"
        )
    if h < kernel or w < kernel:
        raise ValueError(f"images of {h}x{w} px hold no {kernel}x{kernel} patch")
    patches = F.unfold(images.float(), kernel).transpose(1, 2).reshape(-1, dims)  # (N * positions, dims)
    if len(patches) > max_patches:
        generator = torch.Generator().manual_seed(seed)
        patches = patches[torch.randperm(len(patches), generator=generator)[:max_patches].to(patches.device)]
    moment = patches.T.double() @ patches.double() / len(patches)
    values, vectors = torch.linalg.eigh(moment)  # ascending
    keep = out_channels // 2
    values, vectors = values.flip(0)[:keep], vectors.flip(1)[:, :keep]
    filters = (vectors / torch.sqrt(values.clamp_min(0) + EPS)).T.reshape(keep, c, kernel, kernel)
    return torch.cat([filters, -filters]).float()


def whiten_stems(method: nn.Module, images: torch.Tensor, seed: int = 0) -> int:
    """Set the first convolution (`conv1`) of every backbone in `method` (a MoCo's query and key encoders alike,
    or a bare backbone) to the whitening filters of `images` (uint8 (N, 3, H, W)) and freeze it. Returns how
    many were set."""
    backbones = [m for name, m in method.named_modules() if name.split(".")[-1] == "backbone"]
    if not backbones and isinstance(getattr(method, "conv1", None), nn.Conv2d):
        backbones = [method]
    if not backbones:
        raise ValueError(f"{type(method).__name__} holds no module named 'backbone' and no conv1")
    conv = backbones[0].conv1
    filters = whitening_filters(normalised(images), conv.kernel_size[0], conv.out_channels, seed=seed)
    for backbone in backbones:
        with torch.no_grad():
            backbone.conv1.weight.copy_(filters.to(backbone.conv1.weight))
        backbone.conv1.weight.requires_grad_(False)
    return len(backbones)


def with_stem_of(untrained: nn.Module, trained: nn.Module) -> nn.Module:
    """`untrained` (a backbone) with the frozen first layer of `trained`: the untrained twin of a network trained
    behind a whitened stem is random weights behind that same stem. Returns `untrained`."""
    with torch.no_grad():
        untrained.conv1.weight.copy_(trained.conv1.weight.to(untrained.conv1.weight))
    untrained.conv1.weight.requires_grad_(False)
    return untrained
