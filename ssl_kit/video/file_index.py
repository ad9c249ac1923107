"""Video files checked once and remembered: `probe_file` finds a file's real, decodable length (a truncated file's
header over-counts), and `<root>/videos.json` stores the result per file under a key of its path, size, mtime
and `INDEX_VERSION`, reused while the key matches (`index_files`, `write_index`;
`data_scripts/index_videos.py` writes it, `open_videos` reads it).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
from tqdm.auto import tqdm

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.common.keys import cache_key

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv")
INDEX_NAME = "videos.json"
INDEX_VERSION = 1  # a field of every entry's key: raise it when files are probed differently


def probe_file(path: str | Path) -> dict:
    """Decode-check one video file: {"frames", "fps", "width", "height", "status", "reason"}.

    status is "ok", "truncated" (fewer frames decode than the header says; `frames` is the decodable count)
    or "unreadable" (cannot be opened, or no frame decodes; `frames` is 0).
    """
    info: dict = {"frames": 0, "fps": None, "width": 0, "height": 0, "status": "unreadable", "reason": ""}
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            return {**info, "reason": "OpenCV cannot open it (not a video, or its header/index is missing)"}
        fps = cap.get(cv2.CAP_PROP_FPS)
        info["fps"] = round(float(fps), 6) if fps and fps > 0 else None
        info["width"], info["height"] = (
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))

        def decodes(i: int) -> bool:
            cap.set(cv2.CAP_PROP_POS_FRAMES, i)
            ok, img = cap.read()
            return bool(ok) and img is not None

        if count <= 0:  # no count in the header: decode through the file
            n = 0
            while cap.grab():
                n += 1
            frames, status = n, "ok"
        elif decodes(count - 1):
            frames, status = count, "ok"
        elif not decodes(0):
            frames, status = 0, "unreadable"
        else:  # frame lo decodes, frame hi does not
            lo, hi = 0, count - 1
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if decodes(mid) else (lo, mid)
            frames, status = lo + 1, "truncated"
        if frames == 0:
            return {**info, "reason": "no frame decodes"}
        reason = (
            f"the header says {count} frames but only the first {frames} decode" if status != "ok" else ""
        )
        return {**info, "frames": frames, "status": status, "reason": reason}
    finally:
        cap.release()


def iter_video_files(root: str | Path) -> Iterator[Path]:
    """Video files under `root` as they are found (recursive, unsorted; hidden files and folders are ignored)."""
    root = Path(root)
    return (
        p
        for p in root.rglob("*")
        if p.suffix.lower() in VIDEO_EXTENSIONS
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def find_video_files(root: str | Path) -> list[Path]:
    """Video files under `root` (recursive, sorted; hidden files and folders are ignored)."""
    return sorted(iter_video_files(root))


def read_index(root: str | Path) -> dict[str, dict]:
    """The entries of `root/videos.json` by relative path ({} when absent; a broken index warns, gives {})."""
    path = Path(root) / INDEX_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["videos"]
        return (
            {e["path"]: e for e in entries if isinstance(e.get("path"), str)}
            if isinstance(entries, list)
            else {}
        )
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, TypeError, KeyError) as e:
        warnings.warn(f"{path}: unreadable video index ({e}); probing every file again", stacklevel=2)
        return {}


def _fresh(entry: dict | None, key: str) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("key") == key
        and entry.get("status") in ("ok", "truncated", "unreadable")
        and isinstance(entry.get("frames"), int)
    )


def index_files(root: str | Path, use_index: bool = True, progress: bool = False) -> list[dict]:
    """An index entry per video file under `root`: reused from `videos.json` when fresh, else probed."""
    root = Path(root)
    known = read_index(root) if use_index else {}
    entries = []
    for path in tqdm(find_video_files(root), desc="videos", unit="file", disable=not progress, leave=False):
        rel, st = path.relative_to(root).as_posix(), path.stat()
        key = cache_key("video file", version=INDEX_VERSION, path=rel, size=st.st_size, mtime=st.st_mtime_ns)
        entry = known.get(rel)
        if not _fresh(entry, key):
            entry = dict(path=rel, key=key, size=st.st_size, mtime_ns=st.st_mtime_ns, **probe_file(path))
        entries.append(entry)
    return entries


def write_index(root: str | Path, entries: list[dict]) -> Path:
    """Write `root/videos.json` atomically."""
    path = Path(root) / INDEX_NAME
    atomic_write_text(path, json.dumps({"version": INDEX_VERSION, "videos": entries}, indent=1) + "\n")
    return path
