"""`scenes/`: COCO-style scene-centric images: objects on a floor at depths and sizes drawn so that their
counts and sizes match COCO 2017's (sources in `docs/world_sources.md`, section 1).

- Objects per image: COCO has a median of 4 annotated instances and a mean of 7.3-7.7, 99% of images between
  1 and 33. The number placed is log-normal (median `COUNT_MEDIAN`, log-sd `COUNT_SIGMA`, at most `COUNT_MAX`);
  objects hidden behind others get no annotation, as in COCO.
- Sizes: COCO's median object scale sqrt(box area / image area) is 0.106, its 10th and 90th percentiles 0.024
  and 0.472 (SNIP), and 41% / 34% / 24% of its objects are small / medium / large. Depth and size are each
  log-uniform (`DEPTH`, `SIZE`); their ranges were set by measuring those statistics on rendered scenes.
The fidelity card (`python -m ssl_kit world --card`) measures all of these on the built set.

Written as `train2017/<id:012d>.jpg`, `val2017/...` and `annotations/instances_<split>2017.json` with boxes
([x, y, w, h]), areas and visible masks as uncompressed RLE.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.world.presets import WorldPreset
from ssl_kit.world.randomize import random_background, random_light
from ssl_kit.world.scene import Camera, Placed, Scene
from ssl_kit.world.set_plan import Frame, SetPlan
from ssl_kit.world.shapes import CATEGORIES, make_instance

SCENE_ID0 = 100_000_000  # instance ids: SCENE_ID0 + image index * 64 + object index
COUNT_MEDIAN, COUNT_SIGMA, COUNT_MAX = 4.5, 1.45, 50
DEPTH = (1.6, 45.0)  # distance ahead of the camera (floor units); objects are about 1.4 units tall
SIZE = (0.5, 2.0)  # scale factor of an object


def floor_camera(rng: np.random.Generator) -> Camera:
    """A camera 1.2 to 2.2 units above the floor looking at a point 3 to 4.5 units ahead."""
    height = rng.uniform(1.2, 2.2)
    look = rng.uniform(3.0, 4.5)
    eye = np.array([0.0, 0.0, height])
    return Camera(eye, np.array([0.0, look, 0.4]), focal=float(rng.uniform(1.4, 1.8)))


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def place_on_floor(rng: np.random.Generator, n: int) -> list[tuple[np.ndarray, float, float]]:
    """(position, yaw, scale) for n objects inside the camera's view, at log-uniform depths and sizes."""
    out = []
    for _ in range(n):
        y = _log_uniform(rng, *DEPTH)
        x = rng.uniform(-0.45, 0.45) * y
        out.append((np.array([x, y, 0.0]), float(rng.uniform(0, 2 * np.pi)), _log_uniform(rng, *SIZE)))
    return out


def object_count(rng: np.random.Generator) -> int:
    return int(np.clip(np.rint(np.exp(rng.normal(np.log(COUNT_MEDIAN), COUNT_SIGMA))), 1, COUNT_MAX))


def _scene(seed: int, index: int) -> tuple[Scene, dict]:
    rng = np.random.default_rng([seed, 2, index])
    n = object_count(rng)
    cats = [CATEGORIES[int(c)] for c in rng.integers(0, len(CATEGORIES), n)]
    objs = []
    for j, (pos, yaw, scale) in enumerate(place_on_floor(rng, n)):
        inst = make_instance(seed, cats[j], SCENE_ID0 + index * 64 + j)
        objs.append(Placed(inst, pos, yaw, scale))
    scene = Scene(objs, floor_camera(rng), random_light(rng), random_background(rng, ground=True))
    return scene, {"categories": cats}


def scenes_plan(p: WorldPreset, seed: int) -> SetPlan:
    frames = []
    splits = (("train2017", 0, p.scenes_train), ("val2017", p.scenes_train, p.scenes_val))
    for split, first, count in splits:
        for index in range(first, first + count):
            image_id = index + 1
            meta = {"split": split, "image_id": image_id}

            def make(i=index, m=meta):
                scene, extra = _scene(seed, i)
                m.update(extra)
                return scene

            frames.append(Frame(f"{split}/{image_id:012d}.jpg", make, p.scene_size, meta, want_masks=True))

    def finalize(root: Path, records: list[dict]) -> None:
        categories = [{"id": i + 1, "name": c, "supercategory": "object"} for i, c in enumerate(CATEGORIES)]
        for split, _, _ in splits:
            images, anns = [], []
            for r in (r for r in records if r["split"] == split):
                images.append(
                    {
                        "id": r["image_id"],
                        "file_name": Path(r["path"]).name,
                        "width": r["size"],
                        "height": r["size"],
                    }
                )
                for obj, cat in zip(r["objects"], r["categories"], strict=True):
                    if obj["box"] is None:  # hidden behind other objects: COCO has no annotation for it
                        continue
                    anns.append(
                        {
                            "id": len(anns) + 1,
                            "image_id": r["image_id"],
                            "category_id": CATEGORIES.index(cat) + 1,
                            "bbox": obj["box"],
                            "area": float(obj["visible_pixels"]),
                            "iscrowd": 0,
                            "segmentation": obj["rle"],
                            "visible_fraction": round(obj["visible_fraction"], 4),
                        }
                    )
            data = {
                "info": {"description": "ssl_kit synthetic world: scenes"},
                "images": images,
                "annotations": anns,
                "categories": categories,
            }
            path = root / "annotations" / f"instances_{split}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, json.dumps(data, separators=(",", ":")))

    return SetPlan("scenes", frames, finalize, culled=True)
