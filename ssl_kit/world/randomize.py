"""Random cameras, lights and backgrounds, each drawn from an explicit numpy Generator."""

from __future__ import annotations

import colorsys

import numpy as np

from ssl_kit.world.scene import Background, Light, light_from_angles

# ALOI's colour sweep is named by lamp setting (i110 .. i250); the world maps it to a colour temperature.
ALOI_COLOR_STEPS = (110, 120, 130, 140, 150, 160, 170, 180, 190, 210, 230, 250)
ALOI_LIGHTS = 8
ALOI_CAMERAS = 3
ALOI_CAMERA_AZIMUTHS = (0.0, 15.0, -15.0)  # c1, c2, c3 (degrees)
# l1..l5 sweep around the object at one height; l6..l8 light it from above-left, above, above-right.
ALOI_LIGHT_ANGLES = ((-90, 20), (-45, 20), (0, 20), (45, 20), (90, 20), (-60, 60), (0, 75), (60, 60))


def kelvin_to_rgb(kelvin: float) -> np.ndarray:
    """Approximate sRGB colour of a black body, normalised so the largest channel is 1."""
    t = kelvin / 100.0
    r = 255.0 if t <= 66 else 329.7 * (t - 60) ** -0.1332
    g = 99.47 * np.log(t) - 161.12 if t <= 66 else 288.12 * (t - 60) ** -0.0755
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.52 * np.log(t - 10) - 305.04)
    rgb = np.clip(np.array([r, g, b]), 1.0, 255.0)
    return rgb / rgb.max()


def aloi_step_kelvin(step: int) -> float:
    """The world's colour temperature for an ALOI lamp step: 1,900 K (i110) to 6,500 K (i250).

    ALOI's own lamps span a narrower, warmer range; the world widens it so the change is visible at 64 px.
    """
    lo, hi = ALOI_COLOR_STEPS[0], ALOI_COLOR_STEPS[-1]
    return 1900.0 + (step - lo) / (hi - lo) * (6500.0 - 1900.0)


def random_light(rng: np.random.Generator, spread: float = 1.0) -> Light:
    """A light from any direction above (azimuth 0-360, elevation 15-80 degrees), 3,000-9,000 K, with ambient
    light 0.2-0.45; with `spread` < 1 every draw is pulled towards the middle of its range by that factor (0: the
    same light for every image), from the same draws in the same order."""

    def draw(low: float, high: float) -> float:
        value = rng.uniform(low, high)
        return value if spread == 1 else (low + high) / 2 + (value - (low + high) / 2) * spread

    color = kelvin_to_rgb(draw(3000, 9000)) * draw(0.85, 1.1)
    return light_from_angles(draw(0, 360), draw(15, 80), color, draw(0.2, 0.45))


def _soft_color(rng) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.6), rng.uniform(0.25, 0.9)))


def random_background(rng: np.random.Generator, ground: bool = False) -> Background:
    """A smooth procedural texture of two soft colours; with `ground`, a checkered floor as well."""
    k = 3
    waves = np.column_stack(
        [
            rng.uniform(-10, 10, k),
            rng.uniform(-10, 10, k),
            rng.uniform(0, 2 * np.pi, k),
            rng.uniform(0.2, 1.0, k),
        ]
    )
    bg = Background(np.stack([_soft_color(rng), _soft_color(rng)]), waves, ground=ground)
    if ground:
        base = _soft_color(rng)
        bg.ground_colors = np.stack(
            [base, np.clip(base * rng.uniform(0.6, 0.9) + rng.uniform(0, 0.1, 3), 0, 1)]
        )
        bg.ground_freq = float(rng.uniform(1.0, 3.0))
    return bg


def black_background() -> Background:
    return Background(np.zeros((2, 3)), np.zeros((1, 4)))
