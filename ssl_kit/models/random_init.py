"""The random-init network: the floor every trained model is compared with, and its name in feature caches."""

from __future__ import annotations

import torch
from torch import nn

from ssl_kit.models.backbones import build_backbone


def random_init_backbone(arch: str, small_stem: bool, seed: int = 0) -> nn.Module:
    """The random-init network of the kit: a freshly initialised `arch` backbone, drawn after seeding torch's
    global RNG with `seed` (same arguments, same weights).

    These are exactly the initial weights of the backbone of any method trained with that seed (every method
    builds its backbone first; tests/training/test_train.py checks each one), so a random-init baseline is the run's
    own starting point. Returned in training mode, as built; `random_init_key` names its weights."""
    torch.manual_seed(seed)
    return build_backbone(arch, small_stem)


def random_init_key(arch: str, small_stem: bool, seed: int = 0) -> str:
    """What identifies `random_init_backbone(arch, small_stem, seed)`'s weights in feature caches."""
    return f"random-{arch}-{int(small_stem)}-{seed}"
