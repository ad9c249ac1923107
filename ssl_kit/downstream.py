"""Load a run, and score a backbone downstream (weighted kNN, linear probe) on labelled folders.

Every score can be compared with a random-init network of the same architecture (`random_backbone`), the
baseline that a small-budget self-supervised run must beat.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ssl_kit import rundir
from ssl_kit.data.memory import load_labelled_folder
from ssl_kit.device import choose_device
from ssl_kit.errors import DataError
from ssl_kit.evaluate import extract_features, knn_accuracy, linear_probe
from ssl_kit.methods import Method
from ssl_kit.train_config import TrainConfig, method_from_config, resolve


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


class LabelledSplits:
    """Train and test folders loaded once at one size, reused for every backbone scored."""

    def __init__(self, train_dir: str | Path, test_dir: str | Path, size: int, progress: bool = False):
        self.train_images, self.train_labels, self.classes = load_labelled_folder(
            train_dir, size, progress=progress
        )
        self.test_images, self.test_labels, test_classes = load_labelled_folder(
            test_dir, size, progress=progress
        )
        if test_classes != self.classes:
            raise DataError(
                test_dir, f"classes {test_classes} differ from {train_dir}'s", f"the classes {self.classes}"
            )

    def scores(
        self, backbone: nn.Module, protocols=("knn", "linear"), device=None, seed: int = 0
    ) -> dict[str, float]:
        device = choose_device(device) if not isinstance(device, torch.device) else device
        backbone = backbone.to(device)
        ftr = extract_features(backbone, self.train_images, device=device)
        fte = extract_features(backbone, self.test_images, device=device)
        out = {}
        if "knn" in protocols:
            out["knn_acc"] = knn_accuracy(ftr, self.train_labels, fte, self.test_labels)
        if "linear" in protocols:
            out["linear_acc"] = linear_probe(ftr, self.train_labels, fte, self.test_labels, seed=seed)[
                "accuracy"
            ]
        return out


def default_val_dir(train_dir: str | Path) -> Path:
    """`.../train` -> `.../val` (the world's objects set, ImageNet's layout)."""
    train_dir = Path(train_dir)
    return train_dir.parent / "val"


def knn_monitor(cfg: TrainConfig, device: torch.device):
    """A `monitor(method, epoch)` for the training loop: weighted-kNN accuracy on the validation folder."""
    cfg = resolve(cfg)
    val = Path(cfg.knn_data) if cfg.knn_data else default_val_dir(cfg.data)
    splits = LabelledSplits(cfg.data, val, cfg.image_size)

    def monitor(method: Method, epoch: int) -> dict[str, float]:
        was = method.training
        scores = splits.scores(method.feature_backbone(), ("knn",), device)
        method.train(was)
        return scores

    return monitor
