"""The one training loop, for every method, on CPU, one GPU, or many through `torchrun`.

Images are held in memory as uint8 tensors and augmented on the device. What step `t` draws (its batch
indices, the seeds of its random numbers) is `ssl_kit.training.plan.step_plan`: all randomness of step `t` is
seeded from (seed, t, rank), and the data order of epoch `e` from (seed, e), so a run resumed from a
checkpoint takes exactly the steps the uninterrupted run would have taken.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ssl_kit.augment import augment, get_policy
from ssl_kit.common import distributed as D
from ssl_kit.common.device import channels_last, choose_device, seed_everything
from ssl_kit.common.lock import folder_lock
from ssl_kit.data.identity import data_identity
from ssl_kit.errors import ConfigError, DataError, SSLKitError
from ssl_kit.methods import Method
from ssl_kit.methods.sync_bn import sync_batchnorm
from ssl_kit.training import rundir
from ssl_kit.training.config import TrainConfig, method_from_config, resolve
from ssl_kit.training.data import decide_input, load_train_data
from ssl_kit.training.finite import diverged_advice, named, nonfinite_state
from ssl_kit.training.plan import step_plan
from ssl_kit.training.resume import check_unchanged, no_run, remove_stale_temp_files, rewind_metrics
from ssl_kit.training.stream import StreamedImages, device_policy
from ssl_kit.training.stream_video import StreamedFrames

CHECKPOINT_VERSION = 1


class TrainingDiverged(SSLKitError):
    """The loss became NaN or infinite."""


def learning_rate(cfg: TrainConfig, step: int, total: int, steps_per_epoch: int) -> float:
    """Linear warm-up, then a cosine decay to zero over the whole run."""
    warm = int(cfg.warmup_epochs * steps_per_epoch)
    if step < warm:
        return cfg.lr * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * t))


def key_momentum(cfg: TrainConfig, step: int, total: int) -> float:
    """MoCo's key-encoder momentum at `step`: constant, or from `moco_momentum` up to `moco_momentum_end` along
    a half cosine (BYOL, Grill et al. 2020: 1 - (1 - m0) (cos(pi t / T) + 1) / 2 when the end is 1)."""
    start, end = cfg.moco_momentum, cfg.moco_momentum_end
    if end is None:
        return start
    return end - (end - start) * (math.cos(math.pi * step / max(1, total)) + 1) / 2


def autocast(cfg: TrainConfig, device: torch.device):
    on = cfg.amp == "bf16" or (cfg.amp == "auto" and device.type == "cuda")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=on)


def _check_out(out: Path, resume: bool) -> None:
    if not resume and (out / rundir.CHECKPOINT).exists():
        raise ConfigError(
            f"{out} already holds a run (checkpoint.pt); pass --resume to continue it or choose another --out"
        )


# Below this many pixels a view is a handful of positions for a ResNet (`_warn_small`).
MIN_IMAGE_SIZE = 16


def _warn_small(cfg: TrainConfig) -> None:
    given = {"image_size": cfg.image_size, "crop_size": cfg.crop_size}
    small = {k: v for k, v in given.items() if v < MIN_IMAGE_SIZE}
    if small:
        flags = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in small.items())
        warnings.warn(
            f"{flags}: below {MIN_IMAGE_SIZE} px the ResNet (output stride 32, 8 with --small-stem true) leaves "
            "its last stages a single position (1x1 feature maps) and crops and blur of a few pixels keep little "
            "of the image; the kit's smallest scale trains at 32 px",
            stacklevel=3,
        )


def _resume_state(out: Path, cfg: TrainConfig) -> dict | None:
    """The checkpoint a resumed run continues from (None: none yet), checked before any work: the same method,
    and the recorded config but for `resume.RESUMABLE` fields (`_load_resume` checks its tensors finite)."""
    path = out / rundir.CHECKPOINT
    if not path.exists():
        if not (out / rundir.CONFIG).is_file():
            raise no_run(out)
        # killed before its first checkpoint
        recorded = dataclasses.asdict(rundir.load_config(out, TrainConfig))
        check_unchanged(recorded, cfg, out / rundir.CONFIG)
        return None
    state = rundir.load_checkpoint(out, map_location="cpu")
    if state.get("method") != cfg.method:
        raise DataError(path, f"is a {state.get('method')!r} checkpoint", f"a {cfg.method!r} one")
    check_unchanged(state.get("config") or {}, cfg, path)
    return state


def _load_resume(out: Path, method: Method, opt: torch.optim.Optimizer, state: dict) -> int:
    try:
        method.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as e:  # e.g. a data folder that changed size (PIRL's bank)
        first = (str(e).strip().splitlines() or [""])[-1].strip()
        raise DataError(out / rundir.CHECKPOINT, f"does not fit the network its config and data build ({first})",
                        "the same data folder as when the run started") from e  # fmt: skip
    bad = nonfinite_state(method, opt)  # a checkpoint saved before this check existed
    if bad:
        raise DataError(out / rundir.CHECKPOINT, f"holds non-finite values ({named(bad)})",
                        "a checkpoint written before the run diverged; train again into a new --out")  # fmt: skip
    return int(state["step"])


def _kept(out: Path, good_step: int | None) -> str:
    if good_step is None:
        return f"no checkpoint was written before it, so {out} holds nothing to resume from"
    return f"the last good checkpoint (step {good_step}) is kept in {out}"


def _save(
    out: Path, cfg: TrainConfig, method: Method, opt, step: int, epoch: int, last: int, identity=None
) -> None:
    if D.is_main():
        state = {
            "version": CHECKPOINT_VERSION,
            "method": cfg.method,
            "config": dataclasses.asdict(cfg),
            "data_identity": identity,  # what `ensure_run` checks before reusing the run
            "model": method.state_dict(),
            "optimizer": opt.state_dict(),
            "step": step,
            "epoch": epoch,
            "last_step": last,  # the run is finished when step == last_step
        }
        rundir.save_checkpoint(out, state)


def build(cfg: TrainConfig, num_classes: int, dataset_size: int, device: torch.device) -> Method:
    torch.manual_seed(cfg.seed)  # the same initial weights on every rank
    method = method_from_config(cfg, num_classes, dataset_size).to(device)
    if cfg.sync_bn:
        sync_batchnorm(method, device)
    channels_last(method)  # on every device (see ssl_kit.common.device.channels_last)
    return method


def distributed(method: Method, device: torch.device) -> nn.Module:
    """`method` wrapped for DDP when running distributed (its gradients averaged over the processes), else itself.

    Buffers are not broadcast from rank 0 at every step: MoCo's queue and PIRL's memory bank are kept equal by
    gathering each step's keys and features (a broadcast would copy PIRL's whole bank every step), and batch-norm
    statistics stay per process as in per-GPU batch norm (rank 0's are saved), or equal under `sync_bn`.
    """
    if not D.is_distributed():
        return method
    return nn.parallel.DistributedDataParallel(
        method, device_ids=[device.index] if device.type == "cuda" else None, broadcast_buffers=False
    )


def sgd(method: nn.Module, lr: float, momentum: float, weight_decay: float) -> torch.optim.SGD:
    """SGD over the trainable parameters, as one fused kernel (CPU and CUDA): the default implementation's
    per-tensor loop is a noticeable share of a small model's step on a CPU (docs/benchmarks.md;
    `benchmarks/bench_train.py` measures the step)."""
    params = [p for p in method.parameters() if p.requires_grad]
    try:
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, fused=True)
    except (RuntimeError, ValueError):  # a device without a fused kernel (e.g. MPS on old torch)
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, foreach=True)


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True, monitor=None, watch=None) -> Path:
    """Train `cfg.method` on the labelled image folder `cfg.data`; returns the run folder.

    `monitor(method, epoch)` (optional) returns a dict of values logged after each `knn_every` epochs and at
    the end (the CLI passes a weighted-kNN monitor). `watch(method, step)` (optional; the CLI passes the
    invariance monitor, `ssl_kit.invariance.monitor`) returns a dict logged every `invariance_every` steps, at
    the start and at the end, by the main process only; it must leave the weights and random streams as it
    found them. One process writes a run folder: the main process holds its lock (`ssl_kit.common.lock`) for
    the whole run, and a second `train` on the same folder is refused.
    """
    if cfg.invariance_every and watch is None:
        raise ConfigError(
            "invariance_every needs the invariance monitor: pass watch=ssl_kit.invariance.monitor."
            "invariance_watch(...) (the command line builds it)"
        )
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun's other ranks write nothing to the folder
        return _train(cfg, resume, progress, monitor, watch)
    with folder_lock(cfg.out, "run"):
        return _train(cfg, resume, progress, monitor, watch)


def _watch(out: Path, cfg: TrainConfig, watch, method, step: int, steps_per_epoch: int) -> None:
    if watch is not None and cfg.invariance_every and D.is_main():
        rundir.append_metrics(out, step=step, epoch=step / steps_per_epoch, **watch(method, step))


def _train(cfg: TrainConfig, resume: bool, progress: bool, monitor, watch) -> Path:
    cfg = resolve(cfg)
    device = D.local_device(choose_device(cfg.device))
    D.init_from_env(device)
    out = Path(cfg.out)
    # only rank 0 reads and writes the run folder (other machines need not share it): it checks and loads the
    # checkpoint and decides the input mode, and the other ranks receive them
    if D.is_main():
        _check_out(out, resume)
        _warn_small(cfg)
    state = D.from_main(_resume_state(out, cfg) if resume and D.is_main() else None)
    cfg = D.from_main(decide_input(cfg, state.get("config") if state else None) if D.is_main() else None)
    seed_everything(cfg.seed)
    data, data_log = load_train_data(cfg, device, progress and D.is_main())
    n = data.n
    world = D.world_size()
    if cfg.batch_size > n:
        raise ConfigError(f"batch size {cfg.batch_size} is larger than the dataset ({n} items in {cfg.data})")
    if cfg.batch_size % world:
        raise ConfigError(f"batch size {cfg.batch_size} does not split evenly over {world} processes")
    method = build(cfg, len(data.classes), n, device)
    if hasattr(method, "check_sizes"):
        method.check_sizes(cfg.batch_size, n)
    opt = sgd(method, cfg.lr, cfg.sgd_momentum, cfg.weight_decay)
    step, good_step = 0, None  # good_step: that of the last checkpoint checked finite
    if resume:
        if state is not None:
            step = good_step = _load_resume(out, method, opt, state)
            del state
        else:
            warnings.warn(f"--resume: {out} holds no checkpoint yet, starting from step 0", stacklevel=2)
    identity = data_identity(cfg.data) if D.is_main() else None  # saved with each checkpoint
    if D.is_main():
        remove_stale_temp_files(out)  # of a killed writer (the run folder's lock is held)
        rewind_metrics(out, step, resumed=resume)  # rows past `step` are about to be logged again
        rundir.save_config(out, cfg)
        if data_log:  # what the data loader counted (videos used and skipped, pairs, regions)
            rundir.append_metrics(out, step=step, **{f"data_{k}": v for k, v in data_log.items()})
    model = distributed(method, device)
    policy = get_policy(cfg.policy or method.default_policy)
    steps_per_epoch = n // cfg.batch_size
    total = cfg.steps or steps_per_epoch * cfg.epochs
    last = min(total, cfg.max_steps) if cfg.max_steps else total
    stream = None
    if isinstance(data, (StreamedImages, StreamedFrames)):  # views cropped from the originals in workers
        stream = data.batches(seed=cfg.seed, batch_size=cfg.batch_size, rank=D.rank(), world=world, start=step,
                              last=last, policy=policy, size=cfg.crop_size, views=method.n_views,
                              device=device)  # fmt: skip
        policy = device_policy(policy)  # the device applies the rest
    bar = tqdm(total=last, initial=step, desc=cfg.method, unit="step", disable=not (progress and D.is_main()))
    if step == 0:
        _watch(out, cfg, watch, method, step, steps_per_epoch)  # the network before training
    tick, tick_step = time.perf_counter(), step
    while step < last:
        plan = step_plan(cfg.seed, step, n, cfg.batch_size, D.rank(), world)
        epoch, idx = plan.epoch, plan.indices.to(device)
        lr = learning_rate(cfg, step, total, steps_per_epoch)
        for group in opt.param_groups:
            group["lr"] = lr
        torch.manual_seed(plan.seed)
        gen = plan.view_generator()
        if stream is not None:
            images, labels, _ = next(stream)  # the same plan's indices, read ahead by the workers
        else:
            images, labels = data.batch(idx, plan.data_generator())

        def view(x, gen=gen):
            v = augment(x, policy, cfg.crop_size, generator=gen)
            return v.contiguous(memory_format=torch.channels_last)

        if cfg.moco_momentum_end is not None and hasattr(method, "momentum"):
            method.momentum = key_momentum(cfg, step, total)
        method.train()
        with autocast(cfg, device):
            result = model(images, idx, labels, view)
        if not torch.isfinite(result.loss):
            if D.is_main():
                rundir.append_metrics(out, step=step, epoch=epoch, error=f"loss is {result.loss.item()}")
            raise TrainingDiverged(
                f"loss became {result.loss.item()} at step {step} (epoch {epoch}, lr {lr:.4g}); "
                f"{_kept(out, good_step)}. {diverged_advice(cfg, step)}."
            )
        opt.zero_grad(set_to_none=True)
        result.loss.backward()
        opt.step()
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{result.loss.item():.3f}", refresh=False)
        if D.is_main() and (step % cfg.log_every == 0 or step == last):
            now = time.perf_counter()
            ips = (step - tick_step) * cfg.batch_size / max(now - tick, 1e-9)
            tick, tick_step = now, step
            row = {
                "step": step,
                "epoch": step / steps_per_epoch,
                "loss": result.loss.item(),
                "lr": lr,
                "images_per_s": ips,
            }
            rundir.append_metrics(out, **row, **result.metrics)
        if cfg.invariance_every and (step % cfg.invariance_every == 0 or step == last):
            _watch(out, cfg, watch, method, step, steps_per_epoch)
        end_of_epoch = step % steps_per_epoch == 0
        if (
            monitor
            and cfg.knn_every
            and end_of_epoch
            and (step // steps_per_epoch) % cfg.knn_every == 0
            and step < last
        ):
            values = monitor(method, step // steps_per_epoch)
            if D.is_main():
                rundir.append_metrics(out, step=step, epoch=step / steps_per_epoch, **values)
        if step % cfg.checkpoint_every == 0 or step == last:
            bad = nonfinite_state(method, opt)  # only a finite state becomes the "last good checkpoint"
            if bad:
                if D.is_main():
                    rundir.append_metrics(out, step=step, epoch=epoch, error=f"state: {named(bad)}")
                raise TrainingDiverged(
                    f"the model state became non-finite by step {step} (epoch {epoch}, lr {lr:.4g}: "
                    f"{named(bad)}) and was not saved; {_kept(out, good_step)}. {diverged_advice(cfg, step)}."
                )
            _save(out, cfg, method, opt, step, step // steps_per_epoch, last, identity)
            good_step = step
    bar.close()
    if monitor and D.is_main():
        rundir.append_metrics(
            out,
            step=step,
            epoch=step / steps_per_epoch,
            final=True,
            **monitor(method, step // steps_per_epoch),
        )
    return out
