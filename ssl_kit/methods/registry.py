"""Every method the kit trains, in one table: its class, its recipes and which config fields it reads.

Adding a method is one file in `ssl_kit/methods/` and one `MethodSpec` here. A spec holds
- `build(arch, small_stem, num_classes, dataset_size, **kwargs)`: the untrained method;
- `fields`: config field -> constructor keyword (what `kwargs(cfg)` passes on);
- `paper`: the method's published ImageNet recipe, used at `paper` scale;
- `small_data`: what replaces it for a few thousand small images on a CPU (`smoke` and `quick`;
  docs/recipes.md gives the measurements behind each value), and `quick`: extra `quick`-scale values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ssl_kit.errors import ConfigError
from ssl_kit.methods.base import Method
from ssl_kit.methods.moco import MoCo
from ssl_kit.methods.pirl import PIRL
from ssl_kit.methods.simclr import SimCLR
from ssl_kit.methods.supervised import Supervised


@dataclass(frozen=True)
class MethodSpec:
    name: str
    summary: str  # one line for `--help`
    build: Callable[..., Method]  # (arch, small_stem, num_classes, dataset_size, **kwargs) -> Method
    fields: Mapping[str, str] = field(default_factory=dict)  # config field -> constructor keyword
    paper: Mapping[str, object] = field(default_factory=dict)
    small_data: Mapping[str, object] = field(default_factory=dict)
    quick: Mapping[str, object] = field(default_factory=dict)
    video: bool = False  # trains on temporal pairs from a video source
    # the version of what a training step of this method draws: raised when its random stream changes (SimCLR's
    # and PIRL's two views became one batched draw), so that its runs and results are keyed anew
    draws: int = 1

    def kwargs(self, cfg) -> dict:
        """The constructor keywords taken from a resolved config (any object with the config's fields)."""
        return {kw: getattr(cfg, name) for name, kw in self.fields.items()}


def _moco(version: int) -> Callable[..., Method]:
    def build(arch, small_stem, num_classes, dataset_size, **kw) -> Method:
        return MoCo(arch, small_stem, version=version, **kw)

    return build


def _pirl(arch, small_stem, num_classes, dataset_size, **kw) -> Method:
    return PIRL(dataset_size, arch, small_stem, **kw)


def _simclr(arch, small_stem, num_classes, dataset_size, **kw) -> Method:
    return SimCLR(arch, small_stem, **kw)


def _supervised(arch, small_stem, num_classes, dataset_size, **kw) -> Method:
    return Supervised(num_classes, arch, small_stem)


# (`moco_momentum_end` is read by the run's `Schedule`, which moves the key momentum during training)
_MOCO_FIELDS = {"queue_size": "queue_size", "moco_momentum": "momentum", "temperature": "temperature",
                "symmetric": "symmetric", "split_bn": "split_bn", "eval_encoder": "eval_encoder"}  # fmt: skip
# a queue of one batch: on a few thousand images of a few hundred objects a longer queue is mostly other views
# of the query's own object and category (docs/recipes.md, the recipe levers)
_MOCO_SMALL = dict(lr=0.03, queue_size=128, moco_momentum=0.99, policy="crop_0.8")


def _moco_spec(name: str, summary: str, version: int, temperature: float, video: bool = False) -> MethodSpec:
    """A MoCo-based method: MoCo v1/v2, or MoCo v2 whose positive pairs come from time (the video methods)."""
    paper = dict(
        lr=0.03, weight_decay=1e-4, queue_size=65536, moco_momentum=0.999, temperature=temperature, split_bn=1
    )
    return MethodSpec(name, summary, _moco(version), _MOCO_FIELDS, paper, _MOCO_SMALL, video=video)


SPECS: tuple[MethodSpec, ...] = (
    _moco_spec(
        "mocov1", "MoCo v1 (He et al. 2020): a momentum key encoder and a queue of negatives", 1, 0.07
    ),
    _moco_spec(
        "mocov2",
        "MoCo v2 (Chen et al. 2020): MoCo v1 with an MLP head, blur and stronger augmentation",
        2,
        0.2,
    ),
    MethodSpec(
        "pirl",
        "PIRL (Misra & van der Maaten 2020): an image and its jigsaw, a memory bank of negatives",
        _pirl,
        {"temperature": "temperature", "num_negatives": "num_negatives", "pirl_loss": "loss"},
        dict(lr=0.03, weight_decay=1e-4, temperature=0.07, num_negatives=32000, pirl_loss="nce"),
        dict(lr=0.015, num_negatives=4096, temperature=0.2, pirl_loss="infonce", policy="crop_0.8"),
        # the memory bank refreshes each entry once an epoch, so PIRL needs more epochs than MoCo
        quick=dict(epochs=18),
        draws=2,
    ),
    MethodSpec(
        "simclr",
        "SimCLR (Chen et al. 2020): two views, the rest of the batch as negatives",
        _simclr,
        {"temperature": "temperature"},
        dict(lr=0.3, weight_decay=1e-6, temperature=0.2),
        dict(lr=0.05, policy="crop_0.5"),
        draws=2,
    ),
    MethodSpec(
        "supervised",
        "supervised: cross-entropy on the folder's class labels",
        _supervised,
        {},
        dict(lr=0.1, weight_decay=1e-4),
        dict(lr=0.05),
    ),
    # the paper's video methods (sec. 5): MoCo v2 whose positive pairs come from time (ssl_kit.video.pairs)
    _moco_spec(
        "fti",
        "Frame Temporal Invariance (the paper's sec. 5): MoCo v2 on two frames of one video",
        2,
        0.2,
        video=True,
    ),
    _moco_spec(
        "region_tracker",
        "Region Tracker (the paper's sec. 5): MoCo v2 on one region tracked in time",
        2,
        0.2,
        video=True,
    ),
)
REGISTRY: dict[str, MethodSpec] = {s.name: s for s in SPECS}
METHODS = tuple(REGISTRY)
VIDEO_METHODS = tuple(s.name for s in SPECS if s.video)


def method_spec(name: str) -> MethodSpec:
    if name not in REGISTRY:
        raise ConfigError(f"unknown method {name!r} (expected one of {', '.join(METHODS)})")
    return REGISTRY[name]


def build_method(
    name: str, *, arch: str, small_stem: bool, num_classes: int, dataset_size: int, **kw
) -> Method:
    """The method `name` with its hyper-parameters (`kw`: queue_size, temperature, momentum, ...)."""
    return method_spec(name).build(arch, small_stem, num_classes, dataset_size, **kw)
