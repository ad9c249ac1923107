"""One clip of the world's `videos/` set: a hand-held camera following one object, as TrackingNet and GOT-10k clips
do (footage that keeps one target in view while it moves and turns).

Clip `c` at time u = t / (frames - 1) in [0, 1], every quantity a smooth function of u drawn once per clip:
- the followed object (object 0, the one `anno/` and the first track follow) walks across the floor and turns in
  depth (45-180 degrees over the clip), and is large in the frame: the camera stays 1.6-2.6 units from it, so its
  box side is a large part of the frame's (the issue's goal: a median of at least 0.30 of the shorter side);
- the camera follows it by hand: it looks at the object with a slow pan and tilt around it (the operator's
  aim drifts), moves closer or further over the clip (dolly), shakes a little at every frame, and in about a
  third of the clips walks around the object (an orbit of 30-100 degrees);
- zero to two other objects stand or move near the followed one, and in about half the clips an occluder (a
  pole or a panel) crosses between the camera and the object;
- the light's direction drifts by up to 60 degrees.
"""

from __future__ import annotations

import numpy as np

from ssl_kit.world.randomize import random_background, random_light
from ssl_kit.world.scene import Camera, Instance, Placed, Scene, box, frustum, light_from_angles
from ssl_kit.world.shapes import CATEGORIES, make_instance, random_material

VIDEO_ID0 = 50_000
AIM_HEIGHT = 0.45  # the camera aims at this height above the followed object's base


def _wave(rng: np.random.Generator, amplitude: float, cycles: tuple[float, float], n: int = 2):
    """A smooth random signal of u in [0, 1]: a sum of `n` sinusoids (frequencies in cycles per clip)."""
    freq = rng.uniform(*cycles, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    amp = amplitude * rng.uniform(0.5, 1.0, n) / n
    return lambda u: float(np.sum(amp * np.sin(2 * np.pi * freq * u + phase)))


def _occluder(rng: np.random.Generator) -> Instance:
    mat = random_material(rng, textured=0.8)
    if rng.random() < 0.5:
        half_width = rng.uniform(0.08, 0.25)
        return Instance("occluder", [frustum((0, 0, 0.9), half_width, 1.6)], [mat])
    half_width = rng.uniform(0.2, 0.5)
    return Instance("occluder", [box((0, 0, 0.9), (half_width, 0.04, 1.6))], [mat])


def follow_clip(seed: int, c: int, n_frames: int, t: int) -> tuple[Scene, list[str]]:
    """The scene of frame `t` of clip `c` (of `n_frames`), and the categories of its objects (object 0 first)."""
    rng = np.random.default_rng([seed, 6, c])
    u = t / max(1, n_frames - 1)
    n = int(rng.integers(1, 4))
    cats = [CATEGORIES[int(i)] for i in rng.integers(0, len(CATEGORIES), n)]
    # the followed object
    heading = rng.uniform(0, 2 * np.pi)
    walk = rng.uniform(0.2, 1.2) * np.array([np.cos(heading), np.sin(heading), 0.0])
    yaw0, turn = rng.uniform(0, 2 * np.pi), rng.choice([-1, 1]) * rng.uniform(np.radians(45), np.radians(180))
    base = walk * u
    objs = [
        Placed(make_instance(seed, cats[0], VIDEO_ID0 + c * 4), base, yaw0 + turn * u, rng.uniform(0.9, 1.2))
    ]
    # the camera: bearing (with an orbit in about a third of the clips), height, distance (dolly), aim, shake
    bearing = rng.uniform(0, 2 * np.pi)
    orbit = rng.choice([-1, 1]) * np.radians(rng.uniform(30, 100)) if rng.random() < 0.35 else 0.0
    elevation = np.radians(rng.uniform(8, 25))
    d0 = rng.uniform(1.6, 2.6)
    dolly = rng.uniform(-0.25, 0.25) * d0
    pan, tilt = _wave(rng, 0.35, (0.4, 1.5)), _wave(rng, 0.15, (0.4, 1.5))
    shake = [_wave(rng, 0.03, (5.0, 9.0), 3) for _ in range(3)]
    focal = float(rng.uniform(1.4, 1.8))
    az, dist = bearing + orbit * u, d0 + dolly * u
    back = np.array([np.sin(az) * np.cos(elevation), -np.cos(az) * np.cos(elevation), np.sin(elevation)])
    aim = base + np.array([0.0, 0.0, AIM_HEIGHT])
    side = np.array([np.cos(az), np.sin(az), 0.0])  # horizontal, across the line of sight
    eye = aim + dist * back + np.array([s(u) for s in shake])
    target = aim + pan(u) * side + np.array([0.0, 0.0, tilt(u)])
    # the other objects: near the followed one, some walking
    for j in range(1, n):
        where = rng.uniform(0, 2 * np.pi)
        pos = rng.uniform(1.0, 2.5) * np.array([np.cos(where), np.sin(where), 0.0])
        move = rng.normal(0, 0.5, 3) * np.array([1.0, 1.0, 0.0])
        inst = make_instance(seed, cats[j], VIDEO_ID0 + c * 4 + j)
        objs.append(
            Placed(
                inst, pos + move * u, rng.uniform(0, 2 * np.pi) + rng.normal(0, 1) * u, rng.uniform(0.8, 1.3)
            )
        )
    light0 = random_light(rng)
    drift = rng.uniform(-60, 60)
    az0 = float(np.degrees(np.arctan2(light0.direction[0], -light0.direction[1])))
    el0 = float(np.degrees(np.arcsin(np.clip(light0.direction[2], -1, 1))))
    light = light_from_angles(az0 + drift * u, el0, light0.color, light0.ambient)
    bg = random_background(rng, ground=True)
    if rng.random() < 0.5:  # an occluder crosses between the camera and the followed object
        occ = _occluder(rng)
        frac = rng.uniform(0.35, 0.6)  # of the way from the object to the camera
        sweep = rng.choice([-1, 1]) * (2 * u - 1) * rng.uniform(0.8, 1.4)
        ground = aim + frac * dist * back * np.array([1.0, 1.0, 0.0]) + sweep * side
        objs.append(Placed(occ, np.array([ground[0], ground[1], 0.0]), float(az), 1.0))
    return Scene(objs, Camera(eye, target, focal=focal), light, bg), cats
