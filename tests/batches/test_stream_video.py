"""Streamed video frames (FTI and frames as images): pairs from one video within delta, each view cropped from
the full frame, rank- and worker-independent draws, exact resume, the automatic choice; and paper-scale smoke
runs (`--scale paper`, ResNet-50 at 224 px) on full-size JPEGs through the streaming path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.stream_resume import check_resume_is_exact
from PIL import Image

from ssl_kit.augment import get_policy
from ssl_kit.batches.streamed_frames import StepFrames, StreamedFrames
from ssl_kit.errors import ConfigError
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.training.data import decide_input
from ssl_kit.training.loop import train
from ssl_kit.video.sources import open_videos


def _coded_videos(root: Path, lengths=(6, 2, 9), size=(120, 90)) -> Path:
    """A TrackingNet chunk whose frames are flat colours: red codes the video, green the frame index."""
    chunk = root / "TRAIN_0"
    (chunk / "anno").mkdir(parents=True)
    for v, n in enumerate(lengths):
        folder = chunk / "frames" / f"video{v}"
        folder.mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", size, (20 * v + 10, 20 * i + 10, 128)).save(folder / f"{i}.jpg", quality=95)
        (chunk / "anno" / f"video{v}.txt").write_text("".join("10,10,40,30\n" for _ in range(n)))
    return root


def _decode(views: torch.Tensor) -> np.ndarray:
    """(video, frame) of each flat view (..., 3, S, S)."""
    mean = views.float().mean((-1, -2))
    return ((mean[..., :2] - 10) / 20).round().long().numpy()


@pytest.fixture(scope="module")
def coded(tmp_path_factory) -> Path:
    return _coded_videos(tmp_path_factory.mktemp("videos"))


def _step_frames(coded: Path, pairs: bool, delta=(2, 3), **kw) -> StepFrames:
    data = StreamedFrames(open_videos(coded).videos, pairs, delta, workers=0)
    policy = replace(get_policy("crop_only"), crop_scale=(0.3, 0.6))
    common = dict(
        seed=3, batch_size=6, rank=0, world_size=1, start=0, stop=20, policy=policy, size=16, views=2
    )
    return StepFrames(
        data.videos, data.first, data.video, data.items, data.last, data.delta, **{**common, **kw}
    )


def test_a_pair_is_two_frames_of_one_video_delta_apart(coded):
    steps = _step_frames(coded, pairs=True)
    lengths = (6, 2, 9)
    seen = set()
    for i in range(len(steps)):
        images, labels, _ = steps[i]
        assert images.shape == (6, 2, 3, 16, 16) and images.dtype == torch.uint8 and not labels.any()
        codes = _decode(images)  # (item, member, (video, frame))
        for a, b, c, d in zip(codes[:, 0, 0], codes[:, 0, 1], codes[:, 1, 0], codes[:, 1, 1], strict=True):
            assert a == c, "both members come from one video"
            last = lengths[a] - 1
            assert b + 2 <= last and b + 2 <= d <= min(b + 3, last), (a, b, d)
            seen.add((int(a), int(d - b)))
    assert 1 not in {v for v, _ in seen}  # video 1 (2 frames) is too short for delta_min = 2
    assert {d for _, d in seen} == {2, 3}


def test_frames_as_images_carry_their_video_and_two_views_of_one_frame(coded):
    images, labels, _ = _step_frames(coded, pairs=False)[0]
    assert images.shape == (6, 2, 3, 16, 16)
    codes = _decode(images)
    assert (codes[:, 0] == codes[:, 1]).all()  # two views of the same frame
    assert labels.tolist() == codes[:, 0, 0].tolist()  # labelled with the frame's video


def test_draws_depend_on_the_item_and_step_not_on_the_rank(coded):
    one = _step_frames(coded, pairs=True, start=4, stop=6)[1]
    halves = [_step_frames(coded, pairs=True, start=4, stop=6, rank=r, world_size=2)[1] for r in (0, 1)]
    for part in range(3):  # views, labels, item indices
        assert torch.equal(one[part], torch.cat([h[part] for h in halves]))


def test_a_view_is_cropped_from_the_full_frame(tmp_path):
    """A frame of 8-px stripes keeps them through a streamed small crop (the in-memory path squashes the frame
    to the input size first)."""
    root = tmp_path / "v"
    chunk = root / "TRAIN_0"
    (chunk / "anno").mkdir(parents=True)
    (chunk / "frames" / "a").mkdir(parents=True)
    column = (np.arange(480) // 4) % 2 * 255
    stripes = np.repeat(np.tile(column, (360, 1))[..., None], 3, axis=2).astype(np.uint8)
    for i in range(3):
        Image.fromarray(stripes).save(chunk / "frames" / "a" / f"{i}.jpg", quality=100)
    (chunk / "anno" / "a.txt").write_text("0,0,10,10\n" * 3)
    data = StreamedFrames(open_videos(root).videos, True, (1, 1), workers=0)
    policy = replace(get_policy("crop_only"), crop_scale=(0.01, 0.01), crop_ratio=(1.0, 1.0), flip_p=0.0)
    images, _, _ = StepFrames(
        data.videos,
        data.first,
        data.video,
        data.items,
        data.last,
        data.delta,
        seed=0,
        batch_size=2,
        rank=0,
        world_size=1,
        start=0,
        stop=1,
        policy=policy,
        size=36,
        views=2,
    )[0]
    # a 36 x 36 px box resized to 36 px: full-contrast stripes, not the grey of a squashed copy
    assert images.float().std() > 100


def _stream_cfg(data: Path, out: Path, **kw) -> TrainConfig:
    base = dict(
        data=str(data),
        out=str(out),
        scale="smoke",
        method="fti",
        batch_size=8,
        max_steps=4,
        queue_size=16,
        checkpoint_every=100,
        input="stream",
        workers=0,
    )
    return TrainConfig(**{**base, **kw})


@pytest.mark.slow
def test_a_streamed_fti_run_resumes_exactly_whatever_the_workers(smoke_world, tmp_path):
    straight = check_resume_is_exact(
        lambda out, **kw: _stream_cfg(smoke_world / "videos", out, **kw), tmp_path
    )
    rows = rundir.read_metrics(straight)
    assert rows[0]["data_pairs_per_epoch"] > 0 and np.isfinite(rows[-1]["loss"])


def test_mocov2_trains_on_streamed_frames(smoke_world, tmp_path):
    out = train(
        _stream_cfg(smoke_world / "videos", tmp_path / "m", method="mocov2", max_steps=1), progress=False
    )
    assert rundir.read_metrics(out)[0]["data_frames"] > 0


def test_the_input_mode_follows_the_frames_size_and_region_tracker_stays_in_memory(smoke_world):
    videos = str(smoke_world / "videos")
    fti = resolve(TrainConfig(data=videos, method="fti", scale="smoke"))
    assert decide_input(fti).input == "memory"
    tiny = replace(fti, memory_budget_gb=1e-6)
    assert decide_input(tiny).input == "stream"
    assert decide_input(replace(tiny, method="region_tracker")).input == "memory"
    with pytest.raises(ConfigError, match="region_tracker holds its frames in memory"):
        decide_input(replace(fti, method="region_tracker", input="stream"))


def _full_size_jpegs(root: Path, n: int = 4, size=(500, 375)) -> Path:
    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(0, 256, (size[1] // 25, size[0] // 25, 3), dtype=np.uint8)
            Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR).save(root / c / f"{i}.jpg")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("method", ["mocov2", "fti"])
def test_a_paper_scale_run_streams_full_size_jpegs(tmp_path, method):
    """`--scale paper` (ResNet-50, 224 px crops of the originals) for one step on CPU, through the streaming
    path that `--input auto` picks when the set does not fit the memory budget."""
    if method == "fti":
        data = _coded_videos(tmp_path / "videos", lengths=(5, 5), size=(640, 480))
    else:
        data = _full_size_jpegs(tmp_path / "images")
    cfg = TrainConfig(
        data=str(data),
        out=str(tmp_path / "run"),
        scale="paper",
        method=method,
        batch_size=4,
        max_steps=1,
        queue_size=8,
        memory_budget_gb=1e-4,
        workers=1,
    )
    out = train(cfg, progress=False)
    saved = rundir.load_checkpoint(out)
    assert saved["config"]["input"] == "stream" and saved["config"]["arch"] == "resnet50"
    assert saved["config"]["crop_size"] == 224 and saved["step"] == 1
    assert np.isfinite(rundir.read_metrics(out)[-1]["loss"])
