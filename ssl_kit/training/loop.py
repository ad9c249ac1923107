"""The one training loop, for every method, on CPU, one GPU, or many through `torchrun`, in three parts:

1. `prepare` (`training/prepare.py`): the batch source, the method, the optimizer and a resumed run's state;
2. `train_step` (`training/step.py`): one step, as the paper's pseudocode reads;
3. the hooks (`training/hooks.py`): logging, the kNN monitor, the invariance watch and checkpoints, each after
   every step.

What step `t` draws (its batch indices, the seeds of its random numbers) is `ssl_kit.batches.plan.step_plan`:
all randomness of step `t` is seeded from (seed, t, rank), and the data order of epoch `e` from (seed, e), so a
run resumed from a checkpoint takes exactly the steps the uninterrupted run would have taken.
"""

from __future__ import annotations

import os
from pathlib import Path

from ssl_kit.common.lock import folder_lock
from ssl_kit.common.removal import remove_inside
from ssl_kit.common.writable import writable_folder
from ssl_kit.errors import ConfigError
from ssl_kit.runs.config import TrainConfig
from ssl_kit.training import preemption
from ssl_kit.training.hooks import default_hooks
from ssl_kit.training.prepare import prepare
from ssl_kit.training.step import train_step


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True, monitor=None, watch=None) -> Path:
    """Train `cfg.method` on the labelled image folder `cfg.data`; returns the run folder.

    `monitor(method, epoch)` (optional) returns a dict of values logged after each `knn_every` epochs and at
    the end (the CLI passes a weighted-kNN monitor). `watch(method, step)` (optional; the CLI passes the
    invariance monitor, `ssl_kit.invariance.watch`) returns a dict logged every `invariance_every` steps, at
    the start and at the end, by the main process only; it must leave the weights and random streams as it
    found them. One process writes a run folder: the main process holds its lock (`ssl_kit.common.lock`) for
    the whole run, and a second `train` on the same folder is refused.
    """
    if cfg.invariance_every and watch is None:
        raise ConfigError(
            "invariance_every needs the invariance monitor: pass watch=ssl_kit.invariance.watch."
            "invariance_watch(...) (the command line builds it)"
        )
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun's other ranks write nothing to the folder
        return _train(cfg, resume, progress, monitor, watch)
    out = Path(cfg.out)
    made = not out.exists()
    try:
        with folder_lock(writable_folder(out, "--out"), "run"):
            return _train(cfg, resume, progress, monitor, watch)
    except BaseException:
        if made and out.is_dir() and not any(out.iterdir()):
            remove_inside(
                out, out.parent
            )  # refused before anything was written: no empty folder is left behind
        raise


def _train(cfg: TrainConfig, resume: bool, progress: bool, monitor, watch) -> Path:
    run = prepare(cfg, resume, progress)
    batches = run.source.batches(run.steps)  # a streamed source's workers start reading ahead now
    hooks = default_hooks(run, progress, monitor, watch)
    for hook in hooks:
        hook.start(run)
    step = run.steps.start
    with preemption.training():  # a preempted task's request is met after the step it arrives in
        for batch in batches:
            out, lr = train_step(run, batch)
            step = batch.plan.step + 1
            for hook in hooks:
                hook.after(run, step, out, lr)
    for hook in hooks:
        hook.end(run, step)
    return run.out
