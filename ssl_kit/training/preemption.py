"""Stop a training at the end of its current step, checkpointed: what a SLURM task does when it is preempted or
nears its time limit (`ssl_kit.study.launch.slurm_array`).

A signal handler cannot save a consistent checkpoint itself (it runs between two bytecodes, maybe halfway
through an optimiser step), so it only calls `request()`. The training loop's checkpoint hook
(`ssl_kit.training.hooks.Checkpoint`) sees the request after the step it is on, writes the run's checkpoint
there, and raises `Preempted`; the run then resumes from exactly that step (`--resume`, or `ensure_run`, takes the
steps the uninterrupted run would have taken). `training()` marks the loop as running, so a handler knows
whether there is a step to wait for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_STATE = {"requested": False, "training": 0}


class Preempted(BaseException):  # noqa: N818 (like KeyboardInterrupt: not an error, passes `except Exception`)
    """The training stopped after a checkpoint, as asked; the run resumes from it."""

    def __init__(self, out, step: int):
        super().__init__(f"{out}: stopped as asked after step {step}, checkpointed; it resumes from there")
        self.out, self.step = out, step


def request() -> None:
    """Ask the running training to checkpoint and stop after its current step (safe in a signal handler)."""
    _STATE["requested"] = True


def requested() -> bool:
    return _STATE["requested"]


def clear() -> None:
    _STATE["requested"] = False


def training_active() -> bool:
    return _STATE["training"] > 0


@contextlib.contextmanager
def training() -> Iterator[None]:
    """Mark a training loop as running for the `with` block."""
    _STATE["training"] += 1
    try:
        yield
    finally:
        _STATE["training"] -= 1
