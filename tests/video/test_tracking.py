"""Region proposals and box tracking for the Region Tracker: synthetic motion with exact ground truth, world
videos with ground-truth tracks, proposal recall and filters, and clear errors on bad input."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from ssl_kit.data.images import read_image
from ssl_kit.data.trackingnet import read_frame_videos
from ssl_kit.video.box_geometry import box_iou, clip_boxes, nms, xywh_to_xyxy, xyxy_to_xywh
from ssl_kit.video.proposals import PROPOSE_SIDE, auto_scale, filter_boxes, propose, selective_search
from ssl_kit.video.tracking import (
    DEFAULT_METHOD,
    METHODS,
    TrackResult,
    _inside_fraction,
    _inside_fractions,
    track_box,
    track_boxes,
)
from ssl_kit.world.build import build_set
from ssl_kit.world.presets import PRESETS

DELTAS = (1, 4, 8, 16)
WORLD_CLIPS = 16  # quick-preset clips (96 px, 24 frames) rendered for the world tests (about 5 s)
# The default tracker against holding the box still, at delta = 8, on world version 4's clips (a hand-held
# camera following a large object that turns): flow 0.55 (5 x 5 points; 0.54 with 10 x 10), and a still box
# measured in the same test is the floor it must beat by this margin. (On version 3's static-camera clips flow scored 0.63-0.64 against 0.51 for a still
# box; the README, "Why the video defaults are what they are", keeps those numbers.)
FLOW_MARGIN_AT_8 = 0.05
PROPOSAL_RECALL = 0.6  # top 20; the README gives the recall measured on these frames and on all quick clips
# IoU after 8 frames of synthetic motion: >= 0.9 for flow; CSRT and KCF report integer boxes and KCF lags
# (measured: csrt 0.86 translating / 0.79 growing, kcf 0.69), so they get floors that only show they follow.
SYNTHETIC_FLOOR = {"flow": 0.9, "csrt": 0.75, "kcf": 0.6}


# ---------------------------------------------------------------- synthetic motion with exact ground truth


def _texture(rng: np.random.Generator, h: int, w: int, blur: float = 1.0) -> np.ndarray:
    noise = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), blur)


def moving_rectangle(
    seed: int = 0,
    n_frames: int = 9,
    size: int = 96,
    box0: tuple[float, float, float, float] = (20.0, 24.0, 28.0, 24.0),
    velocity: tuple[float, float] = (2.5, 1.5),
    growth: float = 1.0,
    background: str = "textured",
) -> tuple[list[np.ndarray], np.ndarray]:
    """A noise-textured rectangle moving at `velocity` px/frame and scaling by `growth` per frame (about its
    centre) over a textured or plain background: frames and the exact x, y, w, h box of every frame."""
    rng = np.random.default_rng(seed)
    if background == "textured":
        bg = _texture(rng, size, size, blur=1.5)
    else:
        bg = np.full((size, size, 3), 110, dtype=np.uint8)
    x0, y0, w0, h0 = box0
    tex = _texture(rng, int(h0), int(w0))
    frames, truth = [], []
    for t in range(n_frames):
        s = growth**t
        cx, cy = x0 + w0 / 2 + velocity[0] * t, y0 + h0 / 2 + velocity[1] * t
        w, h = w0 * s, h0 * s
        x, y = cx - w / 2, cy - h / 2
        # texture pixel (u, v) covers [u, u+1): map its corner (0, 0) to (x, y), scale s
        m = np.array([[s, 0.0, x], [0.0, s, y]])
        obj = cv2.warpAffine(tex, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        mask = cv2.warpAffine(np.ones(tex.shape[:2], np.float32), m, (size, size), flags=cv2.INTER_LINEAR)
        frame = bg * (1 - mask[..., None]) + obj * mask[..., None]
        frames.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
        truth.append([x, y, w, h])
    return frames, np.asarray(truth)


@pytest.mark.parametrize("background", ["textured", "plain"])
@pytest.mark.parametrize("method", METHODS)
def test_tracks_a_translating_rectangle(method, background):
    frames, truth = moving_rectangle(seed=1, background=background)
    res = track_box(frames, truth[0], method=method)
    assert isinstance(res, TrackResult) and res.lost_at is None
    assert res.boxes.shape == (9, 4) and res.confidence.shape == (9,)
    assert np.all((res.confidence >= 0) & (res.confidence <= 1)) and res.confidence[0] == 1
    iou = box_iou(res.boxes[8], truth[8])[0, 0]
    assert iou >= SYNTHETIC_FLOOR[method], f"{method} on {background}: IoU {iou:.3f} after 8 frames"


@pytest.mark.parametrize("method", ["flow", "csrt"])  # KCF keeps the box size fixed
def test_tracks_a_growing_rectangle(method):
    frames, truth = moving_rectangle(seed=2, velocity=(1.5, -1.0), box0=(24, 40, 24, 20), growth=1.03)
    res = track_box(frames, truth[0], method=method)
    iou = box_iou(res.boxes[8], truth[8])[0, 0]
    assert iou >= SYNTHETIC_FLOOR[method], (
        f"{method}: IoU {iou:.3f} after 8 frames (truth {truth[8]}, got {res.boxes[8]})"
    )


def test_flow_tracks_several_boxes_like_one():
    frames, truth = moving_rectangle(seed=3)
    other = np.array([60.0, 8.0, 20.0, 16.0])  # a patch of the static background
    both = track_boxes(frames, np.stack([truth[0], other]))
    alone = track_box(frames, truth[0])
    np.testing.assert_allclose(both[0].boxes, alone.boxes)
    assert box_iou(both[1].boxes[8], other)[0, 0] >= 0.9  # the background does not move
    again = track_boxes(frames, np.stack([truth[0], other]))
    np.testing.assert_array_equal(again[0].boxes, both[0].boxes)  # deterministic


@pytest.mark.parametrize("method", METHODS)
def test_track_is_lost_when_the_box_leaves_the_image(method):
    """A camera pan: the whole textured view slides left by 4 px a frame, taking the box out of the image."""
    wide = _texture(np.random.default_rng(4), 96, 96 + 4 * 15, blur=1.5)
    frames = [np.ascontiguousarray(wide[:, 4 * t : 4 * t + 96]) for t in range(16)]
    res = track_box(frames, [14.0, 30.0, 24.0, 24.0], method=method)
    assert res.lost_at is not None, method
    if method == "flow":  # the box is half out after (14 + 12) / 4 = 6.5 frames
        assert 6 <= res.lost_at <= 8, res.lost_at
    # (OpenCV's trackers keep their box inside the image, so they are lost later, when `update` fails)
    assert np.isnan(res.boxes[res.lost_at :]).all() and np.all(res.confidence[res.lost_at :] == 0)
    assert np.isfinite(res.boxes[: res.lost_at]).all()


def test_flow_holds_the_box_through_a_short_occlusion():
    frames, truth = moving_rectangle(seed=5, n_frames=10, velocity=(0.5, 0.25))
    frames[4] = frames[5] = np.full_like(frames[0], 128)  # the view is blocked for two frames
    res = track_box(frames, truth[0])
    assert res.lost_at is None
    assert np.all(res.confidence[4:7] < 0.5) and np.all(res.confidence[7:] >= 0.5)
    np.testing.assert_array_equal(res.boxes[4], res.boxes[3])  # held in place
    assert box_iou(res.boxes[9], truth[9])[0, 0] >= 0.8  # resumes on the object (it moved 1.5 px meanwhile)
    assert track_box(frames, truth[0], patience=0).lost_at == 4
    assert track_box(frames, truth[0], patience=2).lost_at == 6


# ---------------------------------------------------------------- world videos with ground-truth tracks


@pytest.fixture(scope="module")
def world_videos(tmp_path_factory) -> list:
    """The first WORLD_CLIPS clips of the quick preset's `videos` set (the smoke preset's 48 px 12-frame clips
    are too small and short for delta 8-16), with their frames decoded."""
    preset = dataclasses.replace(PRESETS["quick"], video_clips=WORLD_CLIPS)
    root = build_set("videos", tmp_path_factory.mktemp("quick_videos"), preset, progress=False)
    return [(v, [read_image(p) for p in v.frames]) for v in read_frame_videos(root)]


def world_tracking_iou(videos, method: str, start_every: int = 4) -> dict[int, list[float]]:
    """IoU of the tracked box vs the GT box, `delta` frames after a start frame, for every object visible
    (>= 0.5) at both ends; a lost track counts 0. Starts every `start_every` frames; one track per start
    serves every delta."""
    ious: dict[int, list[float]] = {d: [] for d in DELTAS}
    for video, frames in videos:
        n = len(frames)
        for t0 in range(0, n - 1, start_every):
            objs = [tr for tr in video.tracks if tr.visible[t0] >= 0.5 and np.isfinite(tr.boxes[t0]).all()]
            if not objs:
                continue
            seg = frames[t0 : t0 + max(DELTAS) + 1]
            starts = np.stack([tr.boxes[t0] for tr in objs])
            if method == "still":  # the baseline: the box held where it started
                results = [
                    TrackResult(np.repeat(b[None], len(seg), 0), np.ones(len(seg)), None) for b in starts
                ]
            else:
                results = track_boxes(seg, starts, method)
            for tr, res in zip(objs, results, strict=True):
                for d in DELTAS:
                    if d < len(seg) and tr.visible[t0 + d] >= 0.5:
                        iou = box_iou(res.boxes[d], tr.boxes[t0 + d])[0, 0]
                        ious[d].append(0.0 if np.isnan(iou) else float(iou))
    return ious


@pytest.mark.slow
def test_default_tracker_follows_world_objects(world_videos, record_property):
    start = time.perf_counter()
    ious = world_tracking_iou(world_videos, DEFAULT_METHOD)
    seconds = time.perf_counter() - start
    mean = {d: float(np.mean(v)) for d, v in ious.items() if v}
    counts = {d: len(v) for d, v in ious.items()}
    print(f"\n{DEFAULT_METHOD}: mean IoU by delta {mean} over {counts} objects ({seconds:.2f} s)")
    record_property("tracker_iou", {"method": DEFAULT_METHOD, "mean_iou": mean, "objects": counts})
    still = {d: float(np.mean(v)) for d, v in world_tracking_iou(world_videos, "still").items() if v}
    print(f"still box: mean IoU by delta {still}")
    assert counts[8] >= 50 and counts[16] >= 30
    assert mean[1] >= mean[8] >= still[8] + FLOW_MARGIN_AT_8, (mean, still)


# ---------------------------------------------------------------- proposals


def test_proposal_recall_on_world_frames(world_videos, record_property):
    hit = total = 0
    start = time.perf_counter()
    n_frames = 0
    for video, frames in world_videos:
        for t in (0, len(frames) // 2):
            f = frames[t]
            h, w = f.shape[:2]
            gt = [
                tr.boxes[t] for tr in video.tracks if tr.visible[t] >= 0.5 and np.isfinite(tr.boxes[t]).all()
            ]
            gt = [b for b in gt if b[2] * b[3] >= 0.02 * h * w]
            props = propose(f)
            n_frames += 1
            if gt and len(props):
                hit += int((box_iou(np.stack(gt), props).max(axis=1) >= 0.5).sum())
            total += len(gt)
    ms = 1000 * (time.perf_counter() - start) / n_frames
    recall = hit / total
    print(f"\nproposal recall {hit}/{total} = {recall:.3f} at IoU 0.5 ({ms:.1f} ms per frame)")
    record_property("proposal_recall", recall)
    assert total >= 25 and recall >= PROPOSAL_RECALL


NORMAL = np.array([[15.0, 20.0, 30.0, 30.0], [70.0, 15.0, 28.0, 24.0], [60.0, 78.0, 30.0, 28.0]])
HUGE, THIN = [4.0, 4.0, 112.0, 110.0], [12.0, 62.0, 90.0, 6.0]


def _shapes_frame() -> np.ndarray:
    """A 120 x 120 frame: a huge backdrop (85% of the frame) holding three normal rectangles (5-6%), a thin
    bar (aspect 15) and a tiny square (0.1%)."""
    f = np.full((120, 120, 3), 200, dtype=np.uint8)
    f[4:114, 4:116] = (40, 90, 160)
    for (x, y, w, h), color in zip(
        NORMAL.astype(int), [(230, 40, 40), (240, 150, 30), (40, 200, 60)], strict=True
    ):
        f[y : y + h, x : x + w] = color
    f[62:68, 12:102] = (250, 250, 0)
    f[90:94, 20:24] = (255, 255, 255)
    return f


def test_proposal_filters_on_a_hand_made_frame():
    f = _shapes_frame()
    # the fast strategy at 1.2x: the default (single strategy, shorter side 96) merges some flat rectangles with
    # their backdrop before proposing them alone, which says nothing about the filters checked here
    opts = dict(mode="fast", scale=1.2)
    props = propose(f, **opts)
    assert props.dtype == np.float64 and props.ndim == 2 and props.shape[1] == 4 and 3 <= len(props) <= 20
    assert np.all(box_iou(NORMAL, props).max(axis=1) >= 0.8)  # every normal rectangle is proposed
    assert filter_boxes(props, 120, 120).all()  # area in [2%, 60%], aspect <= 3
    # NMS: no two proposals overlap above IoU 0.5, and it did remove near-duplicates
    iou = box_iou(props, props)
    assert np.all(iou[~np.eye(len(props), dtype=bool)] <= 0.5)
    raw = selective_search(f, 1.2, "fast")
    assert filter_boxes(raw, 120, 120).sum() > len(props)
    # the filters are what removes the backdrop and the bar: relaxed, they come back
    loose = propose(f, min_area=0.0, max_area=1.0, max_aspect=100.0, max_proposals=200, **opts)
    for box in (HUGE, THIN):
        assert box_iou(box, loose).max() >= 0.6 and box_iou(box, props).max() < 0.5
    # top-N is a prefix of the same order, and the output is deterministic
    np.testing.assert_array_equal(propose(f, max_proposals=2, **opts), props[:2])
    np.testing.assert_array_equal(propose(f, **opts), props)
    assert propose(f, max_proposals=0, **opts).shape == (0, 4)


def test_default_proposal_side():
    assert auto_scale(120, 160) == PROPOSE_SIDE / 120 and auto_scale(48, 64) == PROPOSE_SIDE / 48
    f = _shapes_frame()
    np.testing.assert_array_equal(propose(f), propose(f, scale=PROPOSE_SIDE / 120, mode="single"))


def test_inside_fractions():
    boxes = np.array(
        [[-5.0, 0.0, 10.0, 10.0], [2.0, 2.0, 4.0, 4.0], [15.0, 15.0, 4.0, 4.0], [1.0, 1.0, 0.0, 5.0]]
    )
    want = [0.5, 1.0, 0.0, 0.0]  # half out on the left, inside, outside, empty
    np.testing.assert_array_equal(_inside_fractions(boxes, 12, 12), want)
    assert [_inside_fraction(b, 12, 12) for b in boxes] == want


def test_box_helpers():
    a = np.array([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 10.0, 10.0], [0.0, 0.0, 0.0, 10.0]])
    iou = box_iou(a, a)
    assert iou.shape == (3, 3)
    np.testing.assert_allclose(iou[0, 1], 25 / 175)
    np.testing.assert_allclose(np.diag(iou)[:2], 1.0)
    assert iou[2, 2] == 0 and np.isnan(box_iou([np.nan, 0, 1, 1], a)).all()
    np.testing.assert_allclose(xyxy_to_xywh(xywh_to_xyxy(a)), a)
    np.testing.assert_allclose(clip_boxes([[-5.0, 2.0, 10.0, 20.0]], 8, 8), [[0.0, 2.0, 5.0, 6.0]])
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 10.0, 10.0], [20.0, 20.0, 5.0, 5.0]])
    assert nms(boxes).tolist() == [0, 2] and nms(boxes, max_keep=1).tolist() == [0]


# ---------------------------------------------------------------- bad input


def test_bad_input_raises_clear_errors():
    frames, truth = moving_rectangle(seed=0, n_frames=3)
    with pytest.raises(ValueError, match="outside the 96x96 frame"):
        track_box(frames, [200.0, 10.0, 20.0, 20.0])
    with pytest.raises(ValueError, match="at least one"):
        track_box([], truth[0])
    with pytest.raises(ValueError, match="positive width and height"):
        track_box(frames, [10.0, 10.0, 0.0, 20.0])
    with pytest.raises(ValueError, match="finite"):
        track_box(frames, [np.nan, 10.0, 5.0, 5.0])
    with pytest.raises(ValueError, match="unknown tracking method"):
        track_box(frames, truth[0], method="sift")
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        track_box([f.astype(np.float32) for f in frames], truth[0])
    with pytest.raises(ValueError, match="has shape"):
        track_box([frames[0], frames[1][:50]], truth[0])
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        track_box(frames, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        propose(np.zeros((32, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match="min_area <= max_area"):
        propose(frames[0], min_area=0.5, max_area=0.1)


def test_world_fixture_is_quick_sized(world_videos):
    video, frames = world_videos[0]
    assert len(world_videos) == WORLD_CLIPS and frames[0].shape == (96, 96, 3) and len(frames) == 24
    assert isinstance(video.frames[0], Path)
