"""A small vectorised ray caster for scenes made of analytic primitives.

Every image in a batch is a set of primitives (ellipsoids, boxes, frusta) under a perspective camera, one
directional light with a colour, ambient light, an optional textured ground plane and a procedural
background. One pass computes, for all pixels of all images at once: the nearest hit, Lambertian plus
Blinn-Phong shading, a procedural surface texture in the primitive's own coordinates (so it turns with the
object), the visible object id per pixel and each object's amodal mask (its silhouette ignoring occluders).

The code is plain torch on whatever device the tensors live on: the same function runs on CPU and GPU.
Primitive `k` of image `b` maps world points to its unit local frame by `x_local = M[b,k] @ (x - C[b,k])`,
where the unit shape is the sphere |x| <= 1, the cube |x|_inf <= 1, or the frustum z in [-1, 1] with
radius a + b*z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

ELLIPSOID, BOX, FRUSTUM = 0, 1, 2
NONE = -1
_EPS = 1e-6
FAR = 1e9


@dataclass
class SceneBatch:
    """Padded per-batch scene description (B images, P primitive slots, O object slots)."""

    eye: torch.Tensor  # (B,3) camera position
    cam_rot: torch.Tensor  # (B,3,3) rows: camera right, down, forward in world coordinates
    focal: torch.Tensor  # (B,) focal length in units of half the image width
    principal: torch.Tensor  # (B,2) principal point offset, same units
    kind: torch.Tensor  # (B,P) int64: ELLIPSOID, BOX, FRUSTUM or NONE
    center: torch.Tensor  # (B,P,3)
    world_to_local: torch.Tensor  # (B,P,3,3)
    taper: torch.Tensor  # (B,P,2) frustum (a, b): radius a + b*z
    color1: torch.Tensor  # (B,P,3) albedo
    color2: torch.Tensor  # (B,P,3) second texture colour
    pattern: torch.Tensor  # (B,P) int64 texture pattern id (see `_texture`)
    freq: torch.Tensor  # (B,P) texture frequency
    phase: torch.Tensor  # (B,P,3) texture phase
    specular: torch.Tensor  # (B,P) specular strength
    object_id: torch.Tensor  # (B,P) int64 object slot, NONE for padding
    decal_kind: torch.Tensor  # (B,P) int64 marking kind (see `_decal`), 0 for none
    decal_color: torch.Tensor  # (B,P,3) marking colour
    decal_geom: torch.Tensor  # (B,P,4) marking azimuth, half width (radians), z, half height (local frame)
    light_dir: torch.Tensor  # (B,3) unit vector towards the light
    light_color: torch.Tensor  # (B,3)
    ambient: torch.Tensor  # (B,3)
    ground: torch.Tensor  # (B,) bool: is there a ground plane z = 0
    ground_colors: torch.Tensor  # (B,2,3)
    ground_freq: torch.Tensor  # (B,)
    bg_colors: torch.Tensor  # (B,2,3) background gradient/texture colours
    bg_waves: torch.Tensor  # (B,K,4) background sinusoids: fx, fy, phase, amplitude
    num_objects: int


@dataclass
class Rendered:
    image: torch.Tensor  # (B,3,H,W) float in [0,1]
    visible: torch.Tensor  # (B,H,W) int64 visible object slot, -1 for background
    amodal: torch.Tensor  # (B,O,H,W) bool silhouette of each object ignoring occluders


def camera_rays(s: SceneBatch, size: int) -> torch.Tensor:
    """World-space ray directions, (B,3,N) with N = size*size, pixel centres, row-major."""
    dev = s.eye.device
    coords = (torch.arange(size, device=dev, dtype=torch.float32) + 0.5) / size * 2 - 1
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    x = (xx.reshape(1, -1) - s.principal[:, :1]) / s.focal[:, None]
    y = (yy.reshape(1, -1) - s.principal[:, 1:]) / s.focal[:, None]
    d_cam = torch.stack([x, y, torch.ones_like(x)], dim=1)  # (B,3,N)
    return _normalize(s.cam_rot.transpose(1, 2) @ d_cam)


def _normalize(v: torch.Tensor) -> torch.Tensor:
    """Unit vectors along dim 1 (size 3); written out because a norm over a 3-long strided dim is slow."""
    n = torch.sqrt(v[:, 0] * v[:, 0] + v[:, 1] * v[:, 1] + v[:, 2] * v[:, 2]).clamp_min(_EPS)
    return v / n[:, None]


def _solve_quadratic(a, b, c):
    """Both roots of a t^2 + b t + c = 0 (inf where there is none), smaller first."""
    disc = b * b - 4 * a * c
    ok = (disc >= 0) & (a.abs() > _EPS)
    sq = torch.sqrt(disc.clamp_min(0))
    inv = 0.5 / torch.where(ok, a, torch.ones_like(a))
    t0, t1 = (-b - sq) * inv, (-b + sq) * inv
    lo, hi = torch.minimum(t0, t1), torch.maximum(t0, t1)
    inf = torch.full_like(lo, FAR)
    return torch.where(ok, lo, inf), torch.where(ok, hi, inf)


def _front(t: torch.Tensor, ok: torch.Tensor) -> torch.Tensor:
    return torch.where(ok & (t > _EPS), t, torch.full_like(t, FAR))


def hit_ellipsoid(o, d):
    a = (d * d).sum(2)
    b = 2 * (o * d).sum(2)
    c = (o * o).sum(2) - 1
    t0, t1 = _solve_quadratic(a, b, c)
    t0 = _front(t0, t0 < FAR)
    return torch.minimum(t0, _front(t1, t1 < FAR))


def hit_box(o, d):
    safe = torch.where(d.abs() < _EPS, torch.full_like(d, _EPS), d)
    inv = 1.0 / safe
    t1, t2 = (-1 - o) * inv, (1 - o) * inv
    tmin = torch.minimum(t1, t2).amax(2)
    tmax = torch.maximum(t1, t2).amin(2)
    ok = tmax >= tmin.clamp_min(0)
    return torch.where(
        ok, torch.where(tmin > _EPS, tmin, torch.full_like(tmin, FAR)), torch.full_like(tmin, FAR)
    )


def hit_frustum(o, d, taper):
    ox, oy, oz = o[:, :, 0], o[:, :, 1], o[:, :, 2]
    dx, dy, dz = d[:, :, 0], d[:, :, 1], d[:, :, 2]
    ta, tb = taper[..., 0:1], taper[..., 1:2]
    r_o = ta + tb * oz
    qa = dx * dx + dy * dy - tb * tb * dz * dz
    qb = 2 * (ox * dx + oy * dy - r_o * tb * dz)
    qc = ox * ox + oy * oy - r_o * r_o
    best = torch.full_like(qa, FAR)
    for t in _solve_quadratic(qa, qb, qc):
        z = oz + t * dz
        ok = (t < FAR) & (z.abs() <= 1) & (ta + tb * z >= 0)
        best = torch.minimum(best, _front(t, ok))
    safe_dz = torch.where(dz.abs() < _EPS, torch.full_like(dz, _EPS), dz)
    for side in (-1.0, 1.0):
        t = (side - oz) / safe_dz
        x, y = ox + t * dx, oy + t * dy
        r = (ta + tb * side).clamp_min(0)
        best = torch.minimum(best, _front(t, x * x + y * y <= r * r))
    return best


def _intersect(s: SceneBatch, d: torch.Tensor) -> torch.Tensor:
    """Ray parameter t of every (image, primitive, pixel), FAR where missed: (B,P,N)."""
    o = s.world_to_local @ (s.eye[:, None, :] - s.center)[..., None]  # (B,P,3,1)
    dl = s.world_to_local @ d[:, None]  # (B,P,3,N)
    t = torch.full((d.shape[0], s.kind.shape[1], d.shape[2]), FAR, device=d.device)
    for kind, fn in ((ELLIPSOID, hit_ellipsoid), (BOX, hit_box), (FRUSTUM, None)):
        sel = s.kind == kind
        if not bool(sel.any()):
            continue
        bi, pi = sel.nonzero(as_tuple=True)
        o_k, d_k = o[bi, pi][None], dl[bi, pi][None]  # (1,Q,3,1), (1,Q,3,N)
        if fn is None:
            tk = hit_frustum(o_k, d_k, s.taper[bi, pi][None])
        else:
            tk = fn(o_k, d_k)
        t[bi, pi] = tk[0]
    return t


def _local_normal(kind, p, taper):
    """Normal in local coordinates at local hit points p (B,3,N) of primitives of type `kind` (B,N)."""
    ax, ay, az = p[:, 0].abs(), p[:, 1].abs(), p[:, 2].abs()
    is_x = (ax >= ay) & (ax >= az)
    is_y = ~is_x & (ay >= az)
    box_axis = torch.stack([is_x, is_y, ~is_x & ~is_y], 1)
    box_n = box_axis.float() * torch.sign(p)
    z = p[:, 2]
    ta, tb = taper[:, 0], taper[:, 1]
    side = torch.stack([p[:, 0], p[:, 1], -tb * (ta + tb * z)], 1)
    radial = (p[:, 0] ** 2 + p[:, 1] ** 2).sqrt()
    on_cap = (z.abs() > 1 - 1e-3) & (radial <= (ta + tb * z).abs() + 1e-3)
    cap = torch.stack([torch.zeros_like(z), torch.zeros_like(z), torch.sign(z)], 1)
    fr_n = torch.where(on_cap[:, None], cap, side)
    k = kind[:, None]
    return torch.where(k == BOX, box_n, torch.where(k == FRUSTUM, fr_n, p))


def _texture(pattern, freq, phase, p):
    """Pattern value in [0,1] at local points p (B,3,N): 0 plain, 1 stripes, 2 checker, 3 blobs, 4 rings."""
    f = freq
    x, y, z = p[:, 0] * f + phase[:, 0], p[:, 1] * f + phase[:, 1], p[:, 2] * f + phase[:, 2]
    stripes = (torch.sin(z * 3.1416) > 0).float()
    checker = ((torch.sin(x * 3.1416) * torch.sin(y * 3.1416) * torch.sin(z * 3.1416)) > 0).float()
    blobs = (
        (torch.sin(x * 2.1 + torch.sin(y * 1.7)) + torch.sin(y * 2.3 + torch.sin(z * 1.3))) > 0.6
    ).float()
    rings = (torch.sin(torch.sqrt(x * x + y * y) * 3.1416) > 0).float()
    out = torch.zeros_like(x)
    for pid, val in ((1, stripes), (2, checker), (3, blobs), (4, rings)):
        out = torch.where(pattern == pid, val, out)
    return out


def _decal(kind, geom, p):
    """Where local points p (B,3,N) fall on a part's marking: (inside the panel, on its inner mark), both
    bool (B,N). The panel spans local azimuth geom[:, 0] +- geom[:, 1] about the z axis and local z
    geom[:, 2] +- geom[:, 3]; the inner mark is nothing (kind 1), a disc (2) or three bars (3)."""
    da = torch.remainder(torch.atan2(p[:, 1], p[:, 0]) - geom[:, 0] + math.pi, 2 * math.pi) - math.pi
    u = da / geom[:, 1]
    v = (p[:, 2] - geom[:, 2]) / geom[:, 3]
    inside = (kind > 0) & (u.abs() <= 1) & (v.abs() <= 1)
    disc = (kind == 2) & (u * u + v * v < 0.36)
    bars = (kind == 3) & (u.abs() < 0.8) & (torch.sin(v * (2.5 * math.pi)) > 0.2)
    return inside, inside & (disc | bars)


def _part_table(s: SceneBatch) -> torch.Tensor:
    """Every per-primitive attribute shading reads, side by side: (B,F,P) floats, rows in `_ROWS` order."""
    b, p = s.kind.shape
    cols = [
        s.world_to_local.reshape(b, p, 9),
        s.center,
        s.taper,
        s.phase,
        s.color1,
        s.color2,
        s.decal_color,
        s.decal_geom,
        torch.stack([s.freq, s.specular], -1),
        torch.stack([s.kind, s.pattern, s.decal_kind, s.object_id], -1).float(),
    ]
    return torch.cat(cols, -1).transpose(1, 2)


_ROWS = dict(
    m=slice(0, 9),
    center=slice(9, 12),
    taper=slice(12, 14),
    phase=slice(14, 17),
    color1=slice(17, 20),
    color2=slice(20, 23),
    decal_color=slice(23, 26),
    decal_geom=slice(26, 30),
    freq=30,
    specular=31,
    kind=32,
    pattern=33,
    decal_kind=34,
    object_id=35,
)


def _gather_parts(s: SceneBatch, idx: torch.Tensor) -> dict[str, torch.Tensor]:
    """The attributes of primitive idx (B,N) at every pixel, in one gather: name -> (B,k,N) or (B,N)."""
    table = _part_table(s)
    g = torch.gather(table, 2, idx[:, None, :].expand(-1, table.shape[1], -1))  # (B,F,N)
    out = {name: g[:, rows] for name, rows in _ROWS.items()}
    for name in ("kind", "pattern", "decal_kind", "object_id"):
        out[name] = out[name].long()
    out["m"] = out["m"].reshape(g.shape[0], 3, 3, -1)
    return out


def _background(s: SceneBatch, size: int) -> torch.Tensor:
    dev = s.eye.device
    coords = (torch.arange(size, device=dev, dtype=torch.float32) + 0.5) / size
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    xx, yy = xx.reshape(1, 1, -1), yy.reshape(1, 1, -1)
    w = s.bg_waves[..., None]  # (B,K,4,1)
    val = (w[:, :, 3] * torch.sin(w[:, :, 0] * xx + w[:, :, 1] * yy + w[:, :, 2])).sum(1)  # (B,N)
    mix = torch.sigmoid(3 * val + 2 * (yy[:, 0] - 0.5))
    c1, c2 = s.bg_colors[:, 0, :, None], s.bg_colors[:, 1, :, None]
    return c1 + (c2 - c1) * mix[:, None]


def render(s: SceneBatch, size: int) -> Rendered:
    """Render a batch at `size` x `size` pixels, testing every ray against every primitive."""
    bsz = s.eye.shape[0]
    d = camera_rays(s, size)
    t = _intersect(s, d)  # (B,P,N)
    t_obj, idx = t.min(1)
    rgb, visible = shade(s, d, t_obj, idx, size)
    prim_hit = (t < FAR).float()  # (B,P,N)
    slots = torch.arange(s.num_objects, device=d.device)
    onehot = (s.object_id[:, :, None] == slots).float().transpose(1, 2)  # (B,O,P)
    amodal = (onehot @ prim_hit) > 0
    return Rendered(
        image=rgb.reshape(bsz, 3, size, size),
        visible=visible.reshape(bsz, size, size),
        amodal=amodal.reshape(bsz, s.num_objects, size, size),
    )


def shade(s: SceneBatch, d: torch.Tensor, t_obj: torch.Tensor, idx: torch.Tensor, size: int):
    """Colours (B,3,N) in [0,1] and visible object slots (B,N) from each ray's nearest hit `t_obj` (B,N) on
    primitive `idx` (B,N); the ground plane and the background fill the rest."""
    hit = t_obj < FAR
    # ground plane z = 0, seen from above
    dz = d[:, 2]
    t_ground = torch.where(
        dz < -_EPS, -s.eye[:, 2:3] / torch.where(dz < -_EPS, dz, -torch.ones_like(dz)), FAR
    )
    t_ground = torch.where(s.ground[:, None], t_ground, torch.full_like(t_ground, FAR))
    on_ground = (t_ground < t_obj) & (t_ground < FAR)
    hit = hit & ~on_ground

    p_world = s.eye[:, :, None] + t_obj.clamp_max(1e3)[:, None] * d  # (B,3,N)
    at = _gather_parts(s, idx)
    m = at["m"]  # (B,3,3,N)
    p_local = (m * (p_world - at["center"])[:, None]).sum(2)  # (B,3,N)
    n_local = _local_normal(at["kind"], p_local, at["taper"])
    n_world = (m * n_local[:, :, None]).sum(1)  # M^T n
    n_world = _normalize(n_world)
    tex = _texture(at["pattern"], at["freq"], at["phase"], p_local)
    c1, c2 = at["color1"], at["color2"]
    albedo = c1 + (c2 - c1) * tex[:, None]
    on_decal, on_mark = _decal(at["decal_kind"], at["decal_geom"], p_local)
    albedo = torch.where(on_decal[:, None], at["decal_color"], albedo)
    albedo = torch.where(on_mark[:, None], c1, albedo)

    light = s.light_dir[:, :, None]
    lam = (n_world * light).sum(1, keepdim=True).clamp_min(0)
    half = _normalize(light - d)
    spec = (n_world * half).sum(1, keepdim=True).clamp_min(0) ** 24 * at["specular"][:, None]
    lc, amb = s.light_color[:, :, None], s.ambient[:, :, None]
    obj_rgb = albedo * (amb + lc * lam) + lc * spec

    # ground: checker texture in world xy, Lambertian with normal +z
    gp = s.eye[:, :, None] + t_ground.clamp_max(1e3)[:, None] * d
    gf = s.ground_freq[:, None]
    gcheck = ((torch.sin(gp[:, 0] * gf) * torch.sin(gp[:, 1] * gf)) > 0).float()[:, None]
    g1, g2 = s.ground_colors[:, 0, :, None], s.ground_colors[:, 1, :, None]
    g_alb = g1 + (g2 - g1) * gcheck
    ground_rgb = g_alb * (amb + lc * s.light_dir[:, 2:3, None].clamp_min(0))

    rgb = _background(s, size)
    rgb = torch.where(on_ground[:, None], ground_rgb, rgb)
    rgb = torch.where(hit[:, None], obj_rgb, rgb)

    obj = at["object_id"]
    visible = torch.where(hit, obj, torch.full_like(obj, -1))
    return rgb.clamp(0, 1), visible
