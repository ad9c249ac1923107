"""Categories: fixed by (seed, category, instance id), varied within a category, told apart by shape alone."""

from __future__ import annotations

import numpy as np
import pytest

from ssl_kit.world.render import render
from ssl_kit.world.scene import Light, Placed, Scene, orbit_camera, pack, plain_background
from ssl_kit.world.shapes import CATEGORIES, make_instance


def _signature(inst) -> list:
    return [(p.kind, p.center.round(6).tolist(), p.half.round(6).tolist()) for p in inst.parts] + [
        m.color1.round(6).tolist() for m in inst.materials
    ]


def test_an_instance_is_fixed_by_seed_category_and_id():
    assert len(CATEGORIES) >= 10
    for c in CATEGORIES:
        assert _signature(make_instance(0, c, 3)) == _signature(make_instance(0, c, 3))
        assert _signature(make_instance(0, c, 3)) != _signature(make_instance(0, c, 4))
        assert _signature(make_instance(0, c, 3)) != _signature(make_instance(1, c, 3))


def test_unknown_category_is_named():
    with pytest.raises(ValueError, match="unknown category 'spoon'"):
        make_instance(0, "spoon", 0)


def test_objects_stand_on_the_ground_and_fit_the_frame():
    for c in CATEGORIES:
        for i in range(5):
            inst = make_instance(0, c, i)
            lo = min((p.center - np.abs(p.rot) @ p.half)[2] for p in inst.parts)
            hi = max(np.max(np.abs(p.center) + np.abs(p.rot) @ p.half) for p in inst.parts)
            assert lo == pytest.approx(0, abs=1e-6) and hi < 1.6


def _silhouettes(instances: int, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    scenes, labels = [], []
    for ci, c in enumerate(CATEGORIES):
        for i in range(instances):
            cam = orbit_camera(30.0, 20.0, 3.0, (0, 0, 0.7), focal=2.0)
            scenes.append(
                Scene(
                    [Placed(make_instance(0, c, i), np.zeros(3))], cam, Light(np.ones(3)), plain_background()
                )
            )
            labels.append(ci)
    masks = render(pack(scenes), size).amodal[:, 0].reshape(len(scenes), -1).numpy().astype(float)
    return masks, np.array(labels)


def test_categories_differ_in_shape_not_only_colour():
    """Leave-one-out nearest neighbour on binary silhouettes (no colour, no texture) names the category."""
    masks, labels = _silhouettes(instances=6)
    dist = ((masks[:, None] - masks[None]) ** 2).sum(-1)
    np.fill_diagonal(dist, np.inf)
    accuracy = (labels[dist.argmin(1)] == labels).mean()
    assert accuracy > 0.6  # chance is 0.1
