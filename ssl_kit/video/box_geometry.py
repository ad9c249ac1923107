"""Box helpers shared by the video code and the positive-pair analysis (`ssl_kit.findings.positive_pairs`).

Boxes are float64 rows `x, y, w, h` in pixels (top-left corner, width, height), the layout of the world's
tracks, of TrackingNet and of the augmentations' crops; `xyxy` rows are `x0, y0, x1, y1`.

A box of zero width or height has zero area and an IoU of 0 with everything; a row holding NaN (an absent
object, a lost track) gives NaN.
"""

from __future__ import annotations

import numpy as np


def as_boxes(boxes, name: str = "boxes") -> np.ndarray:
    """`boxes` as an (n, 4) float64 array; a single box (4,) becomes (1, 4). Raises ValueError otherwise."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1 and arr.shape[0] == 4:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must be x, y, w, h rows of shape (n, 4) or (4,), got shape {arr.shape}")
    return arr


def xywh_to_xyxy(boxes) -> np.ndarray:
    """(n, 4) x, y, w, h -> (n, 4) x0, y0, x1, y1."""
    b = as_boxes(boxes)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def xyxy_to_xywh(boxes) -> np.ndarray:
    """(n, 4) x0, y0, x1, y1 -> (n, 4) x, y, w, h."""
    b = as_boxes(boxes)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)


def clip_boxes(boxes, width: int, height: int) -> np.ndarray:
    """Clip x, y, w, h boxes to the image [0, width] x [0, height]; a box fully outside gets w = h = 0."""
    xyxy = xywh_to_xyxy(boxes)
    xyxy[:, 0::2] = np.clip(xyxy[:, 0::2], 0, width)
    xyxy[:, 1::2] = np.clip(xyxy[:, 1::2], 0, height)
    return xyxy_to_xywh(xyxy)


def box_area(boxes) -> np.ndarray:
    """(n,) areas of x, y, w, h boxes (negative sizes count as 0)."""
    b = as_boxes(boxes)
    return np.clip(b[:, 2], 0, None) * np.clip(b[:, 3], 0, None)


def _intersection_xyxy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.prod(np.clip(hi - lo, 0, None), axis=2)


def box_intersection(a, b) -> np.ndarray:
    """Pairwise intersection areas of x, y, w, h boxes: (n, 4) and (m, 4) -> (n, m) (NaN where a row has NaN)."""
    return _intersection_xyxy(xywh_to_xyxy(as_boxes(a, "a")), xywh_to_xyxy(as_boxes(b, "b")))


def box_iou(a, b) -> np.ndarray:
    """Pairwise IoU of x, y, w, h boxes: (n, 4) and (m, 4) -> (n, m) in [0, 1] (NaN where a row has NaN).

    The one box IoU of the kit: tracking, region proposals (`nms`), their diagnostics and the positive-pair
    analysis (`ssl_kit.findings.positive_pairs`) all use it."""
    a, b = xywh_to_xyxy(as_boxes(a, "a")), xywh_to_xyxy(as_boxes(b, "b"))
    inter = _intersection_xyxy(a, b)
    union = box_area(xyxy_to_xywh(a))[:, None] + box_area(xyxy_to_xywh(b))[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    nan = np.isnan(a).any(axis=1)[:, None] | np.isnan(b).any(axis=1)[None, :]
    return np.where(nan, np.nan, iou)


def nms(boxes, iou_threshold: float = 0.5, max_keep: int | None = None) -> np.ndarray:
    """Greedy non-maximum suppression in the given order (first = highest priority): indices of the boxes
    kept, ascending. A box is dropped when its IoU with an already kept box is above `iou_threshold`;
    with `max_keep` the scan stops once that many boxes are kept (cost O(n * kept), not O(n^2))."""
    b = as_boxes(boxes)
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    if max_keep is not None and max_keep < 0:
        raise ValueError(f"max_keep must be >= 0 or None, got {max_keep}")
    limit = len(b) if max_keep is None else max_keep
    kept: list[int] = []
    for i in range(len(b)):
        if len(kept) >= limit:
            break
        if not kept or np.all(box_iou(b[i], b[kept])[0] <= iou_threshold):
            kept.append(i)
    return np.asarray(kept, dtype=np.int64)


def box_mask(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """(height, width) bool: the pixels inside any of the x, y, w, h `boxes` (rows with NaN are ignored)."""
    mask = np.zeros((height, width), bool)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    for x, y, w, h in boxes[np.isfinite(boxes).all(1)]:
        x0, y0 = max(int(np.floor(x)), 0), max(int(np.floor(y)), 0)
        x1, y1 = min(int(np.ceil(x + w)), width), min(int(np.ceil(y + h)), height)
        mask[y0:y1, x0:x1] = True
    return mask
