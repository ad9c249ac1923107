"""Features of a protocol's images at any named layer, batched on the chosen device, cached on disk.

A 4-D output (feature maps) is global-average-pooled, so "layer3" gives a 256-d vector per image and
"avgpool" (the default) is ResNet pool5, after ReLU, as in the paper. Images are loaded batch by batch
(`ProtocolSet.load`: crop to the box, resize to the protocol's size), scaled to [0, 1] and normalised with
ImageNet's mean and std.

The cache key is every input that changes the numbers: the model (a caller-given key, e.g.
`checkpoint_key(path)`, the file's SHA-256), the protocol's fingerprint (dataset, images, targets), the
layer, the preprocessing (size, mean, std) and the kit's result format. Entries are `.npy` files written atomically, with a `.json`
that says what they hold.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ssl_kit.common.atomic import atomic_write_bytes
from ssl_kit.common.imagenet import IMAGENET_MEAN, IMAGENET_STD
from ssl_kit.common.keys import RESULT_FORMAT
from ssl_kit.invariance.protocols import ProtocolSet
from ssl_kit.models.extract import extract

DEFAULT_LAYER = "avgpool"


def checkpoint_key(path: str | Path) -> str:
    """SHA-256 of a checkpoint file (or of a run folder's checkpoint.pt): what the weights are, not where."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _fields(model_key: str, protocol: ProtocolSet, layer: str, size: int) -> dict:
    """Everything that changes the features (the cache key, and the sidecar `.json`)."""
    return dict(
        model=model_key,
        protocol=protocol.name,
        data=protocol.fingerprint(),
        layer=layer,
        size=size,
        mean=list(IMAGENET_MEAN),
        std=list(IMAGENET_STD),
        format=RESULT_FORMAT,
    )


def _cache_file(cache_dir: Path, fields: dict) -> Path:
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir / f"{fields['protocol']}-{fields['layer'].replace('.', '_')}-{digest}.npy"


def _save(path: Path, array: np.ndarray, fields: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())
    atomic_write_bytes(path.with_suffix(".json"), json.dumps(fields, indent=1, sort_keys=True).encode())


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
) -> dict[str, np.ndarray]:
    """{layer: float32 (N, D) features} for every image of `protocol` (cached when `cache_dir` and `model_key`)."""
    layers = [layers] if isinstance(layers, str) else list(layers)
    size = size or protocol.size
    if cache_dir is not None and model_key is None:
        raise ValueError(
            "a feature cache needs a model_key (e.g. checkpoint_key(path)) to know what it holds"
        )
    files: dict[str, Path] = {}
    out: dict[str, np.ndarray] = {}
    if cache_dir is not None:
        cache_dir = Path(cache_dir)
        for layer in layers:
            files[layer] = _cache_file(cache_dir, _fields(model_key, protocol, layer, size))
            if files[layer].is_file():
                out[layer] = np.load(files[layer])
        if len(out) == len(layers):
            return out
    todo = [layer for layer in layers if layer not in out]
    computed = _extract(model, protocol, todo, size, batch_size, device, progress)
    for layer, feats in computed.items():
        if cache_dir is not None:
            _save(files[layer], feats, _fields(model_key, protocol, layer, size))
        out[layer] = feats
    return {layer: out[layer] for layer in layers}


def _extract(model, protocol, layers, size, batch_size, device, progress) -> dict[str, np.ndarray]:
    feats = extract(
        model,
        lambda a, b: protocol.load(a, b, size),
        count=len(protocol),
        layers=layers,
        batch_size=batch_size,
        device=device,
        progress=progress,
        desc=f"features {protocol.name}",
    )
    return {layer: f.numpy() for layer, f in feats.items()}
