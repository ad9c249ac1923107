"""Train a run, or reuse it: what notebooks call so that re-running a cell never retrains a finished model.

A run is reused only for the training that made it: `run_key(cfg)` is the key of the resolved config (but for
where it is written and on which device) and of the identity of its data (`ssl_kit.data.identity`), and the
sweeps and notebooks train each config into a folder named by it (`keyed_out`). `ensure_run` also checks the
data a finished run recorded, so a folder of the same name trained on other data is never read as this run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ssl_kit.common.keys import result_key
from ssl_kit.data.identity import data_identity
from ssl_kit.errors import ConfigError
from ssl_kit.methods import method_spec
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig, resolve, same_value, with_defaults
from ssl_kit.training.loop import train

_IGNORED = ("device",)  # where a run was trained does not change what it is
# where a run and its caches are written, and on which device: not what it is
_NOT_KEYED = ("out", "device", "region_cache")
_PATHS = ("data", "knn_data", "invariance_data")  # folders: keyed by what they hold, not where they are
# fields added after the result format last changed: keyed only when set, so a run trained before they existed
# (which trained as their default does) keeps its key
_KEYED_WHEN_SET = {
    "whiten_stem": False,
    "progressive_from": None,
    "bn_lr_scale": 1.0,
    "eval_encoder": "query",
}


def run_key(cfg: TrainConfig) -> str:
    """The key of the run `cfg` trains: its resolved config (every field but `out`, `device` and
    `region_cache`; data folders by their identity), the kit's result format and the version of what the
    method's steps draw (`MethodSpec.draws`)."""
    fields = dataclasses.asdict(resolve(cfg))
    for name in _NOT_KEYED:
        fields.pop(name)
    for name, default in _KEYED_WHEN_SET.items():
        if fields[name] == default:
            fields.pop(name)
    for name in _PATHS:
        if fields[name] is not None:
            fields[name] = data_identity(fields[name])
    draws = method_spec(cfg.method).draws  # keyed once a method's draws change, so its older runs keep theirs
    return result_key(config=fields, **({"draws": draws} if draws != 1 else {}))


def keyed_out(parent: str | Path, label: str, cfg: TrainConfig) -> TrainConfig:
    """`cfg` with its `out` set to `<parent>/<label>-<run key>`: the folder of this training and no other."""
    return dataclasses.replace(cfg, out=str(Path(parent) / f"{label}-{run_key(cfg)}"))


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
    state = rundir.load_checkpoint(out, map_location="cpu", untrusted_fix=rundir.NOT_THE_RUNS_OWN)
    saved, wanted = with_defaults(state.get("config", {})), dataclasses.asdict(cfg)
    diff = [k for k in wanted if k not in _IGNORED and not same_value(k, saved.get(k), wanted[k])]
    if diff:
        detail = ", ".join(f"{k}: {saved.get(k)!r} there, {wanted[k]!r} here" for k in diff[:5])
        raise ConfigError(
            f"{out} holds a run with another config ({detail}); delete it or choose another out"
        )
    recorded, now = state.get("data_identity"), data_identity(cfg.data)
    if recorded != now:
        what = f"data of identity {recorded}" if recorded else "data it did not record (an older kit's run)"
        raise ConfigError(
            f"{out} holds a run trained on {what}, and {cfg.data} now holds data of identity {now}: it is not "
            "this run; delete it or choose another out"
        )
    if state.get("last_step") is not None and state["step"] >= state["last_step"]:
        return out
    return train(cfg, resume=True, progress=progress, monitor=monitor, watch=watch)
