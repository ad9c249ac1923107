"""World variants (what a what-if question trains on): the default is the world's own objects image for image;
each property changes what it says and nothing else; a variant is parsed, keyed and rendered once."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ssl_kit.data.identity import data_identity
from ssl_kit.errors import ConfigError
from ssl_kit.world.build import build_set, build_variant
from ssl_kit.world.presets import get_preset
from ssl_kit.world.render import render
from ssl_kit.world.scene import pack
from ssl_kit.world.sets_static import objects_plan, objects_variant_plan
from ssl_kit.world.variation import SUBGROUPS, ObjectsVariant, variant_folder

SMOKE = get_preset("smoke")


def _scenes(variant: ObjectsVariant | None, n: int = 12, seed: int = 0):
    plan = objects_plan(SMOKE, seed) if variant is None else objects_variant_plan(SMOKE, seed, variant)
    frames = plan.frames[:n]
    return [f.make_scene() for f in frames], frames


def _images(scenes) -> torch.Tensor:
    with torch.no_grad():
        return render(pack(scenes), 32).image


def test_the_default_variant_renders_the_worlds_objects_train_image_for_image():
    world, world_frames = _scenes(None)
    same, frames = _scenes(ObjectsVariant())
    assert [f.path for f in frames] == [f.path for f in world_frames]
    assert torch.equal(_images(world), _images(same))
    train = [f for f in objects_plan(SMOKE, 0).frames if f.path.startswith("train/")]
    assert len(objects_variant_plan(SMOKE, 0, ObjectsVariant()).frames) == len(train)  # the train split only


def test_views_keep_each_instance_within_its_arc():
    _, frames = _scenes(ObjectsVariant(views=30), n=60)  # every smoke image (make_scene fills the metadata)
    by_instance: dict[tuple, list[float]] = {}
    for f in frames:
        by_instance.setdefault((f.meta["category"], f.meta["instance"]), []).append(f.meta["azimuth"])
    for azimuths in by_instance.values():
        a = np.radians(azimuths)
        centre = np.angle(np.exp(1j * a).mean())
        spread = np.degrees(np.abs(np.angle(np.exp(1j * (a - centre)))))
        assert spread.max() <= 30  # within a 30-degree arc (15 each side of a heading of its own)


def test_lights_zero_is_one_light_and_the_rest_of_the_image_is_unchanged():
    one, _ = _scenes(ObjectsVariant(lights=0.0))
    world, _ = _scenes(None)
    assert all(np.allclose(s.light.direction, one[0].light.direction) for s in one)
    assert all(np.allclose(s.light.color, one[0].light.color) for s in one)
    for a, b in zip(one, world, strict=True):  # camera and background drawn as before
        assert np.allclose(a.camera.eye, b.camera.eye) and np.allclose(a.background.waves, b.background.waves)


def test_markings_off_removes_every_decal_and_the_table_item():
    scenes, _ = _scenes(ObjectsVariant(markings=False), n=60)
    parts = [p for s in scenes for p in s.objects[0].instance.parts]
    assert parts and all(p.decal is None for p in parts)
    marked, _ = _scenes(None, n=60)
    assert any(p.decal is not None for s in marked for p in s.objects[0].instance.parts)


def test_backgrounds_and_occluders():
    plain, _ = _scenes(ObjectsVariant(background="plain"))
    assert all(not s.background.waves.any() for s in plain)
    cluttered, _ = _scenes(ObjectsVariant(background="cluttered"))
    assert all(3 <= len(s.objects) <= 4 for s in cluttered)
    assert all(
        o.instance.category != s.objects[0].instance.category for s in cluttered for o in s.objects[1:]
    )
    occluded, _ = _scenes(ObjectsVariant(occluders=1.0))
    assert all(s.objects[-1].instance.category == "occluder" for s in occluded)
    with torch.no_grad():
        hidden = render(pack(occluded), 32).visible
        shown = render(pack(_scenes(None)[0]), 32).visible
    # the object (slot 0) shows fewer pixels behind its block
    assert (hidden == 0).sum() < (shown == 0).sum()


@pytest.mark.parametrize(
    "labels, classes", [("category", 10), ("subcategory", 10 * min(SUBGROUPS, 2)), ("instance", 20)]
)
def test_labels_file_the_images_under_finer_classes(labels, classes):
    plan = objects_variant_plan(SMOKE, 0, ObjectsVariant(labels=labels))
    assert len({f.path.split("/")[1] for f in plan.frames}) == classes  # smoke: 2 instances of each category


def test_a_variant_is_parsed_spelled_and_keyed_by_what_it_changes():
    v = ObjectsVariant.parse(" views = 90 ; markings=false")
    assert v == ObjectsVariant(views=90, markings=False)
    assert v.text() == "views=90; markings=false" and ObjectsVariant.parse(v.text()) == v
    assert v.key() == ObjectsVariant(markings=False, views=90.0).key() != ObjectsVariant(views=90).key()
    assert ObjectsVariant().text() == ""
    for text, message in [("view=90", "expected field=value"), ("views=0", "views must be"),
                          ("labels=species", "labels must be"), ("markings=no", "true or false")]:  # fmt: skip
        with pytest.raises(ConfigError, match=message):
            ObjectsVariant.parse(text)


def test_a_variant_is_rendered_once_beside_the_world(smoke_world):
    variant = ObjectsVariant(lights=0.0)
    train = build_variant(smoke_world, variant, progress=False)
    assert train == variant_folder(smoke_world, variant) / "objects" / "train"
    manifest = json.loads((train.parent / "manifest.json").read_text())
    assert (manifest["preset"], manifest["seed"]) == ("smoke", 0) and not (train.parent / "val").exists()
    assert data_identity(train) != data_identity(smoke_world / "objects" / "train")
    stamp = (train.parent / "manifest.json").stat().st_mtime_ns
    assert build_variant(smoke_world, variant, progress=False) == train  # instant: already there
    assert (train.parent / "manifest.json").stat().st_mtime_ns == stamp
    with pytest.raises(ConfigError, match="changes the objects set"):
        build_set("scenes", smoke_world / "x", "smoke", 0, progress=False, variant=variant)
