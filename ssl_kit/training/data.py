"""Turn a config's `data` into the batch source the training loop draws from (`ssl_kit.batches`).

- An image folder (ImageFolder layout): labelled images, every method but the video ones; held in memory, or
  streamed from the files when it is too large (`--input`, `choose_input`, `ssl_kit.batches.streamed_images`); so are video frames
  for FTI and the image methods (`ssl_kit.batches.streamed_frames`).
- A video source (the world's `videos/`, TrackingNet, GOT-10k, a folder of video files) with `mocov2` (or
  any image method): every frame an independent image, the baseline of the paper's video experiments.
- A video source with `fti`: temporal frame pairs; with `region_tracker`: tracked region pairs, whose
  proposals and tracks are computed once per video and cached (`ssl_kit.video.regions`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import torch

from ssl_kit.batches import FramePairs, ImageData, RegionPairs, StreamedFrames, StreamedImages
from ssl_kit.common.cache import user_cache
from ssl_kit.common.cpus import within_cpus
from ssl_kit.common.memory_budget import physical_memory
from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.data.memory import load_labelled_folder, resident_bytes
from ssl_kit.errors import ConfigError
from ssl_kit.methods import VIDEO_METHODS
from ssl_kit.runs.config import TrainConfig
from ssl_kit.runs.fields import INPUTS
from ssl_kit.video.regions import TRACK_FRAMES, WORK_SIDE, RegionParams, region_tracks
from ssl_kit.video.sources import is_video_source, load_frames, open_videos
from ssl_kit.video.subset import limit_videos

BUDGET_SHARE = 0.25  # of physical memory: the default budget for holding a training set


def choose_input(mode: str, n_images: int, image_size: int, budget_gb: float | None = None) -> str:
    """ "memory" or "stream" for a set of `n_images`: `mode` unless it is "auto", then "memory" when the set at
    `image_size` fits `budget_gb` (default: BUDGET_SHARE of this machine's memory)."""
    if mode not in INPUTS:
        raise ConfigError(f"input must be one of {', '.join(INPUTS)}, not {mode!r}")
    if mode != "auto":
        return mode
    budget = budget_gb * 2**30 if budget_gb is not None else BUDGET_SHARE * physical_memory()
    return "memory" if not budget or resident_bytes(n_images, image_size) <= budget else "stream"


def decide_input(cfg: TrainConfig, recorded: Mapping | None = None) -> TrainConfig:
    """`cfg` with `input` made concrete: "memory" or "stream". "auto" continues a `recorded` run's choice, holds
    video sources in memory, and for an image folder decides from its size (`stream.choose_input`)."""
    video = is_video_source(cfg.data)
    if cfg.input == "stream" and video and cfg.method == "region_tracker":
        raise ConfigError(
            f"--input stream: region_tracker holds its frames in memory ({cfg.data} is read once to propose and "
            "track regions); FTI and the image methods stream video frames"
        )
    if cfg.input != "auto":
        return cfg
    if recorded and recorded.get("input") in ("memory", "stream"):
        return dataclasses.replace(cfg, input=recorded["input"])
    if video and cfg.method == "region_tracker":
        return dataclasses.replace(cfg, input="memory")
    if video:  # the frames the in-memory path would hold, at the size it would hold them
        n = sum(len(v) for v in _videos(cfg)[0])
        size = cfg.frame_size or cfg.image_size
    else:
        n, size = len(read_imagefolder(cfg.data)), cfg.image_size
    return dataclasses.replace(cfg, input=choose_input("auto", n, size, cfg.memory_budget_gb))


def _videos(cfg: TrainConfig):
    """The videos a run trains on (capped by --max-videos / --max-video-frames) and their log counts."""
    found = open_videos(cfg.data, min_frames=2)
    videos = limit_videos(found.videos, cfg.max_videos or 0, cfg.max_video_frames or 0)
    log = {"videos": len(videos), "videos_skipped": len(found.skipped)}
    if len(videos) < len(found.videos):
        log["videos_not_used"] = len(found.videos) - len(videos)  # over --max-videos
    return videos, log


def load_train_data(cfg: TrainConfig, device: torch.device, progress: bool = False):
    """The batch source for the resolved `cfg`, and a dict of counts for the run log (skipped clips, ...)."""

    video = is_video_source(cfg.data)
    if cfg.method in VIDEO_METHODS and not video:
        raise ConfigError(
            f"{cfg.method} trains on videos; {cfg.data} is not a video folder "
            "(TRAIN_<k>/frames, GOT-10k list.txt, or .mp4/.avi files)"
        )
    workers = None if cfg.workers is None else within_cpus(cfg.workers, "--workers")
    if not video and cfg.input == "stream":
        return StreamedImages.open(cfg.data, workers), {}
    if not video:
        counts: dict = {}
        images, labels, classes = load_labelled_folder(
            cfg.data,
            cfg.image_size,
            cfg.skip_corrupt,
            progress,
            counts,
            fix=f"give a smaller --image-size (now {cfg.image_size}), or --input stream to read the files as "
            "training goes",
        )
        # with --skip-corrupt the run logs the files used and skipped (data_images, data_images_skipped)
        return ImageData(images.to(device), labels.to(device), classes), counts if cfg.skip_corrupt else {}

    videos, log = _videos(cfg)
    if cfg.input == "stream":  # frames read as training goes, each view cropped from the full frame
        fti = cfg.method == "fti"
        data = StreamedFrames(videos, fti, (cfg.delta_min, cfg.delta_max), workers)
        if fti:
            log.update(pairs_per_epoch=data.n, videos_shorter_than_delta=data.short_videos)
        else:
            log.update(frames=data.n)
        return data, log
    if cfg.method == "region_tracker":
        # regions are tracked for at least TRACK_FRAMES frames whatever delta_max, so runs with short deltas
        # (delta 0: the same crop twice) share one cache with the default; tracks are made on frames shrunk to
        # the network's input size, never below WORK_SIDE, and proposals on keyframes at `propose_side`
        params = RegionParams(
            keyframe_every=cfg.keyframe_every,
            max_delta=max(cfg.delta_max, TRACK_FRAMES),
            proposals=cfg.proposals,
            tracker=cfg.tracker,
            work_side=max(WORK_SIDE, cfg.image_size),
        )
        size = cfg.frame_size or 3 * cfg.image_size
        frames, vid, _ = load_frames(videos, size, progress=progress)
        tracks = region_tracks(
            videos, params, cfg.region_cache or user_cache("regions"), frame_size=size, progress=progress
        )
        data = RegionPairs(
            frames,
            vid,
            tracks,
            cfg.image_size,
            (cfg.delta_min, cfg.delta_max),
            device,
            cfg.region_fraction,
            cfg.min_track_confidence,
        )
        log.update(regions=data.n, regions_lost_early=data.dropped_regions)
        return data, log
    frames, vid, _ = load_frames(videos, cfg.frame_size or cfg.image_size, progress=progress)
    if cfg.method == "fti":
        data = FramePairs(frames, vid, (cfg.delta_min, cfg.delta_max), device)
        log.update(pairs_per_epoch=data.n, videos_shorter_than_delta=data.short_videos)
        return data, log
    labels = torch.from_numpy(np.asarray(vid, dtype=np.int64))  # the video id: unused by contrastive methods
    log.update(frames=len(frames))
    return ImageData(frames.to(device), labels.to(device), [f"video{i}" for i in range(len(videos))]), log
