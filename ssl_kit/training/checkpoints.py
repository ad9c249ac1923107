"""A run's checkpoint back as a method: the trained network of a run folder, and its random-init twin."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ssl_kit.errors import DataError
from ssl_kit.methods import Method
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


def random_backbone(cfg: TrainConfig, seed: int | None = None) -> nn.Module:
    """A freshly initialised backbone of the run's architecture (same seed, same weights)."""
    cfg = resolve(cfg)
    torch.manual_seed(cfg.seed if seed is None else seed)
    method = method_from_config(cfg, num_classes=1, dataset_size=2)
    return method.feature_backbone()
