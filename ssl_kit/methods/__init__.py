"""One file per method; losses are pure functions in `losses.py`."""

from __future__ import annotations

from ssl_kit.errors import ConfigError
from ssl_kit.methods.base import Method, StepOutput
from ssl_kit.methods.moco import MoCo
from ssl_kit.methods.pirl import PIRL
from ssl_kit.methods.simclr import SimCLR
from ssl_kit.methods.supervised import Supervised

VIDEO_METHODS = ("fti", "region_tracker")  # Frame Temporal Invariance, Region Tracker (the paper's, sec. 5)
METHODS = ("mocov1", "mocov2", "pirl", "simclr", "supervised", *VIDEO_METHODS)


def build_method(
    name: str, *, arch: str, small_stem: bool, num_classes: int, dataset_size: int, **kw
) -> Method:
    """The method `name` with its hyper-parameters (`kw`: queue_size, temperature, momentum, ...)."""
    if name in ("mocov1", "mocov2"):
        return MoCo(arch, small_stem, version=int(name[-1]), **kw)
    if name in VIDEO_METHODS:  # MoCo v2 whose positive pairs come from time (ssl_kit.video.pairs)
        return MoCo(arch, small_stem, version=2, **kw)
    if name == "pirl":
        return PIRL(dataset_size, arch, small_stem, **kw)
    if name == "simclr":
        return SimCLR(arch, small_stem, **kw)
    if name == "supervised":
        return Supervised(num_classes, arch, small_stem)
    raise ConfigError(f"unknown method {name!r} (expected one of {', '.join(METHODS)})")


__all__ = [
    "METHODS",
    "VIDEO_METHODS",
    "PIRL",
    "Method",
    "MoCo",
    "SimCLR",
    "StepOutput",
    "Supervised",
    "build_method",
]
