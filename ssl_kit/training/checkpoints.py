"""A run's checkpoint back as a method: the trained network of a run folder, and its random-init twin."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ssl_kit.errors import DataError
from ssl_kit.methods import Method
from ssl_kit.models.backbones import build_backbone
from ssl_kit.training import rundir
from ssl_kit.training.config import TrainConfig, method_from_config, resolve


def load_run(run: str | Path, device: str | torch.device = "cpu") -> tuple[Method, TrainConfig, dict]:
    """The trained method of a run folder (or checkpoint file), its config and the raw checkpoint."""
    state = rundir.load_checkpoint(run, map_location="cpu")
    if "config" not in state or "model" not in state:
        raise DataError(
            Path(run), "checkpoint has no 'config'/'model'", "a checkpoint written by `ssl_kit train`"
        )
    method, cfg = method_from_state(state)
    return method.to(device), cfg, state


def method_from_state(state: Mapping) -> tuple[Method, TrainConfig]:
    """The method (in eval mode) and resolved config of a run checkpoint already in memory."""
    cfg = resolve(TrainConfig(**state["config"]))
    weights = state["model"]
    num_classes = int(weights["classifier.weight"].shape[0]) if "classifier.weight" in weights else 1
    dataset_size = weights["memory"].shape[0] if "memory" in weights else 2
    method = method_from_config(cfg, num_classes, dataset_size)
    method.load_state_dict(weights)
    return method.eval(), cfg


def random_init_backbone(arch: str, small_stem: bool, seed: int = 0) -> nn.Module:
    """The random-init network of the kit: a freshly initialised `arch` backbone, drawn after seeding torch's
    global RNG with `seed` (same arguments, same weights).

    These are exactly the initial weights of the backbone of any method trained with that seed (every method
    builds its backbone first; tests/test_train.py checks each one), so a random-init baseline is the run's
    own starting point. Returned in training mode, as built; `random_init_key` names its weights."""
    torch.manual_seed(seed)
    return build_backbone(arch, small_stem)


def random_init_key(arch: str, small_stem: bool, seed: int = 0) -> str:
    """What identifies `random_init_backbone(arch, small_stem, seed)`'s weights in feature caches."""
    return f"random-{arch}-{int(small_stem)}-{seed}"


def random_backbone(cfg: TrainConfig, seed: int | None = None) -> nn.Module:
    """The random-init backbone of a run's architecture (`random_init_backbone`; the run's seed by default)."""
    cfg = resolve(cfg)
    return random_init_backbone(cfg.arch, cfg.small_stem, cfg.seed if seed is None else seed)
