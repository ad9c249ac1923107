"""Single-object image sets: `objects/` (ImageFolder), the ALOI sweeps and `pascal3d/`.

Each function returns a SetPlan: the frames to render and the function that writes the annotations.
Instance ids are drawn from disjoint ranges per set, so no set shares an object with another.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.world.presets import WorldPreset
from ssl_kit.world.randomize import (
    ALOI_CAMERA_AZIMUTHS,
    ALOI_CAMERAS,
    ALOI_COLOR_STEPS,
    ALOI_LIGHT_ANGLES,
    ALOI_LIGHTS,
    aloi_step_kelvin,
    black_background,
    kelvin_to_rgb,
    random_background,
    random_light,
)
from ssl_kit.world.scene import Placed, Scene, light_from_angles, orbit_camera, plain_background
from ssl_kit.world.set_plan import Frame, SetPlan
from ssl_kit.world.shapes import CATEGORIES, make_instance
from ssl_kit.world.variation import WORLD_OBJECTS, ObjectsVariant, clutter, heading, occluder

OBJECT_CENTER = (0.0, 0.0, 0.7)
ALOI_ID0, PASCAL_ID0 = 10_000, 30_000
MORE_ID0, MORE_FACTOR = 1_000, 4  # objects_more/: instance ids 1,000 on, 4x objects/train's instances


def _single(
    seed, category, instance_id, azimuth, elevation, distance, light, background, principal=(0, 0), yaw=0.0,
    markings=True,
):  # fmt: skip
    inst = make_instance(seed, category, instance_id, markings)
    cam = orbit_camera(azimuth, elevation, distance, OBJECT_CENTER, focal=2.0, principal=principal)
    return Scene([Placed(inst, np.zeros(3), yaw=np.radians(yaw))], cam, light, background)


def _random_view(seed, code, index, category, instance_id, variant: ObjectsVariant = WORLD_OBJECTS):
    """An object at a random viewpoint, light, background, scale and position (objects/ and pascal3d/), changed
    as `variant` says (`ssl_kit.world.variation`) from the same draws."""
    rng = np.random.default_rng([seed, code, index])
    az, el = float(rng.uniform(0, 360)), float(rng.uniform(-5, 50))
    if variant.views < 360:  # within the instance's own arc of views
        az = (heading(seed, code, instance_id) + (az - 180.0) * variant.views / 360.0) % 360.0
    dist = float(rng.uniform(1.5, 2.6))  # object-centric: the object covers about a quarter of the image
    principal = tuple(rng.uniform(-0.15, 0.15, 2))
    light, background = random_light(rng, variant.lights), random_background(rng)
    if variant.background == "plain":
        background = plain_background(background.colors[0])
    scene = _single(
        seed, category, instance_id, az, el, dist, light, background, principal, markings=variant.markings
    )
    extra = np.random.default_rng([seed, code, index, 9])  # the variant's own draws
    if variant.background == "cluttered":
        scene.objects += clutter(extra, seed, category, index, scene.camera)
    if variant.occluders > 0 and extra.random() < variant.occluders:
        scene.objects.append(occluder(extra, scene.camera))
    return scene, {"azimuth": az, "elevation": el, "distance": dist}


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(obj, separators=(",", ":")) + "\n")


def objects_plan(p: WorldPreset, seed: int) -> SetPlan:
    """ImageFolder `train/<category>/` and `val/<category>/`, split by instance."""
    splits = (("train", 0, p.train_instances), ("val", p.train_instances, p.val_instances))
    return _object_set("objects", p, seed, splits, code=1)


def objects_more_plan(p: WorldPreset, seed: int) -> SetPlan:
    """ImageFolder `train/<category>/` of `MORE_FACTOR` times as many instances as objects/train, none of them an
    instance of objects/ (ids from `MORE_ID0`): more distinct images to train on, against more epochs of the
    same ones. Built only when asked (`world --sets objects_more`)."""
    return _object_set(
        "objects_more", p, seed, (("train", MORE_ID0, MORE_FACTOR * p.train_instances),), code=8
    )


def objects_variant_plan(p: WorldPreset, seed: int, variant: ObjectsVariant) -> SetPlan:
    """objects/train changed as `variant` says (`ssl_kit.world.variation`): the same instances, drawn from the
    same streams, filed under `variant.class_name`; the world's own objects image for image at its default."""
    return _object_set("objects", p, seed, (("train", 0, p.train_instances),), code=1, variant=variant)


def _object_set(
    name: str, p: WorldPreset, seed: int, splits, code: int, variant: ObjectsVariant = WORLD_OBJECTS
) -> SetPlan:
    """Single objects at random views, `p.views` images of each instance in `splits` ((split, first id, count))."""
    frames, index = [], 0
    for split, first, count in splits:
        for category in CATEGORIES:
            for inst in range(first, first + count):
                for view in range(p.views):
                    folder = variant.class_name(category, inst)
                    path = f"{split}/{folder}/{category}_{inst:04d}_{view:02d}.JPEG"
                    meta = {"split": split, "category": category, "instance": inst, "view": view}

                    def make(i=index, c=category, n=inst, m=meta):
                        scene, extra = _random_view(seed, code, i, c, n, variant)
                        m.update(extra)
                        return scene

                    frames.append(Frame(path, make, p.size, meta))
                    index += 1

    def finalize(root: Path, records: list[dict]) -> None:
        # each image's object box (x, y, w, h, pixels) and visible fraction: what ssl_kit.findings.positive_pairs measures crops against
        rows = [
            {
                **{k: r[k] for k in r if k != "objects"},
                "box": r["objects"][0]["box"],
                "visible_fraction": round(r["objects"][0]["visible_fraction"], 4),
            }
            for r in records
        ]
        _write_json(root / "metadata.json", rows)

    return SetPlan(name, frames, finalize)


def _aloi_object(seed: int, k: int) -> tuple[str, int]:
    return CATEGORIES[k % len(CATEGORIES)], ALOI_ID0 + k


def _aloi_scene(seed, k, azimuth=0.0, light=None, camera_az=0.0):
    category, inst = _aloi_object(seed, k)
    light = light or light_from_angles(-20, 45, (1, 1, 1), 0.25)
    # a turntable: the object turns by `azimuth`, the camera stays
    return _single(seed, category, inst, camera_az, 20.0, 2.6, light, black_background(), yaw=-azimuth)


def aloi_plan(p: WorldPreset, seed: int, kind: str) -> SetPlan:
    """ALOI-style sweeps: `png2/<obj>/<obj>_r<deg>.png`, `_i<t>.png` or `_l<l>c<c>.png`; obj from 1."""
    frames = []
    for k in range(p.aloi_objects):
        obj = k + 1
        category, inst = _aloi_object(seed, k)
        base = {"object": obj, "category": category, "instance": inst}
        if kind == "view":
            for deg in range(0, 360, 5):
                make = partial(_aloi_scene, seed, k, float(deg))
                frames.append(Frame(f"png2/{obj}/{obj}_r{deg}.png", make, p.size, {**base, "azimuth": deg}))
        elif kind == "col":
            for step in ALOI_COLOR_STEPS:
                kelvin = aloi_step_kelvin(step)
                light = light_from_angles(-20, 45, kelvin_to_rgb(kelvin), 0.25 * kelvin_to_rgb(kelvin))
                make = partial(_aloi_scene, seed, k, 0.0, light)
                meta = {**base, "step": step, "kelvin": kelvin}
                frames.append(Frame(f"png2/{obj}/{obj}_i{step}.png", make, p.size, meta))
        elif kind == "ill":
            for li in range(ALOI_LIGHTS):
                for ci in range(ALOI_CAMERAS):
                    light = light_from_angles(*ALOI_LIGHT_ANGLES[li], (1, 1, 1), 0.12)
                    make = partial(_aloi_scene, seed, k, 0.0, light, ALOI_CAMERA_AZIMUTHS[ci])
                    meta = {**base, "light": li + 1, "camera": ci + 1}
                    frames.append(Frame(f"png2/{obj}/{obj}_l{li + 1}c{ci + 1}.png", make, p.size, meta))
        else:
            raise ValueError(f"unknown ALOI kind {kind!r} (expected view, col or ill)")

    def finalize(root: Path, records: list[dict]) -> None:
        objects = {r["object"]: {"category": r["category"], "instance": r["instance"]} for r in records}
        _write_json(root / "objects.json", objects)

    return SetPlan(f"aloi_{kind}", frames, finalize)


def pascal3d_plan(p: WorldPreset, seed: int) -> SetPlan:
    """Pascal3D+-style: `Images/<cls>_imagenet/`, JSON annotations with boxes and viewpoints, image sets."""
    frames, index = [], 0
    n_val = max(1, p.pascal_per_category // 5)
    for ci, category in enumerate(CATEGORIES):
        for j in range(p.pascal_per_category):
            inst = PASCAL_ID0 + ci * 100_000 + j  # one instance per image, as in Pascal3D+
            name = f"{category}_{j:05d}"
            split = "val" if j >= p.pascal_per_category - n_val else "train"
            meta = {"category": category, "name": name, "split": split, "instance": inst}

            def make(i=index, c=category, n=inst, m=meta):
                scene, extra = _random_view(seed, 6, i, c, n)
                m.update(extra)
                return scene

            frames.append(Frame(f"Images/{category}_imagenet/{name}.JPEG", make, p.size, meta))
            index += 1

    def finalize(root: Path, records: list[dict]) -> None:
        sets: dict[tuple[str, str], list[str]] = {}
        for r in records:
            box = r["objects"][0]["box"] or [0.0, 0.0, 1.0, 1.0]
            x, y, w, h = box
            obj = {
                "class": r["category"],
                "bbox": [x + 1, y + 1, x + w, y + h],  # 1-based inclusive pixel corners, as in Pascal VOC
                "viewpoint": {
                    "azimuth": r["azimuth"] % 360,
                    "elevation": r["elevation"],
                    "azimuth_coarse": round(r["azimuth"] % 360),
                    "elevation_coarse": round(r["elevation"]),
                    "distance": r["distance"],
                },
            }
            record = {
                "filename": f"{r['name']}.JPEG",
                "size": {"width": r["size"], "height": r["size"]},
                "objects": [obj],
            }
            _write_json(
                root / "Annotations" / f"{r['category']}_imagenet" / f"{r['name']}.json", {"record": record}
            )
            sets.setdefault((r["category"], r["split"]), []).append(r["name"])
        for (category, split), names in sets.items():
            path = root / "Image_sets" / f"{category}_imagenet_{split}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, "".join(n + "\n" for n in names))

    return SetPlan("pascal3d", frames, finalize)
