"""Turn a config's `data` into what the training loop draws batches from (`ssl_kit.video.pairs`).

- An image folder (ImageFolder layout): labelled images, every method but the video ones.
- A video source (the world's `videos/`, TrackingNet, GOT-10k, a folder of video files) with `mocov2` (or
  any image method): every frame an independent image, the baseline of the paper's video experiments.
- A video source with `fti`: temporal frame pairs; with `region_tracker`: tracked region pairs, whose
  proposals and tracks are computed once per video and cached (`ssl_kit.video.regions`).
"""

from __future__ import annotations

import numpy as np
import torch

from ssl_kit.data.memory import load_labelled_folder
from ssl_kit.errors import ConfigError
from ssl_kit.methods import VIDEO_METHODS
from ssl_kit.training.config import TrainConfig
from ssl_kit.video.pairs import FramePairs, ImageData, RegionPairs
from ssl_kit.video.regions import TRACK_FRAMES, RegionParams, region_tracks
from ssl_kit.video.sources import is_video_source, load_frames, open_videos


def load_train_data(cfg: TrainConfig, device: torch.device, progress: bool = False):
    """The batch source for the resolved `cfg`, and a dict of counts for the run log (skipped clips, ...)."""

    video = is_video_source(cfg.data)
    if cfg.method in VIDEO_METHODS and not video:
        raise ConfigError(f"{cfg.method} trains on videos; {cfg.data} is not a video folder "
                          "(TRAIN_<k>/frames, GOT-10k list.txt, or .mp4/.avi files)")  # fmt: skip
    if not video:
        counts: dict = {}
        images, labels, classes = load_labelled_folder(
            cfg.data, cfg.image_size, cfg.skip_corrupt, progress, counts
        )
        # with --skip-corrupt the run logs the files used and skipped (data_images, data_images_skipped)
        return ImageData(images.to(device), labels.to(device), classes), counts if cfg.skip_corrupt else {}

    videos = open_videos(cfg.data, min_frames=2)
    log = {"videos": len(videos.videos), "videos_skipped": len(videos.skipped)}
    if cfg.method == "region_tracker":
        # regions are tracked for at least TRACK_FRAMES frames whatever delta_max, so runs with short deltas
        # (delta 0: the same crop twice) share one cache with the default
        params = RegionParams(keyframe_every=cfg.keyframe_every, max_delta=max(cfg.delta_max, TRACK_FRAMES),
                              proposals=cfg.proposals, tracker=cfg.tracker)  # fmt: skip
        size = cfg.frame_size or 3 * cfg.image_size
        frames, vid, _ = load_frames(videos.videos, size, progress=progress)
        tracks = region_tracks(videos.videos, params, cfg.region_cache, frame_size=size, progress=progress)
        data = RegionPairs(frames, vid, tracks, cfg.image_size, (cfg.delta_min, cfg.delta_max), device,
                           cfg.region_fraction, cfg.min_track_confidence)  # fmt: skip
        log.update(regions=data.n, regions_lost_early=data.dropped_regions)
        return data, log
    frames, vid, _ = load_frames(videos.videos, cfg.frame_size or cfg.image_size, progress=progress)
    if cfg.method == "fti":
        data = FramePairs(frames, vid, (cfg.delta_min, cfg.delta_max), device)
        log.update(pairs_per_epoch=data.n, videos_shorter_than_delta=data.short_videos)
        return data, log
    labels = torch.from_numpy(np.asarray(vid, dtype=np.int64))  # the video id: unused by contrastive methods
    log.update(frames=len(frames))
    return ImageData(
        frames.to(device), labels.to(device), [f"video{i}" for i in range(len(videos.videos))]
    ), log
