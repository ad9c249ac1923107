"""The run-directory layout every command writes: `config.yaml`, `metrics.jsonl`, `checkpoint.pt`.

Configs are dataclasses saved next to the run so that it can be repeated; metrics are one JSON object per
line; checkpoints are written atomically (temporary file, then rename), so a crash while saving leaves the
previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
from pathlib import Path
from typing import Any, TypeVar

import torch
import yaml

from ssl_kit.common.atomic import atomic_write
from ssl_kit.errors import ConfigError, DataError, UntrustedCheckpointError

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


def load_checkpoint(
    run_dir_or_file: str | Path, map_location: str | torch.device = "cpu", trust: bool = False
) -> dict:
    """The checkpoint of a run folder (or a checkpoint file), loaded as weights only unless `trust`
    (`load_torch_file`)."""
    path = Path(run_dir_or_file)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise DataError(path, "checkpoint is missing", "a checkpoint.pt written by a run")
    return load_torch_file(path, map_location, trust, "a torch checkpoint")


# how torch's weights-only unpickler says a file asks for more than weights (rather than being corrupt)
_BEYOND_WEIGHTS = r"GLOBAL|Can only create new object|call reduce for|Can only build"


def load_torch_file(
    path: Path, map_location: str | torch.device = "cpu", trust: bool = False, expected: str = "a torch file"
):
    """`torch.load` of `path` with `weights_only=True`: tensors, containers, numbers and strings only, so
    loading runs no code from the file (the kit's own checkpoints hold nothing else). A file that needs more
    is refused, naming the path and what allows it; only `trust=True` (`--trust-checkpoint`) loads it fully,
    which runs whatever code its pickled objects carry. Any other failure (a truncated or foreign file) is a
    DataError naming the path and `expected`."""
    try:
        return torch.load(path, map_location=map_location, weights_only=not trust)
    except Exception as e:  # an object beyond weights, or a truncated or foreign file
        text = str(e)
        if not trust and isinstance(e, pickle.UnpicklingError) and re.search(_BEYOND_WEIGHTS, text):
            found = re.search(r"GLOBAL ([\w.]+)", text)
            raise UntrustedCheckpointError(
                path,
                f"holds pickled Python objects beyond weights{f' ({found.group(1)})' if found else ''}, which "
                "would run code when loaded; refused. If you trust where the file came from, pass "
                "--trust-checkpoint (trust=True in Python) to load it",
            ) from None
        text = text.partition("WeightsUnpickler error:")[2] or text  # torch's own words, without its advice
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        raise DataError(path, f"cannot load checkpoint ({type(e).__name__}: {first})", expected) from e
