"""The median-flow tracker's vectorised step (every box of a frame at once) against the plain per-box
median flow it replaced, on world frames with random boxes: the same boxes, confidences and losses, bit for bit.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ssl_kit.data.images import read_image
from ssl_kit.data.trackingnet import read_frame_videos
from ssl_kit.video import tracking as T
from ssl_kit.world.build import build_set
from ssl_kit.world.presets import PRESETS


def _grid_points(box, n, width, height):
    x, y, w, h = box
    u = (np.arange(n) + 0.5) / n
    xs, ys = np.meshgrid(x + u * w, y + u * h)
    pts = np.stack([xs.ravel(), ys.ravel()], axis=1)
    keep = (pts[:, 0] >= 0) & (pts[:, 0] <= width - 1) & (pts[:, 1] >= 0) & (pts[:, 1] <= height - 1)
    return pts[keep].astype(np.float32)


def _step(box, p0, p1, fb, passed, p):
    """Median flow for one box, written plainly: None when too few points passed."""
    n_pass = int(passed.sum())
    if n_pass < p.min_points or n_pass < p.min_fraction * len(passed):
        return None
    best = passed & (fb <= np.median(fb[passed]))
    a, b = p0[best], p1[best]
    dx, dy = np.median(b - a, axis=0)
    i, j = np.triu_indices(len(a), k=1)
    d0, d1 = np.linalg.norm(a[i] - a[j], axis=1), np.linalg.norm(b[i] - b[j], axis=1)
    ok = d0 > 1e-3
    s = float(np.median(d1[ok] / d0[ok])) if ok.any() else 1.0
    s = float(np.clip(s, 1 / p.max_scale_step, p.max_scale_step))
    x, y, w, h = box
    return np.array([x + dx - (s - 1) * w / 2, y + dy - (s - 1) * h / 2, w * s, h * s])


def _reference(frames, boxes, p, min_inside):
    height, width = frames[0].shape[:2]
    results = T._new_results(boxes, len(frames))
    failed = [0] * len(boxes)
    for t in range(1, len(frames)):
        active = [i for i, r in enumerate(results) if r.lost_at is None]
        if not active:
            break
        for (
            i
        ) in active:  # one box at a time (the tracker batches the LK call; LK treats points independently)
            res, old = results[i], results[i].boxes[t - 1]
            p0 = _grid_points(old, p.grid, width, height)
            p1, fb, passed = T._lk_both_ways(frames[t - 1], frames[t], p0, p)
            box = _step(old, p0, p1, fb, passed, p)
            failed[i] = 0 if box is not None else failed[i] + 1
            if failed[i] > p.patience:
                T._lose(res, t)
                continue
            box = old if box is None else box
            if box[2] < 1 or box[3] < 1 or T._inside_fraction(box, width, height) < min_inside:
                T._lose(res, t)
                continue
            res.boxes[t], res.confidence[t] = box, passed.mean() if len(passed) else 0.0
    return results


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    preset = dataclasses.replace(PRESETS["quick"], video_clips=4, video_frames=10)
    root = build_set("videos", tmp_path_factory.mktemp("clips"), preset, progress=False)
    return [[read_image(p) for p in v.frames] for v in read_frame_videos(root)]


@pytest.mark.parametrize("grid", [5, 10])
def test_vectorised_flow_matches_median_flow_box_by_box(clips, grid):
    rng = np.random.default_rng(grid)
    p = T.FlowParams(grid=grid, patience=2)
    compared = lost = 0
    for frames in clips:
        h, w = frames[0].shape[:2]
        boxes = np.concatenate([rng.uniform(-6, [w - 4, h - 4], (16, 2)), rng.uniform(3, 50, (16, 2))], 1)
        with T.cv_threads(1):
            got, want = T._track_flow(frames, boxes, p, 0.5), _reference(frames, boxes, p, 0.5)
        for a, b in zip(got, want, strict=True):
            assert a.lost_at == b.lost_at
            np.testing.assert_array_equal(a.boxes, b.boxes)
            np.testing.assert_array_equal(a.confidence, b.confidence)
            compared, lost = compared + 1, lost + (a.lost_at is not None)
    assert compared == 64 and 0 < lost < compared  # both paths taken: tracks kept and tracks lost
