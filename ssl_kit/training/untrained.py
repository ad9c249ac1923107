"""The untrained twin of a run: the network a run of a config starts from, before its first step.

Every score of a trained network is read against this floor (`eval --random-init`, a sweep's random-init cell):
the backbone's initial weights at the run's seed (`models/random_init.py`: the weights every method's backbone
starts from), behind the frozen whitened first layer the run computes from its training images when its recipe
whitens the stem. One function, one feature-cache key, whoever asks.
"""

from __future__ import annotations

import torch
from torch import nn

from ssl_kit.data.identity import data_identity
from ssl_kit.models.random_init import random_init_backbone, random_init_key
from ssl_kit.models.whitening import whiten_stems, with_stem_of
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.training.data import decide_input, load_train_data
from ssl_kit.training.prepare import stem_images


def untrained_twin(
    cfg: TrainConfig, seed: int | None = None, stem_of: nn.Module | None = None
) -> tuple[nn.Module, str]:
    """The untrained backbone of a run of `cfg` at `seed` (the config's by default) and its feature-cache key.

    With `cfg.whiten_stem` its first layer is the whitened stem of that run: copied from `stem_of` (a backbone
    of that run, whose frozen stem never changed), else computed from `cfg.data`'s training images as the run
    computes it (the same images and filters: the same weights either way, hence one key)."""
    cfg = resolve(cfg)
    seed = cfg.seed if seed is None else seed
    backbone = random_init_backbone(cfg.arch, cfg.small_stem, seed)
    key = random_init_key(cfg.arch, cfg.small_stem, seed)
    if not cfg.whiten_stem:
        return backbone, key
    if stem_of is not None:
        with_stem_of(backbone, stem_of)
    else:
        cpu = torch.device("cpu")
        source, _ = load_train_data(decide_input(cfg), cpu)
        whiten_stems(backbone, stem_images(source, seed, cpu), seed)
    return backbone, f"{key}-whitened-{data_identity(cfg.data)}"
