"""Region Tracker's regions: proposals on keyframes, tracked forward, computed once per video and cached.

For each video, every `keyframe_every`-th frame (that has at least one later frame) gets up to `proposals`
region proposals (`ssl_kit.video.proposals.propose`); each is tracked frame by frame up to `max_delta`
frames ahead (`ssl_kit.video.tracking.track_boxes`), recording its box and the tracker's confidence (NaN once
lost). A video's result is one `.npz` file in the cache folder, written atomically, named by a hash of the
video (source, name, frame count, and for the world's videos the set's config hash) and of the parameters: a
second run, another seed, or another method reading the same videos reuses it. Boxes are stored in the pixels of the video's own frames and scaled to the
size the trainer holds frames at when they are read.

Speed on real video. Frames are read once, in order, a block at a time, and each is shrunk once (area
interpolation) so that its shorter side is at most `work_side` pixels for tracking: the network sees regions
at 32-224 px (a 768x576 frame holds 16 times the pixels of one at 144 px on its shorter side). Keyframes are
resized again to a shorter side of `propose_side` pixels for selective search, whose cost grows with the
pixels. Boxes are mapped back to the frame's own pixels. Frames already at most `work_side` (the world's) are
tracked as they are. A long video is cut into segments of
`SEGMENT_KEYFRAMES` keyframes, and the segments of all videos are shared out among worker processes: a
keyframe's regions depend only on its own window of frames, so the result is the same file whatever the split.

`tracker="annotation"` replaces proposals and tracking with the source's own boxes (every object's track in
the world, the annotated object in TrackingNet and GOT-10k), confidence = the visible fraction where known:
an oracle that separates what the temporal positives teach from the quality of unsupervised regions.
"""

from __future__ import annotations

import dataclasses
import io
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
from ssl_kit.common.keys import cache_key
from ssl_kit.data.identity import world_set_hash
from ssl_kit.errors import ConfigError
from ssl_kit.video.pairs import RegionTracks
from ssl_kit.video.proposals import PROPOSE_SIDE, propose
from ssl_kit.video.tracking import METHODS, FlowParams, track_boxes

CACHE_VERSION = 1  # a field of every entry's key: raise it when regions are computed differently
TRACK_FRAMES = 8  # the trainer tracks every region at least this far (one cache for every delta_max <= 8)
WORK_SIDE = 144  # default tracking size (shorter side, pixels) of frames larger than it
MIN_WORK_SIDE = 16
READ_BLOCK = 32  # frames decoded per read while walking a video
SEGMENT_KEYFRAMES = 32  # keyframes per job: a long video's work spreads over the cores too


@dataclass(frozen=True)
class RegionParams:
    keyframe_every: int = 4
    max_delta: int = 8
    proposals: int = 10
    tracker: str = "flow"
    min_area: float = 0.02  # of the frame
    max_area: float = 0.6
    max_aspect: float = 3.0
    # frames are shrunk to this shorter side (pixels) for tracking; 0: frames as they are
    work_side: int = WORK_SIDE
    # keyframes are resized to this shorter side (pixels) for selective search; 0: as they are tracked
    propose_side: int = PROPOSE_SIDE
    mode: str = "single"  # selective search strategy: fast, quality or single (ssl_kit.video.proposals)

    def __post_init__(self):
        if self.tracker not in (*METHODS, "annotation"):
            raise ConfigError(
                f"unknown tracker {self.tracker!r} (expected one of {', '.join((*METHODS, 'annotation'))})"
            )
        for name in ("work_side", "propose_side"):
            side = getattr(self, name)
            if side != 0 and side < MIN_WORK_SIDE:
                raise ConfigError(f"{name} must be 0 (frames as they are) or >= {MIN_WORK_SIDE}, got {side}")


def _video_key(video, params: RegionParams) -> str:
    path = getattr(video, "path", None)
    world = world_set_hash(path) if path is not None else None  # a world rebuilt in place is other frames
    return cache_key(
        "regions",
        version=CACHE_VERSION,
        flow=repr(FlowParams()),
        source=str(getattr(video, "source", "")),
        name=video.name,
        frames=len(video),
        params=dataclasses.asdict(params),
        world=world,
    )


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


def work_size(height: int, width: int, side: int) -> tuple[int, int] | None:
    """(width, height) a frame is shrunk to so that its shorter side is `side` pixels, or None to keep it as it
    is (side 0, or a shorter side of at most `side` already)."""
    if side <= 0 or min(height, width) <= side:
        return None
    s = side / min(height, width)
    return max(1, round(width * s)), max(1, round(height * s))


class _WorkFrames:
    """One video's frames read in order, `READ_BLOCK` at a time, each shrunk once to the working size (that of
    the first frame read) and dropped once no later window starts before it."""

    def __init__(self, video, side: int, needed: set[int]):
        self.video, self.side, self.needed = video, side, needed
        self.end = max(needed, default=-1) + 1
        self.kept: dict[int, np.ndarray] = {}
        self.full_hw: tuple[int, int] | None = None
        self.size: tuple[int, int] | None = None

    def _shrink(self, frame: np.ndarray) -> np.ndarray:
        if self.full_hw is None:
            self.full_hw = frame.shape[:2]
            self.size = work_size(*self.full_hw, self.side)
        return frame if self.size is None else cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)

    def window(self, start: int, stop: int) -> list[np.ndarray]:
        self.kept = {i: f for i, f in self.kept.items() if i >= start}
        need = [i for i in range(start, stop) if i not in self.kept]
        if need:
            last = min(self.end, max(stop, need[0] + READ_BLOCK))
            wanted = [i for i in range(need[0], last) if i in self.needed or i < stop]
            for i, frame in zip(wanted, self.video.read(wanted), strict=True):
                self.kept[i] = self._shrink(frame)
        return [self.kept[i] for i in range(start, stop)]

    def to_full(self) -> np.ndarray:
        """x, y, w, h multipliers from working pixels to the frame's own."""
        if self.size is None:
            return np.ones(4)
        (h, w), (ws, hs) = self.full_hw, self.size
        return np.array([w / ws, h / hs, w / ws, h / hs])


def keyframes(video, params: RegionParams) -> list[int]:
    """The frames regions are proposed on: every `keyframe_every`-th that has at least one later frame."""
    return list(range(0, len(video) - 1, params.keyframe_every))


def video_regions(video, params: RegionParams, keys: list[int] | None = None) -> dict[str, np.ndarray]:
    """Proposals on the keyframes of one video (`keys`, default all), tracked forward: keyframe, boxes (in the
    frame's own pixels), confidence, frame_hw.

    Reads the frames from the first keyframe to the last one's window once, in order (`_WorkFrames`)."""
    if params.tracker == "annotation":
        return annotated_regions(video, params)

    d, n = params.max_delta, len(video)
    keys = keyframes(video, params) if keys is None else keys
    reader = _WorkFrames(video, params.work_side, {i for t in keys for i in range(t, min(n, t + d + 1))})
    found_keys, boxes, conf = [], [], []
    for t in keys:
        window = reader.window(t, min(n, t + d + 1))
        scale = params.propose_side / min(window[0].shape[:2]) if params.propose_side else 1.0
        found = propose(
            window[0],
            scale=scale,
            max_proposals=params.proposals,
            min_area=params.min_area,
            max_area=params.max_area,
            max_aspect=params.max_aspect,
            mode=params.mode,
        )
        if len(found) == 0:
            continue
        for r in track_boxes(window, found, method=params.tracker):
            b = np.full((d + 1, 4), np.nan)
            c = np.zeros(d + 1)
            b[: len(window)], c[: len(window)] = r.boxes * reader.to_full(), r.confidence
            found_keys.append(t)
            boxes.append(b)
            conf.append(c)
    if reader.full_hw is None:  # no keyframe asked for: the frame size from frame 0
        reader._shrink(video.read([0])[0])
    frame_hw = np.asarray(reader.full_hw, np.int64)
    if not found_keys:
        return dict(
            frame=np.zeros(0, np.int64),
            boxes=np.zeros((0, d + 1, 4)),
            confidence=np.zeros((0, d + 1)),
            frame_hw=frame_hw,
        )
    return dict(
        frame=np.asarray(found_keys, np.int64),
        boxes=np.stack(boxes),
        confidence=np.stack(conf),
        frame_hw=frame_hw,
    )


def _cache_path(video, params: RegionParams, cache: Path) -> Path:
    return cache / f"{_video_key(video, params)}.npz"


def _read_cached(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in ("frame", "boxes", "confidence", "frame_hw")}


def _write_cached(path: Path, out: dict[str, np.ndarray]) -> None:
    buf = io.BytesIO()
    np.savez(buf, **out)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())


def cached_regions(video, params: RegionParams, cache: str | Path) -> dict[str, np.ndarray]:
    """`video_regions` of one video, read from the cache folder, or computed and written there atomically."""
    path = _cache_path(video, params, Path(cache))
    if path.is_file():
        return _read_cached(path)
    out = video_regions(video, params)
    _write_cached(path, out)
    return out


def _merge(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One video's regions from those of its segments, in keyframe order."""
    out = {k: np.concatenate([p[k] for p in parts]) for k in ("frame", "boxes", "confidence")}
    out["frame_hw"] = parts[0]["frame_hw"]
    return out


def _segment_job(job: tuple) -> dict[str, np.ndarray]:
    cv2.setNumThreads(1)  # in a worker: one segment at a time per process; the processes use the cores
    video, params, keys = job
    return video_regions(video, params, keys)


# below this many keyframes per worker, a worker's start-up (a fresh interpreter importing torch) is not repaid
MIN_KEYFRAMES_PER_WORKER = 200


def fill_cache(
    videos, params: RegionParams, cache_dir: str | Path, workers: int | None = None, progress: bool = True
) -> int:
    """Compute and cache the regions of every video not cached yet; returns how many were computed.

    Selective search and the flow tracker are single-threaded, so the work is cut into jobs (a video, or a
    segment of `SEGMENT_KEYFRAMES` keyframes of a long one) shared out among `workers` processes (default:
    one per CPU core, at most 4, and at least MIN_KEYFRAMES_PER_WORKER keyframes each; docs/video.md gives the
    speed-up measured on a 2-core CPU). Each video's file is written once all its segments are done, and is
    the same file a single process writes.

    The workers are spawned, not forked: a forked child inherits OpenMP, OpenCV and FFmpeg thread pools it
    cannot use (freeing an inherited video capture hung here). Spawning re-runs the main module of a script
    unless it is guarded by `if __name__ == "__main__":`; if the workers cannot start, the rest is computed
    in this process, with a warning."""
    cache = Path(cache_dir)
    todo = [v for v in videos if not _cache_path(v, params, cache).is_file()]
    jobs, owner = [], []
    for j, video in enumerate(todo):
        keys = keyframes(video, params) if params.tracker != "annotation" else []
        for s in range(0, max(len(keys), 1), SEGMENT_KEYFRAMES):
            jobs.append((video, params, keys[s : s + SEGMENT_KEYFRAMES]))
            owner.append(j)
    n_keys = sum(len(job[2]) for job in jobs)
    if workers is None:
        workers = min(4, os.cpu_count() or 1, n_keys // MIN_KEYFRAMES_PER_WORKER)
    workers = min(workers, len(jobs))
    parts: dict[int, list] = {j: [] for j in range(len(todo))}
    left = np.bincount(np.asarray(owner, np.int64), minlength=len(todo))
    bar = tqdm(total=len(todo), desc="regions", unit="video", disable=not progress or not todo)

    def finish(k: int, result: dict[str, np.ndarray]) -> None:
        j = owner[k]
        parts[j].append(result)
        left[j] -= 1
        if left[j] == 0:
            _write_cached(_cache_path(todo[j], params, cache), _merge(parts.pop(j)))
            bar.update()

    done = 0
    if workers > 1 and params.tracker != "annotation":  # the oracle only reads boxes: not worth processes
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                for result in pool.map(_segment_job, jobs):
                    finish(done, result)
                    done += 1
        except BrokenProcessPool as e:
            warnings.warn(
                f"region workers failed to start ({e}); computing the rest in this process", stacklevel=2
            )
    for k in range(done, len(jobs)):
        finish(k, video_regions(*jobs[k]))
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
