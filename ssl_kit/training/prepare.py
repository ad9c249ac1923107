"""Part one of the training loop: everything a run needs before its first step (`prepare(cfg, resume)` -> `Run`).

The data (a batch source, `ssl_kit.batches`), the method on its device (wrapped for DDP when distributed), the
optimizer, and for `--resume` the checkpoint's weights, optimizer state and step, each checked before any work.
Only the main process reads and writes the run folder (other machines need not share it): it checks and loads
the checkpoint and decides the input mode, and the other processes receive them.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import torch
from torch import nn

from ssl_kit.augment import changed_policy
from ssl_kit.batches import HeldSource, Steps
from ssl_kit.common import distributed as D
from ssl_kit.common.device import channels_last, choose_device, seed_everything
from ssl_kit.common.memory_budget import human_bytes, physical_memory
from ssl_kit.data.identity import data_identity
from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.data.memory import resident_bytes
from ssl_kit.errors import ConfigError, DataError
from ssl_kit.evaluate.splits import default_val_dir
from ssl_kit.methods import Method
from ssl_kit.methods.sync_bn import sync_batchnorm
from ssl_kit.models.whitening import whiten_stems
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig, method_from_config, resolve
from ssl_kit.runs.resume import check_unchanged, no_run, remove_stale_temp_files, rewind_metrics
from ssl_kit.runs.run_checkpoint import RunCheckpoint
from ssl_kit.training.data import decide_input, load_train_data
from ssl_kit.training.finite import named, nonfinite_state
from ssl_kit.training.fits import check_run_fits
from ssl_kit.training.schedule import Schedule
from ssl_kit.training.state import Run
from ssl_kit.video.sources import is_video_source

# Below this many pixels a view is a handful of positions for a ResNet (`_warn_small`).
MIN_IMAGE_SIZE = 16


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


def stem_images(source, seed: int, device: torch.device, count: int = 2048) -> torch.Tensor:
    """Up to `count` training images (uint8 (N, 3, H, W)) of a held source, drawn with `seed`, whose patches set a
    whitened stem (`whiten_stem`)."""
    if not isinstance(source, HeldSource):
        raise ConfigError(
            "whiten_stem computes the stem from the training images held in memory: use --input memory, or "
            "--whiten-stem false"
        )
    index = torch.randperm(source.n, generator=torch.Generator().manual_seed(seed))[:count]
    images, _ = source.batch(index.to(device), torch.Generator().manual_seed(seed))
    return images.flatten(0, 1) if images.ndim == 5 else images  # a pair source's (B, 2, C, H, W)


def param_groups(method: nn.Module, bn_lr_scale: float = 1.0) -> list[dict]:
    """The trainable parameters as SGD's groups: one, or with `bn_lr_scale` != 1 the batch-norm weights and
    biases in a second group whose `lr_scale` multiplies the schedule's learning rate (`Schedule.set`)."""
    norms = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)
    bn = {id(p) for m in method.modules() if isinstance(m, norms) for p in m.parameters(recurse=False)}
    params = [p for p in method.parameters() if p.requires_grad]
    if bn_lr_scale == 1.0:
        return [{"params": params, "lr_scale": 1.0}]
    return [
        {"params": [p for p in params if id(p) not in bn], "lr_scale": 1.0},
        {"params": [p for p in params if id(p) in bn], "lr_scale": bn_lr_scale},
    ]


def sgd(
    method: nn.Module, lr: float, momentum: float, weight_decay: float, bn_lr_scale: float = 1.0
) -> torch.optim.SGD:
    """SGD over the trainable parameters (`param_groups`), as one fused kernel (CPU and CUDA): the default
    implementation's per-tensor loop is a noticeable share of a small model's step on a CPU (docs/benchmarks.md;
    `benchmarks/bench_train.py` measures the step)."""
    groups = param_groups(method, bn_lr_scale)
    try:
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, weight_decay=weight_decay, fused=True)
    except (RuntimeError, ValueError):  # a device without a fused kernel (e.g. MPS on old torch)
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, weight_decay=weight_decay, foreach=True)


def prepare(cfg: TrainConfig, resume: bool, progress: bool) -> Run:
    """The run `cfg` describes, ready for its first step (see the module doc): four steps, each asked once."""
    cfg = resolve(cfg)
    device = _device(cfg, resume)
    cfg, state = _resume_state(cfg, resume)
    source, data_log = _data(cfg, device, progress)
    method, opt = _method(cfg, source, device)
    step = _resume_weights(Path(cfg.out), method, opt, state) if resume else 0
    if D.is_main():
        _start_folder(cfg, step, resume, data_log)
    policy = changed_policy(cfg.policy or method.default_policy, cfg.augment)
    steps_per_epoch = source.n // cfg.batch_size
    total = cfg.steps or steps_per_epoch * cfg.epochs
    schedule = Schedule(
        opt,
        method,
        cfg.lr,
        total,
        warmup_steps=int(cfg.warmup_epochs * steps_per_epoch),
        crop_size=cfg.crop_size,
        progressive_from=cfg.progressive_from,
        momentum=cfg.moco_momentum,
        momentum_end=cfg.moco_momentum_end,
    )
    last = min(total, cfg.max_steps) if cfg.max_steps else total
    steps = Steps(cfg.seed, cfg.batch_size, step, last, policy, cfg.crop_size, method.n_views, device,
                  D.rank(), D.world_size())  # fmt: skip
    return Run(
        cfg=cfg,
        out=Path(cfg.out),
        device=device,
        method=method,
        model=distributed(method, device),
        opt=opt,
        schedule=schedule,
        source=source,
        policy=source.device_policy(policy),
        steps=steps,
        steps_per_epoch=steps_per_epoch,
        identity=data_identity(cfg.data) if D.is_main() else None,
        good_step=step if state is not None else None,
    )


def _device(cfg: TrainConfig, resume: bool) -> torch.device:
    """Step 1, the device: this process's (joining the other processes under torchrun); the main process checks
    the run folder and warns of sizes too small to learn from."""
    device = D.local_device(choose_device(cfg.device))
    D.init_from_env(device)
    if D.is_main():
        _check_out(Path(cfg.out), resume)
        _warn_small(cfg)
    return device


def _resume_state(cfg: TrainConfig, resume: bool) -> tuple[TrainConfig, RunCheckpoint | None]:
    """Step 2, the record: a resumed run's checkpoint (checked against `cfg`), and the input mode (memory or
    stream) decided once, by the main process, for every process."""
    state = D.from_main(_checked_checkpoint(Path(cfg.out), cfg) if resume and D.is_main() else None)
    cfg = D.from_main(decide_input(cfg, state.config if state else None) if D.is_main() else None)
    return cfg, state


def _data(cfg: TrainConfig, device: torch.device, progress: bool):
    """Step 3, the data: an image folder checked to fit this machine before any work, then the batch source."""
    if D.is_main() and not is_video_source(cfg.data):
        index = read_imagefolder(cfg.data)
        held = len(index) if cfg.input == "memory" else 0
        check_run_fits(cfg, len(index.classes), len(index), held, device)
        _warn_unscorable(cfg, len(index))
    seed_everything(cfg.seed)
    source, data_log = load_train_data(cfg, device, progress and D.is_main())
    _check_batch(cfg, source.n)
    if cfg.progressive_from is not None and not isinstance(source, HeldSource):
        raise ConfigError("progressive_from resizes the views of each step on the device: use --input memory")
    return source, data_log


def _method(cfg: TrainConfig, source, device: torch.device) -> tuple[Method, torch.optim.Optimizer]:
    """Step 4, the method: built on the device (the same weights on every rank), its stem whitened where the
    recipe asks, checked against the batch and data sizes, and its optimizer."""
    method = build(cfg, len(source.classes), source.n, device)
    if cfg.whiten_stem:  # the same images and filters on every rank (seeded)
        whiten_stems(method, stem_images(source, cfg.seed, device), cfg.seed)
    method.check_sizes(cfg.batch_size, source.n)
    return method, sgd(method, cfg.lr, cfg.sgd_momentum, cfg.weight_decay, cfg.bn_lr_scale)


def _start_folder(cfg: TrainConfig, step: int, resume: bool, data_log: dict) -> None:
    """The run folder put in order for step `step` (main process only): stale temporary files removed, metrics
    rewound, the config recorded, and what the data loader counted logged."""
    out = Path(cfg.out)
    remove_stale_temp_files(out)  # of a killed writer (the run folder's lock is held)
    rewind_metrics(out, step, resumed=resume)  # rows past `step` are about to be logged again
    rundir.save_config(out, cfg)
    if data_log:  # what the data loader counted (videos used and skipped, pairs, regions)
        rundir.append_metrics(out, step=step, **{f"data_{k}": v for k, v in data_log.items()})


def _check_out(out: Path, resume: bool) -> None:
    if not resume and (out / rundir.CHECKPOINT).exists():
        raise ConfigError(
            f"{out} already holds a run (checkpoint.pt); pass --resume to continue it or choose another --out"
        )


def _check_batch(cfg: TrainConfig, n: int) -> None:
    if cfg.batch_size > n:
        raise ConfigError(f"batch size {cfg.batch_size} is larger than the dataset ({n} items in {cfg.data})")
    if cfg.batch_size % D.world_size():
        raise ConfigError(
            f"batch size {cfg.batch_size} does not split evenly over {D.world_size()} processes"
        )


def _warn_small(cfg: TrainConfig) -> None:
    given = {"image_size": cfg.image_size, "crop_size": cfg.crop_size}
    small = {k: v for k, v in given.items() if v < MIN_IMAGE_SIZE}
    if small:
        flags = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in small.items())
        warnings.warn(
            f"{flags}: below {MIN_IMAGE_SIZE} px the ResNet (output stride 32, 8 with --small-stem true) leaves "
            "its last stages a single position (1x1 feature maps) and crops and blur of a few pixels keep little "
            "of the image; the kit's smallest scale trains at 32 px",
            stacklevel=5,
        )


def _warn_unscorable(cfg: TrainConfig, n_train: int) -> None:
    """Warn when scoring the run (`eval`, the kNN monitor: its folder and the sibling val folder held at
    `image_size`) cannot fit in this machine's memory, though streamed training does."""
    val = default_val_dir(cfg.data)
    n = n_train + (len(read_imagefolder(val)) if val.is_dir() else 0)
    need, have = resident_bytes(n, cfg.image_size), physical_memory()
    if have and need > have:
        warnings.warn(
            f"--image-size {cfg.image_size}: scoring this run (`eval`, the kNN monitor) holds {n} images at that "
            f"size, {human_bytes(need)}, more than this machine's {human_bytes(have)}: it trains (each view is "
            f"cropped from the file at --crop-size {cfg.crop_size}) but cannot be scored here",
            stacklevel=5,
        )


def _checked_checkpoint(out: Path, cfg: TrainConfig) -> RunCheckpoint | None:
    """The checkpoint a resumed run continues from (None: none yet), checked before any work: the same method,
    and the recorded config but for the fields that may change on resume (`ssl_kit.runs.fields.RESUMABLE`;
    `_resume_weights` checks its tensors finite)."""
    path = out / rundir.CHECKPOINT
    if not path.exists():
        if not (out / rundir.CONFIG).is_file():
            raise no_run(out)
        # killed before its first checkpoint
        recorded = dataclasses.asdict(rundir.load_config(out, TrainConfig))
        check_unchanged(recorded, cfg, out / rundir.CONFIG)
        return None
    state = RunCheckpoint.load(out, untrusted_fix=rundir.NOT_THE_RUNS_OWN)
    if state.method != cfg.method:
        raise DataError(path, f"is a {state.method!r} checkpoint", f"a {cfg.method!r} one")
    check_unchanged(state.config, cfg, path)
    return state


def _resume_weights(
    out: Path, method: Method, opt: torch.optim.Optimizer, state: RunCheckpoint | None
) -> int:
    """Load a resumed run's checkpoint into `method` and `opt`; its step (0 when killed before the first one)."""
    if state is None:
        warnings.warn(f"--resume: {out} holds no checkpoint yet, starting from step 0", stacklevel=4)
        return 0
    try:
        method.load_state_dict(state.model)
        opt.load_state_dict(state.optimizer)
    except (RuntimeError, ValueError, KeyError) as e:  # e.g. a data folder that changed size (PIRL's bank)
        first = (str(e).strip().splitlines() or [""])[-1].strip()
        raise DataError(
            out / rundir.CHECKPOINT,
            f"does not fit the network its config and data build ({first})",
            "the same data folder as when the run started",
        ) from e
    bad = nonfinite_state(method, opt)  # a checkpoint saved before this check existed
    if bad:
        raise DataError(
            out / rundir.CHECKPOINT,
            f"holds non-finite values ({named(bad)})",
            "a checkpoint written before the run diverged; train again into a new --out",
        )
    return int(state.step)
