"""Train a run, or reuse it: what notebooks call so that re-running a cell never retrains a finished model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ssl_kit.errors import ConfigError
from ssl_kit.training import rundir
from ssl_kit.training.config import TrainConfig, resolve, same_value, with_defaults
from ssl_kit.training.loop import train

_IGNORED = ("device",)  # where a run was trained does not change what it is


def ensure_run(cfg: TrainConfig, progress: bool = True, monitor=None, watch=None) -> Path:
    """The run folder of `cfg`: reused if it holds this config's finished run, resumed if unfinished, else trained.

    `monitor` and `watch` go to `train` (`watch`: the invariance monitor a config with `invariance_every`
    needs). A folder holding a run of another config is an error (nothing is overwritten): delete it or pick another
    `cfg.out`.
    """
    cfg = resolve(cfg)
    out = Path(cfg.out)
    if not (out / rundir.CHECKPOINT).exists():
        return train(cfg, progress=progress, monitor=monitor, watch=watch)
    state = rundir.load_checkpoint(out, map_location="cpu")
    saved, wanted = with_defaults(state.get("config", {})), dataclasses.asdict(cfg)
    diff = [k for k in wanted if k not in _IGNORED and not same_value(k, saved.get(k), wanted[k])]
    if diff:
        detail = ", ".join(f"{k}: {saved.get(k)!r} there, {wanted[k]!r} here" for k in diff[:5])
        raise ConfigError(
            f"{out} holds a run with another config ({detail}); delete it or choose another out"
        )
    if state.get("last_step") is not None and state["step"] >= state["last_step"]:
        return out
    return train(cfg, resume=True, progress=progress, monitor=monitor, watch=watch)
