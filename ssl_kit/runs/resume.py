"""Continuing a run from its own record, and the run folder put in order when a run starts.

`--resume` continues the run in `--out` as its `config.yaml` records it: a flag that would change a recorded
field is refused (its old and new value named), and only the fields in `RESUMABLE` (those whose `resumable`
fact is set, `ssl_kit.runs.fields`) may change, each through an explicit `--override FIELD=VALUE`.
`train(cfg, resume=True)` refuses a `cfg` that differs from the run's checkpoint elsewhere than in `RESUMABLE`,
so `config.yaml` is never rewritten with other training values.

When a run starts, the temporary files a killed writer left (`.checkpoint.pt.*.tmp`, ...) are removed, and
`metrics.jsonl` is rewound to the step training continues from: rows past it (steps the run is about to take
again) are dropped and, on a resume, a `{"resumed": true, "step": N, ...}` row marks where it continued.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.common.removal import remove_inside
from ssl_kit.errors import ConfigError, DataError
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig, same_value, with_defaults
from ssl_kit.runs.fields import KINDS, NOT_KEYED, RESUMABLE, named
from ssl_kit.runs.run_checkpoint import RunCheckpoint

# `out` is where the run is, not how it was trained: never compared (a run folder may be moved), never changed
_NOT_COMPARED = named(key=NOT_KEYED, resumable=False)
# what `ssl_kit.common.atomic` leaves behind when a writer is killed: `.<name>.<random>.tmp`
_TEMP = re.compile(r"^\.(?P<name>.+)\.[^.]+\.tmp$")


def no_run(out: str | Path) -> ConfigError:
    """The error of `--resume` on a folder that holds no run: a typo in --out must not start a new run."""
    out = Path(out)
    what = (
        "does not exist"
        if not out.exists()
        else f"holds no run to continue (no {rundir.CONFIG}, no {rundir.CHECKPOINT})"
    )
    return ConfigError(
        f"--resume: {out} {what}; drop --resume to start a new run there, or give the --out of the run to continue"
    )


def recorded_config(out: str | Path) -> TrainConfig | None:
    """The config the run in `out` records: its `config.yaml`, else its checkpoint's; None when it has neither."""
    out = Path(out)
    if (out / rundir.CONFIG).is_file():
        try:
            return rundir.load_config(out, TrainConfig)
        except DataError as e:
            if not (out / rundir.CHECKPOINT).is_file():
                raise
            raise DataError(
                e.path,
                e.problem,
                f"{e.expected}; the run's {rundir.CHECKPOINT} records its config too: delete {e.path} and "
                "re-run to continue from the checkpoint's record",
            ) from None
    if (out / rundir.CHECKPOINT).is_file():
        return TrainConfig(**RunCheckpoint.load(out, untrusted_fix=rundir.NOT_THE_RUNS_OWN).config)
    return None


def _parse_value(item: str, name: str, text: str):
    kind, optional = KINDS[name]
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
    else:
        try:
            return kind(text)
        except ValueError:
            pass
    noun = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}[kind]
    raise ConfigError(f"--override {item!r}: {name} takes {noun}" + (" or none" if optional else ""))


def parse_overrides(items: Iterable[str] | None) -> dict:
    """`["max_steps=10", "device=cpu"]` as `{"max_steps": 10, "device": "cpu"}`, each field one of `RESUMABLE`
    (dashes allowed: `max-steps=10`) and each value of the field's type (`none` for an optional field)."""
    values = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        name = key.strip().replace("-", "_")
        if not sep or name not in RESUMABLE:
            known = name in {f.name for f in dataclasses.fields(TrainConfig)}
            why = "a field that would change how the recorded steps were trained" if known else "not a field"
            problem = f"{name} is {why}" if sep else "expected FIELD=VALUE"
            raise ConfigError(
                f"--override {item!r}: {problem}; only {', '.join(RESUMABLE)} may change on resume"
            )
        values[name] = _parse_value(item, name, text)
    return values


def _same(name: str, old, new) -> bool:
    if name == "data" and isinstance(old, str) and isinstance(new, str):  # one folder, however it is spelled
        return os.path.realpath(old) == os.path.realpath(new)
    return same_value(name, old, new)


def _changes(old: Mapping, new: Mapping, skip: Iterable[str]) -> dict[str, tuple]:
    return {k: (old.get(k), v) for k, v in new.items() if k not in skip and not _same(k, old.get(k), v)}


def resume_config(out: str | Path, given: Mapping, overrides: Mapping) -> TrainConfig:
    """The config `train --resume` continues: the run's recorded one, with `overrides` (already checked by
    `parse_overrides`). A flag in `given` (the TrainConfig fields set on the command line) that differs from it is
    refused, naming each field with its recorded and its given value. A folder that holds no run (`no_run`) is
    an error."""
    out = Path(out)
    recorded = recorded_config(out)
    if recorded is None:
        raise no_run(out)
    values = {**dataclasses.asdict(recorded), **overrides}
    # a flag that repeats the recorded value of a field it overrides is the original command, repeated
    repeated = [k for k in overrides if k in given and _same(k, getattr(recorded, k), given[k])]
    changed = _changes(values, given, (*_NOT_COMPARED, *repeated))
    both = [k for k in changed if k in overrides]
    if both:
        k = both[0]
        raise ConfigError(
            f"--{k.replace('_', '-')} {given[k]} and --override {k}={overrides[k]} disagree: give the new value "
            f"once, as --override {k}={overrides[k]} (the flag may only repeat the recorded {getattr(recorded, k)})"
        )
    if changed:
        parts = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
        allowed = [k for k in changed if k in RESUMABLE]
        hint = "leave them out to continue as recorded"
        if allowed:
            hint += f"; to change {', '.join(allowed)} on resume pass " + " ".join(
                f"--override {k}={changed[k][1]}" for k in allowed
            )
        if len(allowed) < len(changed):
            hint += "; for other values train into a new --out"
        raise ConfigError(
            f"--resume continues {out} with the config it recorded; these flags would change it: {parts} ({hint})"
        )
    return TrainConfig(**{**values, "out": str(out)})


def check_unchanged(recorded: Mapping, cfg: TrainConfig, source: Path) -> None:
    """Refuse to resume with a `cfg` that differs from the `recorded` config (of `source`) outside `RESUMABLE`."""
    changed = _changes(with_defaults(recorded), dataclasses.asdict(cfg), (*RESUMABLE, *_NOT_COMPARED))
    if changed:
        parts = ", ".join(f"{k} {old!r} there, {new!r} here" for k, (old, new) in changed.items())
        raise ConfigError(
            f"cannot resume {source.parent} with other training values ({parts}); continue it as recorded "
            f"(`train --out {source.parent} --resume`, no other flags) or train into another out"
        )


def remove_stale_temp_files(out: str | Path) -> list[Path]:
    """Remove the temporary files of the run's own files (`.checkpoint.pt.<random>.tmp`, ...) that a killed
    writer left in `out`. Call it holding the run folder's lock: then no live writer owns them."""
    removed = []
    folder = Path(out)
    if not folder.is_dir():
        return removed
    for path in folder.glob(".*.tmp"):
        found = _TEMP.match(path.name)
        if found and found["name"] in (rundir.CONFIG, rundir.METRICS, rundir.CHECKPOINT) and path.is_file():
            remove_inside(path, folder)
            removed.append(path)
    return removed


def rewind_metrics(out: str | Path, step: int, resumed: bool) -> int:
    """Drop the rows of `metrics.jsonl` logged past `step` (the step training continues from: they will be
    logged again) and a last line cut short by a kill, and when `resumed` append a `{"resumed": true, "step":
    step, ...}` marker; returns how many rows were dropped. The file is rewritten atomically, only when needed."""
    path = Path(out) / rundir.METRICS
    dropped = 0
    if path.is_file():
        rows, cut = rundir.metrics_rows(path)
        kept = [r for r in rows if not (isinstance(r.get("step"), (int, float)) and r["step"] > step)]
        dropped = len(rows) - len(kept)
        if dropped or cut:
            atomic_write_text(path, "".join(json.dumps(r, default=float) + "\n" for r in kept))
    if resumed:
        now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        rundir.append_metrics(out, resumed=True, step=step, dropped_rows=dropped, time=now)
    return dropped


def warn_unfinished(state: RunCheckpoint, source: str | Path) -> None:
    """Warn that the checkpoint `state` (of `source`) is of a run stopped before its planned last step: what is
    scored of it is a partly trained network."""
    step, last = state.step, state.last_step
    if isinstance(step, int) and isinstance(last, int) and step < last:
        run = Path(source).parent if Path(source).name == rundir.CHECKPOINT else Path(source)
        warnings.warn(
            f"{source}: an unfinished run (step {step} of {last}); its scores are those of a partly trained "
            f"network (finish it with `python -m ssl_kit train --out {run} --resume`)",
            stacklevel=3,
        )
