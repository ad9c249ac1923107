"""GOT-10k training set: one folder per sequence, per-frame boxes and occlusion labels.

    root/list.txt                              one sequence folder name per line
    root/GOT-10k_Train_000001/00000001.jpg     frames, 8-digit, 1-based, no gaps
    root/GOT-10k_Train_000001/groundtruth.txt  one "x,y,w,h" line per frame (comma-separated floats, pixels)
    root/GOT-10k_Train_000001/cover.label      one int 0..8 per frame (0 = fully occluded, 8 = fully visible)
    root/GOT-10k_Train_000001/absence.label    one int 0/1 per frame (1 = object absent)
    root/GOT-10k_Train_000001/meta_info.ini    [METAINFO] with "object_class: car", "motion_class: ...",
                                               "major_class", "root_class", "resolution: (1280, 720)", ...

Every file is required (the occlusion protocol needs cover/absence), and each per-frame file must have
exactly one line per frame. The box-file helpers here are shared with the TrackingNet reader.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_kit.data.manifest import check_complete
from ssl_kit.errors import DataError

_FRAME = re.compile(r"^(\d{8})\.jpg$")
META_SECTION = "METAINFO"


@dataclass
class GotSequence:
    """One GOT-10k sequence: T frames with their box, cover and absence labels."""

    name: str
    frames: list[Path]
    boxes: np.ndarray  # (T, 4) float64 x, y, w, h
    cover: np.ndarray  # (T,) int64 0..8
    absence: np.ndarray  # (T,) int64 0/1
    meta: dict[str, str]
    object_class: str

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def resolution(self) -> tuple[int, int] | None:
        """(width, height) from meta_info.ini's `resolution: (W, H)`, if present."""
        nums = re.findall(r"\d+", self.meta.get("resolution", ""))
        return (int(nums[0]), int(nums[1])) if len(nums) == 2 else None


def read_lines(path: Path, what: str) -> list[str]:
    """The non-blank lines of a required text file (stripped)."""
    if not path.is_file():
        raise DataError(path, "file is missing", what)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(path, f"cannot read file ({e})", what) from e
    return [line.strip() for line in text.splitlines() if line.strip()]


def _check_count(path: Path, n_found: int, n_frames: int) -> None:
    if n_found != n_frames:
        raise DataError(
            path, f"has {n_found} lines but the sequence has {n_frames} frames", f"{n_frames} lines"
        )


def read_boxes_txt(path: Path, n_frames: int | None = None) -> np.ndarray:
    """Read one `x,y,w,h` line per frame (commas, tabs or spaces) as a (T, 4) float64 array."""
    lines = read_lines(path, "one 'x,y,w,h' line per frame")
    if n_frames is not None:
        _check_count(path, len(lines), n_frames)
    boxes = np.empty((len(lines), 4), dtype=np.float64)
    for i, line in enumerate(lines):
        fields = [f for f in re.split(r"[,\s]+", line) if f]
        if len(fields) != 4:
            raise DataError(path, f"line {i + 1} has {len(fields)} fields: {line!r}", "4 numbers x,y,w,h")
        try:
            boxes[i] = [float(f) for f in fields]
        except ValueError as e:
            raise DataError(path, f"line {i + 1} is not numeric: {line!r}", "4 numbers x,y,w,h") from e
    return boxes


def read_int_labels(path: Path, n_frames: int, allowed: range) -> np.ndarray:
    """Read one integer label per frame, each in `allowed`, as a (T,) int64 array."""
    what = f"one integer in {allowed.start}..{allowed.stop - 1} per frame"
    lines = read_lines(path, what)
    _check_count(path, len(lines), n_frames)
    try:
        values = np.asarray([int(v) for v in lines], dtype=np.int64)
    except ValueError as e:
        raise DataError(path, f"non-integer label ({e})", what) from e
    bad = np.flatnonzero((values < allowed.start) | (values >= allowed.stop))
    if bad.size:
        raise DataError(path, f"line {bad[0] + 1} has label {values[bad[0]]}", what)
    return values


def read_meta_info(path: Path) -> dict[str, str]:
    """The `[METAINFO]` section of a meta_info.ini as a dict of strings (`key: value` or `key = value`)."""
    what = "an INI file with a [METAINFO] section holding `object_class: ...`"
    if not path.is_file():
        raise DataError(path, "file is missing", what)
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, UnicodeDecodeError, configparser.Error) as e:
        raise DataError(path, f"cannot parse ({type(e).__name__}: {e})".replace("\n", " "), what) from e
    if not parser.has_section(META_SECTION):
        raise DataError(path, f"no [{META_SECTION}] section", what)
    meta = {k: v.strip() for k, v in parser.items(META_SECTION)}
    if not meta.get("object_class"):
        raise DataError(path, "no object_class entry", what)
    return meta


def list_frames(folder: Path, pattern: re.Pattern[str], first: int) -> list[Path]:
    """Frame files of `folder` whose name matches `pattern` (group 1 = index), numbered first, first+1, ...

    Raises DataError naming the folder and the first missing index when the numbering has a gap.
    """
    found: dict[int, Path] = {}
    for p in folder.iterdir():
        m = pattern.match(p.name)
        if m:
            found[int(m.group(1))] = p
    if not found:
        raise DataError(folder, "folder holds no frames", f"frame files numbered from {first}")
    n = len(found)
    if min(found) < first:
        raise DataError(
            found[min(found)], f"frame index {min(found)} is below {first}", f"frames numbered from {first}"
        )
    if min(found) != first or max(found) != first + n - 1:
        missing = next(i for i in range(first, max(found) + 2) if i not in found)
        raise DataError(
            folder,
            f"frame {missing} is missing ({n} frames numbered {min(found)}..{max(found)})",
            f"frames numbered {first}..{first + n - 1} without gaps",
        )
    return [found[i] for i in range(first, first + n)]


def read_got_sequence(folder: Path) -> GotSequence:
    """Read one GOT-10k sequence folder."""
    if not folder.is_dir():
        raise DataError(
            folder, "sequence folder listed in list.txt is missing", "a folder of frames and labels"
        )
    frames = list_frames(folder, _FRAME, first=1)
    n = len(frames)
    meta = read_meta_info(folder / "meta_info.ini")
    return GotSequence(
        name=folder.name,
        frames=frames,
        boxes=read_boxes_txt(folder / "groundtruth.txt", n),
        cover=read_int_labels(folder / "cover.label", n, range(0, 9)),
        absence=read_int_labels(folder / "absence.label", n, range(0, 2)),
        meta=meta,
        object_class=meta["object_class"],
    )


def read_got10k(root: str | Path) -> list[GotSequence]:
    """Read every sequence named in `root/list.txt`, in that order."""
    root = Path(root)
    check_complete(root)
    if not root.is_dir():
        raise DataError(root, "folder is missing", "a GOT-10k train folder with list.txt")
    names = read_lines(root / "list.txt", "one sequence folder name per line")
    if not names:
        raise DataError(root / "list.txt", "file lists no sequences", "one sequence folder name per line")
    return [read_got_sequence(root / name) for name in names]
