"""The culled ray caster against the dense one: same images, masks and visible ids on scenes of every kind."""

from __future__ import annotations

import numpy as np
import torch

from ssl_kit.world.randomize import random_background, random_light
from ssl_kit.world.render import FAR, _intersect, camera_rays, render
from ssl_kit.world.render_culled import render_culled, screen_rects
from ssl_kit.world.scene import Camera, Instance, Material, Placed, Scene, box, ellipsoid, frustum, pack
from ssl_kit.world.sets_scenes import _scene


def _odd_scene(rng: np.random.Generator) -> Scene:
    """Primitives of every kind at random poses, some touching or behind the camera plane, some off screen."""
    parts = [
        ellipsoid((0, 0, 0.5), (0.6, 0.3, 0.5)),
        box((0.7, 0.2, 0.3), (0.3, 0.5, 0.3)),
        frustum((-0.6, 0, 0.6), 0.4, 0.6, r_bottom=1.0, r_top=0.2),
        frustum((0, 0.6, 0.2), 0.3, 0.2, r_bottom=0.0, r_top=1.0),
    ]
    mats = [Material(rng.uniform(0.2, 1, 3), rng.uniform(0.2, 1, 3), int(rng.integers(0, 5)), 2.0)]
    objs = [
        Placed(
            Instance("odd", parts, mats), rng.uniform([-4, -1, 0], [4, 12, 0]), float(rng.uniform(0, 6)), 1.0
        )
        for _ in range(int(rng.integers(1, 9)))
    ]
    cam = Camera(np.array([0.0, 0.0, 1.0]), np.array([0.0, 5.0, 0.5]), float(rng.uniform(0.8, 3.0)))
    return Scene(objs, cam, random_light(rng), random_background(rng, ground=bool(rng.integers(0, 2))))


def _same(a, b) -> None:
    assert torch.equal(a.visible, b.visible)
    assert torch.equal(a.amodal, b.amodal)
    assert torch.allclose(a.image, b.image, atol=1e-6)


def test_culled_and_dense_casters_agree_on_coco_like_scenes():
    scenes = pack([_scene(0, i)[0] for i in range(4)])
    for size in (40, 45):  # a size that is not a multiple of the tile
        _same(render(scenes, size), render_culled(scenes, size))


def test_culled_and_dense_casters_agree_near_and_behind_the_camera():
    rng = np.random.default_rng(3)
    scenes = pack([_odd_scene(rng) for _ in range(6)])
    dense = render(scenes, 36)
    _same(dense, render_culled(scenes, 36))
    _same(dense, render_culled(scenes, 36, tile=16))


def test_screen_rectangles_hold_every_pixel_a_primitive_covers():
    rng = np.random.default_rng(4)
    scenes = pack([_odd_scene(rng) for _ in range(8)] + [_scene(1, i)[0] for i in range(4)])
    size = 40
    hit = (_intersect(scenes, camera_rays(scenes, size)) < FAR).reshape(*scenes.kind.shape, size, size)
    rects = screen_rects(scenes, size)
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    x0, y0, x1, y1 = (rects[..., i, None, None] for i in range(4))
    inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    assert hit.any() and not (hit & ~inside).any()
    area = ((rects[..., 2] - rects[..., 0]) * (rects[..., 3] - rects[..., 1])).sum()
    assert area < 0.5 * hit.shape[0] * hit.shape[1] * size * size  # and they do cull
