"""One-sided markings (world version 6): where a marking lies on a part, and that every category then looks
different from each side of a turntable sweep while the object's shape stays what it was."""

from __future__ import annotations

import math

import numpy as np
import torch

from ssl_kit.world import shapes
from ssl_kit.world.render import _decal, render
from ssl_kit.world.scene import Placed, Scene, light_from_angles, orbit_camera, pack, plain_background
from ssl_kit.world.shapes import CATEGORIES, make_instance


def _points(azimuth_z: list[tuple[float, float]]) -> torch.Tensor:
    """Local points on the unit cylinder at (azimuth, z), as (1,3,N)."""
    a = torch.tensor([p[0] for p in azimuth_z])
    z = torch.tensor([p[1] for p in azimuth_z])
    return torch.stack([torch.cos(a), torch.sin(a), z])[None]


def test_a_marking_covers_its_patch_of_azimuth_and_height_only():
    # panel at azimuth 3 rad (near the -pi/+pi seam), +-0.5 rad, z 0.2 +- 0.3
    geom = torch.tensor([3.0, 0.5, 0.2, 0.3])[None, :, None].expand(1, 4, 7)
    pts = _points([(3.0, 0.2), (3.45, 0.45), (-2.9, 0.2), (2.4, 0.2), (3.0, -0.2), (0.0, 0.2), (3.0, 0.2)])
    kind = torch.tensor([[1, 1, 1, 1, 1, 1, 0]])
    inside, mark = _decal(kind, geom, pts)
    # -2.9 rad is 0.38 rad from 3.0 across the seam; 2.4 is 0.6 away; z -0.2 is 0.4 below; kind 0: none
    assert inside.tolist() == [[True, True, True, False, False, False, False]]
    assert not mark.any()  # a plain panel has no inner mark


def test_a_disc_and_bars_mark_the_panel_inside_it():
    geom = torch.tensor([0.0, 0.5, 0.0, 0.5])[None, :, None].expand(1, 4, 3)
    pts = _points([(0.0, 0.0), (0.45, 0.45), (0.0, 0.1)])  # centre, corner, a fifth of the way up
    _, disc = _decal(torch.tensor([[2, 2, 2]]), geom, pts)
    assert disc.tolist() == [[True, False, True]]
    _, bars = _decal(torch.tensor([[3, 3, 3]]), geom, pts)
    # bars where sin(2.5 pi v) > 0.2: v = 0 is between bars, v = 0.2 on one; the corner is outside |u| < 0.8
    assert bars.tolist() == [[False, False, True]]
    assert math.sin(0.2 * 2.5 * math.pi) > 0.2


def _turntable(instance, yaws, markings=True) -> np.ndarray:
    if not markings:
        for p in instance.parts:
            p.decal = None
        if instance.category == "table":  # a table's marking is the object left on it
            instance.parts.pop()
    cam = orbit_camera(0.0, 20.0, 2.6, (0, 0, 0.7), focal=2.0)
    light = light_from_angles(-20, 45, (1, 1, 1), 0.25)
    scenes = [
        Scene([Placed(instance, np.zeros(3), yaw=math.radians(y))], cam, light, plain_background())
        for y in yaws
    ]
    return render(pack(scenes), 48).image.numpy()


def test_every_category_shows_a_marking_from_some_sides_and_not_from_others():
    yaws = list(range(0, 360, 30))
    for c in CATEGORIES:
        for i in range(3):
            inst = make_instance(0, c, i)
            assert sum(p.decal is not None for p in inst.parts) >= (c != "table"), (c, i)
            marked = _turntable(make_instance(0, c, i), yaws)
            plain = _turntable(make_instance(0, c, i), yaws, markings=False)
            changed = np.abs(marked - plain).max(axis=(1, 2, 3)) > 0.05
            assert changed.any(), (c, i)  # the marking is seen from some side
            if c != "table":  # and hidden from another (a table's object stands on top, seen from all)
                assert not changed.all(), (c, i)


def test_markings_leave_shape_and_materials_alone():
    """Markings come from a stream of their own: the parts and materials are those the category's builder
    draws without them (a table's are the same up to the scale its added object changes)."""
    for c in CATEGORIES:
        for i in range(4):
            inst = make_instance(3, c, i)
            rng = np.random.default_rng([3, CATEGORIES.index(c), i, 7])
            materials = shapes._materials(rng, 3, list(shapes._HUES.get(c, (None, None, None))))
            parts = shapes._normalise(shapes._BUILDERS[c](rng))
            assert [m.color1.tolist() for m in materials] == [m.color1.tolist() for m in inst.materials]
            kept = inst.parts[: len(parts)]
            assert [p.kind for p in kept] == [p.kind for p in parts]
            ratio = np.concatenate([q.half / p.half for p, q in zip(parts, kept, strict=True)])
            assert np.allclose(ratio, ratio[0]) and (c == "table" or np.allclose(ratio, 1.0))
            assert (len(inst.parts) - len(parts)) == (c == "table")
