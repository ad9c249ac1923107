"""The run-directory layout every command writes: `config.yaml`, `metrics.jsonl`, `checkpoint.pt`.

Configs are dataclasses saved next to the run so that it can be repeated; metrics are one JSON object per
line; checkpoints are written atomically (temporary file, then rename), so a crash while saving leaves the
previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, TypeVar

import torch
import yaml

from ssl_kit.common.atomic import atomic_write
from ssl_kit.errors import ConfigError, DataError

CONFIG, METRICS, CHECKPOINT = "config.yaml", "metrics.jsonl", "checkpoint.pt"
C = TypeVar("C")


def save_config(run_dir: str | Path, config: Any) -> Path:
    """Write a dataclass config as `config.yaml` (atomically)."""
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"config must be a dataclass instance, got {type(config).__name__}")
    path = Path(run_dir) / CONFIG
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(dataclasses.asdict(config), sort_keys=False)
    atomic_write(path, lambda f: f.write(text.encode()), fsync=True)
    return path


def load_config(run_dir: str | Path, cls: type[C]) -> C:
    """Read `config.yaml` back into `cls`, naming any field that `cls` does not have."""
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise DataError(path, "file is missing", f"a {CONFIG} written by a previous run")
    data = yaml.safe_load(path.read_text()) or {}
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) {', '.join(unknown)} for {cls.__name__}")
    return cls(**data)


def append_metrics(run_dir: str | Path, **values: Any) -> None:
    """Append one JSON line to `metrics.jsonl`."""
    path = Path(run_dir) / METRICS
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(values, default=float) + "\n")


def read_metrics(run_dir: str | Path) -> list[dict]:
    path = Path(run_dir) / METRICS
    if not path.is_file():
        return []
    rows = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise DataError(path, f"line {i} is not JSON ({e.msg})", "one JSON object per line") from e
    return rows


def save_checkpoint(run_dir: str | Path, state: dict) -> Path:
    """Save `state` as `checkpoint.pt` through a temporary file and a rename."""
    path = Path(run_dir) / CHECKPOINT
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: torch.save(state, f), fsync=True)
    return path


def load_checkpoint(run_dir_or_file: str | Path, map_location: str | torch.device = "cpu") -> dict:
    path = Path(run_dir_or_file)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise DataError(path, "checkpoint is missing", "a checkpoint.pt written by a run")
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as e:  # a truncated or foreign file
        raise DataError(
            path, f"cannot load checkpoint ({type(e).__name__}: {e})", "a torch checkpoint"
        ) from e
