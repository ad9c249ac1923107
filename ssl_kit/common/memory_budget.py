"""How much memory a command may use, and sizes in words: what lets a run too large to fit be refused before
any work, with the estimate, instead of failing in an allocation minutes (or a whole training) later.

`available_memory` is what the OS can give now (Linux's MemAvailable; the physical memory elsewhere), or the free
memory of a CUDA device. `check_fits` compares an estimate, given as its named parts, with it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch

from ssl_kit.errors import ConfigError


def physical_memory() -> int:
    """This machine's physical memory in bytes (0 where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0


def available_memory(device: torch.device | str | None = None) -> int:
    """Bytes a process can allocate now on `device`: a CUDA device's free memory, else the machine's available
    memory (MemAvailable of /proc/meminfo, else the physical memory; 0 where unknown)."""
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cuda" and torch.cuda.is_available():
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return physical_memory()


def human_bytes(n: float) -> str:
    """`1.64 TiB`, `22.4 GiB`, `512 KiB`"""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"


def check_fits(
    parts: Mapping[str, int], what: str, fix: str, device: torch.device | str | None = None
) -> None:
    """Refuse `what` (e.g. "this run") when the sum of `parts` (bytes, by what they hold) exceeds the memory
    available on `device`: one ConfigError with each part, the total, what is available and `fix`. Nothing is
    refused where the available memory is unknown."""
    need, have = sum(parts.values()), available_memory(device)
    if not have or need <= have:
        return
    shown = "; ".join(f"{name}: {human_bytes(b)}" for name, b in parts.items() if b)
    where = "this GPU has" if torch.device(device or "cpu").type == "cuda" else "this machine has"
    raise ConfigError(
        f"{what} needs at least {human_bytes(need)} of memory ({shown}), and {where} {human_bytes(have)} "
        f"available: {fix}"
    )
