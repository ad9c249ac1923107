"""Measure models on protocols: load any checkpoint, score every invariance, write a tidy table.

A row is one number, in the kit's one tidy-row schema (model, metric, K, value; the metric is the protocol's
name); `cosine_table` gives the second measure (`ssl_kit.invariance.cosine`, Ericsson et al. 2021) for the same
models and protocols in the same columns (K empty: the cosine measure has no top-K). Every
model is measured at one input size: its own training size for the kit's runs (a 32 px quick-scale model
sees 32 px images), else the protocol's paper size (128 or 224). A random-init network of the same
architecture (`random_init_model`) is the baseline a trained model is compared with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ssl_kit.common.tidy import write_rows
from ssl_kit.invariance.cosine import CosineResult, cosine_detail
from ssl_kit.invariance.feature_cache import DEFAULT_LAYER, checkpoint_key, protocol_features
from ssl_kit.invariance.measure import InvarianceResult, invariance_detail
from ssl_kit.invariance.protocols import ProtocolSet
from ssl_kit.models.random_init import random_init_backbone, random_init_key
from ssl_kit.models.whitening import with_stem_of
from ssl_kit.runs.importers import import_backbone

FIELDS = ("model", "metric", "K", "value")
LAYER_FIELDS = ("model", "layer", "metric", "K", "value")


@dataclass
class MeasuredModel:
    name: str
    model: nn.Module
    key: str  # identifies the weights in feature caches
    input_size: int | None = None  # None: use each protocol's paper size
    arch: str = "resnet50"
    small_stem: bool = False
    frozen_stem: bool = False  # trained behind a frozen (whitened) first layer, which its random twin keeps


def load_model(checkpoint: str | Path, name: str | None = None, trust: bool = False) -> MeasuredModel:
    """Any checkpoint `import_backbone` understands (kit run, torchvision, MoCo, VISSL), loaded as weights
    only unless `trust` (`--trust-checkpoint`: a file that holds pickled objects runs their code)."""
    imported = import_backbone(checkpoint, trust=trust)
    path = Path(checkpoint)
    if name is None:
        name = (
            path.name if path.is_dir() else (path.parent.name if path.name == "checkpoint.pt" else path.stem)
        )
    small_stem = imported.model.conv1.kernel_size[0] == 3
    return MeasuredModel(
        name,
        imported.model,
        checkpoint_key(path),
        imported.input_size,
        imported.arch,
        small_stem,
        imported.frozen_stem,
    )


def random_model(
    arch: str, small_stem: bool, seed: int = 0, input_size: int | None = None, name: str = "random init"
) -> MeasuredModel:
    """The kit's random-init network (`ssl_kit.models.random_init.random_init_backbone`, in eval mode) with
    its one feature-cache key, measured at `input_size` (None: each protocol's paper size)."""
    model = random_init_backbone(arch, small_stem, seed).eval()
    return MeasuredModel(name, model, random_init_key(arch, small_stem, seed), input_size, arch, small_stem)


def random_init_model(like: MeasuredModel, seed: int = 0, name: str = "random init") -> MeasuredModel:
    """A freshly initialised network of `like`'s architecture, measured at the same size: the same network
    untrained, so behind `like`'s own frozen first layer when it was trained behind one (`frozen_stem`)."""
    model = random_model(like.arch, like.small_stem, seed, like.input_size, name)
    if not like.frozen_stem:
        return model
    with_stem_of(model.model, like.model)
    return dataclasses.replace(model, key=f"{model.key}-stem-of-{like.key}", frozen_stem=True)


def measure(
    model: MeasuredModel,
    protocol: ProtocolSet,
    top_k: Sequence[int] = (10, 25),
    layer: str = DEFAULT_LAYER,
    size: int | None = None,
    cache_dir: str | Path | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    **options,
) -> InvarianceResult:
    """The invariance of `model`'s `layer` features on `protocol` (with every intermediate quantity)."""
    feats = _features(model, protocol, layer, size, cache_dir, device, progress)
    return invariance_detail(feats, protocol.targets, protocol.classes, top_k, **options)


def _features(model: MeasuredModel, protocol: ProtocolSet, layer, size, cache_dir, device, progress):
    size = size or model.input_size or protocol.size
    return protocol_features(
        model.model,
        protocol,
        layer,
        size=size,
        device=device,
        cache_dir=cache_dir,
        model_key=model.key,
        progress=progress,
    )[layer]


def measure_cosine(
    model: MeasuredModel,
    protocol: ProtocolSet,
    layer: str = DEFAULT_LAYER,
    size: int | None = None,
    cache_dir: str | Path | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    **options,
) -> CosineResult:
    """The cosine invariance (Ericsson et al. 2021) of `model`'s `layer` features on `protocol`; `options`
    go to `cosine_detail` (standardise, reference, include_self). Same features (and cache) as `measure`."""
    feats = _features(model, protocol, layer, size, cache_dir, device, progress)
    return cosine_detail(feats, protocol.targets, **options)


def cosine_table(models: Iterable[MeasuredModel], protocols: Iterable[ProtocolSet], **kwargs) -> list[dict]:
    """Tidy rows (model, metric, K=None, value) of the cosine measure for every model on every protocol."""
    protocols = list(protocols)
    return [
        {
            "model": m.name,
            "metric": p.name,
            "K": None,
            "value": measure_cosine(m, p, **kwargs).score,
        }
        for m in models
        for p in protocols
    ]


def measure_table(
    models: Iterable[MeasuredModel],
    protocols: Iterable[ProtocolSet],
    top_k: Sequence[int] = (10, 25),
    **kwargs,
) -> list[dict]:
    """Tidy rows (model, metric, K, value) for every model on every protocol."""
    protocols = list(protocols)
    rows = []
    for m in models:
        for p in protocols:
            result = measure(m, p, top_k, **kwargs)
            rows.extend(
                {"model": m.name, "metric": p.name, "K": k, "value": s} for k, s in result.scores.items()
            )
    return rows


# ResNet stages 1-3, then pool5: layer4 average-pooled over space is pool5 itself (`avgpool`)
BY_LAYER = ("layer1", "layer2", "layer3", "avgpool")


def layer_table(
    models: Iterable[MeasuredModel],
    protocols: Iterable[ProtocolSet],
    layers: Sequence[str] = BY_LAYER,
    top_k: int = 25,
    cache_dir: str | Path | None = None,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> list[dict]:
    """Tidy rows (model, layer, metric, K, value; `LAYER_FIELDS`): the paper's measure on each layer's features (each
    feature map average-pooled over space, as pool5 is), every model on every protocol. One forward pass a
    model and protocol gives every layer (`protocol_features`); features are cached like `measure`'s."""
    protocols, rows = list(protocols), []
    for m in models:
        for p in protocols:
            size = m.input_size or p.size
            feats = protocol_features(
                m.model,
                p,
                list(layers),
                size=size,
                device=device,
                cache_dir=cache_dir,
                model_key=m.key,
                progress=progress,
            )
            for layer in layers:
                score = invariance_detail(feats[layer], p.targets, p.classes, (top_k,)).scores[top_k]
                rows.append({"model": m.name, "layer": layer, "metric": p.name, "K": top_k, "value": score})
    return rows


def write_csv(rows: list[dict], path: str | Path, fields: Sequence[str] = FIELDS) -> Path:
    """Write rows as a tidy CSV (`common/tidy.py`; columns `fields`: model, metric, K, value, or
    `LAYER_FIELDS` for `layer_table`'s rows)."""
    return write_rows(rows, path, fields)
