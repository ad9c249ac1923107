"""What temporal positives hold: pixel change between frames, region quality against annotated boxes, and the
world's ground-truth viewpoint change, each on inputs whose answer is known by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ssl_kit.video.diagnostics as diagnostics_mod
from ssl_kit.data.trackingnet import Track
from ssl_kit.errors import ConfigError
from ssl_kit.video.diagnostics import pair_change, region_quality
from ssl_kit.video.regions import RegionParams
from ssl_kit.video.sources import Video
from ssl_kit.world.sets_video import clip_view_azimuths, mean_view_change


class MovingSquare(Video):
    """A 20x20 black video where a white 4x4 square moves 2 px right per frame (box x = 2t, y = 8)."""

    def __init__(self, name: str = "v", n: int = 6):
        self.name, self.path, self.n, self.boxes = name, Path(name), n, None
        self.tracks = [Track(0, "square", np.array([[2.0 * t, 8, 4, 4] for t in range(n)]), np.ones(n))]

    def __len__(self) -> int:
        return self.n

    def read(self, indices):
        out = []
        for t in self._check(indices):
            frame = np.zeros((20, 20, 3), np.uint8)
            frame[8:12, 2 * t : 2 * t + 4] = 255
            out.append(frame)
        return out


def test_pair_change_counts_the_moving_pixels():
    video = MovingSquare()
    same = pair_change([video], (0, 0), n_pairs=20)
    assert same["changed_fraction"] == 0.0 and same["object_fraction"] == pytest.approx(16 / 400)
    moved = pair_change([video], (1, 1), n_pairs=20)
    # one step: the square leaves 2 columns and enters 2 columns (4 rows each): 16 of 400 pixels
    assert moved["changed_fraction"] == pytest.approx(16 / 400)
    assert moved["object_fraction"] == pytest.approx(24 / 400)  # the union of its boxes at t and t + 1
    assert moved["change_inside_objects"] == 1.0
    far = pair_change([video], (2, 2), n_pairs=20)  # two steps: the squares no longer overlap
    assert far["changed_fraction"] == pytest.approx(32 / 400)
    with pytest.raises(ConfigError, match="delta_min"):
        pair_change([video], (6, 8))


def test_region_quality_against_the_annotated_boxes(monkeypatch, tmp_path):
    video = MovingSquare()
    on_object = np.array([[0.0, 8, 4, 4], [2, 8, 4, 4], [4, 8, 4, 4]])  # follows the square exactly
    background = np.array([[12.0, 0, 4, 4], [12, 0, 4, 4], [np.nan] * 4])  # an empty corner, lost at d = 2
    fake = {
        "frame": np.array([0, 0]),
        "boxes": np.stack([on_object, background]),
        "confidence": np.ones((2, 3)),
        "frame_hw": np.array([20, 20]),
    }
    monkeypatch.setattr(diagnostics_mod, "cached_regions", lambda v, params, cache: fake)
    q = region_quality([video], RegionParams(max_delta=2), tmp_path / "regions")
    assert q["regions"] == 2 and q["precision"] == 0.5 and q["mean_best_iou"] == 0.5
    assert q["object_fill"] == 0.5  # the object fills the first region, nothing fills the second
    assert q["track_iou_at_max_delta"] == 1.0  # only the matched region is followed


def test_annotation_regions_are_perfect_and_need_boxes(tmp_path):
    q = region_quality(
        [MovingSquare()], RegionParams(max_delta=2, keyframe_every=2, tracker="annotation"), tmp_path
    )
    assert q["precision"] == 1.0 and q["object_fill"] == 1.0 and q["track_iou_at_max_delta"] == 1.0
    bare = MovingSquare()
    bare.tracks = None
    with pytest.raises(ConfigError, match="annotated boxes"):
        pair_change([bare], (1, 1), n_pairs=2)


def test_world_view_azimuths_follow_the_turn():
    az = clip_view_azimuths(seed=0, clip=3, n_frames=12)
    assert az.ndim == 2 and az.shape[1] == 12
    steps = np.diff(az, axis=1)
    # objects turn at a constant rate, the camera orbits at one (in some clips) and both drift slowly, so the
    # per-frame change is nearly constant and within the turn (45-180 degrees over the clip) plus the orbit
    # (up to 100) plus the bearing change of the drift
    assert np.all(np.abs(steps.std(axis=1)) < 0.5 * np.abs(steps.mean(axis=1)) + 0.5)
    assert np.all(np.abs(az[:, -1] - az[:, 0]) < 320)
    one = mean_view_change(0, 4, 12, (1, 1))
    four = mean_view_change(0, 4, 12, (4, 4))
    assert 0 < one and four == pytest.approx(4 * one, rel=0.15)  # about linear in delta
    assert mean_view_change(0, 4, 12, (0, 0)) == 0.0
