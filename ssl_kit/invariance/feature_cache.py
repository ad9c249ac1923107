"""The kit's one feature cache: features of a protocol's images, or of images held in memory, at any named
layer, batched on the chosen device, cached on disk.

A 4-D output (feature maps) is global-average-pooled, so "layer3" gives a 256-d vector per image and
"avgpool" (the default) is ResNet pool5, after ReLU, as in the paper. Images are scaled to [0, 1] and
normalised with ImageNet's mean and std. A protocol's images are loaded batch by batch (`ProtocolSet.load`:
crop to the box, resize to the protocol's size); images in memory (uint8 (N, 3, H, W), e.g. the neighbour
browser's) are resized to `size` when given.

An entry's key (`cache_key("features", version=FEATURES_VERSION, ...)`) is every input that changes the
numbers: the model (a caller-given key, e.g. `checkpoint_key(path)`, the file's SHA-256), the images (a
protocol's fingerprint, or the SHA-256 of the images' pixels), the layer and the preprocessing (size, mean,
std). Entries are `.npy` files written atomically, with a `.json` that says what they hold.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np
import torch

from ssl_kit.common.atomic import atomic_write_bytes
from ssl_kit.common.imagenet import IMAGENET_MEAN, IMAGENET_STD
from ssl_kit.common.keys import cache_key, content_hash
from ssl_kit.invariance.protocols import ProtocolSet
from ssl_kit.models.extract import check_images, extract

DEFAULT_LAYER = "avgpool"
FEATURES_VERSION = 1  # raise it when features are computed differently, so that cached ones are recomputed


def checkpoint_key(path: str | Path) -> str:
    """SHA-256 of a checkpoint file (or of a run folder's checkpoint.pt): what the weights are, not where."""
    path = Path(path)
    return content_hash(path / "checkpoint.pt" if path.is_dir() else path, chars=16)


def _fields(model_key: str, name: str, data: str, size: int | None) -> dict:
    """Everything but the layer that changes the features (the cache key, and the sidecar `.json`)."""
    return dict(
        model=model_key, images=name, data=data, size=size, mean=list(IMAGENET_MEAN), std=list(IMAGENET_STD)
    )


def _cache_file(cache_dir: Path, fields: dict) -> Path:
    key = cache_key("features", version=FEATURES_VERSION, **fields)
    return cache_dir / f"{fields['images']}-{fields['layer'].replace('.', '_')}-{key}.npy"


def _save(path: Path, array: np.ndarray, fields: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())
    what = {"kind": "features", "version": FEATURES_VERSION, **fields}
    atomic_write_bytes(path.with_suffix(".json"), json.dumps(what, indent=1, sort_keys=True).encode())


def _features(model, images, layers, fields, cache_dir, computed, **options) -> dict[str, np.ndarray]:
    """{layer: features} of `images` (`extract`'s), read from `cache_dir` where an entry holds them, else
    extracted (and written there; the layers extracted are added to `computed`). `fields()` gives the entries'
    fields but the layer (None: no model key)."""
    layers = [layers] if isinstance(layers, str) else list(layers)
    if cache_dir is not None and fields is None:
        raise ValueError("a feature cache needs a model_key (e.g. checkpoint_key(path)) naming the weights")
    common = fields() if cache_dir is not None else {}
    files = {x: _cache_file(Path(cache_dir), {**common, "layer": x}) for x in layers} if common else {}
    out = {layer: np.load(file) for layer, file in files.items() if file.is_file()}
    todo = [layer for layer in layers if layer not in out]
    if todo:
        for layer, feats in extract(model, images, layers=todo, **options).items():
            out[layer] = feats.numpy()
            if layer in files:
                _save(files[layer], out[layer], {**common, "layer": layer})
        if computed is not None:
            computed.extend(todo)
    return {layer: out[layer] for layer in layers}


def protocol_features(
    model: torch.nn.Module,
    protocol: ProtocolSet,
    layers: Sequence[str] | str = DEFAULT_LAYER,
    *,
    size: int | None = None,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    cache_dir: str | Path | None = None,
    model_key: str | None = None,
    progress: bool = True,
    computed: list[str] | None = None,
) -> dict[str, np.ndarray]:
    """{layer: float32 (N, D) features} for every image of `protocol` (cached when `cache_dir` and `model_key`;
    the layers extracted, not read back, are added to `computed`)."""
    size = size or protocol.size
    fields = (lambda: _fields(model_key, protocol.name, protocol.fingerprint(), size)) if model_key else None
    load, desc = partial(protocol.load, size=size, cache_dir=cache_dir), f"features {protocol.name}"
    options = dict(count=len(protocol), batch_size=batch_size, device=device, progress=progress, desc=desc)
    return _features(model, load, layers, fields, cache_dir, computed, **options)


def image_features(
    model: torch.nn.Module,
    images: torch.Tensor,
    layers: Sequence[str] | str = DEFAULT_LAYER,
    *,
    size: int | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    cache_dir: str | Path | None = None,
    model_key: str | None = None,
    progress: bool = False,
    computed: list[str] | None = None,
) -> dict[str, np.ndarray]:
    """{layer: float32 (N, D) features} of uint8 (N, 3, H, W) `images` resized to `size` (None: as they are),
    cached like `protocol_features`, under the SHA-256 of the images' shape and pixels."""
    images = check_images(images, len(IMAGENET_MEAN))
    shape = str(tuple(images.shape))
    fields = (lambda: _fields(model_key, "images", content_hash(shape, images), size)) if model_key else None
    options = dict(size=size, batch_size=batch_size, device=device, progress=progress)
    return _features(model, images, layers, fields, cache_dir, computed, **options)
