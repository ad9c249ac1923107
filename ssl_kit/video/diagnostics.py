"""What a temporal positive pair actually holds: measurements that explain what the video methods can learn.

- `pair_change`: for frames t and t + delta of one video (as `FramePairs` draws them), the fraction of pixels
  that change by more than a threshold, next to the fraction of the frame the annotated objects cover. With a
  static camera, only the moving objects change, so a pair of frames is nearly one image twice.
- `region_quality`: for cached Region Tracker regions, how many of the proposals are objects (best IoU with
  an annotated object's box on the keyframe), how much of each proposal an object fills, and how well the
  track stays on that object up to `delta_max` frames later.

Both need annotated boxes (the world's `tracks/` for every object; TrackingNet and GOT-10k annotate one object,
so there the object fractions are lower bounds).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ssl_kit.errors import ConfigError
from ssl_kit.video.box_geometry import box_iou, box_mask
from ssl_kit.video.regions import cached_regions, fill_cache


def _object_boxes(video) -> np.ndarray:
    """(objects, T, 4) annotated boxes of every object of `video` (NaN where absent)."""
    if video.tracks:
        return np.stack([t.boxes for t in video.tracks])
    if video.boxes is not None:
        return np.asarray(video.boxes, np.float64)[None]
    raise ConfigError(f"{video.name}: needs annotated boxes (the world's tracks, TrackingNet or GOT-10k)")


def pair_change(
    videos: Sequence, delta: tuple[int, int], n_pairs: int = 500, threshold: int = 16, seed: int = 0
) -> dict[str, float]:
    """Mean fraction of changed pixels (max channel difference > `threshold` of 255) between frames t and
    t + delta, delta uniform in [lo, hi] (clipped to the clip), and the mean fraction of a frame that the
    objects' boxes cover, over `n_pairs` pairs drawn uniformly over videos long enough for `lo`."""
    lo, hi = delta
    usable = [v for v in videos if len(v) > lo]
    if not usable:
        raise ConfigError(f"no video has more than delta_min = {lo} frames")
    rng = np.random.default_rng(seed)
    changed, objects, in_objects = [], [], []
    for _ in range(n_pairs):
        v = usable[rng.integers(len(usable))]
        t = int(rng.integers(0, len(v) - lo))
        u = t + int(rng.integers(lo, min(hi, len(v) - 1 - t) + 1))
        a, b = (f.astype(np.int16) for f in v.read([t, u]))
        moved = np.abs(a - b).max(axis=2) > threshold
        boxes = _object_boxes(v)
        cover = box_mask(boxes[:, t], *a.shape[:2]) | box_mask(boxes[:, u], *a.shape[:2])
        changed.append(moved.mean())
        objects.append(cover.mean())
        in_objects.append(moved[cover].sum() / max(moved.sum(), 1))
    return {
        "pairs": n_pairs,
        "changed_fraction": float(np.mean(changed)),
        "object_fraction": float(np.mean(objects)),
        "change_inside_objects": float(np.mean(in_objects)),
    }


def region_quality(videos: Sequence, params, cache_dir, iou: float = 0.5) -> dict[str, float]:
    """How object-like the cached regions of `videos` are (computing any that are not cached yet).

    `precision`: share of regions whose keyframe box has IoU >= `iou` with some object's box; `object_fill`:
    mean share of a region's box covered by object boxes; `track_iou_at_max_delta`: mean IoU, at the last offset
    the track is alive, between the tracked box and the box of the object it matched on the keyframe (regions
    that matched one)."""

    fill_cache(videos, params, cache_dir, progress=False)  # any missing, in parallel
    best, fill, follow = [], [], []
    for v in videos:
        r = cached_regions(v, params, cache_dir)
        gt = _object_boxes(v)
        h, w = (int(s) for s in r["frame_hw"])
        for t, boxes in zip(r["frame"], r["boxes"], strict=True):
            key = boxes[0]
            objs = gt[:, t]
            ious = np.nan_to_num(box_iou(key[None], objs)[0], nan=0.0)
            best.append(ious.max(initial=0.0))
            x0, y0 = max(int(key[0]), 0), max(int(key[1]), 0)
            region = box_mask(objs, h, w)[
                y0 : int(np.ceil(key[1] + key[3])), x0 : int(np.ceil(key[0] + key[2]))
            ]
            fill.append(region.mean() if region.size else 0.0)
            alive = np.flatnonzero(np.isfinite(boxes).all(1))
            if ious.max(initial=0.0) >= iou and len(alive) > 1:
                d = alive[-1]
                target = gt[int(ious.argmax()), min(t + d, gt.shape[1] - 1)]
                if np.isfinite(target).all():
                    follow.append(float(box_iou(boxes[d][None], target[None])[0, 0]))
    if not best:
        raise ConfigError("no cached region in these videos")
    best = np.asarray(best)
    return {
        "regions": len(best),
        "precision": float((best >= iou).mean()),
        "mean_best_iou": float(best.mean()),
        "object_fill": float(np.mean(fill)),
        "track_iou_at_max_delta": float(np.mean(follow)) if follow else float("nan"),
    }
