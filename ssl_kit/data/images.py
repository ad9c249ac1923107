"""Decode image files into uint8 RGB arrays, strictly.

Every image the kit reads goes through `read_image`: the file is opened with PIL and fully decoded with
`.load()`, so a truncated file or garbage bytes raise `CorruptImageError` naming the file instead of
silently yielding a half-grey picture. PIL's global `ImageFile.LOAD_TRUNCATED_IMAGES` is never touched
(it must stay False for truncation to be detected).

Arrays are (H, W, 3) uint8 in RGB order; grayscale, RGBA, palette, CMYK and 16-bit images are converted, and a
photo stored on its side with an EXIF orientation tag (as cameras and phones write them) is turned upright.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm.auto import tqdm

from ssl_kit.errors import CorruptImageError, DataError

Size = int | tuple[int, int]


def _hw(size: Size) -> tuple[int, int]:
    """`size` as (height, width): an int is a square side, a pair is (height, width)."""
    if isinstance(size, int | np.integer):
        h = w = int(size)
    else:
        h, w = (int(s) for s in size)
    if h < 1 or w < 1:
        raise ValueError(f"image size must be positive, got {size!r}")
    return h, w


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB (16-bit and float images are scaled to 0..255)."""
    if img.mode == "RGB":
        return img.copy()  # detach from the file, which the caller closes
    if img.mode.startswith("I;16"):
        arr = np.asarray(img, dtype=np.uint16) >> 8
        return Image.fromarray(arr.astype(np.uint8), mode="L").convert("RGB")
    if img.mode in ("I", "F"):
        arr = np.clip(np.asarray(img, dtype=np.float64), 0, 255)
        return Image.fromarray(arr.astype(np.uint8), mode="L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return img.convert("RGB")


def _open_rgb(
    path: str | Path, draft: Callable[[int, int], tuple[int, int] | None] | None = None
) -> Image.Image:
    """Open, fully decode and convert one file to an RGB PIL image.

    `draft(width, height)`, given the file's size, may return the smallest (width, height) the caller needs: a
    JPEG is then decoded at 1/2, 1/4 or 1/8 of its size where that still covers it (PIL's draft mode, which
    scales in the DCT: far less work than decoding every pixel and shrinking).

    A text `path` stays text: no `Path` is made unless for an error (Python 3.11's `pathlib` interns every part
    of every path it parses, for good: a loader worker reading a million files would keep a million names)."""
    if not os.path.isfile(path):
        if os.path.islink(path):  # a dangling link: unreadable, like a corrupt file (`skip_corrupt` applies)
            raise CorruptImageError(
                path, f"is a link to {os.readlink(path)}, which does not exist", "a link to an image file"
            )
        raise DataError(path, "image file is missing", "an existing image file")
    try:
        with Image.open(path) as img:
            turned = _orientation(img) in _QUARTER_TURNS  # stored on its side: the draft sizes swap
            wanted = None
            if draft is not None and img.format == "JPEG":
                w, h = img.size
                wanted = draft(h, w) if turned else draft(w, h)
                if wanted is not None and turned:
                    wanted = wanted[::-1]
            if wanted is not None:
                img.draft("RGB", wanted)
            img.load()
            if img.format == "PNG" and not _png_has_end(path):
                raise OSError("PNG file is truncated (no IEND chunk at its end)")
            if _orientation(img) != 1:  # a camera's photo stored rotated: shown upright, as viewers do
                img = ImageOps.exif_transpose(img)
            return _to_rgb(img)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        raise CorruptImageError(
            path, f"cannot decode image ({type(e).__name__}: {e})", "a complete image file"
        ) from e


_ORIENTATION = 0x0112  # the EXIF tag of how the stored pixels are turned (1: upright)
_QUARTER_TURNS = (5, 6, 7, 8)  # orientations whose upright image has width and height swapped


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(_ORIENTATION, 1) or 1)
    except (ValueError, TypeError, SyntaxError):  # an unreadable EXIF block: take the pixels as stored
        return 1


def _png_has_end(path: str | Path) -> bool:
    """Whether a PNG file still ends with its IEND chunk (PIL decodes a PNG cut after its pixel data)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        f.seek(max(f.tell() - 1024, 0))
        return b"IEND" in f.read()


def open_rgb(
    path: str | Path, draft: Callable[[int, int], tuple[int, int] | None] | None = None
) -> Image.Image:
    """One image file as an RGB PIL image (see `_open_rgb` for `draft`); DataError if missing, CorruptImageError
    if it cannot be decoded."""
    return _open_rgb(path, draft)


def read_image(path: str | Path) -> np.ndarray:
    """Read one image file as an (H, W, 3) uint8 RGB array.

    Raises DataError if the file is missing and CorruptImageError if it cannot be fully decoded.
    """
    return np.asarray(_open_rgb(Path(path)), dtype=np.uint8).copy()


def resize_image(image: np.ndarray, size: Size) -> np.ndarray:
    """Resize an (H, W, 3) uint8 array to `size` (int -> square, pair -> (height, width)), bilinear+antialias."""
    h, w = _hw(size)
    if image.shape[:2] == (h, w):
        return image
    # PIL's bilinear filter widens its support when downsampling, i.e. it antialiases.
    return np.asarray(Image.fromarray(image).resize((w, h), Image.Resampling.BILINEAR), dtype=np.uint8)


def load_images(
    paths: Sequence[str | Path],
    size: Size | None = None,
    skip_corrupt: bool = False,
    progress: bool = False,
) -> tuple[np.ndarray, list[int]]:
    """Load many image files into one (N, H, W, 3) uint8 array.

    Args:
        paths: image files, in the order wanted.
        size: resize every image to this (int -> square, pair -> (height, width)); when None all images
            must already share one shape.
        skip_corrupt: skip (and warn about) files that cannot be decoded instead of raising
            CorruptImageError; a missing file always raises DataError.
        progress: show a tqdm progress bar.

    Returns:
        (images, kept): `images[j]` is the decoded `paths[kept[j]]`; `kept` lists every index unless
        corrupt files were skipped.
    """
    paths = [Path(p) for p in paths]
    hw = _hw(size) if size is not None else None
    out: np.ndarray | None = np.empty((len(paths), *hw, 3), dtype=np.uint8) if hw is not None else None
    loaded: list[np.ndarray] = []
    kept: list[int] = []
    corrupt: list[Path] = []
    for i, path in enumerate(tqdm(paths, desc="images", unit="img", disable=not progress)):
        try:
            img = _open_rgb(path)
        except CorruptImageError:
            if not skip_corrupt:
                raise
            corrupt.append(path)
            continue
        if hw is not None:
            if img.size != (hw[1], hw[0]):
                img = img.resize((hw[1], hw[0]), Image.Resampling.BILINEAR)
            out[len(kept)] = np.asarray(img, dtype=np.uint8)
        else:
            arr = np.asarray(img, dtype=np.uint8)
            if loaded and arr.shape != loaded[0].shape:
                raise DataError(
                    path,
                    f"image is {arr.shape[1]}x{arr.shape[0]} but the first one ({paths[kept[0]]}) is "
                    f"{loaded[0].shape[1]}x{loaded[0].shape[0]}",
                    "images of one size, or pass `size=` to resize them",
                )
            loaded.append(arr)
        kept.append(i)
    if corrupt:
        warnings.warn(
            f"skipped {len(corrupt)} corrupt image file(s) of {len(paths)}; first: {corrupt[0]}",
            stacklevel=2,
        )
    if hw is not None:
        images = out[: len(kept)]
    elif loaded:
        images = np.stack(loaded)
    else:
        images = np.empty((0, 0, 0, 3), dtype=np.uint8)
    return images, kept


def crop_box(
    image: np.ndarray,
    box_xywh: Sequence[float],
    out_size: Size | None = None,
    context: float = 0.0,
) -> np.ndarray:
    """Crop an (H, W, 3) array to the box (x, y, w, h) in pixels, optionally resized to `out_size`.

    `context` enlarges the box around its centre by that fraction of its size (0.5 -> 1.5x wider and
    taller). The box is rounded outwards to whole pixels, clipped to the image and kept at least 1x1,
    so a box partly or fully outside the image still yields a crop (of the nearest border pixels).
    """
    if image.ndim != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"expected an (H, W, C) image with H, W >= 1, got shape {image.shape}")
    if len(box_xywh) != 4:
        raise ValueError(f"expected a box (x, y, w, h), got {box_xywh!r}")
    x, y, w, h = (float(v) for v in box_xywh)
    if not all(math.isfinite(v) for v in (x, y, w, h, context)):
        raise ValueError(f"box and context must be finite, got box={box_xywh!r} context={context!r}")
    w, h = max(w, 0.0), max(h, 0.0)
    cx, cy = x + w / 2, y + h / 2
    w, h = w * (1 + context), h * (1 + context)
    H, W = image.shape[:2]
    x0 = min(max(math.floor(cx - w / 2), 0), W - 1)
    y0 = min(max(math.floor(cy - h / 2), 0), H - 1)
    x1 = max(min(math.ceil(cx + w / 2), W), x0 + 1)
    y1 = max(min(math.ceil(cy + h / 2), H), y0 + 1)
    crop = image[y0:y1, x0:x1]
    if out_size is not None:
        crop = resize_image(np.ascontiguousarray(crop), out_size)
    return crop
