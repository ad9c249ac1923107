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
from ssl_kit.common.writable import disk_full
from ssl_kit.common.yaml_text import load_yaml, yaml_problem
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
    """Read `config.yaml` back into `cls`. A file that is missing, not valid YAML, empty or not a mapping, or
    that names a field `cls` does not have, is an error naming the file."""
    path = Path(run_dir) / CONFIG
    expected = f"the {CONFIG} a run writes: one `field: value` line per field of its config"
    if not path.is_file():
        raise DataError(path, "file is missing", f"a {CONFIG} written by a previous run")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DataError(path, "is not text (not UTF-8)", expected) from None
    except yaml.YAMLError as e:
        raise DataError(path, yaml_problem(e), expected) from None
    if not isinstance(data, dict) or not data:
        what = "is empty" if data is None or data == {} else f"holds a {type(data).__name__}, not a mapping"
        raise DataError(path, what, expected)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) {', '.join(unknown)} for {cls.__name__}")
    return cls(**data)


def append_metrics(run_dir: str | Path, **values: Any) -> None:
    """Append one JSON line to `metrics.jsonl`."""
    path = Path(run_dir) / METRICS
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(values, default=float) + "\n")
    except OSError as e:
        raise disk_full(path, e) or DataError(
            path, f"cannot append to it ({e.strerror or e})", "a writable file"
        ) from None


# what to do with a damaged metrics.jsonl: the log is history, training does not read it back
_METRICS_FIX = (
    "one JSON object per line; remove the damaged lines (or move the file aside) and re-run: the run's "
    "checkpoint does not depend on it"
)


def metrics_rows(path: str | Path) -> tuple[list[dict], bool]:
    """The rows of a `metrics.jsonl`, and whether its last line was cut short (a writer killed mid-line: the
    file does not end its last line, which is not a JSON object). Any other line that is not a JSON object is a
    DataError naming it."""
    path = Path(path)
    data = path.read_bytes()
    open_end = not data.endswith(b"\n")
    lines = [line for line in data.splitlines() if line.strip()]
    rows = []
    for i, raw in enumerate(lines, 1):
        try:
            row = json.loads(raw.decode("utf-8"))
            problem = (
                None if isinstance(row, dict) else f"line {i} is a JSON {type(row).__name__}, not an object"
            )
        except UnicodeDecodeError:
            problem = f"line {i} is not text (not UTF-8: a damaged file)"
        except json.JSONDecodeError as e:
            problem = f"line {i} is not JSON ({e.msg})"
        if problem is None:
            rows.append(row)
        elif i == len(lines) and open_end:
            return rows, True
        else:
            raise DataError(path, problem, _METRICS_FIX)
    return rows, False


def read_metrics(run_dir: str | Path) -> list[dict]:
    """The rows of a run's `metrics.jsonl` ([] when it has none); a damaged line is a DataError naming it, a
    last line cut short by a kill is left out."""
    path = Path(run_dir) / METRICS
    return metrics_rows(path)[0] if path.is_file() else []


def save_checkpoint(run_dir: str | Path, state: dict) -> Path:
    """Save `state` as `checkpoint.pt` through a temporary file and a rename."""
    path = Path(run_dir) / CHECKPOINT
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: torch.save(state, f), fsync=True)
    return path


# the fix for a payload checkpoint found where a run of the kit writes its own (which holds weights only):
# what training (`--resume`, a sweep's finished cell) says, having no --trust-checkpoint to offer
NOT_THE_RUNS_OWN = (
    "A run of ssl_kit writes weights only, so this file is not the run's own checkpoint: train into another "
    "--out, or move the file away to train there anew"
)
# the fix where a command can load it: eval, measure, and Python
TRUST_FIX = "If you trust where the file came from, pass --trust-checkpoint (trust=True in Python) to load it"


def load_checkpoint(
    run_dir_or_file: str | Path,
    map_location: str | torch.device = "cpu",
    trust: bool = False,
    untrusted_fix: str = TRUST_FIX,
) -> dict:
    """The checkpoint of a run folder (or a checkpoint file), loaded as weights only unless `trust`
    (`load_torch_file`, whose refusal ends with `untrusted_fix`)."""
    path = Path(run_dir_or_file)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise DataError(path, "checkpoint is missing", "a checkpoint.pt written by a run")
    return load_torch_file(path, map_location, trust, "a torch checkpoint", untrusted_fix)


# how torch's weights-only unpickler says a file asks for more than weights (rather than being corrupt)
_BEYOND_WEIGHTS = r"GLOBAL|Can only create new object|call reduce for|Can only build"


def load_torch_file(
    path: Path,
    map_location: str | torch.device = "cpu",
    trust: bool = False,
    expected: str = "a torch file",
    untrusted_fix: str = TRUST_FIX,
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
                f"would run code when loaded; refused. {untrusted_fix}",
            ) from None
        text = text.partition("WeightsUnpickler error:")[2] or text  # torch's own words, without its advice
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        raise DataError(path, f"cannot load checkpoint ({type(e).__name__}: {first})", expected) from e
