"""Device choice (cuda, then mps, then cpu) and seeding, done once per process."""

from __future__ import annotations

import random

import numpy as np
import torch

from ssl_kit.errors import ConfigError


def _available() -> list[str]:
    """The device types this machine can run on, best first (cpu always)."""
    found = ["cuda"] if torch.cuda.is_available() else []
    found += ["mps"] if torch.backends.mps.is_available() else []
    return [*found, "cpu"]


def cpu_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX tiles). Elsewhere bf16 autocast is emulated
    and slower than fp32 (`benchmarks/bench_amp.py` measures both)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def choose_device(prefer: str | None = None) -> torch.device:
    """`prefer` ("cuda", "cuda:1", "mps", "cpu") if given and available, else the best available device.

    An unavailable or unknown `prefer` raises ConfigError naming what this machine has."""
    if prefer:
        has = ", ".join(_available())
        if prefer.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(
                f"device {prefer!r} requested but CUDA is not available here (available: {has})"
            )
        if prefer == "mps" and not torch.backends.mps.is_available():
            raise ConfigError(f"device 'mps' requested but MPS is not available here (available: {has})")
        try:
            device = torch.device(prefer)
        except RuntimeError as e:  # "gpu", "cuda:x", ...
            raise ConfigError(f"unknown device {prefer!r} (available: {has})") from e
        if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
            has = ", ".join(f"cuda:{i}" for i in range(torch.cuda.device_count()))
            raise ConfigError(f"device {prefer!r} requested but this machine's CUDA devices are {has}")
        return device
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

    Convolutions run faster in this layout, on the CPU (oneDNN) as on GPUs, both in training and in feature
    extraction (docs/benchmarks.md gives the measurements). Models without 2-D convolutions are left alone, and their
    inputs should be too (a `view` over a channels-last tensor fails)."""
    if not any(isinstance(m, torch.nn.Conv2d) for m in model.modules()):
        return False
    model.to(memory_format=torch.channels_last)
    return True
