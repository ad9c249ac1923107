"""Open video files, decoded with OpenCV: a capture that knows its position, and a small per-process LRU of them.

A frame at most `GRAB_GAP` frames ahead of a capture's position is reached with `grab()` (decode and drop the
frames between), any other with a seek; why is in `video/sources.py`'s module doc. `CAPTURES` keeps at most
`CACHE_SIZE` captures open per process, so a set of thousands of files never holds thousands of decoders.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from ssl_kit.errors import DataError

GRAB_GAP = 16  # frames ahead reached by grab() rather than a seek (why: video/sources.py's module doc)
CACHE_SIZE = 8  # open captures per process


class Capture:
    """An open cv2.VideoCapture and the index of the frame its next read() returns."""

    def __init__(self, path: Path):
        self.path, self.cap, self.pos = path, cv2.VideoCapture(str(path)), 0
        if not self.cap.isOpened():
            raise DataError(path, "OpenCV cannot open the video file", "a decodable .mp4/.avi/.mov/.mkv file")

    def frame(self, i: int) -> np.ndarray:
        gap = i - self.pos
        if 0 <= gap <= GRAB_GAP:
            for _ in range(gap):
                if not self.cap.grab():
                    break
        else:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, i)
        self.pos = i + 1
        ok, bgr = self.cap.read()
        if not ok or bgr is None:
            raise DataError(self.path, f"frame {i} cannot be decoded", "the frame count found when indexing")
        return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB if bgr.ndim == 2 else cv2.COLOR_BGR2RGB)


class Captures:
    """Per-process LRU of open captures (reset in a forked child, e.g. a DataLoader worker)."""

    def __init__(self, size: int):
        self.size = size
        self._reset()

    def _reset(self) -> None:
        self.lock = threading.RLock()
        self.open: OrderedDict[Path, Capture] = OrderedDict()

    def _reset_in_child(self) -> None:
        """After a fork: start empty, and keep the parent's captures alive, unused. Freeing one in the child
        waits on FFmpeg decoder threads that exist only in the parent, and hangs (seen here)."""
        _INHERITED.append(self.open)
        self._reset()

    def get(self, path: Path) -> Capture:
        cap = self.open.pop(path, None) or Capture(path)
        self.open[path] = cap
        while len(self.open) > max(self.size, 1):
            self.open.popitem(last=False)[1].cap.release()
        return cap

    def drop(self, path: Path) -> None:
        cap = self.open.pop(path, None)
        if cap is not None:
            cap.cap.release()


CAPTURES = Captures(CACHE_SIZE)
_INHERITED: list = []  # captures a forked child inherited (see `Captures._reset_in_child`)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=CAPTURES._reset_in_child)
