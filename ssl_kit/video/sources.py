"""One interface for every kind of video: frame folders (world, TrackingNet, GOT-10k) and video files.

`open_videos(root)` detects the layout of `root`:

    frames   TRAIN_<k>/frames/<video>/<i>.jpg + TRAIN_<k>/anno/<video>.txt   TrackingNet, the world's videos/
             (or one TRAIN_<k> chunk folder itself)
    got10k   list.txt + GOT-10k_Train_<6 digits>/                            GOT-10k train
    files    a folder (searched recursively) of .mp4 / .avi / .mov / .mkv    anything, decoded with OpenCV

`is_video_source(root)` says whether a folder is one of these (the one test the trainer, the sweep and the
study's data folder use, so a folder is a video source exactly when `open_videos` would read it as one).

Every `Video` has a `name`, a length (frames), `fps` (None for frame folders, which do not record it),
`boxes` ((T, 4) x, y, w, h of the annotated object, None for files), `tracks` (the world's every-object
ground truth, else None) and `read(indices)`, which decodes only the frames asked for, as (H, W, 3) uint8 RGB.

Problems do not stop a large set from loading: an unreadable file, a clip shorter than `min_frames`, a frame
folder with a gap, an annotation file of the wrong length are skipped, listed in `VideoSet.skipped` (path,
reason) and announced in one warning (count and first few). An empty result or a missing root is a DataError.

Video files. CAP_PROP_FRAME_COUNT comes from the container header and is wrong for a truncated file, so
`probe_file` seeks to the last frame it announces and decodes it; if that fails and frame 0 decodes, a binary
search finds the last decodable frame and the video is used with that shorter length (status "truncated",
listed in `VideoSet.shortened`, one warning); if nothing decodes the file is skipped ("unreadable").
`data_scripts/index_videos.py` stores these results in `<root>/videos.json`; `open_videos` reuses an entry
when the file's size and mtime still match and probes only new or changed files.

Reading. `FileVideo.read` sorts the wanted frames and decodes them in order: a frame at most `GRAB_GAP`
frames ahead of the decoder's position is reached with `grab()` (decode and drop the frames between), any
other with a seek (CAP_PROP_POS_FRAMES). OpenCV's seek jumps back some frames before the target (further,
to the previous keyframe) and decodes forward, so a seek costs a run of decodes whatever the codec, while a
grab costs one decode per frame skipped: grabbing wins for short gaps, seeking for long ones, and `GRAB_GAP`
is the gap where they cross on the codecs tried (docs/video.md, "Why the video defaults are what they are"
gives the measurements); real-world H.264 with longer keyframe intervals only makes seeks dearer. Open
captures are kept in a small per-process LRU (`CACHE_SIZE`), so a set of thousands of files never holds
thousands of decoders (`video/captures.py`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ssl_kit.data.got10k import GotSequence, list_frames, read_boxes_txt, read_got_sequence, read_lines
from ssl_kit.data.images import read_image, resize_image
from ssl_kit.data.manifest import check_complete
from ssl_kit.data.trackingnet import FRAME, FrameVideo, Track, chunk_dirs, has_chunks, read_tracks
from ssl_kit.errors import DataError
from ssl_kit.video.captures import CAPTURES
from ssl_kit.video.file_index import index_files, iter_video_files

LAYOUTS = ("frames", "got10k", "files")
_EXPECTED = "TRAIN_<k>/frames/ + TRAIN_<k>/anno/ (TrackingNet), list.txt + GOT-10k_Train_*/, or video files"


class Video:
    """A video of `len(video)` frames; `read(indices)` decodes just those frames as (H, W, 3) uint8 RGB."""

    name: str
    path: Path
    fps: float | None = None
    boxes: np.ndarray | None = None  # (T, 4) float64 x, y, w, h of the annotated object
    tracks: list[Track] | None = None  # every object of the video (synthetic world only)

    def __len__(self) -> int:
        raise NotImplementedError

    def read(self, indices: Sequence[int]) -> list[np.ndarray]:
        raise NotImplementedError

    def _check(self, indices: Sequence[int]) -> list[int]:
        wanted = [int(i) for i in indices]
        bad = [i for i in wanted if not 0 <= i < len(self)]
        if bad:
            raise IndexError(
                f"{self.name}: frame {bad[0]} is out of range (the video has {len(self)} frames)"
            )
        return wanted

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, frames={len(self)})"


class FrameFolderVideo(Video):
    """A video stored as numbered image files: a TrackingNet/world `FrameVideo` or a GOT-10k `GotSequence`."""

    def __init__(self, source: FrameVideo | GotSequence):
        self.source = source
        is_tn = isinstance(source, FrameVideo)
        self.name = f"{source.chunk}/{source.name}" if is_tn else source.name
        self.path = source.frames[0].parent
        self.boxes = source.boxes
        self.tracks = source.tracks if is_tn else None

    def __len__(self) -> int:
        return len(self.source.frames)

    def read(self, indices: Sequence[int]) -> list[np.ndarray]:
        return [read_image(self.source.frames[i]) for i in self._check(indices)]


class FileVideo(Video):
    """A video file decoded with OpenCV; opened on demand (kept in a small LRU of open captures)."""

    def __init__(
        self,
        path: str | Path,
        frames: int,
        fps: float | None = None,
        width: int = 0,
        height: int = 0,
        name: str | None = None,
    ):
        self.path = Path(path)
        self.frames, self.fps, self.width, self.height = int(frames), fps, int(width), int(height)
        self.name = name or self.path.name

    def __len__(self) -> int:
        return self.frames

    def read(self, indices: Sequence[int]) -> list[np.ndarray]:
        wanted = self._check(indices)
        got: dict[int, np.ndarray] = {}
        with CAPTURES.lock:
            cap = CAPTURES.get(self.path)
            try:
                for i in sorted(set(wanted)):
                    got[i] = cap.frame(i)
            except DataError:
                CAPTURES.drop(self.path)  # its position is unknown now
                raise
        seen: set[int] = set()
        out = []
        for i in wanted:
            out.append(got[i].copy() if i in seen else got[i])
            seen.add(i)
        return out

    def close(self) -> None:
        """Release this file's capture, if open."""
        with CAPTURES.lock:
            CAPTURES.drop(self.path)


# --------------------------------------------------------------------------------------------- the set


@dataclass
class VideoSet:
    """The usable videos of a folder, and what was skipped (path, reason) or shortened on the way."""

    root: Path
    layout: str
    videos: list[Video]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    shortened: list[tuple[Path, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, i: int) -> Video:
        return self.videos[i]

    def __iter__(self) -> Iterator[Video]:
        return iter(self.videos)

    @property
    def frame_count(self) -> int:
        return sum(len(v) for v in self.videos)

    @property
    def summary(self) -> str:
        """One line for a run log: counts, and the first skipped and shortened videos."""
        text = f"{self.root} ({self.layout}): {len(self.videos)} videos, {self.frame_count} frames"
        text += f"; {len(self.skipped)} skipped" + _first(self.skipped, self.root)
        if self.shortened:
            text += f"; {len(self.shortened)} shortened" + _first(self.shortened, self.root)
        return text


def _first(items: list[tuple[Path, str]], root: Path, n: int = 3) -> str:
    if not items:
        return ""
    shown = "; ".join(f"{_rel(p, root)}: {why}" for p, why in items[:n])
    return f" ({shown}{'; ...' if len(items) > n else ''})"


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def detect_layout(root: Path) -> str:
    """ "frames" (TRAIN_<k> chunks, or one chunk), "got10k" (list.txt or GOT-10k_Train_*) or "files" (anything
    else: video files are looked for when the set is opened)."""
    if has_chunks(root):
        return "frames"
    if (root / "list.txt").is_file() or any(p.is_dir() for p in root.glob("GOT-10k_Train_*")):
        return "got10k"
    return "files"


def is_video_source(root: str | Path) -> bool:
    """Whether `open_videos(root)` reads `root` as a video source: a folder of TRAIN_<k> chunks or one chunk
    (TrackingNet, the world's videos), a GOT-10k folder, or a folder holding at least one (non-hidden) video
    file. Decided from the layout alone; whether its videos are usable is `open_videos`'s to say."""
    root = Path(root)
    if not root.is_dir():
        return False
    return detect_layout(root) != "files" or next(iter_video_files(root), None) is not None


def _open_frames(root: Path, skipped: list) -> list[Video]:
    videos: list[Video] = []
    for chunk in chunk_dirs(root):
        frames_dir, anno_dir = chunk / "frames", chunk / "anno"
        if not frames_dir.is_dir():
            hint = " (unzip TrackingNet's zips/ into frames/)" if (chunk / "zips").is_dir() else ""
            skipped.append((frames_dir, f"folder is missing{hint}"))
            continue
        folders = sorted(p for p in frames_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        names = {f.name for f in folders}
        for orphan in sorted(anno_dir.glob("*.txt")):
            if orphan.stem not in names and not orphan.name.startswith("."):
                skipped.append((orphan, "anno file has no frame folder"))
        for folder in folders:
            try:
                frames = list_frames(folder, FRAME, first=0)
                boxes = read_boxes_txt(anno_dir / f"{folder.name}.txt", len(frames))
                tracks_path = chunk / "tracks" / f"{folder.name}.json"
                tracks = read_tracks(tracks_path, len(frames)) if tracks_path.is_file() else None
            except DataError as e:
                skipped.append((e.path, e.problem))
                continue
            videos.append(FrameFolderVideo(FrameVideo(folder.name, chunk.name, frames, boxes, tracks)))
    return videos


def _open_got(root: Path, skipped: list) -> list[Video]:
    videos: list[Video] = []
    for name in read_lines(root / "list.txt", "one GOT-10k sequence folder name per line"):
        try:
            videos.append(FrameFolderVideo(read_got_sequence(root / name)))
        except DataError as e:
            skipped.append((e.path, e.problem))
    return videos


def _open_files(root: Path, skipped: list, shortened: list) -> list[Video]:
    videos: list[Video] = []
    for e in index_files(root):
        path = root / e["path"]
        if e["status"] == "unreadable":
            skipped.append((path, e["reason"]))
            continue
        if e["status"] == "truncated":
            shortened.append((path, e["reason"]))
        videos.append(
            FileVideo(path, e["frames"], e.get("fps"), e.get("width", 0), e.get("height", 0), e["path"])
        )
    return videos


def open_videos(root: str | Path, min_frames: int = 2, layout: str | None = None) -> VideoSet:
    """Every usable video under `root`, whatever its layout (detected unless `layout` is given).

    Skipped and shortened videos are listed in the set and announced in a warning; raises DataError when
    `root` is missing, is a world set still being written, or holds no usable video.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "folder is missing", _EXPECTED)
    check_complete(root)
    layout = layout or detect_layout(root)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown video layout {layout!r} (expected one of {', '.join(LAYOUTS)})")
    skipped: list[tuple[Path, str]] = []
    shortened: list[tuple[Path, str]] = []
    if layout == "frames":
        found = _open_frames(root, skipped)
    elif layout == "got10k":
        found = _open_got(root, skipped)
    else:
        found = _open_files(root, skipped, shortened)
    videos = []
    for video in found:
        if len(video) >= min_frames:
            videos.append(video)
        else:
            skipped.append((video.path, f"{len(video)} frame(s), fewer than min_frames={min_frames}"))
    vs = VideoSet(root, layout, videos, skipped, shortened)
    if not videos:
        what = (
            f"no usable video ({len(skipped)} skipped{_first(skipped, root)})"
            if skipped
            else "holds no videos"
        )
        raise DataError(root, what, f"at least one video of >= {min_frames} frames: {_EXPECTED}")
    if shortened:
        warnings.warn(
            f"{root}: {len(shortened)} video file(s) shortened to the frames that decode"
            + _first(shortened, root),
            stacklevel=2,
        )
    if skipped:
        warnings.warn(f"{root}: skipped {len(skipped)} video(s)" + _first(skipped, root), stacklevel=2)
    return vs


# --------------------------------------------------------------------------------------- frames as images


def load_frames(
    videos: Sequence[Video] | VideoSet, size: int, every: int = 1, progress: bool = True, chunk: int = 64
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Decode every `every`-th frame of each video, resized to size x size (aspect not kept, bilinear).

    For the "MoCo v2 on frames" baseline, which treats frames as independent images. Returns (images uint8
    (N, 3, size, size), video_index int64 (N,), frame_index int64 (N,)). Frames are read `chunk` at a time.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    plan = [list(range(0, len(v), every)) for v in videos]
    n = sum(len(p) for p in plan)
    images = torch.empty((n, 3, size, size), dtype=torch.uint8)
    pixels = images.numpy()  # the same memory, written without a read-only tensor warning
    video_index = torch.empty(n, dtype=torch.int64)
    frame_index = torch.empty(n, dtype=torch.int64)
    k = 0
    with tqdm(total=n, desc="frames", unit="frame", disable=not progress, leave=False) as bar:
        for j, (video, wanted) in enumerate(zip(videos, plan, strict=True)):
            for s in range(0, len(wanted), chunk):
                part = wanted[s : s + chunk]
                for i, img in zip(part, video.read(part), strict=True):
                    pixels[k] = resize_image(img, size).transpose(2, 0, 1)
                    video_index[k], frame_index[k] = j, i
                    k += 1
                bar.update(len(part))
    return images, video_index, frame_index
