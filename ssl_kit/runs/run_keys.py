"""The key of the run a config trains, and the folder named by it: how sweeps and notebooks find a run again.

`run_key(cfg)` is the key of the resolved config and of the kit's result format; each field enters it as its
`key` fact says (`ssl_kit.runs.fields`): where a run is written, on which device and where it caches are left
out, a data folder enters as the identity of what it holds (`ssl_kit.data.identity`), and a field added after
the result format last changed only when set off how runs before it trained, so their keys stay as they were.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ssl_kit.common.keys import result_key
from ssl_kit.data.identity import data_identity
from ssl_kit.methods import method_spec
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.runs.fields import BY_DATA, FACTS, NOT_KEYED, WHEN_SET


def run_key(cfg: TrainConfig) -> str:
    """The key of the run `cfg` trains: its resolved config, each field as its `key` fact says, and the version
    of what the method's steps draw (`MethodSpec.draws`, keyed once raised, so older runs keep theirs)."""
    fields = {}
    for name, value in dataclasses.asdict(resolve(cfg)).items():
        key = FACTS[name].key
        if key == NOT_KEYED or (key == WHEN_SET and value == FACTS[name].before):
            continue
        fields[name] = data_identity(value) if key == BY_DATA and value is not None else value
    draws = method_spec(cfg.method).draws
    return result_key(config=fields, **({"draws": draws} if draws != 1 else {}))


def keyed_out(parent: str | Path, label: str, cfg: TrainConfig) -> TrainConfig:
    """`cfg` with its `out` set to `<parent>/<label>-<run key>`: the folder of this training and no other."""
    return dataclasses.replace(cfg, out=str(Path(parent) / f"{label}-{run_key(cfg)}"))
