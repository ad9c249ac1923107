"""What the two views of a positive pair show, per training set (`ssl_kit.findings.positive_pairs`): example images with both
crops and the objects drawn, and histograms of crop overlap and object coverage."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Rectangle

from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.data.images import load_images
from ssl_kit.findings.positive_pairs import PairStats, read_object_boxes


def plot_pair_examples(
    folder: str | Path, stats: PairStats, n: int = 6, size: int = 32, title: str | None = None
):
    """The first `n` pairs of `stats` on their images (at the trainer's `size`): object boxes in white, the
    query crop in orange, the key crop in blue; the title says whether both views show the same object."""

    index = read_imagefolder(folder)
    boxes, _ = read_object_boxes(folder, size)
    picks = list(range(min(n, len(stats.image))))
    images, _ = load_images([index.paths[stats.image[i]] for i in picks], size=size)
    fig, axes = plt.subplots(1, len(picks), figsize=(1.7 * len(picks), 2.0), squeeze=False)
    for ax, i, img in zip(axes[0], picks, images, strict=True):
        ax.imshow(img, extent=(0, size, size, 0))
        for x, y, w, h in boxes[stats.image[i]]:
            ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor="white", linewidth=1, linestyle=":"))
        for crop, color in ((stats.crops1[i], "tab:orange"), (stats.crops2[i], "tab:blue")):
            ax.add_patch(
                Rectangle(tuple(crop[:2]), crop[2], crop[3], fill=False, edgecolor=color, linewidth=1.5)
            )
        ax.set_title("same object" if stats.same_object_25[i] else "not the same", fontsize=8)
        ax.set_xlim(0, size)
        ax.set_ylim(size, 0)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_pair_histograms(stats: dict[str, PairStats]):
    """Three panels over datasets: crop IoU, object coverage of a view, and the same-object fractions."""
    pairs = pd.concat([pd.DataFrame({"dataset": n, "crop IoU": s.crop_iou}) for n, s in stats.items()])
    views = pd.concat(
        [
            pd.DataFrame({"dataset": n, "object coverage of a view": np.r_[s.coverage1, s.coverage2]})
            for n, s in stats.items()
        ]
    )
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    hist = dict(hue="dataset", stat="density", common_norm=False, element="step", bins=20)
    sns.histplot(pairs.reset_index(drop=True), x="crop IoU", ax=axes[0], **hist)
    sns.histplot(views.reset_index(drop=True), x="object coverage of a view", ax=axes[1], **hist)
    bars = pd.DataFrame(
        [
            {"dataset": n, "measure": m, "fraction of pairs": v}
            for n, s in stats.items()
            for m, v in (
                ("same dominant object", s.same_object.mean()),
                ("same object, >= 25% of each view", s.same_object_25.mean()),
            )
        ]
    )
    sns.barplot(bars, x="measure", y="fraction of pairs", hue="dataset", ax=axes[2])
    axes[2].set_xlabel("")
    axes[2].set_ylim(0, 1)
    fig.tight_layout()
    return fig
