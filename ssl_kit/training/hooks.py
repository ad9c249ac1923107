"""Part three of the training loop: what runs after each step, in order (`default_hooks`).

- `Log`: the progress bar, and every `log_every` steps a row of `metrics.jsonl` (loss, lr, images/s, the
  method's own metrics);
- `Watch`: the invariance monitor every `invariance_every` steps (and before the first step);
- `KnnMonitor`: weighted-kNN accuracy every `knn_every` epochs, and once at the end;
- `Checkpoint`: every `checkpoint_every` steps, at the last, and when asked to stop (a preempted SLURM task,
  `preemption`), after checking the state finite (the divergence guard, `finite.diverged`): only a finite state
  becomes the "last good checkpoint".

A hook has `start(run)` (before the first step of this call), `after(run, step, out, lr)` (after step
`step - 1`, so `step` steps are done) and `end(run, step)`; each does nothing by default.
"""

from __future__ import annotations

import dataclasses
import time

from tqdm.auto import tqdm

from ssl_kit.common import distributed as D
from ssl_kit.methods import StepOutput
from ssl_kit.runs import rundir
from ssl_kit.runs.run_checkpoint import RunCheckpoint
from ssl_kit.training import preemption
from ssl_kit.training.finite import diverged, named, nonfinite_state
from ssl_kit.training.state import Run


class Hook:
    def start(self, run: Run) -> None:
        pass

    def after(self, run: Run, step: int, out: StepOutput, lr: float) -> None:
        pass

    def end(self, run: Run, step: int) -> None:
        pass


class Log(Hook):
    def __init__(self, run: Run, progress: bool):
        self.bar = tqdm(
            total=run.steps.last,
            initial=run.steps.start,
            desc=run.cfg.method,
            unit="step",
            disable=not (progress and D.is_main()),
        )
        self.tick, self.tick_step = time.perf_counter(), run.steps.start

    def after(self, run: Run, step: int, out: StepOutput, lr: float) -> None:
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{out.loss.item():.3f}", refresh=False)
        if D.is_main() and (step % run.cfg.log_every == 0 or step == run.steps.last):
            now = time.perf_counter()
            ips = (step - self.tick_step) * run.cfg.batch_size / max(now - self.tick, 1e-9)
            self.tick, self.tick_step = now, step
            row = {
                "step": step,
                "epoch": step / run.steps_per_epoch,
                "loss": out.loss.item(),
                "lr": lr,
                "images_per_s": ips,
            }
            rundir.append_metrics(run.out, **row, **out.metrics)

    def end(self, run: Run, step: int) -> None:
        self.bar.close()


class Watch(Hook):
    """`watch(method, step)` (the invariance monitor) logged by the main process; it must leave the weights and
    random streams as it found them."""

    def __init__(self, watch):
        self.watch = watch

    def _log(self, run: Run, step: int) -> None:
        if D.is_main():
            rundir.append_metrics(
                run.out, step=step, epoch=step / run.steps_per_epoch, **self.watch(run.method, step)
            )

    def start(self, run: Run) -> None:
        if run.steps.start == 0:
            self._log(run, 0)  # the network before training

    def after(self, run: Run, step: int, out: StepOutput, lr: float) -> None:
        if step % run.cfg.invariance_every == 0 or step == run.steps.last:
            self._log(run, step)


class KnnMonitor(Hook):
    """`monitor(method, epoch)` (weighted kNN on the validation folder) at the end of every `knn_every` epochs
    but the last, and once when the run ends."""

    def __init__(self, monitor):
        self.monitor = monitor

    def after(self, run: Run, step: int, out: StepOutput, lr: float) -> None:
        epoch, within = divmod(step, run.steps_per_epoch)
        if run.cfg.knn_every and within == 0 and epoch % run.cfg.knn_every == 0 and step < run.steps.last:
            values = self.monitor(run.method, epoch)
            if D.is_main():
                rundir.append_metrics(run.out, step=step, epoch=step / run.steps_per_epoch, **values)

    def end(self, run: Run, step: int) -> None:
        if D.is_main():
            values = self.monitor(run.method, step // run.steps_per_epoch)
            rundir.append_metrics(run.out, step=step, epoch=step / run.steps_per_epoch, final=True, **values)


class Checkpoint(Hook):
    """Every `checkpoint_every` steps, at the last, and when asked to stop (`ssl_kit.training.preemption`: then
    it raises `Preempted` once the checkpoint is written)."""

    def after(self, run: Run, step: int, out: StepOutput, lr: float) -> None:
        stop = preemption.requested()
        if step % run.cfg.checkpoint_every and step != run.steps.last and not stop:
            return
        bad = nonfinite_state(run.method, run.opt)
        if bad:
            epoch, names = (step - 1) // run.steps_per_epoch, named(bad)
            raise diverged(
                run,
                step,
                epoch,
                lr,
                f"state: {names}",
                f"the model state became non-finite ({names}) and was not saved",
            )
        save_checkpoint(run, step)
        run.good_step = step
        if stop:
            preemption.clear()
            raise preemption.Preempted(run.out, step)


def save_checkpoint(run: Run, step: int) -> None:
    """`checkpoint.pt` after `step` steps (main process): weights, optimizer, config and the data's identity."""
    if D.is_main():
        RunCheckpoint(
            method=run.cfg.method,
            config=dataclasses.asdict(run.cfg),
            model=run.method.state_dict(),
            step=step,
            last_step=run.steps.last,
            epoch=step // run.steps_per_epoch,
            optimizer=run.opt.state_dict(),
            data_identity=run.identity,
        ).save(run.out)


def default_hooks(run: Run, progress: bool, monitor=None, watch=None) -> list[Hook]:
    """The hooks of a run, in the order they run after each step."""
    hooks: list[Hook] = [Log(run, progress)]
    if watch is not None and run.cfg.invariance_every:
        hooks.append(Watch(watch))
    if monitor is not None:
        hooks.append(KnnMonitor(monitor))
    hooks.append(Checkpoint())
    return hooks
