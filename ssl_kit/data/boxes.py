"""Object boxes as the annotation files store them, read and checked in one place.

    COCO         bbox [x, y, w, h]      top-left corner and size, 0-based float pixels
    Pascal VOC   bbox [x1, y1, x2, y2]  1-based, inclusive pixel corners (Pascal3D+, in both its .mat and the
                                        world's JSON form)

`read_xywh` and `read_voc` turn an annotation's box field into four floats, or raise a DataError naming the
file, the object and the box. `voc_to_xywh` converts a VOC box to the kit's `x, y, w, h` (0-based, the pixel
grid's edges): pixel column x1 (1-based) starts at x1 - 1, and x2 - x1 + 1 columns are inside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssl_kit.errors import DataError

Box = tuple[float, float, float, float]


def read_box(path: Path, box: Any, where: str, expected: str) -> Box:
    """Four numbers from a box field (any sequence of 4 numbers); a DataError naming `where` and the box."""
    try:
        if box is None or len(box) != 4:
            raise ValueError
        a, b, c, d = (float(v) for v in box)
    except (TypeError, ValueError) as e:
        raise DataError(path, f"{where} has a bad bbox {box!r}", f"{expected} numbers") from e
    return a, b, c, d


def read_xywh(path: Path, box: Any, where: str) -> Box:
    """A COCO box `[x, y, w, h]` as four floats (stored as is: a size may be 0)."""
    return read_box(path, box, where, "[x, y, w, h]")


def read_voc(path: Path, box: Any, where: str) -> Box:
    """A Pascal VOC box `[x1, y1, x2, y2]` (1-based, inclusive) as four floats; the corners must be in order."""
    x1, y1, x2, y2 = read_box(path, box, where, "[x1, y1, x2, y2]")
    if x2 < x1 or y2 < y1:
        raise DataError(path, f"{where} bbox {box!r} has x2 < x1 or y2 < y1", "[x1, y1, x2, y2]")
    return x1, y1, x2, y2


def voc_to_xywh(box: Box) -> Box:
    """A 1-based inclusive `x1, y1, x2, y2` box as the 0-based `x, y, w, h` of the pixels it covers."""
    x1, y1, x2, y2 = box
    return x1 - 1, y1 - 1, x2 - x1 + 1, y2 - y1 + 1
