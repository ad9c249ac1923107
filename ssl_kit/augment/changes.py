"""Changes to a policy's fields as one line of text: what a run's `augment` knob holds.

`"crop_scale=0.5,1; jitter_p=0"` is the policy with crops of (0.5, 1) of the image and no colour jitter; the
fields are `AugmentPolicy`'s (`ssl_kit.augment.policy`), a value is a number, `true`/`false`, or two numbers
`low,high` for a range. `parse_changes` reads the text into the overrides `get_policy(name, **changes)` takes;
`format_changes` writes them back in one canonical spelling (fields sorted, numbers as Python writes them), so
two spellings of one change (`blur_p=0`, `blur_p = 0.0`) are one run key. Text, not a mapping, so the knob is a
plain `--augment` flag on the command line and one line in `config.yaml`.
"""

from __future__ import annotations

import dataclasses

from ssl_kit.augment.policy import AugmentPolicy, get_policy
from ssl_kit.errors import ConfigError

__all__ = ["parse_changes", "format_changes", "changed_policy"]

_RANGES = ("crop_scale", "crop_ratio", "blur_sigma")
_FLAGS = ("crop", "gray_before_jitter")
_FIXED = ("name", "mean", "std")  # not an augmentation: the label and the normalisation


def _fields() -> list[str]:
    return [f.name for f in dataclasses.fields(AugmentPolicy) if f.name not in _FIXED]


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{where}: {text.strip()!r} is not a number") from None


def parse_changes(text: str | None) -> dict:
    """The field -> value changes `text` names ({} for None or blank); an unknown field or a malformed value is
    a ConfigError naming it and the fields there are."""
    changes: dict = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        name, eq, value = part.partition("=")
        name, value = name.strip(), value.strip()
        where = f"augment {part.strip()!r}"
        if not eq or not value:
            raise ConfigError(f"{where}: expected field=value (e.g. 'crop_scale=0.5,1; jitter_p=0')")
        if name not in _fields():
            raise ConfigError(f"{where}: unknown field {name!r} (fields: {', '.join(_fields())})")
        if name in changes:
            raise ConfigError(f"{where}: {name} is changed twice")
        if name in _FLAGS:
            if value.lower() not in ("true", "false"):
                raise ConfigError(f"{where}: {name} is true or false, not {value!r}")
            changes[name] = value.lower() == "true"
        elif name in _RANGES:
            bounds = [_number(v, where) for v in value.split(",")]
            if len(bounds) != 2:
                raise ConfigError(f"{where}: {name} is a range, two numbers low,high")
            changes[name] = tuple(bounds)
        else:
            changes[name] = _number(value, where)
    return changes


def _spell(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple | list):
        return ",".join(_spell(v) for v in value)
    return repr(float(value))


def format_changes(changes: dict) -> str | None:
    """`changes` in the canonical spelling `parse_changes` reads back; None for no change."""
    if not changes:
        return None
    return "; ".join(f"{name}={_spell(changes[name])}" for name in sorted(changes))


def changed_policy(name: str | AugmentPolicy, text: str | None) -> AugmentPolicy:
    """Policy `name` with the changes `text` names (each value checked by `AugmentPolicy`)."""
    return get_policy(name, **parse_changes(text))
