"""One file per method; losses are pure functions in `losses.py`; `registry.py` lists every method."""

from __future__ import annotations

from ssl_kit.methods.base import Method, StepOutput
from ssl_kit.methods.moco import MoCo
from ssl_kit.methods.pirl import PIRL
from ssl_kit.methods.registry import METHODS, REGISTRY, VIDEO_METHODS, MethodSpec, build_method, method_spec
from ssl_kit.methods.simclr import SimCLR
from ssl_kit.methods.supervised import Supervised

__all__ = [
    "METHODS",
    "PIRL",
    "REGISTRY",
    "VIDEO_METHODS",
    "Method",
    "MethodSpec",
    "MoCo",
    "SimCLR",
    "StepOutput",
    "Supervised",
    "build_method",
    "method_spec",
]
