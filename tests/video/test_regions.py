"""Region Tracker's regions at real-video speed: frames shrunk to the working size give the regions of the
small video scaled back, each frame is read once, a video cut into segments gives the same file, and the smoke
scale caps the videos and frames it reads."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ssl_kit.errors import ConfigError
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.video import regions
from ssl_kit.video.regions import RegionParams, fill_cache, video_regions, work_size
from ssl_kit.video.sources import Video, open_videos
from ssl_kit.video.subset import FirstFrames, limit_videos


class Upscaled(Video):
    """`video` with every pixel repeated k x k times (area-shrinking it by k gives the original back), counting
    how often each frame is read."""

    def __init__(self, video: Video, k: int):
        self.video, self.k, self.reads = video, k, []
        self.name, self.path, self.boxes, self.tracks = f"{video.name}@x{k}", video.path, None, None

    def __len__(self) -> int:
        return len(self.video)

    def read(self, indices):
        wanted = self._check(indices)
        self.reads += wanted
        return [f.repeat(self.k, 0).repeat(self.k, 1) for f in self.video.read(wanted)]


@pytest.fixture(scope="module")
def clip(smoke_world):
    return open_videos(smoke_world / "videos").videos[0]


def test_work_size_keeps_the_aspect_and_never_enlarges():
    assert work_size(576, 768, 144) == (192, 144)
    assert work_size(768, 576, 144) == (144, 192)
    assert work_size(96, 96, 144) is None and work_size(144, 200, 144) is None
    assert work_size(576, 768, 0) is None
    with pytest.raises(ConfigError, match="work_side"):
        RegionParams(work_side=8)


def test_shrunk_frames_give_the_small_videos_regions_scaled_back(clip):
    side = clip.read([0])[0].shape[0]
    params = RegionParams(max_delta=4, keyframe_every=3, work_side=side)
    small = video_regions(clip, params)
    big = video_regions(Upscaled(clip, 4), params)
    assert len(small["frame"]) > 0
    np.testing.assert_array_equal(big["frame"], small["frame"])
    np.testing.assert_array_equal(big["frame_hw"], 4 * small["frame_hw"])
    np.testing.assert_allclose(big["boxes"], 4 * small["boxes"], rtol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(big["confidence"], small["confidence"])


def test_each_needed_frame_is_read_once_and_no_other(clip):
    video = Upscaled(clip, 2)
    params = RegionParams(max_delta=2, keyframe_every=5, work_side=48)
    video_regions(video, params)
    needed = sorted({i for t in range(0, len(video) - 1, 5) for i in range(t, min(len(video), t + 3))})
    assert sorted(video.reads) == needed


def test_segments_write_the_same_files(smoke_world, tmp_path, monkeypatch):
    videos = open_videos(smoke_world / "videos").videos
    params = RegionParams(max_delta=4, keyframe_every=2)
    assert fill_cache(videos, params, tmp_path / "whole", workers=1, progress=False) == len(videos)
    monkeypatch.setattr(regions, "SEGMENT_KEYFRAMES", 2)  # the parent cuts the jobs: the workers follow
    assert fill_cache(videos, params, tmp_path / "cut", workers=1, progress=False) == len(videos)
    names = sorted(p.name for p in (tmp_path / "whole").glob("*.npz"))
    assert len(names) == len(videos)
    for other in ("cut",):  # in worker processes: tests/video/test_video_train.py (the same jobs, spawned)
        assert sorted(p.name for p in (tmp_path / other).glob("*.npz")) == names
        for name in names:
            with np.load(tmp_path / "whole" / name) as a, np.load(tmp_path / other / name) as b:
                for k in a.files:
                    np.testing.assert_array_equal(a[k], b[k])


def test_limit_videos_cuts_videos_frames_and_annotations(clip):
    short = FirstFrames(clip, 5)
    assert len(short) == 5 and short.name == clip.name
    np.testing.assert_array_equal(short.read([4])[0], clip.read([4])[0])
    with pytest.raises(IndexError):
        short.read([5])
    assert short.boxes.shape == (5, 4) and all(
        t.boxes.shape == (5, 4) and len(t.visible) == 5 for t in short.tracks
    )
    videos = [clip, short, clip]
    assert limit_videos(videos) == videos
    capped = limit_videos(videos, max_videos=2, max_frames=4)
    assert [len(v) for v in capped] == [4, 4]
    assert limit_videos(videos, max_frames=100)[0] is clip  # shorter than the cap: the video itself
    with pytest.raises(ValueError):
        FirstFrames(clip, 0)


def test_smoke_scale_caps_the_videos_it_reads(smoke_world, tmp_path):
    import torch

    from ssl_kit.training.data import load_train_data

    smoke = resolve(TrainConfig(method="fti", scale="smoke", data=str(smoke_world / "videos"), out="x"))
    quick = resolve(TrainConfig(method="fti", scale="quick", data=str(smoke_world / "videos"), out="x"))
    assert (smoke.max_videos, smoke.max_video_frames) == (8, 64)
    assert (quick.max_videos, quick.max_video_frames) == (0, 0)
    n = len(open_videos(smoke_world / "videos").videos)
    data, log = load_train_data(replace(smoke, max_videos=2, max_video_frames=5), torch.device("cpu"))
    assert log["videos"] == 2 and log["videos_not_used"] == n - 2 and data.frames.shape[0] == 2 * 5
