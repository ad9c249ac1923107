"""Stream video frames too many to hold (TrackingNet's 30,000 videos, GOT-10k's 1.4 million frames): each step's
frames are read from the video source in `DataLoader` workers and each view is cropped from the full frame.

The in-memory path (`ssl_kit.video.sources.load_frames`) decodes every frame once at the network's input size:
right for the world's videos, wrong for real video at the paper's scale (GOT-10k's train split at 224 px is
about 200 GB), and it squashes each frame to a square before the crop. Streaming is the image folders' path
(`ssl_kit.batches.streamed_images`) for frames: a step's items come from `step_plan` over the drawable frames; for each
item a generator seeded by (seed, step, item) draws its partner frame (Frame Temporal Invariance: t + delta in
[delta_min, delta_max] of the same video, as `FramePairs`) and each view's RandomResizedCrop box on the frame's
own size (`crop_array`); the device applies the rest of the policy. So draws depend neither on the worker nor on
the rank, and `--resume` continues exactly. Frames come from `Video.read`, so frame folders and video files
stream alike (a file is decoded from the nearest keyframe on each read: slower than JPEG frames, still bounded).

- FTI (`pairs=True`): a batch is (B, 2, 3, crop, crop), one view of frame t and one of its partner.
- Frames as independent images (MoCo v2 and the other image methods on frames, `pairs=False`): (B, views, 3,
  crop, crop) views of one frame, labelled with its video's index.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ssl_kit.augment import get_policy
from ssl_kit.augment.policy import AugmentPolicy
from ssl_kit.batches.plan import step_plan
from ssl_kit.batches.source import Steps, StreamedSource
from ssl_kit.batches.streamed_images import crop_array, sample_seed
from ssl_kit.video.pairs import check_delta, last_frames, partner_frame
from ssl_kit.video.sources import Video


@dataclass
class StepFrames(torch.utils.data.Dataset):
    """Item i: this rank's share of step `start + i`: views uint8 (b, views, 3, size, size), labels, item indices."""

    videos: Sequence[Video]
    first: np.ndarray  # (V,) global index of each video's first frame
    video: np.ndarray  # (N,) the video of each global frame
    items: np.ndarray  # the global frames a step draws from
    last: np.ndarray  # (N,) each global frame's video's last global frame
    delta: tuple[int, int] | None  # None: frames as independent images
    seed: int
    batch_size: int
    rank: int
    world_size: int
    start: int
    stop: int
    policy: AugmentPolicy
    size: int
    views: int

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def _read(self, frames: list[int]) -> list[np.ndarray]:
        v = int(self.video[frames[0]])
        return self.videos[v].read([f - int(self.first[v]) for f in frames])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        step = self.start + i
        plan = step_plan(self.seed, step, len(self.items), self.batch_size, self.rank, self.world_size)
        crops = []
        for k in plan.indices.tolist():
            gen = torch.Generator().manual_seed(sample_seed(self.seed, step, k))
            t = int(self.items[k])
            if self.delta is None:
                crops.append(crop_array(self._read([t])[0], self.policy, self.size, self.views, gen))
                continue
            u = int(partner_frame(torch.tensor([t]), torch.tensor([int(self.last[t])]), *self.delta, gen)[0])
            a, b = self._read([t, u])
            crops.append(np.concatenate([crop_array(x, self.policy, self.size, 1, gen) for x in (a, b)]))
        images = torch.from_numpy(np.stack(crops)).permute(0, 1, 4, 2, 3).contiguous()
        labels = torch.from_numpy(self.video[self.items[plan.indices.numpy()]].astype(np.int64))
        return images, labels if self.delta is None else torch.zeros_like(labels), plan.indices


class StreamedFrames(StreamedSource):
    """The frames of a set of videos, read as training goes (see the module doc); `pairs` for FTI."""

    def __init__(
        self,
        videos: Sequence[Video],
        pairs: bool,
        delta: tuple[int, int] = (1, 1),
        workers: int | None = None,
    ):
        self.videos = list(videos)
        lengths = np.array([len(v) for v in self.videos], dtype=np.int64)
        self.first = np.r_[0, np.cumsum(lengths)[:-1]]
        self.video = np.repeat(np.arange(len(lengths)), lengths)
        self.last = last_frames(self.video)
        self.delta = check_delta(delta) if pairs else None
        if pairs:
            self.items = np.flatnonzero(self.last - np.arange(len(self.last)) >= self.delta[0])
            if len(self.items) == 0:
                raise ValueError(f"no video is longer than delta_min = {self.delta[0]} frames")
        else:
            self.items = np.arange(len(self.video))
        self.classes = ["video"] if pairs else [f"video{i}" for i in range(len(self.videos))]
        self.workers = max(1, min(8, (os.cpu_count() or 2) // 2)) if workers is None else workers

    @property
    def n(self) -> int:
        return len(self.items)

    @property
    def short_videos(self) -> int:
        """Videos too short for delta_min: their frames are never drawn (counted for the run log)."""
        return len(self.videos) - len(np.unique(self.video[self.items]))

    def step_dataset(self, steps: Steps) -> StepFrames:
        return StepFrames(
            self.videos,
            self.first,
            self.video,
            self.items,
            self.last,
            self.delta,
            steps.seed,
            steps.batch_size,
            steps.rank,
            steps.world_size,
            steps.start,
            steps.last,
            get_policy(steps.policy),
            steps.size,
            steps.views,
        )
