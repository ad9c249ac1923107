"""Temporal pair sources: partners come from the same video, within delta, and regions are cut where tracked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ssl_kit.augment import get_policy, step_views
from ssl_kit.batches import FramePairs, RegionPairs
from ssl_kit.methods import build_method
from ssl_kit.video.pairs import RegionTracks, last_frames


def _frames(lengths: list[int], size: int = 8) -> tuple[torch.Tensor, np.ndarray]:
    """Frame g is filled with the value g (mod 256), so a drawn frame says which one it is."""
    n = sum(lengths)
    frames = (torch.arange(n) % 256).to(torch.uint8).view(n, 1, 1, 1).expand(n, 3, size, size).contiguous()
    video = np.repeat(np.arange(len(lengths)), lengths)
    return frames, video


def test_last_frames():
    assert list(last_frames(np.array([0, 0, 0, 1, 2, 2]))) == [2, 2, 2, 3, 5, 5]


def test_frame_pairs_stay_in_their_video_within_delta():
    frames, video = _frames([10, 3, 20, 1])
    pairs = FramePairs(frames, video, (2, 5), torch.device("cpu"))
    assert pairs.short_videos == 1  # the 1-frame clip cannot give a pair 2 frames apart (the 3-frame one can)
    last = last_frames(video)
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        t, u = pairs.pair_indices(torch.arange(pairs.n), gen)
        d = u - t
        assert (video[t] == video[u]).all() and (d >= 2).all() and (d <= 5).all()
        assert (u.numpy() <= last[t.numpy()]).all()
    x, labels = pairs.batch(torch.arange(4), torch.Generator().manual_seed(1))
    y, _ = pairs.batch(torch.arange(4), torch.Generator().manual_seed(1))
    assert x.shape == (4, 2, 3, 8, 8) and torch.equal(x, y) and labels.shape == (4,)
    with pytest.raises(ValueError, match="delta"):
        FramePairs(frames, video, (3, 2), torch.device("cpu"))
    with pytest.raises(ValueError, match="longer than"):
        FramePairs(frames, video, (30, 40), torch.device("cpu"))


def test_delta_zero_pairs_a_frame_with_itself():
    frames, video = _frames([5, 7])
    pairs = FramePairs(frames, video, (0, 0), torch.device("cpu"))
    assert pairs.n == 12 and pairs.short_videos == 0
    x, _ = pairs.batch(torch.arange(12), torch.Generator().manual_seed(0))
    assert torch.equal(x[:, 0], x[:, 1]) and x[:, 0, 0, 0, 0].tolist() == list(range(12))


def _region_setup():
    # two 6-frame videos of 16x16 frames; frame g has value 10*g inside a 4x4 square at (x=2+g%6, y=5)
    n, size = 12, 16
    frames = torch.zeros(n, 3, size, size, dtype=torch.uint8)
    boxes = np.full((2, 5, 4), np.nan)
    conf = np.zeros((2, 5))
    for g in range(n):
        x = 2 + g % 6
        frames[g, :, 5:9, x : x + 4] = 10 * g + 5
    for r, start in enumerate((0, 6)):
        for d in range(5):
            if r == 1 and d >= 3:
                break  # the second region is lost after 2 frames
            boxes[r, d] = (2 + (start + d) % 6, 5, 4, 4)
            conf[r, d] = 1.0
    video = np.repeat([0, 1], 6)
    return frames, video, RegionTracks(np.array([0, 6]), boxes, conf)


def test_region_pairs_cut_the_tracked_region_where_alive():
    frames, video, tracks = _region_setup()
    pairs = RegionPairs(frames, video, tracks, size=4, delta=(1, 4), device=torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    for _ in range(10):
        x, _ = pairs.batch(torch.tensor([0, 1]), gen)
        assert x.shape == (2, 2, 3, 4, 4)
        first, second = x[:, 0, 0, 1, 1].int(), x[:, 1, 0, 1, 1].int()  # a pixel inside each crop
        assert first.tolist() == [5, 65]  # the keyframes 0 and 6
        d = (second - first) // 10
        assert 1 <= d[0] <= 4 and 1 <= d[1] <= 2  # region 1 is only alive up to delta 2
    with pytest.raises(ValueError, match="alive"):
        RegionPairs(frames, video, tracks, 4, (3, 4), torch.device("cpu"), min_confidence=2.0)


def test_region_pairs_need_the_region_on_its_keyframe():
    frames, video, tracks = _region_setup()
    tracks.confidence[1, 0] = 0.2  # region 1 is hardly visible where it starts
    pairs = RegionPairs(frames, video, tracks, 4, (1, 4), torch.device("cpu"))
    assert pairs.n == 1 and pairs.dropped_regions == 1
    same = RegionPairs(frames, video, _region_setup()[2], 4, (0, 0), torch.device("cpu"))
    x, _ = same.batch(torch.tensor([0, 1]), torch.Generator().manual_seed(0))
    assert torch.equal(x[:, 0], x[:, 1])  # delta 0: the same crop twice


def test_annotation_regions_follow_the_annotated_boxes():
    from ssl_kit.data.trackingnet import Track
    from ssl_kit.errors import ConfigError
    from ssl_kit.video.regions import RegionParams, annotated_regions
    from ssl_kit.video.sources import Video

    class Fake(Video):
        def __init__(self, name, tracks=None):
            self.name, self.path, self.tracks = name, Path(name), tracks

        def __len__(self):
            return 6

        def read(self, indices):
            return [np.zeros((20, 30, 3), np.uint8) for _ in self._check(indices)]

    boxes = np.array([[t, 2.0, 5.0, 4.0] for t in range(6)])
    boxes[3] = np.nan  # absent on frame 3
    visible = np.array([1.0, 0.9, 0.8, 0.0, 0.6, 1.0])
    video = Fake("v", tracks=[Track(0, "mug", boxes, visible)])
    r = annotated_regions(video, RegionParams(tracker="annotation", keyframe_every=2, max_delta=2))
    assert r["frame"].tolist() == [0, 2, 4]  # every 2nd frame with a later frame and a box
    np.testing.assert_array_equal(r["boxes"][0], boxes[0:3])
    np.testing.assert_array_equal(r["confidence"][1], visible[2:5])
    assert np.isnan(r["boxes"][1, 1]).all() and np.isnan(r["boxes"][2, 2]).all()  # absent; past the end
    assert r["frame_hw"].tolist() == [20, 30]
    with pytest.raises(ConfigError, match="no|none"):
        annotated_regions(Fake("bare"), RegionParams(tracker="annotation"))
    with pytest.raises(ConfigError, match="annotation"):
        RegionParams(tracker="oracle")


def test_region_pairs_mix_in_full_frames():
    frames, video, tracks = _region_setup()
    pairs = RegionPairs(frames, video, tracks, 4, (1, 2), torch.device("cpu"), region_fraction=0.5)
    x, _ = pairs.batch(torch.tensor([0, 1] * 50), torch.Generator().manual_seed(3))
    whole = (x[:, 0, 0] == 0).any(-1).any(-1)  # a full frame shows background zeros around the square
    assert 0.3 < whole.float().mean() < 0.7


def test_moco_takes_pairs():
    torch.manual_seed(0)
    moco = build_method(
        "fti",
        arch="resnet18",
        small_stem=False,
        num_classes=1,
        dataset_size=8,
        queue_size=16,
        momentum=0.99,
        temperature=0.2,
    )
    pairs = torch.stack(
        [torch.full((4, 3, 16, 16), 1, dtype=torch.uint8), torch.full((4, 3, 16, 16), 2, dtype=torch.uint8)],
        1,
    )
    gen = torch.Generator().manual_seed(0)
    views = step_views(pairs, get_policy("none"), 16, 2, generator=gen)
    first, second = (v.flatten(1).mean(1) for v in views)  # member 1, then member 2: one batched call
    assert torch.all(first < second)
    out = moco.training_step(views, torch.arange(4), torch.zeros(4, dtype=torch.long))
    assert torch.isfinite(out.loss)
