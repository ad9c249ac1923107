"""Scene descriptions in plain numpy, and their packing into a padded `SceneBatch` for the renderer.

A `Part` is one primitive in its object's frame; an `Instance` is a category's parts with their materials;
a `Scene` places instances in the world and sets the camera, the light and the background.
World frame: z up, the ground (when present) is z = 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ssl_kit.world.render import BOX, ELLIPSOID, FRUSTUM, NONE, SceneBatch


def rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1.0, 0], [-s, 0, c]])


@dataclass
class Material:
    color1: np.ndarray
    color2: np.ndarray
    pattern: int = 0
    freq: float = 2.0
    phase: np.ndarray = field(default_factory=lambda: np.zeros(3))
    specular: float = 0.1


@dataclass
class Decal:
    """A marking painted on one side of a part (a label, a decal, a door, a face): the patch of the part's
    surface at local azimuth within `half_width` of `azimuth` (radians, about the part's z axis) and local
    z within `half_height` of `z` (the part's unit frame, z in [-1, 1]). `kind` 1 is a plain panel, 2 a
    panel with a disc (a logo, an eye), 3 a panel with bars (lines of text, windows); the disc and bars
    take the part's own colour."""

    color: np.ndarray
    kind: int = 1
    azimuth: float = 0.0
    half_width: float = 0.5
    z: float = 0.0
    half_height: float = 0.4


@dataclass
class Part:
    kind: int  # ELLIPSOID, BOX or FRUSTUM
    center: np.ndarray  # (3,) in the object frame
    half: np.ndarray  # (3,) half extents along the part's axes
    rot: np.ndarray = field(default_factory=lambda: np.eye(3))  # part axes -> object frame
    material: int = 0  # index into the instance's materials
    taper: tuple[float, float] = (1.0, 0.0)  # frustum radius a + b*z
    decal: Decal | None = None  # a marking that makes the part look different from each side


def ellipsoid(center, half, rot=None, material=0) -> Part:
    return Part(
        ELLIPSOID,
        np.asarray(center, float),
        np.asarray(half, float),
        np.eye(3) if rot is None else rot,
        material,
    )


def box(center, half, rot=None, material=0) -> Part:
    return Part(
        BOX, np.asarray(center, float), np.asarray(half, float), np.eye(3) if rot is None else rot, material
    )


def frustum(center, radius, half_height, r_bottom=1.0, r_top=1.0, rot=None, material=0) -> Part:
    """A cylinder (r_bottom == r_top) or truncated cone along the part's z axis."""
    half = np.array([radius, radius, half_height], float)
    taper = ((r_bottom + r_top) / 2, (r_top - r_bottom) / 2)
    return Part(FRUSTUM, np.asarray(center, float), half, np.eye(3) if rot is None else rot, material, taper)


@dataclass
class Instance:
    """One object: parts in an object frame roughly inside the unit sphere, standing on z = 0."""

    category: str
    parts: list[Part]
    materials: list[Material]


@dataclass
class Placed:
    instance: Instance
    position: np.ndarray  # (3,) world position of the object frame origin
    yaw: float = 0.0  # rotation about world z (radians)
    scale: float = 1.0
    tilt: np.ndarray | None = None  # optional extra rotation (3,3) applied before yaw


@dataclass
class Camera:
    eye: np.ndarray
    target: np.ndarray
    focal: float = 2.0
    principal: tuple[float, float] = (0.0, 0.0)

    def rotation(self) -> np.ndarray:
        fwd = self.target - self.eye
        fwd = fwd / np.linalg.norm(fwd)
        up = np.array([0.0, 0.0, 1.0])
        right = np.cross(fwd, up)
        if np.linalg.norm(right) < 1e-6:
            right = np.array([1.0, 0.0, 0.0])
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        return np.stack([right, down, fwd])


def orbit_camera(azimuth_deg: float, elevation_deg: float, distance: float, target=(0, 0, 0), **kw) -> Camera:
    """Camera on a sphere around `target`: azimuth about z (0 = looking along +y), elevation above the xy plane."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    target = np.asarray(target, float)
    offset = distance * np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), np.sin(el)])
    return Camera(eye=target + offset, target=target, **kw)


@dataclass
class Light:
    direction: np.ndarray  # towards the light
    color: np.ndarray = field(default_factory=lambda: np.ones(3))
    ambient: np.ndarray = field(default_factory=lambda: np.full(3, 0.3))


def light_from_angles(azimuth_deg: float, elevation_deg: float, color=(1, 1, 1), ambient=0.3) -> Light:
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    direction = np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), np.sin(el)])
    amb = np.full(3, ambient) if np.isscalar(ambient) else np.asarray(ambient, float)
    return Light(direction, np.asarray(color, float), amb)


@dataclass
class Background:
    colors: np.ndarray  # (2,3)
    waves: np.ndarray  # (K,4): fx, fy, phase, amplitude
    ground: bool = False
    ground_colors: np.ndarray = field(default_factory=lambda: np.array([[0.4, 0.4, 0.4], [0.5, 0.5, 0.5]]))
    ground_freq: float = 2.0


def plain_background(color=(0, 0, 0), waves: int = 2) -> Background:
    c = np.asarray(color, float)
    return Background(np.stack([c, c]), np.zeros((waves, 4)))


@dataclass
class Scene:
    objects: list[Placed]
    camera: Camera
    light: Light
    background: Background


def _world_parts(placed: Placed):
    """(kind, center, world_to_local, taper, material, decal) of each part in world coordinates."""
    r_obj = rot_z(placed.yaw) @ (placed.tilt if placed.tilt is not None else np.eye(3))
    for part in placed.instance.parts:
        center = placed.position + placed.scale * r_obj @ part.center
        rot = r_obj @ part.rot
        half = np.maximum(placed.scale * part.half, 1e-4)
        yield (
            part.kind,
            center,
            (rot / half).T,
            part.taper,
            placed.instance.materials[part.material],
            part.decal,
        )


def pack(scenes: list[Scene], device: torch.device | str = "cpu") -> SceneBatch:
    """Pad a list of scenes into one SceneBatch of float32 tensors on `device`."""
    bsz = len(scenes)
    n_obj = max(1, max(len(s.objects) for s in scenes))
    n_prim = max(1, max(sum(len(p.instance.parts) for p in s.objects) for s in scenes))
    n_wave = max(1, max(len(s.background.waves) for s in scenes))
    kind = np.full((bsz, n_prim), NONE, np.int64)
    center = np.zeros((bsz, n_prim, 3))
    w2l = np.tile(np.eye(3), (bsz, n_prim, 1, 1))
    taper = np.tile([1.0, 0.0], (bsz, n_prim, 1))
    col1, col2 = np.zeros((bsz, n_prim, 3)), np.zeros((bsz, n_prim, 3))
    pattern = np.zeros((bsz, n_prim), np.int64)
    freq, spec = np.ones((bsz, n_prim)), np.zeros((bsz, n_prim))
    phase = np.zeros((bsz, n_prim, 3))
    obj_id = np.full((bsz, n_prim), NONE, np.int64)
    decal_kind = np.zeros((bsz, n_prim), np.int64)
    decal_color = np.zeros((bsz, n_prim, 3))
    decal_geom = np.tile([0.0, 1.0, 0.0, 1.0], (bsz, n_prim, 1))
    waves = np.zeros((bsz, n_wave, 4))
    for b, s in enumerate(scenes):
        k = 0
        for o, placed in enumerate(s.objects):
            for kd, c, m, tp, mat, dec in _world_parts(placed):
                kind[b, k], center[b, k], w2l[b, k], taper[b, k] = kd, c, m, tp
                col1[b, k], col2[b, k], pattern[b, k] = mat.color1, mat.color2, mat.pattern
                freq[b, k], phase[b, k], spec[b, k], obj_id[b, k] = mat.freq, mat.phase, mat.specular, o
                if dec is not None:
                    decal_kind[b, k], decal_color[b, k] = dec.kind, dec.color
                    decal_geom[b, k] = dec.azimuth, dec.half_width, dec.z, dec.half_height
                k += 1
        waves[b, : len(s.background.waves)] = s.background.waves

    def f(x):
        return torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)

    def i(x):
        return torch.as_tensor(x, dtype=torch.int64, device=device)

    return SceneBatch(
        eye=f([s.camera.eye for s in scenes]),
        cam_rot=f([s.camera.rotation() for s in scenes]),
        focal=f([s.camera.focal for s in scenes]),
        principal=f([s.camera.principal for s in scenes]),
        kind=i(kind),
        center=f(center),
        world_to_local=f(w2l),
        taper=f(taper),
        color1=f(col1),
        color2=f(col2),
        pattern=i(pattern),
        freq=f(freq),
        phase=f(phase),
        specular=f(spec),
        object_id=i(obj_id),
        decal_kind=i(decal_kind),
        decal_color=f(decal_color),
        decal_geom=f(decal_geom),
        light_dir=f([s.light.direction / np.linalg.norm(s.light.direction) for s in scenes]),
        light_color=f([s.light.color for s in scenes]),
        ambient=f([s.light.ambient for s in scenes]),
        ground=torch.as_tensor([s.background.ground for s in scenes], device=device),
        ground_colors=f([s.background.ground_colors for s in scenes]),
        ground_freq=f([s.background.ground_freq for s in scenes]),
        bg_colors=f([s.background.colors for s in scenes]),
        bg_waves=f(waves),
        num_objects=n_obj,
    )


__all__ = [
    "BOX",
    "ELLIPSOID",
    "FRUSTUM",
    "Background",
    "Camera",
    "Decal",
    "Instance",
    "Light",
    "Material",
    "Part",
    "Placed",
    "Scene",
    "box",
    "ellipsoid",
    "frustum",
    "light_from_angles",
    "orbit_camera",
    "pack",
    "plain_background",
    "rot_x",
    "rot_y",
    "rot_z",
]
