"""The ray caster for images of many small objects: each primitive is tested only against the rays of the
pixel rectangle its bounding sphere can cover on screen.

`render` in `render.py` tests every ray against every primitive of a batch, which is fastest for the few
primitives of an object-centric image. A COCO-like scene has dozens of objects, most of them small, so nearly
all of those tests miss; here the cost is the sum of the primitives' screen rectangles instead of primitives x
pixels. Same hit functions, same shading (`render.shade`): the two agree up to float rounding at silhouette
edges (a test holds them together).

The rectangle is conservative: a sphere of radius r whose centre is at camera depth Z > r has every point's
X / Z between min((X - r) / (Z - r), (X - r) / (Z + r)) and max((X + r) / (Z - r), (X + r) / (Z + r)), and
likewise for Y. A sphere reaching the camera plane covers the whole image; one wholly behind it, nothing.
"""

from __future__ import annotations

import math

import torch

from ssl_kit.world.render import (
    BOX,
    ELLIPSOID,
    FAR,
    FRUSTUM,
    NONE,
    Rendered,
    SceneBatch,
    camera_rays,
    hit_box,
    hit_ellipsoid,
    hit_frustum,
    shade,
)

_NEAR = 1e-3  # a sphere closer than this to the camera plane is given the whole image


def _local_radius(kind: torch.Tensor, taper: torch.Tensor) -> torch.Tensor:
    """Radius of a sphere about the local origin holding the unit primitive: (B,P)."""
    r_frustum = torch.sqrt(torch.maximum((taper[..., 0] - taper[..., 1]).abs(), taper.sum(-1).abs()) ** 2 + 1)
    box = torch.full_like(r_frustum, math.sqrt(3.0))
    return torch.where(kind == BOX, box, torch.where(kind == FRUSTUM, r_frustum, torch.ones_like(box)))


def screen_rects(s: SceneBatch, size: int) -> torch.Tensor:
    """Pixel rectangle (x0, y0, x1, y1), end-exclusive, that each primitive can cover: (B,P,4) int64.

    Empty (x0 == x1) for padding and for primitives wholly behind the camera."""
    # world radius: the local radius times local_to_world's largest stretch = 1 / world_to_local's smallest
    stretch = 1.0 / torch.linalg.svdvals(s.world_to_local)[..., -1].clamp_min(1e-12)
    radius = _local_radius(s.kind, s.taper) * stretch  # (B,P)
    cam = (s.cam_rot[:, None] @ (s.center - s.eye[:, None])[..., None])[..., 0]  # (B,P,3) right, down, fwd
    z = cam[..., 2]
    near = z - radius
    far = z + radius
    safe_near = near.clamp_min(_NEAR)
    rects = []
    for axis in (0, 1):
        c = cam[..., axis]
        lo = torch.minimum((c - radius) / safe_near, (c - radius) / far.clamp_min(_NEAR))
        hi = torch.maximum((c + radius) / safe_near, (c + radius) / far.clamp_min(_NEAR))
        # camera-plane units -> pixel index: xx = focal * x + principal, pixel = (xx + 1) / 2 * size - 0.5
        f, p = s.focal[:, None], s.principal[:, axis][:, None]
        lo_px = torch.floor(((f * lo + p) + 1) / 2 * size - 0.5) - 1
        hi_px = torch.ceil(((f * hi + p) + 1) / 2 * size - 0.5) + 2
        lo_px = torch.where(near > _NEAR, lo_px, torch.zeros_like(lo_px))
        hi_px = torch.where(near > _NEAR, hi_px, torch.full_like(hi_px, size))
        rects.append((lo_px.clamp(0, size), hi_px.clamp(0, size)))
    (x0, x1), (y0, y1) = rects
    gone = (far <= _NEAR) | (s.kind == NONE)
    x1 = torch.where(gone, x0, x1)
    return torch.stack([x0, y0, x1, y1], -1).long()


def _tile_pairs(rects: torch.Tensor, size: int, tile: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (primitive, tile) pair whose tile meets the primitive's rectangle: the flat primitive index into
    (B*P) and the tile's pixel indices (Q, tile*tile), with -1 for pixels past the image's edge."""
    t0 = torch.div(rects[..., :2], tile, rounding_mode="floor")
    t1 = torch.div(rects[..., 2:] + tile - 1, tile, rounding_mode="floor")
    wh = (t1 - t0).clamp_min(0).reshape(-1, 2)
    count = wh[:, 0] * wh[:, 1]
    prim = torch.repeat_interleave(torch.arange(count.numel(), device=rects.device), count)
    k = torch.arange(prim.numel(), device=rects.device) - (torch.cumsum(count, 0) - count)[prim]
    w = wh[prim, 0]
    tx = t0.reshape(-1, 2)[prim, 0] + k % w
    ty = t0.reshape(-1, 2)[prim, 1] + torch.div(k, w, rounding_mode="floor")
    off = torch.arange(tile, device=rects.device)
    py = (ty[:, None, None] * tile + off[None, :, None]).expand(-1, tile, tile).reshape(-1, tile * tile)
    px = (tx[:, None, None] * tile + off[None, None, :]).expand(-1, tile, tile).reshape(-1, tile * tile)
    pix = torch.where((py < size) & (px < size), py * size + px, torch.full_like(py, -1))
    return prim, pix


def render_culled(s: SceneBatch, size: int, tile: int = 8) -> Rendered:
    """Render a batch at `size` x `size` pixels, testing each primitive on the `tile` x `tile` pixel tiles its
    screen rectangle meets, all (primitive, tile) pairs of a batch at once."""
    bsz, n_prim = s.kind.shape
    n_pix = size * size
    d = camera_rays(s, size)  # (B,3,N)
    prim, pix = _tile_pairs(screen_rects(s, size), size, tile)
    b, p = torch.div(prim, n_prim, rounding_mode="floor"), prim % n_prim
    m = s.world_to_local[b, p]  # (Q,3,3)
    o = m @ (s.eye[b] - s.center[b, p])[..., None]  # (Q,3,1)
    rays = d.transpose(1, 2)[b[:, None], pix.clamp_min(0)].transpose(1, 2)  # (Q,3,T)
    dl = m @ rays
    t = torch.full(pix.shape, FAR, device=d.device)
    kind = s.kind[b, p]
    for k, fn in ((ELLIPSOID, hit_ellipsoid), (BOX, hit_box), (FRUSTUM, None)):
        sel = kind == k
        if not bool(sel.any()):
            continue
        if fn is None:
            t[sel] = hit_frustum(o[sel][None], dl[sel][None], s.taper[b[sel], p[sel]][None])[0]
        else:
            t[sel] = fn(o[sel][None], dl[sel][None])[0]
    keep = (pix >= 0) & (t < FAR)
    flat = (b[:, None] * n_pix + pix).expand_as(t)[keep]
    t_hit, p_hit = t[keep], p[:, None].expand_as(t)[keep]
    t_obj = torch.full((bsz * n_pix,), FAR, device=d.device).scatter_reduce(0, flat, t_hit, "amin")
    nearest = t_hit == t_obj[flat]  # the lowest primitive index wins a tie, as in the dense caster
    idx = torch.full((bsz * n_pix,), n_prim, dtype=torch.int64, device=d.device)
    idx = idx.scatter_reduce(0, flat[nearest], p_hit[nearest], "amin")
    idx = torch.where(idx == n_prim, torch.zeros_like(idx), idx)
    amodal = torch.zeros(bsz * s.num_objects * n_pix, dtype=torch.bool, device=d.device)
    obj = s.object_id[b, p][:, None].expand_as(t)[keep]
    amodal[(flat // n_pix * s.num_objects + obj) * n_pix + flat % n_pix] = True
    rgb, visible = shade(s, d, t_obj.reshape(bsz, -1), idx.reshape(bsz, -1), size)
    return Rendered(
        image=rgb.reshape(bsz, 3, size, size),
        visible=visible.reshape(bsz, size, size),
        amodal=amodal.reshape(bsz, s.num_objects, size, size),
    )
