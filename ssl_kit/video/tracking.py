"""Track a box from the first frame of a clip through the next ones (the Region Tracker's positive pairs).

Methods (all deterministic; frames are (H, W, 3) uint8 RGB, boxes x, y, w, h float pixels):

- "flow" (default), median flow: from each frame to the next, a grid of points spread over the box is
  tracked with pyramidal Lucas-Kanade (on the 3 colour channels) forwards, then back; points whose
  forward-backward error exceeds `fb_max` pixels fail. The box moves by the median displacement of the
  better half of the passing points (lowest forward-backward error) and scales by the median ratio of their
  pairwise distances. All boxes of a clip share one LK call per frame pair and direction. Confidence of
  frame t = fraction of the box's points that passed at step t-1 -> t. A step where fewer than `min_points`
  or than `min_fraction` of the points pass (the object is occluded, blurred or gone) does not move the box:
  it is held in place with that low confidence, and after `patience` such steps in a row the track is lost
  (patience 0: lost at the first such step).
- "csrt", "kcf": OpenCV's correlation-filter trackers, one per box (integer boxes). Confidence = 1 while
  `update` succeeds; the track is lost the first time it fails (or when CSRT cannot start on a tiny box).

Every method loses the track when less than `min_inside` of the box is left inside the image.

Why "flow" by default: on the quick world's videos it follows objects about as well as CSRT at a small
fraction of its cost, while KCF loses these small, slow objects; holding the box through failed steps
(`patience`, `min_fraction`) keeps tracks on objects that occluders cross. docs/video.md ("Why the video defaults
are what they are") gives the measurements behind each default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import cv2
import numpy as np

from ssl_kit.video.box_geometry import as_boxes, box_area, clip_boxes
from ssl_kit.video.proposals import check_frame, cv_threads

METHODS = ("flow", "csrt", "kcf")
DEFAULT_METHOD = "flow"


@dataclass
class TrackResult:
    """One tracked box: `boxes[t]` on `frames[t]` (NaN from `lost_at` on), `confidence[t]` in [0, 1]."""

    boxes: np.ndarray  # (T, 4) float64 x, y, w, h
    confidence: np.ndarray  # (T,) float64; 1 on frame 0, 0 from lost_at on
    lost_at: int | None  # first frame index where the track is lost, None if it lasts the whole clip


@dataclass(frozen=True)
class FlowParams:
    """Options of the "flow" method (see the module docstring)."""

    grid: int = 5  # grid x grid points over the box
    fb_max: float = 0.5  # largest forward-backward error of a passing point, pixels
    min_points: int = 6  # fewer passing points: a failed step
    min_fraction: float = 0.5  # a smaller fraction of passing points: a failed step
    patience: int = 8  # failed steps in a row that hold the box; one more and the track is lost
    win_size: int = 9  # LK window side, pixels
    levels: int = 2  # LK pyramid levels above the frame
    max_scale_step: float = 1.25  # largest scale change per frame (1: fixed size)

    def __post_init__(self) -> None:
        ok = (
            self.grid >= 2
            and 2 <= self.min_points <= self.grid**2
            and 0 <= self.min_fraction <= 1
            and self.patience >= 0
            and self.win_size >= 3
            and self.levels >= 0
            and self.max_scale_step >= 1
            and self.fb_max > 0
        )
        if not ok:
            raise ValueError(
                "expected grid >= 2, 2 <= min_points <= grid^2, 0 <= min_fraction <= 1, patience >= 0, "
                f"win_size >= 3, levels >= 0, max_scale_step >= 1, fb_max > 0; got {self}"
            )


def _check_frames(frames: Sequence[np.ndarray]) -> tuple[int, int]:
    if frames is None or len(frames) == 0:
        raise ValueError("frames must hold at least one (H, W, 3) uint8 RGB frame, got an empty sequence")
    shape = check_frame(frames[0], "frames[0]")
    for t, f in enumerate(frames):
        if check_frame(f, f"frames[{t}]") != shape:
            raise ValueError(f"frames[{t}] has shape {f.shape} but frames[0] has {frames[0].shape}")
    return shape


def _check_boxes(boxes, height: int, width: int) -> np.ndarray:
    b = as_boxes(boxes, "box")
    for i, row in enumerate(b):
        if not np.all(np.isfinite(row)):
            raise ValueError(f"box {i} must be finite x, y, w, h, got {row.tolist()}")
        if row[2] <= 0 or row[3] <= 0:
            raise ValueError(f"box {i} must have a positive width and height, got w={row[2]}, h={row[3]}")
    inside = box_area(clip_boxes(b, width, height))
    for i in np.flatnonzero(inside <= 0):
        raise ValueError(
            f"box {i} {b[i].tolist()} lies outside the {width}x{height} frame "
            f"(expected x, y, w, h overlapping [0, {width}] x [0, {height}])"
        )
    return b


def _inside_fraction(box: np.ndarray, width: int, height: int) -> float:
    return float(_inside_fractions(as_boxes(box), width, height)[0])


def _inside_fractions(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """(n,) fraction of each (n, 4) box's area inside the image (0 for an empty box)."""
    area = box_area(boxes)
    inside = box_area(clip_boxes(boxes, width, height))
    return np.divide(inside, area, out=np.zeros_like(area), where=area > 0)


def _new_results(boxes: np.ndarray, n_frames: int) -> list[TrackResult]:
    results = []
    for b in boxes:
        res = TrackResult(np.full((n_frames, 4), np.nan), np.zeros(n_frames), None)
        res.boxes[0], res.confidence[0] = b, 1.0
        results.append(res)
    return results


def _lose(res: TrackResult, t: int) -> None:
    res.lost_at = t
    res.boxes[t:] = np.nan
    res.confidence[t:] = 0.0


def _lk_both_ways(prev: np.ndarray, cur: np.ndarray, p0: np.ndarray, p: FlowParams):
    """LK prev -> cur and back: (positions in cur, forward-backward error, passed) for (n, 2) points."""
    if len(p0) == 0:
        return p0, np.zeros(0), np.zeros(0, dtype=bool)
    lk = {
        "winSize": (p.win_size, p.win_size),
        "maxLevel": p.levels,
        "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
    }
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0.reshape(-1, 1, 2), None, **lk)
    pb, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, p1, None, **lk)
    p1, pb = p1.reshape(-1, 2), pb.reshape(-1, 2)
    fb = np.linalg.norm(p0 - pb, axis=1)
    passed = (st1.ravel() == 1) & (st2.ravel() == 1) & np.isfinite(fb) & (fb <= p.fb_max)
    return p1, fb, passed


def _grid_points_all(boxes: np.ndarray, n: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """n x n points over each box (cell centres): (A, n*n, 2) float32, and which lie inside the image."""
    u = (np.arange(n) + 0.5) / n
    xs = boxes[:, 0, None] + u * boxes[:, 2, None]  # (A, n)
    ys = boxes[:, 1, None] + u * boxes[:, 3, None]
    shape = (len(boxes), n, n)
    pts = np.stack([np.broadcast_to(xs[:, None, :], shape), np.broadcast_to(ys[:, :, None], shape)], -1)
    pts = pts.reshape(len(boxes), n * n, 2)
    keep = (pts[..., 0] >= 0) & (pts[..., 0] <= width - 1) & (pts[..., 1] >= 0) & (pts[..., 1] <= height - 1)
    return pts.astype(np.float32), keep


def _row_medians(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """np.median of each row's masked values (every row holds at least one), the same number np.median gives:
    the middle value, or the mean of the two middle ones, in the values' dtype."""
    ordered = np.sort(np.where(mask, values, np.inf), axis=1)
    count = mask.sum(1)
    lo = np.take_along_axis(ordered, ((count - 1) // 2)[:, None], 1)[:, 0]
    hi = np.take_along_axis(ordered, (count // 2)[:, None], 1)[:, 0]
    return (lo + hi) / values.dtype.type(2)


def _flow_steps(boxes, p0, p1, fb, passed, valid, p: FlowParams) -> tuple[np.ndarray, np.ndarray]:
    """One median-flow step of every box at once, on points padded to (A, K): the boxes moved by the median
    displacement of their better half of passing points and scaled by the median ratio of those points'
    pairwise distances, and which boxes had enough passing points (the others keep their row of `boxes`)."""
    n_pass = passed.sum(1)
    ok = (n_pass >= p.min_points) & (n_pass >= p.min_fraction * valid.sum(1))
    out = boxes.copy()
    rows = np.flatnonzero(ok)
    if len(rows) == 0:
        return out, ok
    pas, err = passed[rows], fb[rows]
    best = pas & (err <= _row_medians(err, pas)[:, None])  # the better half, as in median flow
    # the best points of each box first, then only as many columns as the box with the most of them
    order = np.argsort(~best, axis=1, kind="stable")
    n_best = best.sum(1)
    k = int(n_best.max())
    order = order[:, :k]
    keep = np.arange(k) < n_best[:, None]
    a0 = np.take_along_axis(p0[rows], order[..., None], 1)
    a1 = np.take_along_axis(p1[rows], order[..., None], 1)
    step = a1 - a0
    move = np.stack([_row_medians(step[..., 0], keep), _row_medians(step[..., 1], keep)], 1)
    pair = keep[:, :, None] & keep[:, None, :] & np.triu(np.ones((k, k), dtype=bool), k=1)
    d0 = np.sqrt(((a0[:, :, None] - a0[:, None, :]) ** 2).sum(-1))
    d1 = np.sqrt(((a1[:, :, None] - a1[:, None, :]) ** 2).sum(-1))
    pair &= d0 > 1e-3
    pair, ratio = pair.reshape(len(rows), -1), (d1 / np.where(d0 > 1e-3, d0, 1)).reshape(len(rows), -1)
    scale = np.ones(len(rows))
    has = pair.any(1)
    if has.any():
        scale[has] = _row_medians(ratio[has], pair[has])
    scale = np.clip(scale, 1 / p.max_scale_step, p.max_scale_step)
    x, y, w, h = boxes[rows].T
    out[rows] = np.stack(
        [x + move[:, 0] - (scale - 1) * w / 2, y + move[:, 1] - (scale - 1) * h / 2, w * scale, h * scale], 1
    )
    return out, ok


def _track_flow(frames, boxes: np.ndarray, p: FlowParams, min_inside: float) -> list[TrackResult]:
    height, width = frames[0].shape[:2]
    results = _new_results(boxes, len(frames))
    failed = np.zeros(len(boxes), dtype=int)  # failed steps in a row, per box
    prev = frames[
        0
    ]  # LK on the 3 colour channels: flat-shaded objects often differ from the ground in hue only
    for t in range(1, len(frames)):
        cur = frames[t]
        active = [i for i, r in enumerate(results) if r.lost_at is None]
        if not active:
            break
        old = np.stack([results[i].boxes[t - 1] for i in active])
        pts, valid = _grid_points_all(old, p.grid, width, height)
        p1, fb, passed = _lk_both_ways(prev, cur, pts[valid], p)  # one LK call for every box
        p1_all = np.full(pts.shape, np.nan, dtype=np.float32)
        fb_all = np.full(valid.shape, np.nan, dtype=fb.dtype)
        pass_all = np.zeros(valid.shape, dtype=bool)
        p1_all[valid], fb_all[valid], pass_all[valid] = p1, fb, passed
        moved, ok = _flow_steps(old, pts, p1_all, fb_all, pass_all, valid, p)
        gone = (moved[:, 2] < 1) | (moved[:, 3] < 1) | (_inside_fractions(moved, width, height) < min_inside)
        n_valid = valid.sum(1)
        conf = np.divide(pass_all.sum(1), n_valid, out=np.zeros(len(active)), where=n_valid > 0)
        for k, i in enumerate(active):
            res = results[i]
            failed[i] = 0 if ok[k] else failed[i] + 1
            if failed[i] > p.patience or gone[k]:
                _lose(res, t)
                continue
            res.boxes[t], res.confidence[t] = moved[k], conf[k]
        prev = cur
    return results


def _track_opencv(frames, boxes: np.ndarray, method: str, min_inside: float) -> list[TrackResult]:
    height, width = frames[0].shape[:2]
    create = {"csrt": cv2.TrackerCSRT_create, "kcf": cv2.TrackerKCF_create}[method]
    bgr = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames]
    results = _new_results(boxes, len(frames))
    for res, box in zip(results, boxes, strict=True):
        if len(frames) == 1:
            break
        x0, y0 = int(np.floor(box[0])), int(np.floor(box[1]))
        x1, y1 = int(np.ceil(box[0] + box[2])), int(np.ceil(box[1] + box[3]))
        tracker = create()
        try:
            tracker.init(bgr[0], (x0, y0, max(1, x1 - x0), max(1, y1 - y0)))
        except cv2.error:  # CSRT cannot build a template for a box of a few pixels
            _lose(res, 1)
            continue
        for t in range(1, len(frames)):
            ok, bb = tracker.update(bgr[t])
            new = np.asarray(bb, dtype=np.float64)
            if not ok or new[2] < 1 or new[3] < 1 or _inside_fraction(new, width, height) < min_inside:
                _lose(res, t)
                break
            res.boxes[t], res.confidence[t] = new, 1.0
    return results


def track_boxes(
    frames: Sequence[np.ndarray],
    boxes,
    method: str = DEFAULT_METHOD,
    *,
    min_inside: float = 0.5,
    **flow_options,
) -> list[TrackResult]:
    """Track each x, y, w, h box of `frames[0]` through `frames`: one TrackResult per box, in order.

    `min_inside`: fraction of the box that must stay inside the image (every method). `flow_options` are
    FlowParams fields for method "flow" (grid, fb_max, min_points, min_fraction, patience, win_size, levels,
    max_scale_step). Raises ValueError on an unknown method or option, an empty `frames`, frames of mixed
    shapes, or a box that is not finite, has zero size or does not overlap the frame.
    """
    if method not in METHODS:
        raise ValueError(f"unknown tracking method {method!r} (expected one of {', '.join(METHODS)})")
    known = {f.name for f in fields(FlowParams)}
    if set(flow_options) - known:
        raise ValueError(
            f"unknown tracking options {sorted(set(flow_options) - known)} (expected {sorted(known)})"
        )
    if method != "flow" and flow_options:
        raise ValueError(f"options {sorted(flow_options)} apply to method 'flow' only, not {method!r}")
    params = FlowParams(**flow_options)
    if not 0.0 <= min_inside <= 1.0:
        raise ValueError(f"min_inside must be in [0, 1], got {min_inside}")
    height, width = _check_frames(frames)
    b = _check_boxes(boxes, height, width)
    with cv_threads(1):
        if method == "flow":
            return _track_flow(frames, b, params, min_inside)
        return _track_opencv(frames, b, method, min_inside)


def track_box(frames: Sequence[np.ndarray], box, method: str = DEFAULT_METHOD, **options) -> TrackResult:
    """Track one x, y, w, h box of `frames[0]` through `frames` (options: see `track_boxes`)."""
    b = as_boxes(box, "box")
    if len(b) != 1:
        raise ValueError(f"box must be one x, y, w, h box, got {len(b)} boxes (use track_boxes)")
    return track_boxes(frames, b, method, **options)[0]
