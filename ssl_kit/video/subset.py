"""A smaller set of videos: the first `max_videos` videos, each cut to its first `max_frames` frames.

What keeps `--scale smoke` a smoke run on a real video source (TrackingNet holds about 30,000 videos of a few
hundred frames): the smoke scale caps both, the other scales use every frame of every video unless asked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ssl_kit.video.sources import Video


class FirstFrames(Video):
    """The first `n` frames of `video`, with its annotations cut to match; read from the video itself."""

    def __init__(self, video: Video, n: int):
        if not 1 <= n <= len(video):
            raise ValueError(f"{video.name}: n must be in [1, {len(video)}], got {n}")
        self.video, self.n = video, int(n)
        self.name, self.path, self.fps = video.name, video.path, video.fps
        self.source = getattr(video, "source", "")  # part of the region cache's key, with the frame count
        self.boxes = None if video.boxes is None else video.boxes[: self.n]
        self.tracks = None
        if video.tracks:
            self.tracks = [
                dataclasses.replace(t, boxes=t.boxes[: self.n], visible=t.visible[: self.n])
                for t in video.tracks
            ]

    def __len__(self) -> int:
        return self.n

    def read(self, indices: Sequence[int]) -> list:
        return self.video.read(self._check(indices))


def limit_videos(videos: Sequence[Video], max_videos: int = 0, max_frames: int = 0) -> list[Video]:
    """The first `max_videos` of `videos` (0: all), each cut to its first `max_frames` frames (0: all)."""
    if max_videos < 0 or max_frames < 0:
        raise ValueError(f"max_videos and max_frames must be >= 0, got {max_videos} and {max_frames}")
    chosen = list(videos[:max_videos] if max_videos else videos)
    if not max_frames:
        return chosen
    return [FirstFrames(v, max_frames) if len(v) > max_frames else v for v in chosen]
