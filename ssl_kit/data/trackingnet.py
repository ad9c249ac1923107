"""TrackingNet-style videos stored as numbered frames, in chunks.

    root/TRAIN_<k>/frames/<video>/<i>.jpg    frames, i = 0, 1, 2, ... (no zero padding, no gaps)
    root/TRAIN_<k>/anno/<video>.txt          one "x,y,w,h" line per frame (the tracked object)
    root/TRAIN_<k>/tracks/<video>.json       optional (synthetic world only): every object of the video,
        {"frames": T, "tracks": [{"track_id": int, "category": str,
                                  "boxes": [[x, y, w, h] or null per frame], "visible": [float per frame]}]}

`root` may also be a single `TRAIN_<k>` folder. Every frame folder needs its anno file and vice versa.
Videos are returned by chunk number, then by video name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_kit.data.got10k import list_frames, read_boxes_txt
from ssl_kit.data.manifest import check_complete
from ssl_kit.errors import DataError

CHUNK = re.compile(r"^TRAIN_(\d+)$")  # a TrackingNet chunk folder
FRAME = re.compile(r"^(\d+)\.jpg$")  # a TrackingNet frame file
_TRACKS_EXPECTED = (
    '{"frames": T, "tracks": [{"track_id": int, "category": str, "boxes": [[x,y,w,h] or null] * T, '
    '"visible": [float] * T}]}'
)


@dataclass
class Track:
    """One object of a video (world sidecar): a box per frame (NaN where absent) and its visible fraction."""

    track_id: int
    category: str
    boxes: np.ndarray  # (T, 4) float64 x, y, w, h; NaN rows where the object is not in the frame
    visible: np.ndarray  # (T,) float64, fraction of the object visible


@dataclass
class FrameVideo:
    """One video: its frames in order, the anno boxes and (world only) every object's track."""

    name: str
    chunk: str
    frames: list[Path]
    boxes: np.ndarray  # (T, 4) float64 x, y, w, h
    tracks: list[Track] | None

    def __len__(self) -> int:
        return len(self.frames)


def is_chunk(root: Path) -> bool:
    """One TRAIN_<k> chunk folder itself (with its frames/), read as a set of one chunk."""
    return bool(CHUNK.match(root.name)) and (root / "frames").is_dir()


def has_chunks(root: Path) -> bool:
    """A chunk itself, or a folder holding TRAIN_<k> chunk folders."""
    return is_chunk(root) or any(p.is_dir() and CHUNK.match(p.name) for p in root.iterdir())


def chunk_dirs(root: Path) -> list[Path]:
    """The TRAIN_<k> chunks of a TrackingNet-style folder, in k order (or the chunk `root` itself)."""
    if not root.is_dir():
        raise DataError(root, "folder is missing", "a TrackingNet folder holding TRAIN_<k>/ chunks")
    if is_chunk(root):
        return [root]
    chunks = [p for p in root.iterdir() if p.is_dir() and CHUNK.match(p.name)]
    if not chunks:
        raise DataError(root, "no TRAIN_<k> chunk folders", "TRAIN_<k>/frames/ and TRAIN_<k>/anno/ folders")
    return sorted(chunks, key=lambda p: int(CHUNK.match(p.name).group(1)))


def _track(path: Path, i: int, item: object, n_frames: int) -> Track:
    where = f"track {i}"
    if not isinstance(item, dict) or not {"track_id", "category", "boxes", "visible"} <= item.keys():
        raise DataError(path, f"{where} lacks track_id/category/boxes/visible", _TRACKS_EXPECTED)
    boxes, visible = item["boxes"], item["visible"]
    if not isinstance(boxes, list) or len(boxes) != n_frames:
        n = len(boxes) if isinstance(boxes, list) else "no"
        raise DataError(
            path, f"{where} has {n} boxes but the video has {n_frames} frames", f"{n_frames} boxes"
        )
    if not isinstance(visible, list) or len(visible) != n_frames:
        n = len(visible) if isinstance(visible, list) else "no"
        raise DataError(
            path, f"{where} has {n} visible values but the video has {n_frames} frames", f"{n_frames}"
        )
    arr = np.full((n_frames, 4), np.nan)
    try:
        for t, box in enumerate(boxes):
            if box is not None:
                if len(box) != 4:
                    raise ValueError(f"frame {t} box has {len(box)} values")
                arr[t] = [float(v) for v in box]
        vis = np.asarray([float(v) for v in visible], dtype=np.float64)
        track_id = int(item["track_id"])
    except (TypeError, ValueError) as e:
        raise DataError(path, f"{where} has a malformed value ({e})", _TRACKS_EXPECTED) from e
    return Track(track_id=track_id, category=str(item["category"]), boxes=arr, visible=vis)


def read_tracks(path: Path, n_frames: int) -> list[Track]:
    """Read a world `tracks/<video>.json` sidecar for a video of `n_frames` frames."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(path, f"unreadable JSON ({e})", _TRACKS_EXPECTED) from e
    if not isinstance(data, dict) or not isinstance(data.get("tracks"), list):
        raise DataError(path, "no 'tracks' list", _TRACKS_EXPECTED)
    if data.get("frames") != n_frames:
        raise DataError(
            path, f"says {data.get('frames')!r} frames but the video has {n_frames}", f"{n_frames}"
        )
    return [_track(path, i, item, n_frames) for i, item in enumerate(data["tracks"])]


def _read_chunk(chunk: Path) -> list[FrameVideo]:
    frames_dir, anno_dir = chunk / "frames", chunk / "anno"
    for d in (frames_dir, anno_dir):
        if not d.is_dir():
            raise DataError(
                d, "folder is missing", "TRAIN_<k>/frames/<video>/ and TRAIN_<k>/anno/<video>.txt"
            )
    videos = sorted(p for p in frames_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not videos:
        raise DataError(frames_dir, "folder holds no video folders", "frames/<video>/0.jpg, 1.jpg, ...")
    names = {v.name for v in videos}
    orphans = sorted(p for p in anno_dir.glob("*.txt") if p.stem not in names and not p.name.startswith("."))
    if orphans:
        raise DataError(orphans[0], f"anno file has no frame folder ({len(orphans)} such)", "frames/<video>/")
    out = []
    for folder in videos:
        frames = list_frames(folder, FRAME, first=0)
        boxes = read_boxes_txt(anno_dir / f"{folder.name}.txt", len(frames))
        tracks_path = chunk / "tracks" / f"{folder.name}.json"
        tracks = read_tracks(tracks_path, len(frames)) if tracks_path.is_file() else None
        out.append(FrameVideo(name=folder.name, chunk=chunk.name, frames=frames, boxes=boxes, tracks=tracks))
    return out


def read_frame_videos(root: str | Path) -> list[FrameVideo]:
    """Read every video of a TrackingNet-style folder (or of one `TRAIN_<k>` chunk)."""
    root = Path(root)
    check_complete(root)
    return [video for chunk in chunk_dirs(root) for video in _read_chunk(chunk)]
