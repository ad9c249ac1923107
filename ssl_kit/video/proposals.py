"""Unsupervised region proposals on one frame: OpenCV's selective search (Uijlings et al. 2013), filtered.

`propose` runs selective search on a copy of the frame resized so that its shorter side is `PROPOSE_SIDE`
pixels (or by a given scale), maps the boxes back to the frame's pixels,
keeps those whose area fraction and aspect ratio are in range, removes near-duplicates with greedy NMS
(IoU 0.5) and returns the first `max_proposals` in selective search's order.

Determinism: OpenCV ranks selective search regions by `rand() * level` (C library `rand`), so the order
changes from call to call. `propose` seeds the C library's generator with `seed` (through ctypes, under a
lock) right before `process()`, which makes its output a function of the frame and the arguments only
(unseeded, the top-20 of a frame changes from one call to the next). Side effect: the process-wide C
`rand()` sequence is reset. Where libc's `srand` cannot be reached through `ctypes.CDLL(None)` (Windows),
the set of boxes is still deterministic but their order, hence the top-N, may vary.

Threads: OpenCV's own thread pool is set to 1 thread for the call (and restored afterwards, see
`cv_threads`): on the world's small frames a second thread was no faster, and one thread leaves the
other cores to the training processes.

The defaults (side, mode, top-N) were chosen by object recall on the quick world's videos and by their cost
on a full-size video; docs/video.md ("Why the video defaults are what they are") gives the measurements.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import threading
from collections.abc import Iterator

import cv2
import numpy as np

from ssl_kit.video.box_geometry import as_boxes, box_area, clip_boxes, nms

MODES = ("fast", "quality", "single")
PROPOSE_SIDE = 96  # the default `scale` resizes a frame so that its shorter side is this many pixels
NMS_IOU = 0.5
_SS_LOCK = threading.Lock()


@contextlib.contextmanager
def cv_threads(n: int) -> Iterator[None]:
    """Run the block with OpenCV's thread pool at `n` threads, then restore the previous setting."""
    prev = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(prev)


@functools.cache
def _libc_srand():
    try:
        return ctypes.CDLL(None).srand
    except (OSError, AttributeError, TypeError):
        return None


def check_frame(frame, name: str = "frame") -> tuple[int, int]:
    """Check that `frame` is an (H, W, 3) uint8 RGB array; return (H, W)."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        got = f"{frame.dtype} array of shape {frame.shape}" if isinstance(frame, np.ndarray) else type(frame)
        raise ValueError(f"{name} must be an (H, W, 3) uint8 RGB array, got {got}")
    if frame.shape[0] < 2 or frame.shape[1] < 2:
        raise ValueError(f"{name} must be at least 2x2 pixels, got shape {frame.shape}")
    return frame.shape[0], frame.shape[1]


def auto_scale(height: int, width: int, side: int = PROPOSE_SIDE) -> float:
    """The resize factor `propose` uses by default: the one that makes the frame's shorter side `side` pixels
    (smaller frames are enlarged, larger ones shrunk)."""
    return side / min(height, width)


def selective_search(
    frame: np.ndarray, scale: float = 1.0, mode: str = "single", seed: int = 0
) -> np.ndarray:
    """All selective search boxes (n, 4) x, y, w, h in pixels of `frame`, in selective search's order."""
    height, width = check_frame(frame)
    if mode not in MODES:
        raise ValueError(f"unknown selective search mode {mode!r} (expected one of {', '.join(MODES)})")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    w, h = max(8, round(width * scale)), max(8, round(height * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    image = cv2.cvtColor(cv2.resize(frame, (w, h), interpolation=interp), cv2.COLOR_RGB2BGR)
    with cv_threads(1), _SS_LOCK:
        ss = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
        ss.setBaseImage(image)
        {
            "fast": ss.switchToSelectiveSearchFast,
            "quality": ss.switchToSelectiveSearchQuality,
            "single": ss.switchToSingleStrategy,
        }[mode]()
        srand = _libc_srand()
        if srand is not None:
            srand(ctypes.c_uint(seed))
        rects = ss.process()
    boxes = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    boxes[:, 0::2] *= width / w
    boxes[:, 1::2] *= height / h
    return clip_boxes(boxes, width, height)


def filter_boxes(
    boxes, height: int, width: int, min_area: float = 0.02, max_area: float = 0.6, max_aspect: float = 3.0
) -> np.ndarray:
    """Boolean mask of the x, y, w, h boxes with area in [min_area, max_area] of the frame (fractions) and
    aspect ratio max(w/h, h/w) <= max_aspect."""
    b = as_boxes(boxes)
    frac = box_area(b) / float(height * width)
    with np.errstate(divide="ignore", invalid="ignore"):
        aspect = np.maximum(b[:, 2] / b[:, 3], b[:, 3] / b[:, 2])
    return (frac >= min_area) & (frac <= max_area) & (aspect <= max_aspect)


def propose(
    frame: np.ndarray,
    max_proposals: int = 20,
    min_area: float = 0.02,
    max_area: float = 0.6,
    max_aspect: float = 3.0,
    scale: float | None = None,
    mode: str = "single",
    seed: int = 0,
) -> np.ndarray:
    """Region proposals for an (H, W, 3) uint8 RGB frame: (n <= max_proposals, 4) float64 x, y, w, h.

    Selective search (`mode` "fast", "quality" or "single" strategy) on the frame resized by `scale`
    (None: `auto_scale`, to a shorter side of PROPOSE_SIDE pixels: selective search's graph segmentation
    works in pixels, so the side decides how large a segment is), then the
    area/aspect filter, NMS at IoU 0.5 and the first `max_proposals` in selective search's order.
    Deterministic for a given `seed` (see the module docstring).
    """
    height, width = check_frame(frame)
    if max_proposals < 0:
        raise ValueError(f"max_proposals must be >= 0, got {max_proposals}")
    if not 0 <= min_area <= max_area <= 1:
        raise ValueError(
            f"expected 0 <= min_area <= max_area <= 1, got min_area={min_area}, max_area={max_area}"
        )
    if not max_aspect >= 1:
        raise ValueError(f"max_aspect must be >= 1, got {max_aspect}")
    boxes = selective_search(frame, auto_scale(height, width) if scale is None else scale, mode, seed)
    boxes = boxes[filter_boxes(boxes, height, width, min_area, max_area, max_aspect)]
    return boxes[nms(boxes, NMS_IOU, max_keep=max_proposals)]
