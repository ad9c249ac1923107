"""A run's checkpoint back as a method: the trained network of a run folder, and its random-init twin."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import torch

from ssl_kit.errors import ConfigError, DataError
from ssl_kit.methods import Method
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig, method_from_config, resolve, with_defaults
from ssl_kit.runs.resume import warn_unfinished
from ssl_kit.runs.run_checkpoint import RunCheckpoint


def load_run(
    run: str | Path, device: str | torch.device = "cpu", trust: bool = False
) -> tuple[Method, TrainConfig, RunCheckpoint]:
    """The trained method of a run folder (or checkpoint file), its config and its checkpoint.

    The file is loaded as weights only; `trust=True` (`--trust-checkpoint`) also loads pickled objects, which
    runs their code (`rundir.load_torch_file`)."""
    path = Path(run) / rundir.CHECKPOINT if Path(run).is_dir() else Path(run)
    state = RunCheckpoint.load(run, trust=trust)
    method, cfg = method_from_state(state, path)
    warn_unfinished(state, path)  # scoring a partly trained network says so
    return method.to(device), cfg, state


def method_from_state(
    state: RunCheckpoint | Mapping, source: str | Path = "<in-memory checkpoint>"
) -> tuple[Method, TrainConfig]:
    """The method (in eval mode) and resolved config of a run checkpoint already in memory (read from `source`).

    A checkpoint that is not a run's, whose config this version cannot read, or whose weights do not fit its
    config is a DataError naming `source`."""
    expected = "a checkpoint written by `ssl_kit train`"
    if not isinstance(state, RunCheckpoint):
        state = RunCheckpoint.from_state(state, source)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(state.config) - known)
    if unknown:
        raise DataError(
            source,
            f"its config has field(s) this version of ssl_kit does not know: {', '.join(map(str, unknown))}",
            "a checkpoint written by this version",
        )
    try:
        cfg = resolve(TrainConfig(**with_defaults(state.config)))  # a field it predates: as it trained
    except ConfigError as e:
        raise DataError(source, f"its config is not valid here: {e}", expected) from None
    weights = state.model
    num_classes = int(weights["classifier.weight"].shape[0]) if "classifier.weight" in weights else 1
    dataset_size = weights["memory"].shape[0] if "memory" in weights else 2
    method = method_from_config(cfg, num_classes, dataset_size)
    load_weights(
        method, weights, source, f"the weights of the {cfg.method} ({cfg.arch}) its config describes"
    )
    return method.eval(), cfg


def load_weights(method: Method, weights: Mapping, source: str | Path, what: str) -> None:
    """`method.load_state_dict(weights)`, or one DataError naming `source` and the keys and shapes that differ."""
    own = method.state_dict()
    problems = []
    missing = [k for k in own if k not in weights]
    unexpected = [str(k) for k in weights if k not in own]
    shapes = [
        f"{k} {tuple(weights[k].shape)} (expected {tuple(v.shape)})"
        for k, v in own.items()
        if isinstance(weights.get(k), torch.Tensor) and weights[k].shape != v.shape
    ]
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("shapes differ", shapes)):
        if keys:
            problems.append(
                f"{label}: {', '.join(keys[:3])}" + (f", ... ({len(keys)} in all)" if len(keys) > 3 else "")
            )
    try:
        if not problems:
            method.load_state_dict(weights)
    except RuntimeError as e:
        problems.append((str(e).strip().splitlines() or [""])[0])
    if problems:
        raise DataError(source, "weights do not match its config (" + "; ".join(problems) + ")", what)


def diverged_note(run: str | Path, state: RunCheckpoint, cfg: TrainConfig) -> str:
    """Where a run whose network gives non-finite features stands: its checkpoint's step, the divergence its
    `metrics.jsonl` logged (if any), and what to try."""
    folder = Path(run) if Path(run).is_dir() else Path(run).parent
    try:
        errors = [r for r in rundir.read_metrics(folder) if "error" in r]
    except DataError:
        errors = []
    logged = f"; at step {errors[-1].get('step')} {errors[-1]['error']}" if errors else ""
    return (
        f"the checkpoint of step {state.step} of a run trained at --lr {cfg.lr:g}{logged}; train it "
        f"again with a lower --lr (e.g. {cfg.lr / 10:g}) into a new --out"
    )
