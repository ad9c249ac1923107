"""Why random crops work on object-centric data: what the two views of a positive pair show.

The paper's explanation of its dataset-bias result is that two random crops of an ImageNet image almost
always show the same object, while two crops of a COCO scene often show different objects, or none. This
module measures that directly. For a training set with object boxes (a folder written by
`ssl_kit.study.train_sets.materialize`, whose `metadata.json` lists every image's objects) and an augmentation
policy, it draws positive pairs exactly as the trainer does (the trainer's own step plan,
`ssl_kit.batches.plan.step_plan`: the same batch indices and augmentation generator, both views' crops drawn
in one call at the trainer's image and crop sizes) and reports, per pair:

- `crop_iou`: IoU of the two crop boxes;
- `coverage1`, `coverage2`: share of each view covered by object boxes (their union);
- `dominant1`, `dominant2`: the object with the largest box area inside each view (-1: no object), and
  `share1`, `share2`: the share of the view that this object's box covers;
- `same_object`: both views have the same dominant object; `same_object_25`: and it covers at least a
  quarter of each view (both views clearly show the same object).

Boxes stand in for masks (the world's `objects` set and the crops of `scenes` carry boxes), so coverage is an
upper bound of the object's pixels for objects that do not fill their box.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ssl_kit.augment import get_policy, sample_params
from ssl_kit.batches.plan import step_plan
from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.errors import DataError
from ssl_kit.video.box_geometry import box_intersection, box_iou

SHARE = 0.25  # `same_object_25`: the shared object covers at least this share of each view


@dataclass
class PairStats:
    name: str
    image: np.ndarray  # (P,) index of the image (in `read_imagefolder` order)
    crops1: np.ndarray  # (P, 4) x, y, w, h of the query view's crop, in the trainer's image pixels
    crops2: np.ndarray  # (P, 4) the key view's
    crop_iou: np.ndarray  # (P,)
    coverage1: np.ndarray
    coverage2: np.ndarray
    dominant1: np.ndarray  # (P,) int, index of the object in its image, -1 for none
    dominant2: np.ndarray
    share1: np.ndarray  # (P,) share of the view covered by its dominant object's box
    share2: np.ndarray

    @property
    def same_object(self) -> np.ndarray:
        return (self.dominant1 == self.dominant2) & (self.dominant1 >= 0)

    @property
    def same_object_25(self) -> np.ndarray:
        return self.same_object & (self.share1 >= SHARE) & (self.share2 >= SHARE)

    def summary(self) -> dict[str, float]:
        """Means over the pairs, the numbers the notebook's table shows."""
        either_empty = (self.dominant1 < 0) | (self.dominant2 < 0)
        return {
            "pairs": len(self.crop_iou),
            "same_object": float(self.same_object.mean()),
            "same_object_25": float(self.same_object_25.mean()),
            "a_view_without_object": float(either_empty.mean()),
            "crop_iou": float(self.crop_iou.mean()),
            "coverage": float(np.concatenate([self.coverage1, self.coverage2]).mean()),
        }


def read_object_boxes(folder: str | Path, size: int) -> tuple[list[np.ndarray], int]:
    """Every image's object boxes (x, y, w, h) scaled to the trainer's square `size`, in the order the trainer
    indexes the folder (`read_imagefolder`), and the number of images without any box."""

    folder = Path(folder)
    meta = folder / "metadata.json"
    if not meta.is_file():
        raise DataError(
            meta, "file is missing", "a training set written by ssl_kit.study.train_sets.materialize"
        )
    rows = {Path(r["path"]).as_posix(): r for r in json.loads(meta.read_text())}
    index = read_imagefolder(folder)
    boxes, missing = [], 0
    for path in index.paths:
        row = rows.get(Path(os.path.relpath(path, folder)).as_posix())
        objs = [o["box"] for o in (row or {}).get("objects", []) if o.get("box")]
        if not objs:
            missing += 1
            boxes.append(np.zeros((0, 4)))
            continue
        with Image.open(path) as img:
            w, h = img.size
        b = np.asarray(objs, np.float64) * np.array([size / w, size / h, size / w, size / h])
        boxes.append(b)
    return boxes, missing


def _union_coverage(crop: np.ndarray, boxes: np.ndarray, grid: int = 32) -> float:
    """Share of the crop inside the union of `boxes`, on a grid x grid raster of the crop."""
    if len(boxes) == 0:
        return 0.0
    xs = crop[0] + (np.arange(grid) + 0.5) * crop[2] / grid
    ys = crop[1] + (np.arange(grid) + 0.5) * crop[3] / grid
    inside_x = (xs[None, :] >= boxes[:, :1]) & (xs[None, :] < boxes[:, :1] + boxes[:, 2:3])  # (K, grid)
    inside_y = (ys[None, :] >= boxes[:, 1:2]) & (ys[None, :] < boxes[:, 1:2] + boxes[:, 3:4])
    covered = (inside_y[:, :, None] & inside_x[:, None, :]).any(0)
    return float(covered.mean())


def _dominant(crop: np.ndarray, boxes: np.ndarray) -> tuple[int, float]:
    """The object whose box covers most of the crop (-1 if none does), and the share of the crop it covers."""
    if len(boxes) == 0:
        return -1, 0.0
    inter = box_intersection(crop, boxes)[0]
    if inter.max() <= 0:
        return -1, 0.0
    return int(inter.argmax()), float(inter.max() / (crop[2] * crop[3]))


def has_object_boxes(folder: str | Path) -> bool:
    """Whether any image of a materialized training set has an object box (ImageNet folders have none)."""
    meta = Path(folder) / "metadata.json"
    return meta.is_file() and any(
        o.get("box") for r in json.loads(meta.read_text()) for o in r.get("objects", [])
    )


def positive_pair_stats(
    folder: str | Path,
    policy: str = "mocov2",
    image_size: int = 32,
    crop_size: int = 32,
    batch_size: int = 128,
    steps: int = 20,
    seed: int = 0,
    name: str | None = None,
) -> PairStats:
    """Draw `steps` batches of positive pairs as the trainer would on `folder` and measure what they show."""

    boxes, missing = read_object_boxes(folder, image_size)
    n = len(boxes)
    if n and missing == n:
        raise DataError(
            folder,
            "no image has an object box, and the pair analysis needs boxes",
            "a set with boxes: the world's, COCO; ImageNet folders carry none",
        )
    if n < batch_size:
        raise DataError(folder, f"has {n} images, fewer than a batch of {batch_size}")
    pol = get_policy(policy)
    image, crops1, crops2 = [], [], []
    for step in range(steps):
        plan = step_plan(seed, step, n, batch_size)  # one process: rank 0 of 1
        gen = plan.view_generator()
        crops = sample_params(2 * batch_size, image_size, image_size, pol, crop_size, gen)["boxes"]
        crops = crops.double().numpy()
        # the trainer's view call: the first half of the crops are the queries, the rest the keys
        image += plan.indices.tolist()
        crops1.append(crops[:batch_size])
        crops2.append(crops[batch_size:])
    image, crops1, crops2 = np.asarray(image), np.concatenate(crops1), np.concatenate(crops2)
    dom1 = [_dominant(a, boxes[i]) for a, i in zip(crops1, image, strict=True)]
    dom2 = [_dominant(b, boxes[i]) for b, i in zip(crops2, image, strict=True)]
    return PairStats(
        name or Path(folder).name,
        image,
        crops1,
        crops2,
        crop_iou=np.asarray([box_iou(a, b)[0, 0] for a, b in zip(crops1, crops2, strict=True)]),
        coverage1=np.asarray([_union_coverage(a, boxes[i]) for a, i in zip(crops1, image, strict=True)]),
        coverage2=np.asarray([_union_coverage(b, boxes[i]) for b, i in zip(crops2, image, strict=True)]),
        dominant1=np.asarray([d for d, _ in dom1]),
        dominant2=np.asarray([d for d, _ in dom2]),
        share1=np.asarray([s for _, s in dom1]),
        share2=np.asarray([s for _, s in dom2]),
    )
