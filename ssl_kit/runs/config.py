"""The training configuration (`TrainConfig`, saved as `config.yaml` in every run): its per-scale defaults and
its checks. Its fields and their facts (help, group, range or choices, ...) are the table in `fields.py`.

A knob left at None takes the value of the scale (`smoke`, `quick`, `paper`) and then of the method; what is
finally used is written to the run folder, so a run can be repeated from its `config.yaml` alone.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from collections.abc import Mapping

import numpy as np

from ssl_kit.augment.changes import format_changes, parse_changes
from ssl_kit.augment.policy import AugmentPolicy
from ssl_kit.errors import ConfigError
from ssl_kit.methods import Method, build_method, method_spec
from ssl_kit.runs.fields import FACTS, KINDS, SCALES, TrainConfig

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


# what `check_values` accepts of a field: its type and its range (the field's facts); every float must be finite
_NOUNS = {bool: "true or false", int: "a whole number", float: "a finite number", str: "a string"}


def expected(name: str) -> str:
    """What field `name` accepts, in words: "a whole number >= 1", "a finite number in [0, 1]", ..."""
    kind, facts = KINDS[name][0], FACTS[name]
    low, high, open_low = facts.low, facts.high, facts.open_low
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
    low, high, open_low = FACTS[name].low, FACTS[name].high, FACTS[name].open_low
    return (low is None or value > low or (value == low and not open_low)) and (high is None or value <= high)


def check_values(values: Mapping[str, object], where: str = "") -> dict:
    """TrainConfig fields (all of a config, or some: a grid's overrides), each checked for its type and range
    and returned with numpy scalars and paths as plain values; fields TrainConfig does not have are left to the
    caller. A bad value raises ConfigError naming the field, the value and what is valid, after `where`."""
    out = dict(values)
    for name, value in values.items():
        if name not in KINDS or value is None and KINDS[name][1]:
            continue
        kind = KINDS[name][0]
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
    for name, facts in FACTS.items():
        value = getattr(cfg, name)
        if facts.choices and value is not None and value not in facts.choices:
            raise ConfigError(f"{name} must be one of {', '.join(map(str, facts.choices))}, not {value!r}")
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
    if cfg.delta_min > cfg.delta_max:
        raise ConfigError(f"delta_min ({cfg.delta_min}) must be at most delta_max ({cfg.delta_max})")
    if cfg.sync_bn and (cfg.split_bn or 1) > 1:
        raise ConfigError(
            f"sync_bn (batch norm over the global batch) and split_bn {cfg.split_bn} (batch norm over sub-batches) "
            "exclude each other: choose one"
        )
    if cfg.augment is not None:  # every change checked, written in one spelling (one run key)
        changes = parse_changes(cfg.augment)
        AugmentPolicy("augment", **changes)
        cfg = dataclasses.replace(cfg, augment=format_changes(changes))
    end = cfg.moco_momentum_end
    if end is not None and not (cfg.moco_momentum or 0) <= end <= 1:
        raise ConfigError(
            f"moco_momentum_end must be in [moco_momentum, 1] = [{cfg.moco_momentum or 0}, 1], not {end!r}"
        )
    return cfg


def with_defaults(recorded: Mapping) -> dict:
    """A recorded config (a checkpoint's or config.yaml's) with every field it predates at its default: a run
    saved before a field existed was trained as its `before` fact says (its default unless said)."""
    return {**{name: facts.before for name, facts in FACTS.items()}, **recorded}


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
