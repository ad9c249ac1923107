"""The training configuration (saved as `config.yaml` in every run) and its per-scale defaults.

A knob left at None takes the value of the scale (`smoke`, `quick`, `paper`) and then of the method; what is
finally used is written to the run folder, so a run can be repeated from its `config.yaml` alone.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ssl_kit.augment import list_policies
from ssl_kit.errors import ConfigError
from ssl_kit.methods import Method, build_method, method_spec
from ssl_kit.models.backbones import ARCHS

SCALES = ("smoke", "quick", "paper")
AMP = ("auto", "bf16", "off")
INPUTS = ("auto", "memory", "stream")


def _knob(default, text: str):
    """A config field with its `--help` line (the CLI appends the default when it is not None)."""
    return field(default=default, metadata={"help": text})


_SCALE = "(default: from --scale)"
_RECIPE = "(default: the method's recipe at --scale)"


@dataclass
class TrainConfig:
    method: str = _knob("mocov2", "the method to train (each is described above)")
    data: str = _knob(
        "data/world/quick/objects/train",
        "training data: a labelled image folder (one folder per class), or for fti, region_tracker and "
        "mocov2 on frames a video folder (TRAIN_<k>/frames, GOT-10k list.txt, or .mp4/.avi files)",
    )
    out: str = _knob(
        "runs/mocov2", "run folder: config.yaml, metrics.jsonl and checkpoint.pt are written here"
    )
    scale: str = _knob(
        "quick",
        "the defaults of every knob left unset: smoke (checks that a run works), quick (a small network on "
        "small images, for a CPU), paper (the paper's ResNet-50 recipe, for a GPU)",
    )
    arch: str | None = _knob(None, f"backbone network {_SCALE}")
    small_stem: bool | None = _knob(
        None, f"a 3x3/1 first convolution and no max-pool instead of the 7x7/2 stem {_SCALE}"
    )
    image_size: int | None = _knob(
        None, f"images are held in memory at this size, in pixels (uint8) {_SCALE}"
    )
    crop_size: int | None = _knob(None, f"size of the augmented views, in pixels {_SCALE}")
    whiten_stem: bool | None = _knob(
        None,
        "a frozen first convolution that whitens the training images' patches (its filters the leading "
        "eigenvectors of their second moments, each with its negative: airbench's patch whitening) instead of a "
        f"learned one: on at quick scale, off at paper scale {_SCALE}",
    )
    progressive_from: int | None = _knob(
        None,
        "progressive resolution: the views start at this size in pixels and grow in steps of 4 to --crop-size "
        "over the first half of the run (memory input only); unset: --crop-size throughout",
    )
    batch_size: int | None = _knob(None, f"global batch size, over all processes {_SCALE}")
    epochs: int | None = _knob(None, f"passes over the training data {_RECIPE}")
    steps: int | None = _knob(
        None,
        "total optimizer steps, replacing --epochs: an equal budget across data of other sizes "
        "(default: --epochs decides)",
    )
    lr: float | None = _knob(None, f"base learning rate (SGD, cosine schedule) {_RECIPE}")
    warmup_epochs: float = _knob(0.0, "epochs of linear learning-rate warm-up before the cosine decay")
    weight_decay: float | None = _knob(None, f"SGD weight decay {_RECIPE}")
    sgd_momentum: float = _knob(0.9, "SGD momentum")
    bn_lr_scale: float = _knob(
        1.0, "learning rate of the batch-norm weights and biases, as a multiple of the schedule's"
    )
    policy: str | None = _knob(None, f"augmentation policy {_RECIPE}")
    queue_size: int | None = _knob(None, f"MoCo: negatives held in the queue {_RECIPE}")
    moco_momentum: float | None = _knob(None, f"MoCo: momentum of the key encoder's moving average {_RECIPE}")
    moco_momentum_end: float | None = _knob(
        None,
        "MoCo: raise the key encoder's momentum from --moco-momentum to this value along a half cosine over "
        "the run (BYOL's schedule; 1.0: the key encoder freezes at the end); unset: constant",
    )
    temperature: float | None = _knob(None, f"softmax temperature of the contrastive loss {_RECIPE}")
    eval_encoder: str = _knob(
        "query",
        "MoCo: the encoder a run hands to evaluation (kNN, probes, invariances): query (the paper's) or key "
        "(the momentum encoder, as BYOL and DINO evaluate)",
    )
    symmetric: bool = _knob(False, "MoCo: symmetric loss (each view is the query once and the key once)")
    split_bn: int | None = _knob(
        None, "MoCo: emulate per-GPU batch norm with this many sub-batches on one device (default: 1, none)"
    )
    sync_bn: bool = _knob(
        False,
        "under DDP (torchrun), batch norm over the global batch of all processes instead of each process's "
        "share (torch's SyncBatchNorm on CUDA, the kit's GlobalBatchNorm2d elsewhere)",
    )
    num_negatives: int | None = _knob(None, f"PIRL: negatives drawn from the memory bank {_RECIPE}")
    pirl_loss: str | None = _knob(None, f"PIRL: nce (the paper's) or infonce {_RECIPE}")
    # video methods (fti, region_tracker; mocov2 on a video folder trains on its frames as images)
    delta_min: int = _knob(
        1,
        "video methods: frames between the members of a temporal pair are drawn uniformly in "
        "[--delta-min, --delta-max]; 0 = the same frame",
    )
    delta_max: int = _knob(8, "video methods: the most frames between the members of a temporal pair")
    frame_size: int | None = _knob(
        None,
        "video: frames are held at this size, in pixels; region crops are resized to --image-size "
        "(default: region_tracker 3 x --image-size, else --image-size)",
    )
    region_fraction: float = _knob(
        1.0, "region_tracker: share of the pairs that are tracked regions (the rest: full-frame pairs)"
    )
    proposals: int = _knob(10, "region_tracker: region proposals per keyframe")
    keyframe_every: int = _knob(4, "region_tracker: propose regions on every n-th frame")
    tracker: str = _knob(
        "flow",
        "region_tracker: flow (optical-flow box propagation), csrt or kcf (OpenCV trackers), or annotation: "
        "the source's own object boxes instead of proposals and a tracker (an oracle, for analysis: the "
        "world, TrackingNet, GOT-10k)",
    )
    min_track_confidence: float = _knob(
        0.5, "region_tracker: a tracked box counts only where the tracker's confidence is at least this"
    )
    region_cache: str | None = _knob(
        None,
        "proposals and tracks, computed once per video (default: regions/ in $SSL_KIT_CACHE, else ~/.cache/ssl_kit)",
    )
    max_videos: int | None = _knob(
        None, f"video: train on the first this many videos of the source; 0 = all {_SCALE}"
    )
    max_video_frames: int | None = _knob(
        None, f"video: use the first this many frames of each video; 0 = all {_SCALE}"
    )
    seed: int = _knob(0, "seed of the initial weights, the data order and the augmentations")
    device: str | None = _knob(
        None, "cpu, cuda, cuda:N or mps (default: the best available: cuda, then mps, then cpu)"
    )
    amp: str = _knob("auto", "mixed precision: auto (bf16 on CUDA, off elsewhere), bf16, or off")
    input: str = _knob(
        "auto",
        "memory (decode the set once at --image-size and crop on the device), stream (read the files or "
        "frames of each step in worker processes and crop each view from the original image or frame), or "
        "auto: memory when the set fits --memory-budget-gb (region_tracker holds its video in memory)",
    )
    memory_budget_gb: float | None = _knob(
        None,
        "with --input auto: the most a training set may hold in memory (default: a quarter of this machine's)",
    )
    workers: int | None = _knob(
        None,
        "with --input stream: processes that read and crop the files (default: half the CPUs, at most 8)",
    )
    checkpoint_every: int = _knob(500, "write checkpoint.pt every this many steps (and at the end)")
    log_every: int = _knob(10, "append to metrics.jsonl every this many steps (and at the end)")
    knn_every: int = _knob(0, "run the kNN monitor every this many epochs; 0 = only at the end")
    knn_data: str | None = _knob(
        None, "labelled folder for the kNN monitor (default: the 'val' folder beside --data)"
    )
    invariance_every: int = _knob(
        0,
        "measure the six invariances on a fixed subset of each protocol every this many steps, and at the start "
        "and the end (logged to metrics.jsonl as inv_<protocol>); 0 = off",
    )
    invariance_images: int = _knob(256, "images per protocol the invariance monitor measures on")
    invariance_data: str | None = _knob(
        None,
        "folder of the protocols' datasets for the invariance monitor (default: the world holding --data)",
    )
    max_steps: int | None = _knob(
        None, "stop after this many steps; the schedule still spans the whole run (default: no early stop)"
    )
    skip_corrupt: bool = _knob(
        False, "skip (with a warning) image files that cannot be decoded instead of stopping"
    )


# Per-scale defaults of the network and the budget; docs/recipes.md gives the measurements
# behind the quick scale (32 px through the standard stem, ResNet-18 at half width: a quarter of the compute).
_SCALE_DEFAULTS = {
    "smoke": dict(arch="resnet18", small_stem=False, whiten_stem=False, image_size=32, crop_size=32,
                  batch_size=16, epochs=1, max_videos=8, max_video_frames=64),
    "quick": dict(arch="resnet18_w32", small_stem=False, whiten_stem=True, image_size=32, crop_size=32,
                  batch_size=128, epochs=12, max_videos=0, max_video_frames=0),
    "paper": dict(arch="resnet50", small_stem=False, whiten_stem=False, image_size=224, crop_size=224,
                  batch_size=256, epochs=200, max_videos=0, max_video_frames=0),
}  # fmt: skip
# the method's own recipes (paper, small data) live in its `MethodSpec` (ssl_kit/methods/registry.py)
_SMOKE_METHOD = {"queue_size": 64, "num_negatives": 64}


def resolve(cfg: TrainConfig) -> TrainConfig:
    """Fill every None from the scale and method defaults, then `check` every value: unknown scales and
    methods, values of the wrong type or out of range are a ConfigError before any work."""
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
    return check(TrainConfig(**filled))


# What `check` accepts of each number: field -> (lowest, highest, whether the lowest itself is excluded); None
# is unbounded. Every float must also be finite. The seed feeds numpy's global seed, which takes 32 bits.
_RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "image_size": (1, None, False), "crop_size": (1, None, False), "frame_size": (1, None, False),
    "batch_size": (1, None, False), "epochs": (1, None, False), "steps": (1, None, False),
    "max_steps": (1, None, False), "checkpoint_every": (1, None, False), "log_every": (1, None, False),
    "knn_every": (0, None, False), "invariance_every": (0, None, False), "invariance_images": (6, None, False), "lr": (0, None, True), "warmup_epochs": (0, None, False),
    "weight_decay": (0, None, False), "sgd_momentum": (0, 1, False), "queue_size": (1, None, False),
    "moco_momentum": (0, 1, False), "moco_momentum_end": (0, 1, False), "temperature": (0, None, True),
    "split_bn": (1, None, False), "num_negatives": (1, None, False), "delta_min": (0, None, False),
    "delta_max": (0, None, False), "region_fraction": (0, 1, False), "proposals": (1, None, False),
    "keyframe_every": (1, None, False), "max_videos": (0, None, False), "max_video_frames": (0, None, False), "memory_budget_gb": (0, None, True), "workers": (0, None, False), "min_track_confidence": (0, 1, False), "seed": (0, 2**32 - 1, False),
    "progressive_from": (4, None, False), "bn_lr_scale": (0, None, True),
}  # fmt: skip
_NOUNS = {bool: "true or false", int: "a whole number", float: "a finite number", str: "a string"}


def _kinds() -> dict[str, tuple[type, bool]]:
    """field -> (its type: bool, int, float or str; whether it may be None), from TrainConfig's annotations."""
    kinds = {}
    for name, hint in typing.get_type_hints(TrainConfig).items():
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        kinds[name] = (args[0] if args else hint, bool(args))
    return kinds


_KINDS = _kinds()


def expected(name: str) -> str:
    """What field `name` accepts, in words: "a whole number >= 1", "a finite number in [0, 1]", ..."""
    kind, _ = _KINDS[name]
    low, high, open_low = _RANGES.get(name, (None, None, False))
    if low is not None and high is not None:
        return f"{_NOUNS[kind]} in {'(' if open_low else '['}{low}, {high}]"
    if low is not None:
        return f"{_NOUNS[kind]} {'>' if open_low else '>='} {low}"
    return _NOUNS[kind]


def _plain(value, kind: type):
    """numpy scalars as Python numbers, paths as strings: what config.yaml and a weights-only checkpoint hold."""
    if kind is bool and isinstance(value, np.bool_):
        return bool(value)
    if kind is int and isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if kind is float and isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    if kind is str and isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _valid(value, kind: type, name: str) -> bool:
    if not isinstance(value, kind) or kind is int and isinstance(value, bool):
        return False
    if kind is bool or kind is str:
        return True
    if kind is float and not math.isfinite(value):
        return False
    low, high, open_low = _RANGES.get(name, (None, None, False))
    return (low is None or value > low or (value == low and not open_low)) and (high is None or value <= high)


def check_values(values: Mapping[str, object], where: str = "") -> dict:
    """TrainConfig fields (all of a config, or some: a grid's overrides), each checked for its type and range
    and returned with numpy scalars and paths as plain values; fields TrainConfig does not have are left to the
    caller. A bad value raises ConfigError naming the field, the value and what is valid, after `where`."""
    out = dict(values)
    for name, value in values.items():
        if name not in _KINDS or value is None and _KINDS[name][1]:
            continue
        kind = _KINDS[name][0]
        out[name] = value = _plain(value, kind)
        if not _valid(value, kind, name):
            raise ConfigError(
                f"{where + ': ' if where else ''}{name} must be {expected(name)}, not {value!r}{_hint(value)}"
            )
    return out


def _hint(value) -> str:
    """Why a number came as a string: quotes, or YAML 1.1, which reads 1e-3 as text (1.0e-3 as a number)."""
    if not isinstance(value, str):
        return ""
    try:
        float(value)
    except ValueError:
        return ""
    return " (a string: YAML reads 1e-3 as text, write 1.0e-3)" if "e" in value.lower() else " (a string)"


def check(cfg: TrainConfig) -> TrainConfig:
    """`cfg` with every value checked (type, range, choices, and fields that must agree), before any work; a
    bad one raises ConfigError in one line naming the field, the value and what is valid."""
    cfg = TrainConfig(**check_values({f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}))
    choices = {"arch": list(ARCHS), "policy": list_policies(), "amp": list(AMP), "input": list(INPUTS)}
    for name, valid in choices.items():
        value = getattr(cfg, name)
        if value is not None and value not in valid:
            raise ConfigError(f"{name} must be one of {', '.join(valid)}, not {value!r}")
    if cfg.eval_encoder not in ("query", "key"):
        raise ConfigError(f"eval_encoder must be 'query' or 'key', not {cfg.eval_encoder!r}")
    if cfg.eval_encoder == "key" and "eval_encoder" not in method_spec(cfg.method).fields:
        raise ConfigError(f"eval_encoder 'key': {cfg.method} has no momentum (key) encoder; use 'query'")
    if (
        cfg.progressive_from is not None
        and cfg.crop_size is not None
        and cfg.progressive_from > cfg.crop_size
    ):
        raise ConfigError(
            f"progressive_from ({cfg.progressive_from} px) must be at most crop_size ({cfg.crop_size} px): "
            "the views grow to --crop-size"
        )
    if cfg.pirl_loss not in (None, "nce", "infonce"):
        raise ConfigError(f"PIRL loss must be 'nce' (the paper's) or 'infonce', not {cfg.pirl_loss!r}")
    if cfg.delta_min > cfg.delta_max:
        raise ConfigError(f"delta_min ({cfg.delta_min}) must be at most delta_max ({cfg.delta_max})")
    if cfg.sync_bn and (cfg.split_bn or 1) > 1:
        raise ConfigError(
            f"sync_bn (batch norm over the global batch) and split_bn {cfg.split_bn} (batch norm over sub-batches) "
            "exclude each other: choose one"
        )
    end = cfg.moco_momentum_end
    if end is not None and not (cfg.moco_momentum or 0) <= end <= 1:
        raise ConfigError(
            f"moco_momentum_end must be in [moco_momentum, 1] = [{cfg.moco_momentum or 0}, 1], not {end!r}"
        )
    return cfg


# `TrainConfig`'s fields as `train --help` groups them (every field in exactly one; tests/project/test_doors.py)
FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "data and network": ("method", "data", "out", "scale", "arch", "small_stem", "image_size", "crop_size",
                         "whiten_stem", "progressive_from"),
    "optimisation": ("batch_size", "epochs", "steps", "max_steps", "lr", "warmup_epochs", "weight_decay",
                     "sgd_momentum", "bn_lr_scale"),
    "method knobs": ("policy", "queue_size", "moco_momentum", "moco_momentum_end", "temperature", "eval_encoder",
                     "symmetric", "split_bn", "sync_bn", "num_negatives", "pirl_loss"),
    "video": ("delta_min", "delta_max", "frame_size", "region_fraction", "proposals", "keyframe_every", "tracker",
              "min_track_confidence", "region_cache", "max_videos", "max_video_frames"),
    "run-time": ("seed", "device", "amp", "input", "memory_budget_gb", "workers", "checkpoint_every", "log_every",
                 "knn_every", "knn_data", "invariance_every", "invariance_images", "invariance_data",
                 "skip_corrupt"),
}  # fmt: skip


# fields whose unset default (None: "from the scale") is not how a run that predates them was trained: every
# video, every frame, a learned first layer
_BEFORE_FIELD = {"max_videos": 0, "max_video_frames": 0, "whiten_stem": False}


def with_defaults(recorded: Mapping) -> dict:
    """A recorded config (a checkpoint's or config.yaml's) with every field it predates at its default: a run
    saved before a field existed was trained as that default trains (or as `_BEFORE_FIELD` says)."""
    return {**{f.name: f.default for f in dataclasses.fields(TrainConfig)}, **_BEFORE_FIELD, **recorded}


def same_value(name: str, recorded, given) -> bool:
    """Whether a recorded config value and a given one describe the same training: equal, or for `input` one of
    them "auto" (a run records the input mode "auto" chose for it, and "auto" given again means "as recorded")."""
    if name == "input" and "auto" in (recorded, given):
        return True
    return recorded == given


def method_from_config(cfg: TrainConfig, num_classes: int, dataset_size: int) -> Method:
    """The (untrained) method a resolved config describes: the one place a config becomes a model."""
    return build_method(
        cfg.method,
        arch=cfg.arch,
        small_stem=cfg.small_stem,
        num_classes=num_classes,
        dataset_size=dataset_size,
        **method_spec(cfg.method).kwargs(cfg),
    )
