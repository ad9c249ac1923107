"""The video training modes run through the one training loop, and region tracks are cached once per video."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import ssl_kit.video.regions as regions
from ssl_kit.batches import FramePairs, ImageData, RegionPairs
from ssl_kit.errors import ConfigError
from ssl_kit.runs import rundir
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.runs.config import TrainConfig
from ssl_kit.training.data import load_train_data
from ssl_kit.training.loop import train
from ssl_kit.video.sources import is_video_source, open_videos


def _cfg(smoke_world, tmp_path, method, **kw) -> TrainConfig:
    base = dict(
        method=method,
        scale="smoke",
        data=str(smoke_world / "videos"),
        out=str(tmp_path / method),
        batch_size=8,
        max_steps=2,
        delta_min=1,
        delta_max=4,
        queue_size=16,
        region_cache=str(tmp_path / "regions"),
    )
    return TrainConfig(**{**base, **kw})


def test_video_sources_are_recognised(smoke_world):
    assert is_video_source(smoke_world / "videos") and is_video_source(smoke_world / "got_occlusion")
    assert not is_video_source(smoke_world / "objects" / "train")


@pytest.mark.parametrize("method", ["mocov2", "fti", "region_tracker"])
def test_one_step_of_every_video_mode(smoke_world, tmp_path, method):
    out = train(_cfg(smoke_world, tmp_path, method), progress=False)
    rows = rundir.read_metrics(out)
    assert rows[0]["data_videos"] > 0  # what the loader used is in the run log
    assert torch.isfinite(torch.tensor([r["loss"] for r in rows if "loss" in r])).all()
    method_, cfg, _ = load_run(out)
    assert cfg.method == method and method_.feature_backbone()(torch.zeros(2, 3, 32, 32)).shape == (2, 512)


def test_train_data_kinds(smoke_world, tmp_path):
    from ssl_kit.runs.config import resolve

    cpu = torch.device("cpu")
    frames, _ = load_train_data(resolve(_cfg(smoke_world, tmp_path, "mocov2")), cpu)
    pairs, log = load_train_data(resolve(_cfg(smoke_world, tmp_path, "fti")), cpu)
    assert isinstance(frames, ImageData) and isinstance(pairs, FramePairs)
    assert frames.n == sum(len(v) for v in open_videos(smoke_world / "videos").videos)
    assert log["pairs_per_epoch"] == pairs.n
    with pytest.raises(ConfigError, match="not a video folder"):
        load_train_data(
            resolve(_cfg(smoke_world, tmp_path, "fti", data=str(smoke_world / "objects" / "train"))), cpu
        )


def test_one_trackingnet_chunk_is_a_video_source_for_training(smoke_world, tmp_path):
    """A single TRAIN_<k> chunk folder (what `open_videos` opens as a set of one chunk) is a video folder for
    `train` too: frames for mocov2, temporal pairs for fti (it used to be refused, or read as an image folder)."""
    from ssl_kit.runs.config import resolve

    chunk = smoke_world / "videos" / "TRAIN_0"
    assert is_video_source(chunk)
    cpu = torch.device("cpu")
    frames, log = load_train_data(resolve(_cfg(smoke_world, tmp_path, "mocov2", data=str(chunk))), cpu)
    assert isinstance(frames, ImageData) and log["videos"] == len(open_videos(chunk).videos) > 0
    assert frames.n == sum(len(v) for v in open_videos(chunk).videos)
    pairs, _ = load_train_data(resolve(_cfg(smoke_world, tmp_path, "fti", data=str(chunk))), cpu)
    assert isinstance(pairs, FramePairs) and pairs.n > 0


def test_region_tracks_are_cached_once_per_video(smoke_world, tmp_path, monkeypatch):
    from ssl_kit.runs.config import resolve

    calls = []
    real = regions.video_regions
    monkeypatch.setattr(regions, "video_regions", lambda v, p, *k: calls.append(v.name) or real(v, p, *k))
    monkeypatch.setattr(regions.os, "cpu_count", lambda: 1)  # in this process, where the patch applies
    cfg = resolve(_cfg(smoke_world, tmp_path, "region_tracker"))
    data, log = load_train_data(cfg, torch.device("cpu"))
    n_videos = len(open_videos(smoke_world / "videos").videos)
    assert isinstance(data, RegionPairs) and len(calls) == n_videos and log["regions"] == data.n > 0
    assert len(list((tmp_path / "regions").glob("*.npz"))) == n_videos
    again, _ = load_train_data(cfg, torch.device("cpu"))
    assert len(calls) == n_videos  # read from the cache, not recomputed
    torch.testing.assert_close(again.boxes, data.boxes, equal_nan=True, rtol=0, atol=0)
    same, _ = load_train_data(replace(cfg, delta_min=0, delta_max=0), torch.device("cpu"))  # no time
    assert len(calls) == n_videos  # short deltas share the cache (regions are tracked TRACK_FRAMES far)
    x0, _ = same.batch(torch.arange(3), torch.Generator().manual_seed(0))
    assert torch.equal(x0[:, 0], x0[:, 1])
    x, _ = data.batch(torch.arange(4), torch.Generator().manual_seed(0))
    assert x.shape == (4, 2, 3, 32, 32) and x.dtype == torch.uint8
    # boxes are scaled to the frames the trainer holds (3 x image_size by default); a tracked box may run
    # partly off the frame, but starts on it
    b = data.boxes.numpy()
    assert (
        np.nanmax(b[..., :2]) < 3 * cfg.image_size
        and np.nanmax(b[:, 0, 0] + b[:, 0, 2]) <= 3 * cfg.image_size + 1
    )


@pytest.mark.slow
def test_region_cache_filled_in_processes_matches_one_process(smoke_world, tmp_path):
    videos = open_videos(smoke_world / "videos").videos
    params = regions.RegionParams(max_delta=regions.TRACK_FRAMES)
    assert regions.fill_cache(videos, params, tmp_path / "one", workers=1, progress=False) == len(videos)
    assert regions.fill_cache(videos, params, tmp_path / "two", workers=2, progress=False) == len(videos)
    assert regions.fill_cache(videos, params, tmp_path / "two", workers=2, progress=False) == 0  # all cached
    files = sorted(p.name for p in (tmp_path / "one").glob("*.npz"))
    assert len(files) == len(videos) and files == sorted(p.name for p in (tmp_path / "two").glob("*.npz"))
    for name in files:
        with np.load(tmp_path / "one" / name) as a, np.load(tmp_path / "two" / name) as b:
            assert sorted(a.files) == sorted(b.files)
            for k in a.files:
                np.testing.assert_array_equal(a[k], b[k])
