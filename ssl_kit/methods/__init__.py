"""One file per method; losses are pure functions in `losses.py`; `registry.py` lists every method."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    **dict.fromkeys(("Method", "StepOutput"), "base"),
    "MoCo": "moco",
    "PIRL": "pirl",
    **dict.fromkeys(("METHODS", "REGISTRY", "VIDEO_METHODS", "MethodSpec", "build_method", "method_spec"),
                     "registry"),
    "SimCLR": "simclr",
    "Supervised": "supervised",
}  # fmt: skip
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
