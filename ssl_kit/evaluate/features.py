"""Frozen features for the probes: a model over an in-memory uint8 image tensor (`ssl_kit.models.extract`).

Images are uint8 (N, C, H, W) on the CPU; the model runs in eval mode under `torch.no_grad()` on any device
(every submodule's train/eval flag is restored afterwards) and results come back as float32 on the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ssl_kit.common.imagenet import IMAGENET_MEAN, IMAGENET_STD
from ssl_kit.models.extract import Size, extract


def extract_features(
    model: torch.nn.Module,
    images,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    size: Size | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Frozen features of every image: a float32 (N, D) tensor on the CPU.

    Args:
        model: maps a normalised float batch (B, C, H, W) to (B, D) or to feature maps (B, D, h, w),
            which are global-average-pooled.
        images: uint8 (N, C, H, W) tensor (or array) on the CPU, values 0..255.
        batch_size: images per forward pass.
        device: where to run; None -> wherever the model's parameters are. A model elsewhere is moved
            there for the pass and moved back afterwards.
        mean, std: per-channel normalisation of the [0, 1]-scaled images.
        size: resize every batch to this (int -> square, pair -> (height, width)); bilinear, antialiased.
        progress: show a tqdm progress bar.
    """
    return extract(
        model, images, batch_size=batch_size, device=device, mean=mean, std=std, size=size, progress=progress
    )


def extract_feature_maps(
    model: torch.nn.Module,
    images,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    size: Size | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Frozen feature maps (no pooling): a float32 (N, C, h, w) tensor on the CPU, for the dense probe.

    Same arguments as `extract_features`; the model must return 4-D (B, C, h, w) outputs.
    """
    return extract(
        model,
        images,
        pooled=False,
        batch_size=batch_size,
        device=device,
        mean=mean,
        std=std,
        size=size,
        progress=progress,
        desc="feature maps",
    )
