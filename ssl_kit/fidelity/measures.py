"""The fidelity card's measurements: small pure functions on arrays and files, each with a known answer.

Definitions (`ssl_kit.fidelity.set_tables` applies them to a built world's sets):
- relative scale of a box: sqrt(box area / image area) (SNIP's "scale relative to the image").
- COCO's small / medium / large split: mask area < 32^2 / up to 96^2 / > 96^2 pixels of a 640x480 image,
  expressed as fractions of the image (< 1/300, > 0.03) so that images of any size compare.
- background change: between two frames, among the pixels outside every object's box (in either frame), the
  share whose largest channel difference exceeds 16 of 255: `ssl_kit.video.diagnostics.pair_change`'s
  measure of change restricted to the background, so a static camera gives 0 whatever the objects do.
- colour-only accuracy: a joint RGB histogram per image (bins per channel: 4 and 8, i.e. 64 and 512 values
  summing to 1), standardised, multinomial logistic regression (sklearn, lbfgs, L2, C = 1): how far colour
  alone tells the categories apart. Both bin counts are fitted and the card reports the higher accuracy: the
  goal bounds what colour alone can give, so the stronger of the two classifiers is the one to hold to it
  (fewer bins generalise better from a small set, more bins see finer colour; neither wins everywhere).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ssl_kit.errors import DataError
from ssl_kit.video.box_geometry import box_mask

COCO_SMALL, COCO_LARGE = 32**2 / (640 * 480), 96**2 / (640 * 480)  # 0.33% and 3.0% of the image
CHANGE_THRESHOLD = 16  # of 255, the largest channel difference that counts as a changed pixel
COLOUR_BINS = (4, 8)  # per channel, the colour-only classifiers' histograms
SIDE_SAMPLE = 100  # image files whose size is read for an "image size" row


def background_change(
    a: np.ndarray, b: np.ndarray, boxes: np.ndarray, threshold: int = CHANGE_THRESHOLD
) -> float:
    """Share of the pixels outside every box of `boxes` (x, y, w, h rows: the objects in both frames) whose
    largest channel difference between the (H, W, 3) uint8 frames `a` and `b` exceeds `threshold`; NaN when
    the boxes cover the whole frame."""
    moved = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > threshold
    outside = ~box_mask(boxes, *a.shape[:2])
    return float(moved[outside].mean()) if outside.any() else float("nan")


def relative_scale(boxes: np.ndarray, image_hw: np.ndarray) -> np.ndarray:
    """sqrt(box area / image area) per x, y, w, h box, for (N, 2) (or one) image height and width."""
    boxes, hw = np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(image_hw, np.float64)
    return np.sqrt(boxes[:, 2] * boxes[:, 3] / (hw[..., 0] * hw[..., 1]))


def size_split(area_fractions: Sequence[float]) -> tuple[float, float, float]:
    """Shares of objects that are small, medium and large by COCO's thresholds as fractions of the image."""
    f = np.asarray(area_fractions, np.float64)
    if f.size == 0:
        return (float("nan"),) * 3
    small, large = (f < COCO_SMALL).mean(), (f > COCO_LARGE).mean()
    return float(small), float(1 - small - large), float(large)


def colour_histogram(image: np.ndarray, bins: int = 8) -> np.ndarray:
    """The joint RGB histogram of an (H, W, 3) uint8 image: bins^3 values summing to 1."""
    q = image.reshape(-1, 3).astype(np.int64) * bins // 256
    counts = np.bincount((q[:, 0] * bins + q[:, 1]) * bins + q[:, 2], minlength=bins**3)
    return counts / max(counts.sum(), 1)


def colour_accuracy(train_x, train_y, val_x, val_y, seed: int = 0) -> float:
    """Top-1 accuracy on (val_x, val_y) of a standardised logistic regression fit on (train_x, train_y)."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    model.fit(np.asarray(train_x), np.asarray(train_y))
    return float((model.predict(np.asarray(val_x)) == np.asarray(val_y)).mean())


def mean_abs_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 images, on a 0-1 scale."""
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean() / 255)


def object_change(a: np.ndarray, b: np.ndarray, black: int = 5) -> float:
    """Mean absolute difference (0-1) of two uint8 HxWx3 images of an object on a black background, over the
    pixels where either image shows the object (some channel above `black`): the change of the object
    itself, whatever share of the frame it fills."""
    on = (a.max(-1) > black) | (b.max(-1) > black)
    if not on.any():
        return 0.0
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64))[on].mean() / 255)


def cover_span(cover: Sequence[int]) -> int:
    """Highest minus lowest GOT-10k cover level of a video (the paper keeps videos where this is >= 4)."""
    return int(np.max(cover) - np.min(cover))


def image_sides(paths: Sequence[Path], n: int = SIDE_SAMPLE) -> str:
    """'WxH' of the image files (from the headers of up to `n` evenly spaced files), with counts if mixed."""
    pick = [paths[int(i)] for i in np.unique(np.linspace(0, len(paths) - 1, min(n, len(paths))).round())]
    sizes = Counter()
    for p in pick:
        try:
            with Image.open(p) as im:
                sizes[im.size] += 1
        except OSError as e:
            raise DataError(p, f"cannot read the image's size ({e})", "an image file") from e
    if len(sizes) == 1:
        (w, h), _ = sizes.popitem()
        return f"{w}x{h}"
    return ", ".join(f"{w}x{h} ({c})" for (w, h), c in sizes.most_common(3)) + f" of {len(pick)} read"
