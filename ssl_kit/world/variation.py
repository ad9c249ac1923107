"""The world's objects, changed in one property: what a what-if question trains on.

`ObjectsVariant` says how a training set of single objects differs from the world's `objects/train`. Each
field's default is the world's own, so the default variant renders `objects/train` image for image:

- `views`: the arc of azimuth, in degrees, each instance is seen from. The world shows every instance from all
  round (360); at 90 each instance is seen only within a quarter turn around a heading of its own, as a
  photographer tends to shoot an object from its front.
- `lights`: how much the light varies, from 1 (the world's: any direction above the object, 3,000 to 9,000 K,
  any ambient level in its range) to 0 (one light, the middle of those ranges, for every image). Every draw is
  pulled towards the middle of its range by this factor.
- `labels`: the class each image is filed under (what a supervised network learns to tell apart; contrastive
  methods ignore it): `category` (the world's 10), `subcategory` (each category's instances in `SUBGROUPS`
  groups: 40 classes) or `instance` (every instance its own class: 400 at quick scale).
- `markings`: the one-sided markings (a label, a decal, a face) that make an object look different from each
  side (`ssl_kit.world.shapes`); off, every instance has the shape and materials it had, without them.
- `background`: `textured` (the world's smooth two-colour texture), `plain` (one colour) or `cluttered` (the
  texture, with two or three other objects standing behind the one the image is of).
- `occluders`: the share of images with a block between the camera and the object, hiding part of it.

A variant is written as one line, `"views=90; markings=false"` (`parse`, and `text` for the canonical
spelling), and keyed by what it changes (`key`); `ssl_kit.world.build.build_variant` renders it once into
`<world>/variants/objects-<key>/`. The draws that decide the camera, light and background are those of the
world's objects, in the same order, so a variant differs from the world's images only in what it changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_kit.common.keys import cache_key
from ssl_kit.errors import ConfigError
from ssl_kit.world.scene import Camera, Instance, Placed, box
from ssl_kit.world.shapes import CATEGORIES, make_instance, random_material

LABELS = ("category", "subcategory", "instance")
BACKGROUNDS = ("textured", "plain", "cluttered")
SUBGROUPS = 4  # `labels="subcategory"`: groups of each category's instances
VARIANTS = "variants"  # the folder of a world's variant sets
VERSION = 1  # bump when a variant's rendering changes, so its sets are rendered again
CLUTTER_ID0 = 200_000_000  # instance ids of the clutter: CLUTTER_ID0 + image index * 4 + object index

__all__ = ["ObjectsVariant", "LABELS", "BACKGROUNDS", "SUBGROUPS", "WORLD_OBJECTS", "variant_folder", "heading",
           "clutter", "occluder"]  # fmt: skip


@dataclass(frozen=True)
class ObjectsVariant:
    """How a training set of single objects differs from the world's `objects/train` (the module doc says what
    each field does); the defaults are the world's own."""

    views: float = 360.0
    lights: float = 1.0
    labels: str = "category"
    markings: bool = True
    background: str = "textured"
    occluders: float = 0.0

    def __post_init__(self):
        for name in ("views", "lights", "occluders"):  # 90 and 90.0 are one variant (one key)
            value = getattr(self, name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                object.__setattr__(self, name, float(value))
        checks = {
            "views": (
                isinstance(self.views, float) and 0 < self.views <= 360,
                "a number of degrees in (0, 360]",
            ),
            "lights": (isinstance(self.lights, float) and 0 <= self.lights <= 1, "a number in [0, 1]"),
            "labels": (self.labels in LABELS, f"one of {', '.join(LABELS)}"),
            "markings": (isinstance(self.markings, bool), "true or false"),
            "background": (self.background in BACKGROUNDS, f"one of {', '.join(BACKGROUNDS)}"),
            "occluders": (
                isinstance(self.occluders, float) and 0 <= self.occluders <= 1,
                "a share of images in [0, 1]",
            ),
        }
        for name, (ok, expected) in checks.items():
            if not ok:
                raise ConfigError(f"world variant: {name} must be {expected}, not {getattr(self, name)!r}")

    def changes(self) -> dict:
        """The fields that differ from the world's objects, in field order."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != f.default
        }

    def text(self) -> str:
        """The canonical one-line spelling `parse` reads back ("" for the world's own objects)."""
        return "; ".join(f"{k}={_spell(v)}" for k, v in self.changes().items())

    def key(self) -> str:
        """The key of the set it renders: its changes (the world's preset and seed key the set's folder)."""
        return cache_key("objects variant", version=VERSION, **self.changes())

    @classmethod
    def parse(cls, text: str) -> ObjectsVariant:
        """The variant `"views=90; markings=false"` names; an unknown field or value is a ConfigError."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict = {}
        for part in text.split(";"):
            if not part.strip():
                continue
            name, eq, value = (s.strip() for s in part.partition("="))
            if not eq or name not in fields:
                raise ConfigError(
                    f"world variant {part.strip()!r}: expected field=value with a field among {', '.join(fields)}"
                )
            kind = type(fields[name].default)
            if kind is bool:
                if value.lower() not in ("true", "false"):
                    raise ConfigError(f"world variant: {name} must be true or false, not {value!r}")
                values[name] = value.lower() == "true"
            elif kind is float:
                try:
                    values[name] = float(value)
                except ValueError:
                    raise ConfigError(f"world variant: {name} must be a number, not {value!r}") from None
            else:
                values[name] = value
        return cls(**values)

    def class_name(self, category: str, instance: int) -> str:
        """The folder (class) an image of `instance` of `category` is filed under."""
        if self.labels == "subcategory":
            return f"{category}_{instance % SUBGROUPS}"
        if self.labels == "instance":
            return f"{category}_{instance:04d}"
        return category


WORLD_OBJECTS = ObjectsVariant()  # the world's own objects


def heading(seed: int, code: int, instance: int) -> float:
    """The azimuth (degrees) an instance's arc of views is centred on, when `views` < 360."""
    return float(np.random.default_rng([seed, code, instance, 10]).uniform(0, 360))


def clutter(rng: np.random.Generator, seed: int, category: str, index: int, camera: Camera) -> list[Placed]:
    """Two or three objects of other categories standing behind the object at the origin, off to its sides,
    smaller: a cluttered background."""
    back = camera.target - camera.eye
    back[2] = 0.0
    back /= max(float(np.linalg.norm(back)), 1e-6)
    side = np.array([-back[1], back[0], 0.0])
    others = [c for c in CATEGORIES if c != category]
    placed = []
    for j in range(int(rng.integers(2, 4))):
        position = back * rng.uniform(1.2, 2.2) + side * rng.uniform(-1.6, 1.6)
        other = others[int(rng.integers(len(others)))]
        instance = make_instance(seed, other, CLUTTER_ID0 + index * 4 + j)
        placed.append(
            Placed(instance, position, yaw=float(rng.uniform(0, 2 * np.pi)), scale=rng.uniform(0.5, 0.8))
        )
    return placed


def occluder(rng: np.random.Generator, camera: Camera) -> Placed:
    """A block 30 to 50% of the way from the object to the camera, up to 0.35 off the line of sight: it hides a
    part of the object (about a third of the image's width at most)."""
    right, down, _ = camera.rotation()
    t = rng.uniform(0.3, 0.5)
    position = camera.target + t * (camera.eye - camera.target)
    position = position + right * rng.uniform(-0.35, 0.35) + down * rng.uniform(-0.35, 0.35)
    block = Instance(
        "occluder", [box((0, 0, 0), rng.uniform(0.1, 0.25, 3))], [random_material(rng, textured=0.3)]
    )
    return Placed(block, position, yaw=float(rng.uniform(0, 2 * np.pi)))


def _spell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def variant_folder(world: str | Path, variant: ObjectsVariant) -> Path:
    """Where `build_variant` (`ssl_kit.world.build`) renders `variant` of the world in `world`: its train folder
    is `<this>/objects/train`."""
    return Path(world) / VARIANTS / f"objects-{variant.key()}"
