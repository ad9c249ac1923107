"""A full-size video file with ground truth, made here: one world clip rendered at `render_side` px, each frame
resized to width x height (bicubic) and written with OpenCV's mp4v codec; every object's boxes are scaled to
match. What `bench_video.py --part regions` times the region cache on, like a real 768x576 clip of a few
hundred frames (the world renders square frames, so the clip is stretched to the real aspect ratio).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np

from ssl_kit.video.sources import FileVideo, open_videos
from ssl_kit.world.build import build_set
from ssl_kit.world.presets import get_preset


def make_video(
    out: str | Path,
    frames: int = 600,
    width: int = 768,
    height: int = 576,
    render_side: int = 192,
    seed: int = 0,
    fps: float = 30.0,
) -> FileVideo:
    """Render, stretch and encode the clip under `out`; the returned video carries the scaled `tracks`."""
    out = Path(out)
    preset = dataclasses.replace(
        get_preset("smoke"), name="bench_video", scene_size=render_side, video_clips=1, video_frames=frames
    )
    clip = open_videos(build_set("videos", out / "world", preset, seed, progress=False)).videos[0]
    path = out / f"clip_{width}x{height}.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write mp4v video here")
    for start in range(0, frames, 64):
        for frame in clip.read(list(range(start, min(frames, start + 64)))):
            big = cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC)
            writer.write(cv2.cvtColor(big, cv2.COLOR_RGB2BGR))
    writer.release()
    video = FileVideo(path, frames, fps, width, height)
    s = np.array([width / render_side, height / render_side] * 2)
    video.tracks = [dataclasses.replace(t, boxes=t.boxes * s) for t in clip.tracks]
    return video
