"""Train a run, or reuse it: what notebooks call so that re-running a cell never retrains a finished model.

A run is reused only for the training that made it: the sweeps and notebooks train each config into a folder
named by its run key (`ssl_kit.runs.run_keys`: the resolved config and the identity of its data), and
`ensure_run` also checks the config and data a finished run recorded, so a folder of the same name trained
otherwise is never read as this run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ssl_kit.data.identity import data_identity
from ssl_kit.errors import ConfigError
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig, resolve, same_value, with_defaults
from ssl_kit.runs.fields import BY_DATA, NOT_KEYED, named
from ssl_kit.runs.run_checkpoint import RunCheckpoint
from ssl_kit.training.loop import train

# where a run is written, on which device and where it caches: not what it is (their `key` fact)
_IGNORED = named(key=NOT_KEYED)
_BY_DATA = named(key=BY_DATA)  # folders: the same data under another spelling of its path is the same


def _same_data(recorded, given) -> bool:
    """Two paths of one data folder (`results/quick/...` and its absolute path, or a moved copy): the same
    identity (`ssl_kit.data.identity`)."""
    return recorded is not None and given is not None and data_identity(recorded) == data_identity(given)


def ensure_run(cfg: TrainConfig, progress: bool = True, monitor=None, watch=None) -> Path:
    """The run folder of `cfg`: reused if it holds this config's finished run, resumed if unfinished, else trained.

    `monitor` and `watch` go to `train` (`watch`: the invariance monitor a config with `invariance_every`
    needs). A folder holding a run of another config, or of this config trained on other data, is an error
    (nothing is overwritten): delete it or pick another `cfg.out` (`keyed_out` names one per training).
    """
    cfg = resolve(cfg)
    out = Path(cfg.out)
    if not (out / rundir.CHECKPOINT).exists():
        return train(cfg, progress=progress, monitor=monitor, watch=watch)
    state = RunCheckpoint.load(out, untrusted_fix=rundir.NOT_THE_RUNS_OWN)
    saved, wanted = with_defaults(state.config), dataclasses.asdict(cfg)
    diff = [
        k
        for k in wanted
        if k not in _IGNORED
        and not same_value(k, saved.get(k), wanted[k])
        and not (k in _BY_DATA and _same_data(saved.get(k), wanted[k]))
    ]
    if diff:
        detail = ", ".join(f"{k}: {saved.get(k)!r} there, {wanted[k]!r} here" for k in diff[:5])
        raise ConfigError(
            f"{out} holds a run with another config ({detail}); delete it or choose another out"
        )
    recorded, now = state.data_identity, data_identity(cfg.data)
    if recorded != now:
        what = f"data of identity {recorded}" if recorded else "data it did not record (an older kit's run)"
        raise ConfigError(
            f"{out} holds a run trained on {what}, and {cfg.data} now holds data of identity {now}: it is not "
            "this run; delete it or choose another out"
        )
    if state.finished:
        return out
    return train(cfg, resume=True, progress=progress, monitor=monitor, watch=watch)
