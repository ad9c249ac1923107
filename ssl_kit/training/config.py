"""The training configuration (saved as `config.yaml` in every run) and its per-scale defaults.

A knob left at None takes the value of the scale (`smoke`, `quick`, `paper`) and then of the method; what is
finally used is written to the run folder, so a run can be repeated from its `config.yaml` alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ssl_kit.errors import ConfigError
from ssl_kit.methods import Method, build_method, method_spec

SCALES = ("smoke", "quick", "paper")


@dataclass
class TrainConfig:
    method: str = "mocov2"
    data: str = "data/world/objects/train"
    out: str = "runs/mocov2"
    scale: str = "quick"
    arch: str | None = None
    small_stem: bool | None = None
    image_size: int | None = None  # images are held in memory at this size (uint8)
    crop_size: int | None = None  # augmented views are this size
    batch_size: int | None = None  # global, over all ranks
    epochs: int | None = None
    steps: int | None = (
        None  # total optimizer steps, replacing epochs: an equal budget across data of other sizes
    )
    lr: float | None = None  # base learning rate (SGD, cosine schedule)
    warmup_epochs: float = 0.0
    weight_decay: float | None = None
    sgd_momentum: float = 0.9
    policy: str | None = None  # augmentation policy (default: the method's own)
    queue_size: int | None = None  # MoCo
    moco_momentum: float | None = None  # MoCo key encoder
    temperature: float | None = None
    symmetric: bool = False  # MoCo symmetric loss
    split_bn: int | None = None  # MoCo: emulated per-GPU batch norm splits on one device
    num_negatives: int | None = None  # PIRL
    pirl_loss: str | None = None  # PIRL: "nce" (the paper's) or "infonce"
    # video methods (fti, region_tracker; mocov2 on a video folder trains on its frames as images)
    delta_min: int = 1  # frames between the members of a temporal pair: uniform in [min, max]; 0 = same frame
    delta_max: int = 8
    frame_size: int | None = None  # frames are held at this size; region crops are resized to crop_size
    region_fraction: float = 1.0  # region_tracker: share of region pairs (the rest: full-frame pairs)
    proposals: int = 10  # region_tracker: proposals per keyframe
    keyframe_every: int = 4  # region_tracker: propose on every n-th frame
    # region_tracker: "flow" (optical-flow box propagation), "csrt", "kcf", or "annotation": the source's own
    # object boxes instead of proposals and a tracker (an oracle, for analysis: the world, TrackingNet, GOT-10k)
    tracker: str = "flow"
    min_track_confidence: float = 0.5
    region_cache: str = ".cache/regions"  # proposals and tracks, computed once per video
    seed: int = 0
    device: str | None = None
    amp: str = "auto"  # "auto" (bf16 on CUDA), "bf16", "off"
    checkpoint_every: int = 500  # steps
    log_every: int = 10  # steps
    knn_every: int = 0  # epochs; 0 = only at the end
    knn_data: str | None = None  # labelled folder for the kNN monitor (default: <data>/../val)
    max_steps: int | None = None  # stop early (tests, budgets); the schedule still spans all epochs
    skip_corrupt: bool = False


# Per-scale defaults of the network and the budget; the README's "Recipes" section gives the measurements
# behind the quick scale (32 px through the standard stem, ResNet-18 at half width: a quarter of the compute).
_SCALE_DEFAULTS = {
    "smoke": dict(arch="resnet18", small_stem=False, image_size=32, crop_size=32, batch_size=16, epochs=1),
    "quick": dict(
        arch="resnet18_w32", small_stem=False, image_size=32, crop_size=32, batch_size=128, epochs=12
    ),
    "paper": dict(
        arch="resnet50", small_stem=False, image_size=224, crop_size=224, batch_size=256, epochs=200
    ),
}
# the method's own recipes (paper, small data) live in its `MethodSpec` (ssl_kit/methods/registry.py)
_SMOKE_METHOD = {"queue_size": 64, "num_negatives": 64}


def resolve(cfg: TrainConfig) -> TrainConfig:
    """Fill every None from the scale and method defaults; reject unknown scales and methods."""
    if cfg.scale not in SCALES:
        raise ConfigError(f"unknown scale {cfg.scale!r} (expected one of {', '.join(SCALES)})")
    spec = method_spec(cfg.method)
    values = {**_SCALE_DEFAULTS[cfg.scale], **spec.paper}
    if cfg.scale != "paper":
        values.update(spec.small_data)
    if cfg.scale == "quick":
        values.update(spec.quick)
    if cfg.scale == "smoke":
        values.update({k: v for k, v in _SMOKE_METHOD.items() if k in values})
    filled = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    for key, value in values.items():
        if filled.get(key) is None:
            filled[key] = value
    if filled["pirl_loss"] not in (None, "nce", "infonce"):
        raise ConfigError(f"PIRL loss must be 'nce' (the paper's) or 'infonce', not {filled['pirl_loss']!r}")
    if filled["steps"] is not None and filled["steps"] < 1:
        raise ConfigError(f"steps must be a positive number of optimizer steps, not {filled['steps']!r}")
    if filled["amp"] not in ("auto", "bf16", "off"):
        raise ConfigError(f"amp must be auto, bf16 or off, not {filled['amp']!r}")
    return TrainConfig(**filled)


def method_from_config(cfg: TrainConfig, num_classes: int, dataset_size: int) -> Method:
    """The (untrained) method a resolved config describes: the one place a config becomes a model."""
    return build_method(cfg.method, arch=cfg.arch, small_stem=cfg.small_stem, num_classes=num_classes,
                        dataset_size=dataset_size, **method_spec(cfg.method).kwargs(cfg))  # fmt: skip
