"""The renderer against answers known from geometry and shading."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ssl_kit.world.render import render
from ssl_kit.world.scene import (
    Background,
    Camera,
    Instance,
    Light,
    Material,
    Placed,
    Scene,
    box,
    ellipsoid,
    frustum,
    pack,
    plain_background,
)

SIZE = 64


def _white(pattern=0) -> list[Material]:
    return [Material(np.ones(3), np.ones(3), pattern, specular=0.0)]


def _scene(parts, eye=(0, -10, 0), target=(0, 0, 0), focal=4.0, light=None, materials=None, **kw) -> Scene:
    inst = Instance("test", parts, materials or _white())
    light = light or Light(np.array(eye, float), np.ones(3), np.zeros(3))
    cam = Camera(np.array(eye, float), np.array(target, float), focal)
    return Scene([Placed(inst, np.zeros(3), **kw)], cam, light, plain_background())


def _render(*scenes, size=SIZE):
    return render(pack(list(scenes)), size)


def test_sphere_silhouette_has_the_projected_area():
    r, dist, focal = 1.0, 10.0, 4.0
    out = _render(_scene([ellipsoid((0, 0, 0), (r, r, r))], focal=focal))
    # the silhouette of a sphere is a disk of angular radius asin(r / dist)
    radius_px = np.tan(np.arcsin(r / dist)) * focal * SIZE / 2
    area = out.amodal[0, 0].sum().item()
    assert area == pytest.approx(np.pi * radius_px**2, rel=0.05)
    assert torch.equal(out.amodal[0, 0], out.visible[0] == 0)


def test_lambertian_shading_is_cosine_of_the_normal():
    out = _render(_scene([ellipsoid((0, 0, 0), (1, 1, 1))]))
    img = out.image[0, 0]
    centre = img[SIZE // 2 - 1 : SIZE // 2 + 1, SIZE // 2 - 1 : SIZE // 2 + 1].mean().item()
    assert centre == pytest.approx(1.0, abs=0.01)  # normal faces the light head on
    row = img[SIZE // 2, SIZE // 2 :]
    inside = row[out.amodal[0, 0, SIZE // 2, SIZE // 2 :]]
    assert (inside[1:] <= inside[:-1] + 1e-6).all()  # darker towards the rim
    assert inside[-1] < 0.6


def test_flat_box_face_takes_the_albedo_times_the_light_colour():
    light = Light(np.array([0.0, -1, 0]), np.array([1.0, 0.5, 0.25]), np.zeros(3))
    mat = [Material(np.array([0.8, 0.8, 0.8]), np.ones(3), 0, specular=0.0)]
    out = _render(_scene([box((0, 0, 0), (1, 1, 1))], light=light, materials=mat))
    face = out.image[0][:, out.visible[0] == 0]
    assert torch.allclose(face, torch.tensor([0.8, 0.4, 0.2])[:, None], atol=1e-4)


def test_nearer_object_hides_the_farther_one_but_not_its_amodal_mask():
    far = Instance("far", [ellipsoid((0, 0, 0), (1, 1, 1))], _white())
    near = Instance("near", [ellipsoid((0, 0, 0), (0.5, 0.5, 0.5))], _white())
    cam = Camera(np.array([0, -10.0, 0]), np.zeros(3), 4.0)
    scene = Scene(
        [Placed(far, np.array([0, 3.0, 0])), Placed(near, np.array([0, -3.0, 0]))],
        cam,
        Light(np.array([0, -1.0, 0])),
        plain_background(),
    )
    out = _render(scene)
    both = out.amodal[0, 0] & out.amodal[0, 1]
    assert both.sum() > 20
    assert (out.visible[0][both] == 1).all()  # the near object wins where both are hit
    assert (out.visible[0] == 0).sum() < out.amodal[0, 0].sum()


def test_cylinder_and_cone_silhouettes_from_the_side():
    # a long focal length from far away is close to an orthographic view
    kw = {"eye": (0, -100, 0), "focal": 40.0}
    cyl = _render(_scene([frustum((0, 0, 0), 0.5, 1.0)], **kw)).amodal[0, 0]
    cone = _render(_scene([frustum((0, 0, 0), 0.5, 1.0, 1.0, 0.0)], **kw)).amodal[0, 0]
    ys, xs = np.nonzero(cyl.numpy())
    width, height = np.ptp(xs) + 1, np.ptp(ys) + 1
    assert width / height == pytest.approx(0.5, rel=0.1)  # a 1 x 2 rectangle
    assert cone.sum().item() == pytest.approx(cyl.sum().item() / 2, rel=0.1)  # a triangle: half of it
    ys_c, _ = np.nonzero(cone.numpy())
    assert ys_c.min() >= ys.min() - 1 and ys_c.max() <= ys.max() + 1


def test_a_red_light_makes_a_white_object_red():
    light = Light(np.array([0, -1.0, 0]), np.array([1.0, 0, 0]), np.zeros(3))
    out = _render(_scene([ellipsoid((0, 0, 0), (1, 1, 1))], light=light))
    obj = out.image[0][:, out.visible[0] == 0]
    assert obj[0].max() > 0.9 and obj[1:].abs().max() < 1e-6


def test_texture_is_attached_to_the_object():
    """Turning the object and the camera (and light) together by the same angle changes nothing."""
    mat = [
        Material(np.ones(3), np.zeros(3), pattern=3, freq=3.0, phase=np.array([0.3, 1.1, 0.7]), specular=0.0)
    ]
    parts = [box((0, 0, 0), (1, 0.8, 0.6))]
    a = _render(_scene(parts, eye=(0, -10, 3), materials=mat)).image[0]
    b = _render(_scene(parts, eye=(10, 0, 3), materials=mat, yaw=np.pi / 2)).image[0]
    c = _render(_scene(parts, eye=(0, -10, 3), materials=mat, yaw=np.pi / 2)).image[0]
    assert (a > 0.5).float().mean() > 0.02 and (a[:, a.sum(0) > 0] < 0.5).any()  # the pattern shows
    assert (a - b).abs().max() < 1e-3
    assert (a - c).abs().mean() > 0.01


def test_ground_plane_below_the_horizon_and_background_above():
    bg = Background(np.array([[0, 0, 1.0], [0, 0, 1.0]]), np.zeros((1, 4)), ground=True)
    bg.ground_colors = np.array([[1.0, 0, 0], [1.0, 0, 0]])
    cam = Camera(np.array([0, 0, 1.0]), np.array([0, 10.0, 1.0]), 2.0)
    scene = Scene([], cam, Light(np.array([0, 0, 1.0]), np.ones(3), np.zeros(3)), bg)
    img = _render(scene).image[0]
    assert img[2, 5, 5] > 0.99 and img[0, 5, 5] < 0.01  # top: blue background
    assert img[0, SIZE - 5, 5] > 0.99 and img[2, SIZE - 5, 5] < 0.01  # bottom: lit red floor


def test_batched_and_single_renders_agree():
    scenes = [_scene([ellipsoid((0, 0, 0), (1, 0.5, 0.7))], yaw=y) for y in (0.0, 0.7, 1.9)]
    together = _render(*scenes).image
    alone = torch.cat([_render(s).image for s in scenes])
    assert torch.allclose(together, alone, atol=1e-6)
