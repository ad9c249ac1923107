"""Labelled train and test folders loaded once, and a backbone scored on them (weighted kNN, linear probe).

Every score can be compared with a random-init network of the same architecture, the baseline that a
small-budget self-supervised run must beat (`ssl_kit.training.untrained.untrained_twin`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ssl_kit.common.device import choose_device
from ssl_kit.common.memory_budget import check_fits
from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.data.memory import load_index, resident_bytes
from ssl_kit.errors import DataError, NonFiniteFeatures
from ssl_kit.evaluate.features import extract_features
from ssl_kit.evaluate.knn import knn_accuracy
from ssl_kit.evaluate.linear import linear_probe


class LabelledSplits:
    """Train and test folders loaded once at one size, reused for every backbone scored."""

    def __init__(
        self,
        train_dir: str | Path,
        test_dir: str | Path,
        size: int,
        progress: bool = False,
        fix: str = "score at a smaller size",
        what: str = "scoring on these folders",
    ):
        """Both folders at `size`; refused before any image is read when together they cannot fit in memory
        (the estimate and `fix` in the error)."""
        self.train_dir, self.test_dir = Path(train_dir), Path(test_dir)
        train, test = read_imagefolder(self.train_dir), read_imagefolder(self.test_dir)
        held = {
            f"{len(index)} images of {index.root} at {size} px": resident_bytes(len(index), size)
            for index in (train, test)
        }
        check_fits(held, what, fix)
        self.train_images, self.train_labels, self.classes = load_index(train, size, progress=progress)
        self.test_images, self.test_labels, test_classes = load_index(test, size, progress=progress)
        if test_classes != self.classes:
            raise DataError(
                test_dir, f"classes {test_classes} differ from {train_dir}'s", f"the classes {self.classes}"
            )

    def scores(
        self, backbone: nn.Module, protocols=("knn", "linear"), device=None, seed: int = 0
    ) -> dict[str, float]:
        device = choose_device(device) if not isinstance(device, torch.device) else device
        backbone = backbone.to(device)
        ftr = _finite(extract_features(backbone, self.train_images, device=device), self.train_dir)
        fte = _finite(extract_features(backbone, self.test_images, device=device), self.test_dir)
        out = {}
        if "knn" in protocols:
            out["knn_acc"] = knn_accuracy(ftr, self.train_labels, fte, self.test_labels)
        if "linear" in protocols:
            out["linear_acc"] = linear_probe(ftr, self.train_labels, fte, self.test_labels, seed=seed)[
                "accuracy"
            ]
        return out


def _finite(features: torch.Tensor, folder: Path) -> torch.Tensor:
    bad = int((~torch.isfinite(features)).any(dim=1).sum())
    if bad:
        raise NonFiniteFeatures(
            f"its features are NaN or infinite on {bad} of {len(features)} images of {folder}: the network "
            "diverged or its weights overflow, and such features cannot be scored"
        )
    return features


def default_val_dir(train_dir: str | Path) -> Path:
    """`.../train` -> `.../val` (the world's objects set, ImageNet's layout)."""
    train_dir = Path(train_dir)
    return train_dir.parent / "val"
