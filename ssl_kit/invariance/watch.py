"""Invariance during training: the six protocols measured on a fixed small subset with the current backbone.

`invariance_watch(world, size, ...)` reads each protocol once, keeps a seeded subset of whole targets (about
`images` images per protocol; a target is kept whole because the measure compares the images of one
target), decodes the subset at the training's input size, and returns `watch(method, step) -> dict`: the
top-25 score of each protocol (`inv_<protocol>`), with both measures when `cosine` is set
(`cos_<protocol>`, Ericsson et al.'s, `ssl_kit.invariance.cosine`). The training loop calls it every
`--invariance-every` steps and logs the values to `metrics.jsonl`.

Leaving the training undisturbed: the backbone runs in eval mode (batch-norm statistics untouched) under
`torch.no_grad`, inside `torch.random.fork_rng` (the global CPU generator's state is restored), and the
training mode of every module is restored afterwards; the monitor draws nothing from the training's
generators. A run with and without it ends with bit-identical weights on CPU (`tests/invariance/test_monitor.py`).

A subset's score is not the full protocol's. It keeps the full protocol's firing rate (the paper's
p = 1 - 1/C with C the protocol's classes, not the subset's), but fewer images change the thresholds and the
per-class means. The curves are for watching a score move during one run; the full measurement
(`ssl_kit measure`) is what compares finished models.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ssl_kit.errors import ConfigError
from ssl_kit.invariance.cosine import cosine_detail
from ssl_kit.invariance.measure import MIN_TARGET_SIZE, invariance_detail, percentile_for
from ssl_kit.invariance.protocols import PAPER_PROTOCOLS, ProtocolSet, build_protocol, protocol_root
from ssl_kit.models.extract import extract

TOP_K = 25
DEFAULT_IMAGES = 256


def target_subset(targets, classes, images: int, seed: int) -> np.ndarray:
    """Sorted indices of whole targets (each of at least MIN_TARGET_SIZE images), drawn in a seeded order until
    about `images` images of at least 2 classes are held (or every usable target is)."""
    names, code, size = np.unique(np.asarray(targets), return_inverse=True, return_counts=True)
    first = np.full(len(names), len(code))
    np.minimum.at(first, code, np.arange(len(code)))
    target_class = np.asarray(classes)[first]
    order = np.random.default_rng(seed).permutation(np.flatnonzero(size >= MIN_TARGET_SIZE))
    chosen, held = [], 0
    for t in order:
        if held >= images and len(set(target_class[chosen])) >= 2:
            break
        chosen.append(t)
        held += size[t]
    return np.flatnonzero(np.isin(code, chosen))


class _Subset:
    """One protocol's subset, decoded once at `size` px: uint8 images, targets, classes."""

    def __init__(self, protocol: ProtocolSet, images: int, size: int, seed: int):
        keep = target_subset(protocol.targets, protocol.classes, images, seed)
        n_classes = len(np.unique(protocol.classes))
        if n_classes < 2:
            raise ConfigError(f"{protocol.name}: one class in {protocol.root}; the measure needs at least 2")
        self.firing_rate = 1 - percentile_for(n_classes) / 100  # the full protocol's
        self.name = protocol.name
        self.targets, self.classes = protocol.targets[keep], protocol.classes[keep]
        self.images = _load_rows(protocol, keep, size)


def _load_rows(protocol: ProtocolSet, rows: np.ndarray, size: int) -> torch.Tensor:
    """The images at `rows` (sorted), read in contiguous runs."""
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    return torch.cat(
        [protocol.load(int(r[0]), int(r[-1]) + 1, size, memo=False) for r in np.split(rows, breaks)]
    )


class InvarianceWatch:
    """`watch(method, step)`: the protocols' subset scores with the method's current backbone."""

    def __init__(self, subsets: list[_Subset], device: torch.device, cosine: bool = False, batch: int = 256):
        self.subsets, self.device, self.cosine, self.batch = subsets, device, cosine, batch

    def features(self, backbone: torch.nn.Module, images: torch.Tensor) -> np.ndarray:
        return extract(backbone, images, batch_size=self.batch, device=self.device).numpy()

    def __call__(self, method: torch.nn.Module, step: int) -> dict[str, float]:
        backbone = method.feature_backbone()
        values: dict[str, float] = {}
        with torch.random.fork_rng(devices=[]):
            for s in self.subsets:
                f = self.features(backbone, s.images)
                score = invariance_detail(f, s.targets, s.classes, (TOP_K,), firing_rate=s.firing_rate)
                values[f"inv_{s.name}"] = score.scores[TOP_K]
                if self.cosine:
                    values[f"cos_{s.name}"] = float(cosine_detail(f, s.targets).score)
        return values


def invariance_watch(
    world: str | Path,
    size: int,
    device: torch.device | str = "cpu",
    images: int = DEFAULT_IMAGES,
    seed: int = 0,
    protocols: Sequence[str] = PAPER_PROTOCOLS,
    cosine: bool = False,
) -> InvarianceWatch:
    """The monitor for a run whose images are `size` px: each protocol's dataset found under `world` (the
    world, or a folder of real datasets), a subset of about `images` images chosen with `seed`."""
    if images < 2 * MIN_TARGET_SIZE:
        raise ConfigError(
            f"the invariance monitor needs at least {2 * MIN_TARGET_SIZE} images a protocol, got {images}"
        )
    subsets = []
    for name in protocols:
        root = protocol_root(name, world)
        subsets.append(_Subset(build_protocol(name, root), images, size, seed))
    return InvarianceWatch(subsets, torch.device(device), cosine)


def world_of(data: str | Path) -> Path:
    """The folder holding the protocols' datasets for a run on `data`: the first folder above it (or it)
    with the occlusion protocol's dataset (the world's `got_occlusion`, or a real-data layout)."""
    for folder in (Path(data), *Path(data).resolve().parents):
        if protocol_root("occlusion", folder) != folder:
            return folder
    raise ConfigError(
        f"no protocol datasets (got_occlusion/, aloi_view/, ...) above {data}: pass --invariance-data FOLDER"
    )


def watch_for(cfg, device: torch.device | str = "cpu") -> InvarianceWatch | None:
    """The invariance monitor a resolved training config asks for (None when `invariance_every` is 0)."""
    if not cfg.invariance_every:
        return None
    world = Path(cfg.invariance_data) if cfg.invariance_data else world_of(cfg.data)
    return invariance_watch(world, cfg.image_size, device, cfg.invariance_images, cfg.seed)
