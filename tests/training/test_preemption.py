"""A training asked to stop (what a preempted SLURM task's signal handler does) checkpoints after the step it is
on, raises `Preempted`, and resumes from exactly there to the uninterrupted run's weights."""

from __future__ import annotations

import pytest
import torch

import ssl_kit.training.loop as loop
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig
from ssl_kit.training import preemption
from ssl_kit.training.reuse import ensure_run


def _cfg(objects, out, **kw) -> TrainConfig:
    return TrainConfig(method="mocov2", scale="smoke", data=str(objects), out=str(out), batch_size=8,
                       queue_size=16, max_steps=6, checkpoint_every=100, log_every=1, **kw)  # fmt: skip


@pytest.mark.slow
def test_a_stop_request_checkpoints_after_the_step_and_the_run_resumes_from_it(
    smoke_world, tmp_path, monkeypatch
):
    objects = smoke_world / "objects" / "train"
    straight = ensure_run(_cfg(objects, tmp_path / "straight"), progress=False)
    real_step, steps = loop.train_step, []

    def step_then_ask(run, batch):  # the signal arrives in the middle of the third step
        out = real_step(run, batch)
        steps.append(batch.plan.step)
        if len(steps) == 3:
            assert preemption.training_active()
            preemption.request()
        return out

    monkeypatch.setattr(loop, "train_step", step_then_ask)
    cfg = _cfg(objects, tmp_path / "stopped")
    with pytest.raises(preemption.Preempted, match="stopped as asked after step 3"):
        ensure_run(cfg, progress=False)
    assert not preemption.requested() and not preemption.training_active()  # the request is spent
    assert rundir.load_checkpoint(cfg.out)["step"] == 3 and not (tmp_path / "stopped" / ".lock").exists()
    monkeypatch.setattr(loop, "train_step", real_step)
    resumed = ensure_run(cfg, progress=False)
    a, b = rundir.load_checkpoint(straight), rundir.load_checkpoint(resumed)
    assert a["step"] == b["step"] == 6
    assert all(torch.equal(v, b["model"][k]) for k, v in a["model"].items())
