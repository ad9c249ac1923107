"""Frozen features: run a model over an in-memory uint8 image tensor, batch by batch, on any device.

The model is put in eval mode for the pass (every submodule's own train/eval flag is restored
afterwards) and run under `torch.no_grad()`. Images are uint8 (N, C, H, W) on the CPU; each batch is moved
to the device, scaled to [0, 1], optionally resized (bilinear, antialiased), normalised with `mean`/`std`
and fed to the model. Results come back as float32 on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ssl_kit.augment.policy import IMAGENET_MEAN, IMAGENET_STD
from ssl_kit.common.device import channels_last
from ssl_kit.evaluate._checks import check_count

Size = int | tuple[int, int]


def _model_device(model: torch.nn.Module) -> torch.device:
    for t in list(model.parameters()) + list(model.buffers()):
        return t.device
    return torch.device("cpu")


def _model_dtype(model: torch.nn.Module) -> torch.dtype:
    for t in model.parameters():
        if t.is_floating_point():
            return t.dtype
    return torch.float32


def _check_images(images, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    t = torch.as_tensor(images)
    if t.dtype != torch.uint8:
        raise ValueError(
            f"images must be a uint8 tensor (N, C, H, W) with values 0..255, got dtype {t.dtype}"
        )
    if t.ndim != 4:
        raise ValueError(f"images must be a 4-D uint8 tensor (N, C, H, W), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError("images is empty (N = 0); expected at least one image")
    if len(mean) != t.shape[1] or len(std) != t.shape[1]:
        raise ValueError(
            f"images have {t.shape[1]} channels but mean has {len(mean)} and std {len(std)} entries; "
            "expected one per channel (images must be channels-first: (N, C, H, W))"
        )
    if any(float(s) <= 0 for s in std):
        raise ValueError(f"std must be > 0 for every channel, got {tuple(std)}")
    return t


def _size(size: Size | None) -> tuple[int, int] | None:
    if size is None:
        return None
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if len(hw) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in hw):
        raise ValueError(f"size must be an int or a (height, width) pair of ints >= 1, got {size!r}")
    return hw  # type: ignore[return-value]


def _remember_modes(model: torch.nn.Module) -> list[tuple[torch.nn.Module, bool]]:
    return [(m, m.training) for m in model.modules()]


def _restore_modes(modes: list[tuple[torch.nn.Module, bool]]) -> None:
    for m, training in modes:
        m.training = training


def _run(
    model: torch.nn.Module,
    images,
    batch_size: int,
    device,
    mean: Sequence[float],
    std: Sequence[float],
    size: Size | None,
    progress: bool,
    reduce: Callable[[torch.Tensor], torch.Tensor],
    desc: str,
) -> torch.Tensor:
    images = _check_images(images, mean, std)
    batch_size = check_count(batch_size, "batch_size")
    hw = _size(size)
    home = _model_device(model)
    dev = torch.device(device) if device is not None else home
    dtype = _model_dtype(model)
    mean_t = torch.tensor([float(m) for m in mean], device=dev, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.tensor([float(s) for s in std], device=dev, dtype=torch.float32).view(1, -1, 1, 1)
    modes = _remember_modes(model)
    out: torch.Tensor | None = None
    n = images.shape[0]
    try:
        if dev != home:
            model.to(dev)
        layout = torch.channels_last if channels_last(model) else torch.contiguous_format
        model.eval()
        with torch.no_grad():
            for start in tqdm(range(0, n, batch_size), desc=desc, unit="batch", disable=not progress):
                x = images[start : start + batch_size].to(dev, non_blocking=True).float().div_(255.0)
                if hw is not None and tuple(x.shape[-2:]) != hw:
                    x = F.interpolate(x, size=hw, mode="bilinear", align_corners=False, antialias=True)
                x = ((x - mean_t) / std_t).to(dtype).contiguous(memory_format=layout)
                y = model(x)
                if not isinstance(y, torch.Tensor):
                    raise ValueError(f"model returned a {type(y).__name__}; expected a tensor")
                y = reduce(y).float().cpu()
                if out is None:
                    out = torch.empty((n, *y.shape[1:]), dtype=torch.float32)
                out[start : start + y.shape[0]] = y
    finally:
        if dev != home:
            model.to(home)
        _restore_modes(modes)
    assert out is not None
    return out


def _pool(y: torch.Tensor) -> torch.Tensor:
    if y.ndim == 4:
        return y.mean(dim=(2, 3))
    if y.ndim == 2:
        return y
    raise ValueError(f"model output has shape {tuple(y.shape)}; expected (B, D) or (B, C, h, w) to pool")


def _maps(y: torch.Tensor) -> torch.Tensor:
    if y.ndim != 4:
        raise ValueError(f"model output has shape {tuple(y.shape)}; expected feature maps (B, C, h, w)")
    return y


def extract_features(
    model: torch.nn.Module,
    images,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    size: Size | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Frozen features of every image: a float32 (N, D) tensor on the CPU.

    Args:
        model: maps a normalised float batch (B, C, H, W) to (B, D) or to feature maps (B, D, h, w),
            which are global-average-pooled.
        images: uint8 (N, C, H, W) tensor (or array) on the CPU, values 0..255.
        batch_size: images per forward pass.
        device: where to run; None -> wherever the model's parameters are. A model elsewhere is moved
            there for the pass and moved back afterwards.
        mean, std: per-channel normalisation of the [0, 1]-scaled images.
        size: resize every batch to this (int -> square, pair -> (height, width)); bilinear, antialiased.
        progress: show a tqdm progress bar.

    The model runs in eval mode under `torch.no_grad()`; each submodule's train/eval flag is restored.
    """
    return _run(model, images, batch_size, device, mean, std, size, progress, _pool, "features")


def extract_feature_maps(
    model: torch.nn.Module,
    images,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    size: Size | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Frozen feature maps (no pooling): a float32 (N, C, h, w) tensor on the CPU, for the dense probe.

    Same arguments as `extract_features`; the model must return 4-D (B, C, h, w) outputs.
    """
    return _run(model, images, batch_size, device, mean, std, size, progress, _maps, "feature maps")
