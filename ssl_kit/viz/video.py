"""What a positive pair is for each video training mode: one column of pairs per method, before augmentation."""

from __future__ import annotations

import numpy as np
import torch

from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.training.data import load_train_data

GUTTER = 2


def pair_batch(cfg: TrainConfig, n: int = 6, seed: int = 0) -> np.ndarray:
    """(n, 2, S, S, 3) uint8: the first members and partners of `n` random items of the config's data.

    Image sources (MoCo v2 on frames) give the same frame twice: their two views differ only by augmentation."""

    data, _ = load_train_data(resolve(cfg), torch.device("cpu"))
    gen = torch.Generator().manual_seed(seed)
    index = torch.randperm(data.n, generator=gen)[:n]
    images, _ = data.batch(index, gen)
    if images.ndim == 4:
        images = torch.stack([images, images], 1)
    return images.permute(0, 1, 3, 4, 2).numpy()


def plot_pair_batches(configs: dict[str, TrainConfig], n: int = 6, seed: int = 0):
    """A figure with one panel per method: n rows of (frame or region at t | its positive partner)."""
    import matplotlib.pyplot as plt  # deferred: pyplot selects a backend on import; only this figure needs it

    fig, axes = plt.subplots(1, len(configs), figsize=(2.2 * len(configs), 1.1 * n + 0.6), squeeze=False)
    for ax, (name, cfg) in zip(axes[0], configs.items(), strict=True):
        pairs = pair_batch(cfg, n, seed)
        s = pairs.shape[2]
        step = s + GUTTER
        grid = np.full((n * step - GUTTER, 2 * step - GUTTER, 3), 255, np.uint8)
        for r in range(n):
            for c in range(2):
                grid[r * step : r * step + s, c * step : c * step + s] = pairs[r, c]
        ax.imshow(grid)
        ax.set_title(name)
        ax.set_xticks([s / 2, step + s / 2], ["t", "positive"])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
