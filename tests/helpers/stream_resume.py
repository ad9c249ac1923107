"""Shared by the streaming tests: a streamed run stopped and resumed ends bit for bit where a straight one does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig
from ssl_kit.training.loop import train


def check_resume_is_exact(make_cfg: Callable[..., TrainConfig], tmp_path: Path) -> Path:
    """Train 4 steps straight with 1 worker, and 2 + 2 with 0 workers and `--resume` (input given as "auto":
    the recorded "stream" is kept); assert both end on the same step, input mode and weights. Returns the
    straight run's folder. `make_cfg(out, **overrides)` gives a streamed 4-step config."""
    straight = train(make_cfg(tmp_path / "straight", workers=1), progress=False)
    part = make_cfg(tmp_path / "resumed", max_steps=2)
    train(part, progress=False)
    resumed = train(replace(part, max_steps=4, input="auto"), resume=True, progress=False)
    a, b = rundir.load_checkpoint(straight), rundir.load_checkpoint(resumed)
    assert a["step"] == b["step"] == 4 and a["config"]["input"] == b["config"]["input"] == "stream"
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    return straight
