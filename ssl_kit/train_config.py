"""The training configuration (saved as `config.yaml` in every run) and its per-scale defaults.

A knob left at None takes the value of the scale (`smoke`, `quick`, `paper`) and then of the method; what is
finally used is written to the run folder, so a run can be repeated from its `config.yaml` alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ssl_kit.errors import ConfigError

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


# Small-budget recipes: what learns on a 2-core CPU in a minute or two (see README, "Recipes").
_SCALE_DEFAULTS = {
    "smoke": dict(arch="resnet18", small_stem=False, image_size=32, crop_size=32, batch_size=16, epochs=1),
    # quick: 32 px through the standard stem, ResNet-18 at half width (resnet18_w32, a quarter of the compute).
    # Measured on a 2-core AMD EPYC (Zen 1) machine: the MoCo v2 step runs at ~500 pairs/s (channels-last), so 12
    # epochs of the 4,800 objects/train images take about 2 minutes; the full-width ResNet-18 ran at ~140 pairs/s.
    # MoCo v2 on objects, kNN on objects/val: 8 epochs 0.422, 16 epochs 0.489, random init 0.358.
    "quick": dict(
        arch="resnet18_w32", small_stem=False, image_size=32, crop_size=32, batch_size=128, epochs=12
    ),
    "paper": dict(
        arch="resnet50", small_stem=False, image_size=224, crop_size=224, batch_size=256, epochs=200
    ),
}
# The papers' ImageNet recipes (used at `paper` scale) ...
_METHOD_DEFAULTS = {
    "mocov1": dict(
        lr=0.03, weight_decay=1e-4, queue_size=65536, moco_momentum=0.999, temperature=0.07, split_bn=1
    ),
    "mocov2": dict(
        lr=0.03, weight_decay=1e-4, queue_size=65536, moco_momentum=0.999, temperature=0.2, split_bn=1
    ),
    "pirl": dict(lr=0.03, weight_decay=1e-4, temperature=0.07, num_negatives=32000, pirl_loss="nce"),
    "simclr": dict(lr=0.3, weight_decay=1e-6, temperature=0.2),
    "supervised": dict(lr=0.1, weight_decay=1e-4),
}
_METHOD_DEFAULTS["fti"] = _METHOD_DEFAULTS["region_tracker"] = _METHOD_DEFAULTS["mocov2"]
# ... and what replaces them for a few thousand small images on a CPU (README, "Recipes"). Measured on the
# quick world's objects (kNN on objects/val, 2-core CPU, 16 epochs at 32 px): MoCo v2 at lr 0.03 with crops of
# (0.8, 1) reached 0.525 against 0.398 at random init, where ImageNet's lr and (0.2, 1) crops fell below random
# init; SimCLR with MoCo v2's augmentations and (0.5, 1) crops reached 0.570. A queue of 2,048 keys suits a
# 6,000-image set (65,536 would hold every image ten times). PIRL's NCE with Z fixed at its first-batch value
# diverges on 6,000 images (the loss climbs from 12 to over 400 as features cluster: m/n = 1024/6000 is far
# from NCE's small-noise-ratio regime) and ended at 0.17; InfoNCE over 4,096 bank negatives at temperature 0.2
# with (0.8, 1) crops reached 0.448 in 16 epochs and 0.487 in 24 (the memory bank refreshes each entry once
# an epoch, so PIRL needs more epochs than MoCo).
_SMALL_DATA = {
    "mocov1": dict(lr=0.03, queue_size=2048, moco_momentum=0.99, policy="crop_0.8"),
    "mocov2": dict(lr=0.03, queue_size=2048, moco_momentum=0.99, policy="crop_0.8"),
    "pirl": dict(lr=0.015, num_negatives=4096, temperature=0.2, pirl_loss="infonce", policy="crop_0.8"),
    "simclr": dict(lr=0.05, policy="crop_0.5"),
    "supervised": dict(lr=0.05),
}
_SMALL_DATA["fti"] = _SMALL_DATA["region_tracker"] = _SMALL_DATA["mocov2"]
_QUICK_METHOD = {"pirl": dict(epochs=18)}  # the memory bank refreshes once an epoch
_SMOKE_METHOD = {"queue_size": 64, "num_negatives": 64}


def resolve(cfg: TrainConfig) -> TrainConfig:
    """Fill every None from the scale and method defaults; reject unknown scales and methods."""
    if cfg.scale not in SCALES:
        raise ConfigError(f"unknown scale {cfg.scale!r} (expected one of {', '.join(SCALES)})")
    if cfg.method not in _METHOD_DEFAULTS:
        raise ConfigError(f"unknown method {cfg.method!r} (expected one of {', '.join(_METHOD_DEFAULTS)})")
    values = {**_SCALE_DEFAULTS[cfg.scale], **_METHOD_DEFAULTS[cfg.method]}
    if cfg.scale != "paper":
        values.update(_SMALL_DATA[cfg.method])
    if cfg.scale == "quick":
        values.update(_QUICK_METHOD.get(cfg.method, {}))
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


def method_kwargs(cfg: TrainConfig) -> dict:
    """The hyper-parameters of `cfg.method`'s constructor."""
    if cfg.method in ("mocov1", "mocov2", "fti", "region_tracker"):
        return dict(
            queue_size=cfg.queue_size,
            momentum=cfg.moco_momentum,
            temperature=cfg.temperature,
            symmetric=cfg.symmetric,
            split_bn=cfg.split_bn,
        )
    if cfg.method == "pirl":
        return dict(temperature=cfg.temperature, num_negatives=cfg.num_negatives, loss=cfg.pirl_loss)
    if cfg.method == "simclr":
        return dict(temperature=cfg.temperature)
    return {}


def method_from_config(cfg: TrainConfig, num_classes: int, dataset_size: int):
    """The (untrained) method a resolved config describes: the one place a config becomes a model."""
    from ssl_kit.methods import build_method

    return build_method(
        cfg.method, arch=cfg.arch, small_stem=cfg.small_stem, num_classes=num_classes, dataset_size=dataset_size,
        **method_kwargs(cfg),
    )  # fmt: skip
