"""What a run's `checkpoint.pt` holds, as one typed record: written by the training loop's checkpoint hook, read
back by `--resume`, by `ensure_run` (reuse a finished run) and by `load_run` (score a run).

The file holds weights only (tensors, numbers, strings: a dict), so loading it runs no code; `RunCheckpoint.load`
refuses a file that asks for more unless `trust` (`rundir.load_torch_file`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from ssl_kit.errors import DataError
from ssl_kit.runs import rundir

VERSION = 1  # of the checkpoint's layout
_EXPECTED = "a checkpoint written by `ssl_kit train`"


@dataclass
class RunCheckpoint:
    method: str
    config: dict  # the resolved config the run trained with (`TrainConfig` as a dict)
    model: dict  # the method's state dict
    step: int  # steps taken
    last_step: int | None = None  # the step the run stops at: finished when `step` reaches it
    epoch: int = 0
    optimizer: dict = dataclasses.field(default_factory=dict)
    data_identity: dict | None = None  # what `ensure_run` checks before reusing the run
    version: int = VERSION

    @property
    def finished(self) -> bool:
        return self.last_step is not None and self.step >= self.last_step

    def as_dict(self) -> dict:
        """The record as the dict `checkpoint.pt` holds (weights, numbers and strings only)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def save(self, run_dir: str | Path) -> Path:
        """`checkpoint.pt` in `run_dir`, atomically."""
        return rundir.save_checkpoint(run_dir, self.as_dict())

    @classmethod
    def from_state(cls, state: object, source: str | Path = "<in-memory checkpoint>") -> RunCheckpoint:
        """The record of a checkpoint dict already in memory (read from `source`); anything that is not a run's
        checkpoint is a DataError naming `source`."""
        if (
            not isinstance(state, Mapping)
            or not isinstance(state.get("config"), Mapping)
            or "model" not in state
        ):
            raise DataError(source, "checkpoint has no 'config'/'model'", _EXPECTED)
        if not isinstance(state["model"], Mapping):
            raise DataError(
                source, f"its 'model' is a {type(state['model']).__name__}", "a state dict of weights"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(
            **{
                "method": state["config"].get("method"),
                "step": 0,
                **{k: v for k, v in state.items() if k in known},
            }
        )

    @classmethod
    def load(
        cls,
        run: str | Path,
        trust: bool = False,
        untrusted_fix: str = rundir.TRUST_FIX,
        map_location: str | torch.device = "cpu",
    ) -> RunCheckpoint:
        """The checkpoint of a run folder (or a checkpoint file), loaded as weights only unless `trust`."""
        path = Path(run) / rundir.CHECKPOINT if Path(run).is_dir() else Path(run)
        state = rundir.load_checkpoint(
            run, map_location=map_location, trust=trust, untrusted_fix=untrusted_fix
        )
        return cls.from_state(state, path)
