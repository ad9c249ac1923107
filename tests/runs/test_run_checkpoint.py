"""A run's checkpoint as one typed record (`ssl_kit.runs.run_checkpoint`)."""

from __future__ import annotations

import pytest
import torch

from ssl_kit.errors import DataError
from ssl_kit.runs import rundir
from ssl_kit.runs.run_checkpoint import RunCheckpoint


def test_a_checkpoint_saves_and_loads_as_the_same_record(tmp_path):
    ckpt = RunCheckpoint(
        "mocov2", {"method": "mocov2", "lr": 0.03}, {"w": torch.ones(2)}, step=3, last_step=5
    )
    ckpt.save(tmp_path)
    back = RunCheckpoint.load(tmp_path)
    assert back.as_dict().keys() == ckpt.as_dict().keys() and back.config == ckpt.config
    assert torch.equal(back.model["w"], ckpt.model["w"]) and (back.step, back.last_step) == (3, 5)
    assert not back.finished and RunCheckpoint.load(tmp_path / rundir.CHECKPOINT).step == 3
    ckpt.step = 5
    assert ckpt.finished and not RunCheckpoint("m", {}, {}, step=9).finished  # no last step: never finished


def test_a_dict_that_is_not_a_runs_checkpoint_names_its_source(tmp_path):
    with pytest.raises(DataError, match="no 'config'/'model'"):
        RunCheckpoint.from_state({"state_dict": {}}, tmp_path / "x.pt")
    with pytest.raises(DataError, match="'model' is a list"):
        RunCheckpoint.from_state({"config": {}, "model": []}, tmp_path / "x.pt")
    old = RunCheckpoint.from_state({"config": {"method": "simclr"}, "model": {}, "step": 2, "unknown": 1})
    assert (old.method, old.step, old.optimizer) == ("simclr", 2, {})  # a field it lacks: its default
