"""Input checks shared by the evaluation protocols: every error names the argument and what was expected."""

from __future__ import annotations

import math
import operator

import torch


def as_features(x, name: str, allow_empty: bool = False) -> torch.Tensor:
    """`x` (tensor or array) as a finite float32 (N, D) tensor, on its own device."""
    t = torch.as_tensor(x)
    if t.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, D) feature matrix, got shape {tuple(t.shape)}")
    if not (t.is_floating_point() or t.dtype in (torch.uint8, torch.int32, torch.int64)):
        raise ValueError(f"{name} must hold real numbers, got dtype {t.dtype}")
    if t.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (0 rows); expected at least one example")
    if t.shape[1] == 0:
        raise ValueError(f"{name} has 0 feature dimensions; expected D >= 1")
    t = t.float()
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).any(dim=1).sum())
        raise ValueError(f"{name} holds NaN or infinite values ({bad} of {t.shape[0]} rows); expected finite")
    return t


def as_labels(y, name: str, n: int, n_name: str, device: torch.device | None = None) -> torch.Tensor:
    """`y` as an int64 (n,) tensor of class ids >= 0, matching `n_name`'s length."""
    t = torch.as_tensor(y)
    if t.ndim != 1:
        raise ValueError(f"{name} must be a 1-D vector of class ids, got shape {tuple(t.shape)}")
    if t.shape[0] != n:
        raise ValueError(f"{name} has {t.shape[0]} entries but {n_name} has {n} rows; expected equal lengths")
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()) or not bool((t == t.round()).all()):
            raise ValueError(f"{name} must hold whole class ids, got non-integer values")
    elif t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"{name} must hold integer class ids, got dtype {t.dtype}")
    t = t.long()
    if t.numel() and int(t.min()) < 0:
        raise ValueError(f"{name} holds a negative class id ({int(t.min())}); expected ids >= 0")
    return t.to(device) if device is not None else t


def check_same_dim(a: torch.Tensor, a_name: str, b: torch.Tensor, b_name: str) -> None:
    """Both feature matrices must have the same number of columns (or channels, dim 1)."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{b_name} has {b.shape[1]} feature dimensions but {a_name} has {a.shape[1]}; expected equal"
        )


def resolve_num_classes(num_classes: int | None, *labels: tuple[torch.Tensor, str]) -> int:
    """`num_classes`, or 1 + the largest id; every label must be below it."""
    top = max((int(t.max()) for t, _ in labels if t.numel()), default=-1)
    if num_classes is None:
        return top + 1
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    for t, name in labels:
        if t.numel() and int(t.max()) >= num_classes:
            raise ValueError(
                f"{name} holds class id {int(t.max())} but num_classes={num_classes}; expected ids < num_classes"
            )
    return int(num_classes)


def check_positive(value: float, name: str) -> float:
    """A finite number > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def check_count(value: int, name: str, minimum: int = 1) -> int:
    """An int >= minimum."""
    try:
        if isinstance(value, bool):
            raise TypeError
        n = operator.index(value)
    except TypeError:
        n = None
    if n is None or n < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return n
