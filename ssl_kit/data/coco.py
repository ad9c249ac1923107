"""COCO instance annotations and masks.

    root/annotations/instances_<split>.json   {"images": [...], "annotations": [...], "categories": [...]}
    root/<split>/<file_name>                  e.g. root/train2017/000000000001.jpg

Segmentations come in three forms, all handled by `annotation_mask`:
  * polygons: a list of flat [x1, y1, x2, y2, ...] lists (pixel coordinates);
  * uncompressed RLE: {"size": [h, w], "counts": [n0, n1, ...]} -- run lengths over the mask flattened in
    column-major (Fortran) order, alternating 0s and 1s, starting with a (possibly empty) run of 0s;
  * compressed RLE: the same with "counts" a string: each count, minus the count two before it for the 4th
    count on (index > 2), is written as 5-bit groups, least significant first, as chr(48 + group), with
    bit 0x20 set on every group but the last and bit 0x10 of the last group the sign bit (pycocotools).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ssl_kit.data.boxes import read_xywh
from ssl_kit.data.manifest import check_complete
from ssl_kit.errors import DataError


@dataclass
class CocoImage:
    id: int
    file_name: str
    width: int
    height: int
    path: Path


@dataclass
class CocoAnnotation:
    id: int
    image_id: int
    category_id: int
    bbox: tuple[float, float, float, float]  # x, y, w, h
    area: float
    iscrowd: int
    segmentation: Any  # polygons (list), RLE (dict) or None


@dataclass
class CocoIndex:
    root: Path
    split: str
    images: list[CocoImage]  # in file order
    annotations: dict[int, list[CocoAnnotation]]  # image id -> its annotations (every image has a key)
    categories: dict[int, str]  # category id -> name
    by_id: dict[int, CocoImage] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.by_id:
            self.by_id = {im.id: im for im in self.images}


# ----------------------------------------------------------------------------------------------- reading


def _field(path: Path, obj: dict, key: str, kind: type, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise DataError(path, f"{where} has no {key!r}", f"every {where.split()[0]} to have {key!r}")
    try:
        return kind(obj[key])
    except (TypeError, ValueError) as e:
        raise DataError(path, f"{where} has a bad {key!r}: {obj[key]!r}", f"a {kind.__name__}") from e


def read_coco(root: str | Path, split: str = "train2017", check_files: bool = True) -> CocoIndex:
    """Read `root/annotations/instances_<split>.json`; images live in `root/<split>/`.

    With `check_files` every image file must exist (the first missing one is named).
    """
    root = Path(root)
    check_complete(root)
    ann_path = root / "annotations" / f"instances_{split}.json"
    image_dir = root / split
    expected = '{"images": [...], "annotations": [...], "categories": [...]}'
    if not ann_path.is_file():
        raise DataError(ann_path, "annotation file is missing", f"COCO instances JSON {expected}")
    if not image_dir.is_dir():
        raise DataError(image_dir, "image folder is missing", f"the images of split {split!r}")
    try:
        data = json.loads(ann_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(ann_path, f"unreadable JSON ({e})", expected) from e
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "categories")):
        raise DataError(ann_path, "missing 'images' or 'categories' list", expected)

    categories: dict[int, str] = {}
    for i, cat in enumerate(data["categories"]):
        categories[_field(ann_path, cat, "id", int, f"category {i}")] = str(cat.get("name", ""))
    images: list[CocoImage] = []
    for i, im in enumerate(data["images"]):
        where = f"image {i}"
        name = _field(ann_path, im, "file_name", str, where)
        images.append(
            CocoImage(
                id=_field(ann_path, im, "id", int, where),
                file_name=name,
                width=_field(ann_path, im, "width", int, where),
                height=_field(ann_path, im, "height", int, where),
                path=image_dir / name,
            )
        )
    if not images:
        raise DataError(ann_path, "lists no images", "at least one image")
    if check_files:
        missing = [im.path for im in images if not im.path.is_file()]
        if missing:
            raise DataError(
                missing[0], f"image file is missing ({len(missing)} of {len(images)} missing)", "a file"
            )

    annotations: dict[int, list[CocoAnnotation]] = {im.id: [] for im in images}
    for i, ann in enumerate(data.get("annotations") or []):
        where = f"annotation {i}"
        image_id = _field(ann_path, ann, "image_id", int, where)
        category_id = _field(ann_path, ann, "category_id", int, where)
        if image_id not in annotations:
            raise DataError(ann_path, f"{where} refers to unknown image id {image_id}", "an id from 'images'")
        if category_id not in categories:
            raise DataError(
                ann_path, f"{where} has unknown category id {category_id}", "an id from 'categories'"
            )
        box = read_xywh(ann_path, ann.get("bbox"), where)
        annotations[image_id].append(
            CocoAnnotation(
                id=_field(ann_path, ann, "id", int, where),
                image_id=image_id,
                category_id=category_id,
                bbox=box,
                area=float(ann.get("area", box[2] * box[3])),
                iscrowd=int(ann.get("iscrowd", 0)),
                segmentation=ann.get("segmentation"),
            )
        )
    return CocoIndex(root=root, split=split, images=images, annotations=annotations, categories=categories)


# ------------------------------------------------------------------------------------------------- masks


def rle_encode(mask: np.ndarray) -> dict:
    """Uncompressed COCO RLE of a boolean (H, W) mask: {"size": [h, w], "counts": [...]} (column-major)."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"expected a 2-D mask, got shape {mask.shape}")
    h, w = mask.shape
    flat = mask.astype(bool).ravel(order="F")
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return {"size": [int(h), int(w)], "counts": [int(c) for c in counts]}


def rle_to_string(counts: list[int]) -> str:
    """Compress a list of run lengths into the pycocotools string form (see the module docstring)."""
    out = []
    for i, count in enumerate(counts):
        x = int(count) - (int(counts[i - 2]) if i > 2 else 0)
        while True:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(chr(48 + (c | 0x20 if more else c)))
            if not more:
                break
    return "".join(out)


def rle_from_string(s: str | bytes) -> list[int]:
    """Decode a pycocotools compressed counts string into the list of run lengths."""
    if isinstance(s, bytes):
        s = s.decode("ascii")
    counts: list[int] = []
    p = 0
    while p < len(s):
        x = k = 0
        while True:
            if p >= len(s):
                raise ValueError(f"compressed RLE string ends inside a number: {s!r}")
            c = ord(s[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"invalid character {s[p]!r} in compressed RLE string")
            x |= (c & 0x1F) << (5 * k)
            p += 1
            k += 1
            if not c & 0x20:
                if c & 0x10:
                    x |= -1 << (5 * k)
                break
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def rle_decode(rle: dict) -> np.ndarray:
    """Boolean (H, W) mask of an uncompressed (list counts) or compressed (string counts) COCO RLE."""
    try:
        h, w = (int(v) for v in rle["size"])
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"expected an RLE {{'size': [h, w], 'counts': ...}}, got {rle!r:.100}") from e
    if isinstance(counts, str | bytes):
        counts = rle_from_string(counts)
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size and (counts.min() < 0 or counts.sum() != h * w):
        raise ValueError(f"RLE counts sum to {counts.sum()} (min {counts.min()}) for a {h}x{w} mask")
    if not counts.size and h * w:
        raise ValueError(f"empty RLE counts for a {h}x{w} mask")
    values = np.arange(counts.size) % 2 == 1
    flat = np.repeat(values, counts)
    return flat.reshape((h, w), order="F")


def polygons_to_mask(polys: list[list[float]], h: int, w: int) -> np.ndarray:
    """Rasterise COCO polygons (flat [x1, y1, x2, y2, ...] lists) into a boolean (h, w) mask.

    PIL's rasteriser includes boundary pixels, so edges may differ by a pixel from pycocotools.
    """
    canvas = Image.new("L", (int(w), int(h)), 0)
    draw = ImageDraw.Draw(canvas)
    for poly in polys:
        coords = [float(v) for v in poly]
        if len(coords) % 2:
            raise ValueError(f"polygon has an odd number of coordinates ({len(coords)})")
        if len(coords) >= 4:
            draw.polygon(list(zip(coords[0::2], coords[1::2], strict=True)), fill=1, outline=1)
    return np.asarray(canvas, dtype=np.uint8).astype(bool)


def annotation_mask(ann: CocoAnnotation | dict, h: int, w: int) -> np.ndarray:
    """Boolean (h, w) mask of one annotation: polygons, uncompressed or compressed RLE.

    An annotation without a segmentation gets its filled bbox.
    """
    seg = ann.segmentation if isinstance(ann, CocoAnnotation) else ann.get("segmentation")
    if isinstance(seg, dict):
        mask = rle_decode(seg)
        if mask.shape != (h, w):
            raise ValueError(f"RLE size {list(mask.shape)} does not match the image size {[h, w]}")
        return mask
    if isinstance(seg, list) and seg:
        return polygons_to_mask(seg, h, w)
    box = ann.bbox if isinstance(ann, CocoAnnotation) else ann.get("bbox")
    mask = np.zeros((h, w), dtype=bool)
    if box is not None:
        x, y, bw, bh = (float(v) for v in box)
        x0, y0 = max(int(np.floor(x)), 0), max(int(np.floor(y)), 0)
        mask[y0 : max(int(np.ceil(y + bh)), y0), x0 : max(int(np.ceil(x + bw)), x0)] = True
    return mask
