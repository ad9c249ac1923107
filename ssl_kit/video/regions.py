"""Region Tracker's regions: proposals on keyframes, tracked forward, computed once per video and cached.

For each video, every `keyframe_every`-th frame (that has at least one later frame) gets up to `proposals`
region proposals (`ssl_kit.video.proposals.propose`); each is tracked frame by frame up to `max_delta`
frames ahead (`ssl_kit.video.tracking.track_boxes`), recording its box and the tracker's confidence (NaN once
lost). A video's result is one `.npz` file in the cache folder, written atomically, named by a hash of the
video (source, name, frame count) and of the parameters: a second run, another seed, or another method
reading the same videos reuses it. Boxes are stored in the pixels of the video's own frames and scaled to the
size the trainer holds frames at when they are read.

`tracker="annotation"` replaces proposals and tracking with the source's own boxes (every object's track in
the world, the annotated object in TrackingNet and GOT-10k), confidence = the visible fraction where known:
an oracle that separates what the temporal positives teach from the quality of unsupervised regions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import multiprocessing
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from ssl_kit.common.atomic import atomic_write_bytes
from ssl_kit.errors import ConfigError
from ssl_kit.video.pairs import RegionTracks
from ssl_kit.video.proposals import propose
from ssl_kit.video.tracking import METHODS, FlowParams, track_boxes

CACHE_VERSION = 1
TRACK_FRAMES = 8  # the trainer tracks every region at least this far (one cache for every delta_max <= 8)


@dataclass(frozen=True)
class RegionParams:
    keyframe_every: int = 4
    max_delta: int = 8
    proposals: int = 10
    tracker: str = "flow"
    min_area: float = 0.02  # of the frame
    max_area: float = 0.6
    max_aspect: float = 3.0

    def __post_init__(self):
        if self.tracker not in (*METHODS, "annotation"):
            raise ConfigError(
                f"unknown tracker {self.tracker!r} (expected one of {', '.join((*METHODS, 'annotation'))})"
            )


def _video_key(video, params: RegionParams) -> str:
    fields = dict(version=CACHE_VERSION, flow=repr(FlowParams()), source=str(getattr(video, "source", "")), name=video.name,
                  frames=len(video), params=dataclasses.asdict(params))  # fmt: skip
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:20]


def _annotated(video) -> list[tuple[np.ndarray, np.ndarray]]:
    """(boxes (T, 4), confidence (T,)) of every annotated object of `video`; NaN boxes where absent."""
    if video.tracks:
        return [(t.boxes, np.nan_to_num(t.visible)) for t in video.tracks]
    if video.boxes is not None:
        b = np.asarray(video.boxes, np.float64)
        present = np.isfinite(b).all(1) & (np.nan_to_num(b[:, 2]) > 0) & (np.nan_to_num(b[:, 3]) > 0)
        return [(np.where(present[:, None], b, np.nan), present.astype(np.float64))]
    raise ConfigError(f"{video.name}: tracker='annotation' needs annotated boxes, and this video has none")


def annotated_regions(video, params: RegionParams) -> dict[str, np.ndarray]:
    """The oracle: each annotated object on every keyframe, followed by its own boxes for max_delta frames."""
    d, n = params.max_delta, len(video)
    keys, boxes, conf = [], [], []
    for b, c in _annotated(video):
        for t in range(0, n - 1, params.keyframe_every):
            if not np.isfinite(b[t]).all():
                continue
            window_b, window_c = np.full((d + 1, 4), np.nan), np.zeros(d + 1)
            m = min(n, t + d + 1) - t
            window_b[:m], window_c[:m] = b[t : t + m], c[t : t + m]
            keys.append(t)
            boxes.append(window_b)
            conf.append(window_c)
    frame_hw = np.asarray(video.read([0])[0].shape[:2], np.int64)
    return dict(
        frame=np.asarray(keys, np.int64).reshape(-1),
        boxes=np.stack(boxes) if boxes else np.zeros((0, d + 1, 4)),
        confidence=np.stack(conf) if conf else np.zeros((0, d + 1)),
        frame_hw=frame_hw,
    )


def video_regions(video, params: RegionParams) -> dict[str, np.ndarray]:
    """Proposals on the keyframes of one video, tracked forward: local keyframe, boxes, confidence.

    Reads only each keyframe's window of frames (t .. t + max_delta), never the whole video at once."""
    if params.tracker == "annotation":
        return annotated_regions(video, params)

    d, n = params.max_delta, len(video)
    keys, boxes, conf = [], [], []
    hw = None
    for t in range(0, n - 1, params.keyframe_every):
        window = video.read(list(range(t, min(n, t + d + 1))))
        hw = window[0].shape[:2]
        found = propose(window[0], max_proposals=params.proposals, min_area=params.min_area,
                        max_area=params.max_area, max_aspect=params.max_aspect)  # fmt: skip
        if len(found) == 0:
            continue
        results = track_boxes(window, found, method=params.tracker)
        for r in results:
            b = np.full((d + 1, 4), np.nan)
            c = np.zeros(d + 1)
            b[: len(window)], c[: len(window)] = r.boxes, r.confidence
            keys.append(t)
            boxes.append(b)
            conf.append(c)
    frame_hw = np.asarray(hw if hw is not None else video.read([0])[0].shape[:2], np.int64)
    if not keys:
        return dict(frame=np.zeros(0, np.int64), boxes=np.zeros((0, d + 1, 4)), confidence=np.zeros((0, d + 1)),
                    frame_hw=frame_hw)  # fmt: skip
    return dict(
        frame=np.asarray(keys, np.int64), boxes=np.stack(boxes), confidence=np.stack(conf), frame_hw=frame_hw
    )


def cached_regions(video, params: RegionParams, cache: str | Path) -> dict[str, np.ndarray]:
    """`video_regions` of one video, read from the cache folder, or computed and written there atomically."""
    cache = Path(cache)
    path = cache / f"{_video_key(video, params)}.npz"
    if path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in ("frame", "boxes", "confidence", "frame_hw")}
    out = video_regions(video, params)
    buf = io.BytesIO()
    np.savez(buf, **out)
    cache.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return out


def _cache_one(job: tuple) -> None:
    cv2.setNumThreads(1)  # one video per process; the processes use the cores
    cached_regions(*job)


# below this many videos per worker, a worker's start-up (a fresh interpreter importing torch) is not repaid
MIN_VIDEOS_PER_WORKER = 4


def fill_cache(
    videos, params: RegionParams, cache_dir: str | Path, workers: int | None = None, progress: bool = True
) -> int:
    """Compute and cache the regions of every video not cached yet; returns how many were computed.

    Selective search and the flow tracker run one video at a time on one core, so the videos are shared out
    among `workers` processes (default: one per CPU core, at most 4, and at least MIN_VIDEOS_PER_WORKER videos
    each; the README gives the speed-up measured on a 2-core CPU). Each result is the same file a single
    process writes (a video's regions depend on nothing else).

    The workers are spawned, not forked: a forked child inherits OpenMP, OpenCV and FFmpeg thread pools it
    cannot use (freeing an inherited video capture hung here). Spawning re-runs the main module of a script
    unless it is guarded by `if __name__ == "__main__":`; if the workers cannot start, the videos are computed
    in this process, with a warning."""
    cache = Path(cache_dir)
    todo = [v for v in videos if not (cache / f"{_video_key(v, params)}.npz").is_file()]
    if workers is None:
        workers = min(4, os.cpu_count() or 1, len(todo) // MIN_VIDEOS_PER_WORKER)
    workers = min(workers, len(todo))
    bar = tqdm(total=len(todo), desc="regions", unit="video", disable=not progress or not todo)
    done = set()
    if workers > 1 and params.tracker != "annotation":  # the oracle only reads boxes: not worth processes
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                for k, _ in enumerate(pool.map(_cache_one, [(v, params, cache) for v in todo], chunksize=2)):
                    done.add(k)
                    bar.update()
        except BrokenProcessPool as e:
            warnings.warn(
                f"region workers failed to start ({e}); computing the rest in this process", stacklevel=2
            )
    for k, video in enumerate(todo):
        if k not in done:
            cached_regions(video, params, cache)
            bar.update()
    bar.close()
    return len(todo)


def region_tracks(
    videos, params: RegionParams, cache_dir: str | Path, frame_size: int, progress: bool = True
) -> RegionTracks:
    """Every video's regions (cached), boxes scaled to square frames of `frame_size`, keyframes made global.

    `videos` in the order their frames are stacked by `ssl_kit.video.sources.load_frames` (all frames of
    each), so global frame = offset of the video + local frame. Videos not cached yet are computed first, in
    parallel (`fill_cache`).
    """
    cache = Path(cache_dir)
    fill_cache(videos, params, cache, progress=progress)
    frames, boxes, conf = [], [], []
    offset = 0
    for video in videos:
        r = cached_regions(video, params, cache)
        h, w = (int(v) for v in r["frame_hw"])
        scale = np.array([frame_size / w, frame_size / h, frame_size / w, frame_size / h])
        frames.append(r["frame"] + offset)
        boxes.append(r["boxes"] * scale)
        conf.append(r["confidence"])
        offset += len(video)
    return RegionTracks(np.concatenate(frames), np.concatenate(boxes), np.concatenate(conf))
