"""Frozen features: the one way the kit reads what a network computes (evaluation, the invariance measure and
its monitor during training).

`extract(model, images)` runs `model` in eval mode under `torch.no_grad()`, batch by batch, on any device:
each batch of uint8 images (N, C, H, W) is moved to the device, scaled to [0, 1], optionally resized (bilinear,
antialiased), normalised with `mean`/`std` and fed to the model. It returns the model's output, or the outputs
of named layers (`layers`, read with `LayerTap`), global-average-pooled to (N, D) or kept as maps (N, C, h, w),
as float32 on the CPU. Every submodule's own train/eval flag is restored afterwards, exactly as it was, and a
model moved to another device for the pass is moved back. `images` is a tensor held in memory, or a function
`load(start, stop)` that returns the uint8 images of rows start..stop-1 (e.g. a protocol's crops, read as
needed).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ssl_kit.common.device import channels_last
from ssl_kit.common.imagenet import IMAGENET_MEAN, IMAGENET_STD
from ssl_kit.models.layers import LayerTap

Size = int | tuple[int, int]
Loader = Callable[[int, int], torch.Tensor]


def model_device(model: torch.nn.Module) -> torch.device:
    """Where a model's parameters (or, without any, its buffers) are; the CPU for a model with neither."""
    for t in list(model.parameters()) + list(model.buffers()):
        return t.device
    return torch.device("cpu")


def _model_dtype(model: torch.nn.Module) -> torch.dtype:
    return next((t.dtype for t in model.parameters() if t.is_floating_point()), torch.float32)


def _size(size: Size | None) -> tuple[int, int] | None:
    if size is None:
        return None
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if len(hw) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in hw):
        raise ValueError(f"size must be an int or a (height, width) pair of ints >= 1, got {size!r}")
    return hw  # type: ignore[return-value]


def check_images(images, channels: int) -> torch.Tensor:
    """`images` as a non-empty uint8 (N, C, H, W) tensor with `channels` channels, or a ValueError saying why not."""
    t = torch.as_tensor(images)
    if t.dtype != torch.uint8:
        raise ValueError(
            f"images must be a uint8 tensor (N, C, H, W) with values 0..255, got dtype {t.dtype}"
        )
    if t.ndim != 4:
        raise ValueError(f"images must be a 4-D uint8 tensor (N, C, H, W), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError("images is empty (N = 0); expected at least one image")
    if t.shape[1] != channels:
        raise ValueError(
            f"images have {t.shape[1]} channels but mean and std have {channels} entries; expected one per "
            "channel (images must be channels-first: (N, C, H, W))"
        )
    return t


def pool(y: torch.Tensor) -> torch.Tensor:
    """Global average pooling of feature maps (B, C, h, w) to (B, C); a (B, D) output is kept as it is."""
    if y.ndim == 4:
        return y.mean(dim=(2, 3))
    if y.ndim == 2:
        return y
    raise ValueError(f"model output has shape {tuple(y.shape)}; expected (B, D) or (B, C, h, w) to pool")


def _maps(y: torch.Tensor) -> torch.Tensor:
    if y.ndim != 4:
        raise ValueError(f"model output has shape {tuple(y.shape)}; expected feature maps (B, C, h, w)")
    return y


def extract(
    model: torch.nn.Module,
    images: torch.Tensor | Loader,
    *,
    count: int | None = None,
    layers: str | Sequence[str] | None = None,
    pooled: bool = True,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    size: Size | None = None,
    progress: bool = False,
    desc: str = "features",
) -> torch.Tensor | dict[str, torch.Tensor]:
    """Frozen features of every image (see the module doc).

    Args:
        model: a network taking normalised float batches (B, C, H, W).
        images: uint8 (N, C, H, W) on the CPU, or `load(start, stop)` returning such rows (then `count` = N).
        layers: None -> the model's output (a tensor back); a name -> that layer's output (a tensor back); a
            list of names -> {name: features}.
        pooled: global-average-pool 4-D outputs to (N, C) (2-D outputs are kept); False -> feature maps.
        batch_size: images per forward pass.
        device: where to run; None -> wherever the model is.
        mean, std: per-channel normalisation of the [0, 1]-scaled images.
        size: resize every batch to this (int -> square, pair -> (height, width)).
        progress, desc: a tqdm progress bar over the images.
    """
    if any(float(s) <= 0 for s in std) or len(mean) != len(std):
        raise ValueError(f"std must be > 0 for every channel and as long as mean, got mean {mean}, std {std}")
    if callable(images) and not isinstance(images, torch.Tensor):
        if count is None or count < 1:
            raise ValueError(f"a loader of images needs the number of images (count >= 1), got {count!r}")
        load, n = images, count
    else:
        held = check_images(images, len(mean))
        load, n = (lambda a, b: held[a:b]), held.shape[0]
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    batch_size = int(batch_size)
    names = [layers] if isinstance(layers, str) else list(layers or [])
    reduce = pool if pooled else _maps
    hw = _size(size)
    home = model_device(model)
    dev = torch.device(device) if device is not None else home
    mean_t = torch.tensor([float(m) for m in mean], device=dev, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.tensor([float(s) for s in std], device=dev, dtype=torch.float32).view(1, -1, 1, 1)
    dtype = _model_dtype(model)
    modes = [(m, m.training) for m in model.modules()]
    out: dict[str, list[torch.Tensor]] = {name: [] for name in names or [""]}
    try:
        model.to(dev)
        layout = torch.channels_last if channels_last(model) else torch.contiguous_format
        model.eval()
        with LayerTap(model, names) as tap, torch.no_grad():
            bar = tqdm(total=n, desc=desc, unit="img", disable=not progress)
            for start in range(0, n, batch_size):
                stop = min(n, start + batch_size)
                x = load(start, stop).to(dev, non_blocking=True).float().div_(255.0)
                if hw is not None and tuple(x.shape[-2:]) != hw:
                    x = F.interpolate(x, size=hw, mode="bilinear", align_corners=False, antialias=True)
                y = model(((x - mean_t) / std_t).to(dtype).contiguous(memory_format=layout))
                for name in out:
                    value = tap.outputs[name] if name else y
                    if not isinstance(value, torch.Tensor):
                        raise ValueError(f"model returned a {type(value).__name__}; expected a tensor")
                    out[name].append(reduce(value.float()).cpu())
                bar.update(stop - start)
            bar.close()
    finally:
        model.to(home)
        for m, training in modes:
            m.training = training
    feats = {name: torch.cat(chunks) for name, chunks in out.items()}
    return feats if names and not isinstance(layers, str) else next(iter(feats.values()))
