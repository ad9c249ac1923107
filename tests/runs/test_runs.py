"""`ensure_run` trains once, reuses a finished run, resumes an unfinished one, refuses another config's folder."""

from __future__ import annotations

import pytest
import torch

import ssl_kit.training.reuse as runs
from ssl_kit.errors import ConfigError
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig
from ssl_kit.training.reuse import ensure_run


def _cfg(smoke_world, out, **kw) -> TrainConfig:
    base = dict(
        method="simclr",
        scale="smoke",
        data=str(smoke_world / "objects" / "train"),
        out=str(out),
        batch_size=8,
        max_steps=2,
    )
    return TrainConfig(**{**base, **kw})


def test_ensure_run_trains_reuses_resumes_and_refuses(smoke_world, tmp_path, monkeypatch):
    cfg = _cfg(smoke_world, tmp_path / "run")
    out = ensure_run(cfg, progress=False)
    state = rundir.load_checkpoint(out)
    assert state["step"] == state["last_step"] == 2

    calls = []
    real_train = runs.train
    monkeypatch.setattr(runs, "train", lambda *a, **k: calls.append(k) or real_train(*a, **k))
    assert ensure_run(cfg, progress=False) == out and calls == []  # finished: reused, not retrained

    state["step"] = 1  # as if interrupted after one step
    rundir.save_checkpoint(out, state)
    ensure_run(cfg, progress=False)
    assert calls and calls[0]["resume"] is True and rundir.load_checkpoint(out)["step"] == 2

    # the same data folder spelled another way (relative to here, as `--out results/...` gives it): reused
    monkeypatch.chdir(smoke_world)
    calls.clear()
    assert ensure_run(_cfg(smoke_world, out, data="objects/train"), progress=False) == out and calls == []

    before = torch.load(out / rundir.CHECKPOINT, weights_only=False)["model"]
    with pytest.raises(ConfigError, match="another config"):
        ensure_run(_cfg(smoke_world, tmp_path / "run", lr=0.5), progress=False)
    after = torch.load(out / rundir.CHECKPOINT, weights_only=False)["model"]
    assert all(torch.equal(before[k], after[k]) for k in before)  # nothing overwritten
