"""The kNN monitor of the training loop: weighted-kNN accuracy on a labelled validation folder."""

from __future__ import annotations

from pathlib import Path

import torch

from ssl_kit.evaluate.splits import LabelledSplits, default_val_dir
from ssl_kit.methods import Method
from ssl_kit.runs.config import TrainConfig, resolve


def knn_monitor(cfg: TrainConfig, device: torch.device):
    """A `monitor(method, epoch)` for the training loop: weighted-kNN accuracy on the validation folder."""
    cfg = resolve(cfg)
    val = Path(cfg.knn_data) if cfg.knn_data else default_val_dir(cfg.data)
    fix = f"give a smaller --image-size (now {cfg.image_size}), or --no-knn to train without the monitor"
    splits = LabelledSplits(cfg.data, val, cfg.image_size, fix=fix, what="the kNN monitor")

    def monitor(method: Method, epoch: int) -> dict[str, float]:
        return splits.scores(method.feature_backbone(), ("knn",), device)  # modes restored (models.extract)

    return monitor
