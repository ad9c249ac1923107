"""One Pascal3D+ annotation file as read, whatever its on-disk format (JSON or release 1.1 `.mat`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Pascal3DRecord:
    """One annotation file, whatever its on-disk format."""

    filename: str
    width: int
    height: int
    objects: list[dict[str, Any]]  # each with "class", "bbox" [x1, y1, x2, y2] and "viewpoint" {...}
    path: Path  # the annotation file it was read from
