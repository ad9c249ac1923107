"""Ten object categories, each a parametric composition of primitives.

An instance draws proportions, optional parts, colours and a surface texture from its category's
distribution; `make_instance(seed, category, instance_id)` fixes it completely. Categories differ in shape
(part layout and proportions); colours overlap across categories on purpose, so that colour alone does not
name the category. Objects stand on z = 0 and fit roughly inside a sphere of radius 1 around (0, 0, 0.6).

Real objects look different from each side (ALOI's turntable sweeps show labels, handles, faces coming into
view), so every instance also carries markings on one side (`_markings`: a label, a decal, windows, a face)
or, for tables, an object left off-centre on top. They are drawn from a stream of their own, so an
instance's shape and materials are those it had before markings existed (world version 6).
"""

from __future__ import annotations

import colorsys

import numpy as np

from ssl_kit.world.scene import Decal, Instance, Material, Part, box, ellipsoid, frustum, rot_x, rot_y, rot_z

CATEGORIES = ("mug", "bottle", "chair", "table", "lamp", "car", "airplane", "tree", "house", "animal")


def _color(rng, hue=None, sat=(0.35, 0.9), val=(0.45, 0.95)) -> np.ndarray:
    h = rng.random() if hue is None else (hue + rng.normal(0, 0.04)) % 1.0
    return np.array(colorsys.hsv_to_rgb(h, rng.uniform(*sat), rng.uniform(*val)))


def random_material(rng, hue=None, textured=0.6, **kw) -> Material:
    c1 = _color(rng, hue, **kw)
    pattern = int(rng.integers(1, 5)) if rng.random() < textured else 0
    c2 = np.clip(c1 * rng.uniform(0.4, 0.8) + rng.uniform(0, 0.25, 3), 0, 1)
    return Material(
        c1, c2, pattern, float(rng.uniform(1.5, 4.0)), rng.uniform(0, 2, 3), float(rng.uniform(0, 0.4))
    )


def _materials(rng, n=3, hues=None) -> list[Material]:
    hues = hues or [None] * n
    return [random_material(rng, hues[i]) for i in range(n)]


def _legs(x, y, height, radius, material=1, square=False) -> list[Part]:
    parts = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            c = (sx * x, sy * y, height / 2)
            if square:
                parts.append(box(c, (radius, radius, height / 2), material=material))
            else:
                parts.append(frustum(c, radius, height / 2, material=material))
    return parts


def mug(rng) -> list[Part]:
    r, h = rng.uniform(0.4, 0.6), rng.uniform(0.5, 0.8)
    taper = rng.uniform(0.85, 1.1)
    parts = [
        frustum((0, 0, h), r, h, 1.0, taper),
        frustum((0, 0, 2 * h - 0.02), r * 0.85 * taper, 0.03, material=2),
    ]
    hr, t = rng.uniform(0.25, 0.4) * h * 2, rng.uniform(0.05, 0.09)
    x = r + hr * 0.5
    parts += [
        box((x, 0, h), (t, t, hr * 0.6), material=1),
        box((r + hr * 0.25, 0, h + hr * 0.55), (hr * 0.3, t, t), material=1),
        box((r + hr * 0.25, 0, h - hr * 0.55), (hr * 0.3, t, t), material=1),
    ]
    return parts


def bottle(rng) -> list[Part]:
    r, body = rng.uniform(0.25, 0.4), rng.uniform(0.5, 0.8)
    neck_r, neck = r * rng.uniform(0.3, 0.45), rng.uniform(0.15, 0.3)
    shoulder = rng.uniform(0.12, 0.25)
    z = 2 * body
    parts = [frustum((0, 0, body), r, body)]
    parts.append(frustum((0, 0, z + shoulder), r, shoulder, 1.0, neck_r / r))
    z += 2 * shoulder
    parts.append(frustum((0, 0, z + neck), neck_r, neck, material=0))
    z += 2 * neck
    parts.append(frustum((0, 0, z + 0.05), neck_r * 1.15, 0.05, material=1))
    if rng.random() < 0.6:
        parts.append(frustum((0, 0, body), r * 1.02, body * 0.35, material=2))
    return parts


def chair(rng) -> list[Part]:
    w, d, seat_h = rng.uniform(0.45, 0.6), rng.uniform(0.45, 0.6), rng.uniform(0.6, 0.8)
    leg = rng.uniform(0.04, 0.07)
    parts = _legs(w - leg, d - leg, seat_h, leg, square=rng.random() < 0.5)
    parts.append(box((0, 0, seat_h), (w, d, 0.06)))
    back_h = rng.uniform(0.5, 0.8)
    parts.append(
        box((0, d - 0.05, seat_h + back_h / 2), (w, 0.05, back_h / 2), rot_x(rng.uniform(-0.15, 0.05)))
    )
    if rng.random() < 0.4:
        for sx in (-1, 1):
            parts.append(box((sx * w, 0, seat_h + 0.25), (0.05, d * 0.8, 0.04), material=1))
    return parts


def table(rng) -> list[Part]:
    h, thick = rng.uniform(0.7, 0.95), rng.uniform(0.04, 0.08)
    if rng.random() < 0.5:
        w, d = rng.uniform(0.8, 1.1), rng.uniform(0.5, 0.8)
        parts = [box((0, 0, h), (w, d, thick))]
        leg = rng.uniform(0.04, 0.08)
        parts += _legs(w - 2 * leg, d - 2 * leg, h, leg, square=rng.random() < 0.5)
    else:
        r = rng.uniform(0.6, 1.0)
        parts = [frustum((0, 0, h), r, thick)]
        parts.append(frustum((0, 0, h / 2), rng.uniform(0.05, 0.1), h / 2, material=1))
        parts.append(frustum((0, 0, 0.04), r * 0.5, 0.04, material=1))
    return parts


def lamp(rng) -> list[Part]:
    base_r, pole = rng.uniform(0.25, 0.4), rng.uniform(0.5, 0.9)
    shade_h, shade_r = rng.uniform(0.2, 0.35), rng.uniform(0.3, 0.5)
    parts = [
        frustum((0, 0, 0.05), base_r, 0.05, material=1),
        frustum((0, 0, 0.1 + pole), 0.05, pole, material=1),
    ]
    top = 0.1 + 2 * pole
    parts.append(frustum((0, 0, top + shade_h * 0.5), shade_r, shade_h, 1.0, rng.uniform(0.4, 0.7)))
    if rng.random() < 0.5:
        parts.append(ellipsoid((0, 0, top), (0.08, 0.08, 0.1), material=2))
    return parts


def car(rng) -> list[Part]:
    length, width, body_h = rng.uniform(0.9, 1.2), rng.uniform(0.4, 0.55), rng.uniform(0.18, 0.28)
    wheel_r = rng.uniform(0.15, 0.22)
    z = wheel_r + body_h
    parts = [box((0, 0, z), (length, width, body_h))]
    cab_len = length * rng.uniform(0.4, 0.6)
    cab_x = rng.uniform(-0.2, 0.1) * length
    parts.append(box((cab_x, 0, z + body_h + 0.15), (cab_len, width * 0.9, 0.15), material=2))
    for sx in (-1, 1):
        for sy in (-1, 1):
            c = (sx * length * 0.65, sy * (width + 0.02), wheel_r)
            parts.append(frustum(c, wheel_r, 0.07, rot=rot_x(np.pi / 2), material=1))
    if rng.random() < 0.3:
        parts.append(box((-length * 0.95, 0, z + body_h + 0.08), (0.05, width, 0.03), material=1))
    return parts


def airplane(rng) -> list[Part]:
    length, r = rng.uniform(0.9, 1.2), rng.uniform(0.1, 0.16)
    z = 0.5
    parts = [ellipsoid((0, 0, z), (length, r, r), material=0)]
    span, chord = rng.uniform(0.8, 1.2), rng.uniform(0.15, 0.25)
    sweep = rng.uniform(-0.3, 0.1)
    parts.append(
        box((rng.uniform(-0.1, 0.15), 0, z), (chord, span, 0.025), rot_z(sweep) @ rot_y(0.0), material=1)
    )
    parts.append(box((-length * 0.85, 0, z + 0.15), (0.12, 0.025, 0.16), rot_y(-0.3), material=1))
    parts.append(box((-length * 0.85, 0, z + 0.02), (0.08, span * 0.35, 0.02), material=1))
    if rng.random() < 0.6:
        for sy in (-1, 1):
            parts.append(
                frustum((0.1, sy * span * 0.45, z - 0.08), 0.05, 0.12, rot=rot_y(np.pi / 2), material=2)
            )
    return parts


def tree(rng) -> list[Part]:
    trunk_h, trunk_r = rng.uniform(0.3, 0.6), rng.uniform(0.06, 0.12)
    parts = [frustum((0, 0, trunk_h / 2), trunk_r, trunk_h / 2, 1.0, 0.8, material=1)]
    if rng.random() < 0.5:  # conifer: stacked cones
        tiers = int(rng.integers(2, 4))
        r, z = rng.uniform(0.45, 0.65), trunk_h
        for _ in range(tiers):
            h = rng.uniform(0.3, 0.45)
            parts.append(frustum((0, 0, z + h), r, h, 1.0, 0.05))
            z += h * 1.2
            r *= 0.75
    else:  # deciduous: a cluster of blobs
        r = rng.uniform(0.35, 0.55)
        parts.append(ellipsoid((0, 0, trunk_h + r * 0.8), (r, r, r * rng.uniform(0.8, 1.2))))
        for _ in range(int(rng.integers(1, 4))):
            a = rng.uniform(0, 2 * np.pi)
            c = (np.cos(a) * r * 0.6, np.sin(a) * r * 0.6, trunk_h + r * rng.uniform(0.5, 1.1))
            parts.append(ellipsoid(c, np.full(3, r * rng.uniform(0.5, 0.7))))
    return parts


def house(rng) -> list[Part]:
    w, d, h = rng.uniform(0.6, 0.9), rng.uniform(0.45, 0.7), rng.uniform(0.35, 0.55)
    parts = [box((0, 0, h), (w, d, h))]
    roof_h = rng.uniform(0.25, 0.45)
    s = np.sqrt(2) / 2
    parts.append(
        box(
            (0, 0, 2 * h),
            (w * 1.05, d * s * 1.05, d * s * 1.05 * roof_h / d * 1.4),
            rot_x(np.pi / 4),
            material=1,
        )
    )
    parts.append(box((w * rng.uniform(-0.5, 0.5), -d - 0.01, h * 0.45), (0.1, 0.02, h * 0.45), material=2))
    if rng.random() < 0.6:
        parts.append(box((w * 0.5, d * 0.3, 2 * h + roof_h), (0.07, 0.07, roof_h * 0.6), material=2))
    return parts


def animal(rng) -> list[Part]:
    length, girth = rng.uniform(0.5, 0.75), rng.uniform(0.18, 0.28)
    leg_h = rng.uniform(0.25, 0.45)
    z = leg_h + girth * 0.7
    parts = [ellipsoid((0, 0, z), (length, girth, girth))]
    head = girth * rng.uniform(0.7, 1.0)
    neck_up = rng.uniform(0.1, 0.4)
    parts.append(
        ellipsoid((length + head * 0.6, 0, z + neck_up), (head * 1.2, head * 0.8, head * 0.8), material=0)
    )
    parts += _legs(length * 0.65, girth * 0.55, leg_h + 0.05, 0.05, material=1)
    parts.append(frustum((-length - 0.1, 0, z + 0.05), 0.03, 0.15, rot=rot_y(-1.1), material=1))
    if rng.random() < 0.6:
        for sy in (-1, 1):
            ear = (length + head * 0.8, sy * head * 0.4, z + neck_up + head * 0.8)
            parts.append(frustum(ear, 0.06, 0.08, 1.0, 0.1, material=2))
    return parts


def _decal_color(rng, under: np.ndarray) -> np.ndarray:
    """A marking's colour, made to stand out from the colour `under` it: white or black paint half the
    time, else a hue at least a quarter turn from the part's."""
    u = rng.random()
    if u < 0.3:
        return np.full(3, rng.uniform(0.85, 1.0))
    if u < 0.5:
        return np.full(3, rng.uniform(0.03, 0.15))
    hue = colorsys.rgb_to_hsv(*under)[0] + rng.uniform(0.25, 0.75)
    return _color(rng, hue % 1.0, sat=(0.5, 1.0), val=(0.6, 1.0))


def _decal(rng, under, azimuth=None, kind=None, half_width=(0.5, 1.0), half_height=(0.3, 0.6)) -> Decal:
    """A marking of `kind` (random when None) at `azimuth` (random when None); a label spans a sixth to a
    third of a round body's circumference and about half a part's height."""
    return Decal(
        _decal_color(rng, under),
        int(rng.integers(1, 4)) if kind is None else kind,
        float(rng.uniform(-np.pi, np.pi)) if azimuth is None else azimuth,
        float(rng.uniform(*half_width)),
        float(rng.uniform(-0.3, 0.3)),
        float(rng.uniform(*half_height)),
    )


def _table_item(rng, top: Part) -> Part:
    """A book or a vase left off-centre on a table top."""
    z_top = top.center[2] + top.half[2]
    a, rho = rng.uniform(0, 2 * np.pi), rng.uniform(0.35, 0.65)
    x, y = top.half[0] * rho * np.cos(a), top.half[1] * rho * np.sin(a)
    h = rng.uniform(0.06, 0.15)
    if rng.random() < 0.5:
        half = (rng.uniform(0.1, 0.2), rng.uniform(0.07, 0.14), h)
        return box((x, y, z_top + h), half, rot_z(rng.uniform(0, np.pi)), material=2)
    return frustum((x, y, z_top + h), rng.uniform(0.06, 0.12), h, 1.0, rng.uniform(0.5, 1.3), material=2)


def _markings(rng, category: str, parts: list[Part], materials: list[Material]) -> list[Part]:
    """Add the instance's one-sided markings to its parts (in place) and return them."""

    def under(part: Part) -> np.ndarray:
        return materials[part.material].color1

    if category == "table":
        parts.append(_table_item(rng, parts[0]))
    elif category == "animal":  # a face on the head (it looks along +x), a patch on the flank
        parts[1].decal = _decal(rng, under(parts[1]), azimuth=0.0, kind=2, half_width=(0.6, 0.9))
        parts[0].decal = _decal(rng, under(parts[0]))
    elif category == "chair":  # a cushion or a print on the front of the back rest (legs, seat, back)
        parts[5].decal = _decal(rng, under(parts[5]), azimuth=-np.pi / 2, half_width=(0.3, 0.6))
    elif category == "bottle" and len(parts) == 5:  # the printed side of its label band
        parts[4].decal = _decal(rng, under(parts[4]), half_height=(0.7, 0.95))
    else:  # the body, the lamp's shade, the tree's crown
        part = parts[{"lamp": 2, "tree": 1}.get(category, 0)]
        part.decal = _decal(rng, under(part))
    return parts


_BUILDERS = {
    "mug": mug,
    "bottle": bottle,
    "chair": chair,
    "table": table,
    "lamp": lamp,
    "car": car,
    "airplane": airplane,
    "tree": tree,
    "house": house,
    "animal": animal,
}
_HUES = {"tree": (0.3, 0.08, None), "house": (None, 0.02, None)}


def _normalise(parts: list[Part]) -> list[Part]:
    """Centre the object on x, y, keep it on z = 0, and scale it to a height-or-width of about 1.4."""
    corners = []
    for p in parts:
        r = np.abs(p.rot) @ p.half
        corners += [p.center - r, p.center + r]
    lo, hi = np.min(corners, 0), np.max(corners, 0)
    scale = 1.4 / max(hi - lo)
    shift = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    for p in parts:
        p.center = (p.center - shift) * scale
        p.half = p.half * scale
    return parts


def make_instance(seed: int, category: str, instance_id: int, markings: bool = True) -> Instance:
    """The instance fixed by (world seed, category, instance id); without `markings`, the same shape and materials
    without its one-sided markings (a what-if variant of the world, `ssl_kit.world.variation`)."""
    if category not in _BUILDERS:
        raise ValueError(f"unknown category {category!r} (expected one of {', '.join(CATEGORIES)})")
    rng = np.random.default_rng([seed, CATEGORIES.index(category), instance_id, 7])
    materials = _materials(rng, 3, list(_HUES.get(category, (None, None, None))))
    parts = _BUILDERS[category](rng)
    marks = np.random.default_rng([seed, CATEGORIES.index(category), instance_id, 8])
    if markings:
        parts = _markings(marks, category, parts, materials)
    return Instance(category, _normalise(parts), materials)
