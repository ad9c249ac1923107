"""Training sets for the dataset-bias experiments, written as ImageFolder folders the trainer reads unchanged.

A set is a `TrainSet` (kind, root, split), parsed from a grid's entry by `ssl_kit.study.data_entry`:

- `folder`: any ImageFolder (`<root>/<class>/*.jpg`: ImageNet, ImageNet-100, Imagenette, the world's
  `objects/train`). Object-centric: one object fills each image.
- `coco`: the whole images of a COCO-layout set (the world's `scenes/`, COCO 2017). Scene-centric: several
  objects, small, with background. Each image is filed under the category of its largest annotated object
  (the labels contrastive methods ignore; images without annotations under `_none`).
- `coco_crops`: every annotated object of a COCO-layout set cut out by its box, squared with a margin of
  context and resized (the paper's cropped COCO: scene data made object-centric), filed under its category.

`materialize(train_set, cache, n, seed)` writes the set once under `cache/<name>-<hash>/` (symlinks to the
original images, or JPEG crops), optionally a random subset of `n` images so that the sets compared have the
same size, with a `metadata.json` that lists every stored image's objects (category, box in the stored
image's pixels) for `ssl_kit.findings.positive_pairs`. One process writes it (`ssl_kit.common.lock`; another that wants
the same set waits), in a temporary folder renamed into place with its `.done` marker: a set is complete or absent.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.common.keys import cache_key
from ssl_kit.common.lock import file_lock
from ssl_kit.common.names import safe_name
from ssl_kit.common.removal import remove_inside
from ssl_kit.data.coco import read_coco
from ssl_kit.data.identity import MATERIALIZED, data_identity, stamp_files
from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.errors import ConfigError, DataError

KINDS = ("folder", "coco", "coco_crops")
CROP_VERSION = 1  # bump when the crop recipe changes, so cached crops are rebuilt


@dataclass(frozen=True)
class TrainSet:
    name: str
    kind: str
    root: str
    split: str = ""
    crop_size: int = 64  # coco_crops: the stored crop's side (pixels)
    context: float = 0.1  # coco_crops: margin added on each side, as a fraction of the box side
    min_box: float = 8.0  # coco_crops: objects whose box is narrower or shorter (pixels) are skipped

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError(
                f"training set {self.name!r}: unknown kind {self.kind!r} (expected one of {KINDS})"
            )


def check_train_set(ts: TrainSet) -> None:
    """Fail early, naming the entry, when the set's files are not there."""
    root = Path(ts.root)
    if ts.kind == "folder":
        if not root.is_dir():
            raise DataError(root, f"training set {ts.name!r}: folder is missing", "an ImageFolder")
        return
    ann = root / "annotations" / f"instances_{ts.split}.json"
    if not ann.is_file():
        raise DataError(ann, f"training set {ts.name!r}: annotation file is missing", "a COCO-layout set")


def _key(ts: TrainSet, n: int | None, seed: int) -> str:
    written = {**asdict(ts), "root": str(Path(ts.root).resolve())}
    return cache_key(
        "training set", version=CROP_VERSION, set=written, n=n, seed=seed, source=data_identity(ts.root)
    )


def _subset(count: int, n: int | None, seed: int, what: str) -> np.ndarray:
    if n is None:
        return np.arange(count)
    if n > count:
        raise ConfigError(f"{what} has {count} images, fewer than the {n} asked for")
    return np.sort(np.random.default_rng(seed).choice(count, n, replace=False))


def _square_box(box, context: float, width: int, height: int) -> tuple[int, int, int, int]:
    """The box grown by `context` of its side on each side, made square around its centre, kept in the image."""
    x, y, w, h = box
    side = max(w, h) * (1 + 2 * context)
    side = min(side, width, height)
    cx, cy = x + w / 2, y + h / 2
    x0 = min(max(cx - side / 2, 0.0), width - side)
    y0 = min(max(cy - side / 2, 0.0), height - side)
    return int(round(x0)), int(round(y0)), int(round(x0 + side)), int(round(y0 + side))


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(src.resolve(), dst)


def _folder_rows(ts: TrainSet, out: Path, n: int | None, seed: int) -> list[dict]:
    index = read_imagefolder(ts.root)
    boxes = _world_object_boxes(Path(ts.root))
    rows = []
    for i in _subset(len(index), n, seed, f"training set {ts.name!r}"):
        src, cls = index.paths[i], index.classes[index.labels[i]]
        rel = f"{safe_name(cls)}/{i:07d}{src.suffix}"
        _link(src, out / rel)
        box = boxes.get(src.resolve())
        rows.append({"path": rel, "category": cls, "objects": [{"category": cls, "box": box}] if box else []})
    return rows


def _world_object_boxes(train_dir: Path) -> dict[Path, list[float]]:
    """The world's objects/metadata.json boxes by image path (empty for other folders)."""
    meta = train_dir.parent / "metadata.json"
    if not meta.is_file():
        return {}
    rows = json.loads(meta.read_text())
    return {(train_dir.parent / r["path"]).resolve(): r["box"] for r in rows if r.get("box")}


def _coco_rows(ts: TrainSet, out: Path, n: int | None, seed: int) -> list[dict]:
    coco = read_coco(ts.root, ts.split)
    rows = []
    for i in _subset(len(coco.images), n, seed, f"training set {ts.name!r}"):
        im = coco.images[i]
        anns = [a for a in coco.annotations[im.id] if not a.iscrowd]
        largest = max(anns, key=lambda a: a.bbox[2] * a.bbox[3], default=None)
        cls = coco.categories[largest.category_id] if largest else "_none"
        rel = f"{safe_name(cls)}/{im.id:012d}{im.path.suffix}"
        _link(im.path, out / rel)
        objs = [{"category": coco.categories[a.category_id], "box": list(a.bbox)} for a in anns]
        rows.append({"path": rel, "category": cls, "objects": objs})
    return rows


def _crop_rows(ts: TrainSet, out: Path, n: int | None, seed: int) -> list[dict]:
    coco = read_coco(ts.root, ts.split)
    items = [
        (im, a)
        for im in coco.images
        for a in coco.annotations[im.id]
        if not a.iscrowd and min(a.bbox[2], a.bbox[3]) >= ts.min_box
    ]
    rows = []
    for i in _subset(
        len(items), n, seed, f"training set {ts.name!r} ({len(items)} objects >= {ts.min_box} px)"
    ):
        im, ann = items[i]
        with Image.open(im.path) as img:
            img = img.convert("RGB")
            x0, y0, x1, y1 = _square_box(ann.bbox, ts.context, img.width, img.height)
            crop = img.crop((x0, y0, x1, y1)).resize((ts.crop_size, ts.crop_size), Image.BICUBIC)
        cls = coco.categories[ann.category_id]
        rel = f"{safe_name(cls)}/{ann.id:012d}.jpg"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        crop.save(out / rel, quality=95)
        s = ts.crop_size / (x1 - x0)
        objs = []
        for a in coco.annotations[im.id]:  # every object the crop shows, in the crop's pixels, main one first
            bx0, by0 = max(a.bbox[0], x0), max(a.bbox[1], y0)
            bx1, by1 = min(a.bbox[0] + a.bbox[2], x1), min(a.bbox[1] + a.bbox[3], y1)
            if bx1 > bx0 and by1 > by0:
                box = [(bx0 - x0) * s, (by0 - y0) * s, (bx1 - bx0) * s, (by1 - by0) * s]
                objs.insert(
                    0 if a.id == ann.id else len(objs),
                    {"category": coco.categories[a.category_id], "box": box},
                )
        rows.append({"path": rel, "category": cls, "objects": objs})
    return rows


_WRITERS = {"folder": _folder_rows, "coco": _coco_rows, "coco_crops": _crop_rows}


def materialize(ts: TrainSet, cache: str | Path, n: int | None = None, seed: int = 0) -> Path:
    """The ImageFolder of `ts` (a random `n`-image subset when `n` is given), written once under `cache`."""
    check_train_set(ts)
    out = Path(cache) / f"{safe_name(ts.name)}-{_key(ts, n, seed)}"
    if (out / MATERIALIZED).is_file():
        return out
    # one writer (another sweep on the same folder waits), into a temporary folder renamed into place: a set
    # is complete or absent
    with file_lock(out.with_name(f".{out.name}.lock"), "training set", wait=True):
        if (out / MATERIALIZED).is_file():  # written by the process we waited for
            return out
        work = out.with_name(f".{out.name}.partial")
        for stale in (work, out):  # an interrupted build (the lock says nobody is writing it)
            if stale.exists():
                remove_inside(stale, out.parent)
        work.mkdir(parents=True)
        rows = _WRITERS[ts.kind](ts, work, n, seed)
        atomic_write_text(work / "metadata.json", json.dumps(rows, separators=(",", ":")))
        done = {**asdict(ts), "n": len(rows), "seed": seed, "source": data_identity(ts.root)}
        atomic_write_text(work / MATERIALIZED, json.dumps(done) + "\n")
        stamp_files(work)  # its files as written: a file edited by hand later makes it other data
        os.replace(work, out)
    return out


def set_size(ts: TrainSet) -> int:
    """How many images `materialize(ts)` would write without a subset."""
    check_train_set(ts)
    if ts.kind == "folder":
        return len(read_imagefolder(ts.root))

    coco = read_coco(ts.root, ts.split, check_files=False)
    if ts.kind == "coco":
        return len(coco.images)
    return sum(
        not a.iscrowd and min(a.bbox[2], a.bbox[3]) >= ts.min_box
        for v in coco.annotations.values()
        for a in v
    )
