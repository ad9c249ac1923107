"""A target's images in the order of its transformation, from what the `ProtocolSet` records.

- viewpoint (ALOI `_r<deg>`): `info["factor"]`, the azimuth in degrees.
- illumination_color (`_i<t>`): `info["factor"]`, the lamp step (colour temperature, low to high).
- illumination_direction (`_l<l>c<c>`): `info["factor"]` pairs, light direction l first, then camera c.
- occlusion (GOT-10k): `info["cover"]`, cover level 0 (hidden) .. 8 (fully visible).
- synthetic_occlusion: `occlusion`, the hidden fraction of the box.
- instance, instance_viewpoint (Pascal3D+): `info["azimuth_bin"]`, then `info["elevation_bin"]`.
- anything else: file name.
Ties keep the protocol's own order (stable sorts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssl_kit.invariance.measure import MIN_TARGET_SIZE
from ssl_kit.invariance.protocols import ProtocolSet

_FACTORS = {"viewpoint": ("azimuth {}°", "azimuth"), "illumination_color": ("lamp step i{}", "lamp step")}


@dataclass
class TargetOrder:
    indices: np.ndarray  # (m,) indices into the protocol's images, in transformation order
    labels: list[str]  # (m,) what each image is ("azimuth 35°", "cover level 3", ...)
    by: str  # what the order follows


def target_order(protocol: ProtocolSet, target) -> TargetOrder:
    """The images of `target` in `protocol`, ordered by the protocol's ordering metadata (see module doc)."""
    idx = np.flatnonzero(protocol.targets == target)
    if len(idx) == 0:
        raise KeyError(f"{protocol.name}: no target {target!r}")
    info = protocol.info or {}
    if "factor" in info:
        f = np.asarray(info["factor"])[idx]
        if f.ndim == 2:  # illumination direction: (light, camera)
            order = np.lexsort((np.arange(len(idx)), f[:, 1], f[:, 0]))
            labels = [f"light {a}, camera {b}" for a, b in f[order]]
            return TargetOrder(idx[order], labels, "light direction, then camera (info['factor'])")
        order = np.argsort(f, kind="stable")
        what, by = _FACTORS.get(protocol.name, ("factor {}", "factor"))
        return TargetOrder(idx[order], [what.format(v) for v in f[order]], f"{by} (info['factor'])")
    if "cover" in info:
        c = np.asarray(info["cover"])[idx]
        order = np.argsort(c, kind="stable")
        return TargetOrder(idx[order], [f"cover level {v}" for v in c[order]], "cover level (info['cover'])")
    if protocol.occlusion is not None:
        o = protocol.occlusion[idx]
        order = np.argsort(o, kind="stable")
        return TargetOrder(idx[order], [f"{v:.0%} occluded" for v in o[order]], "occluded fraction")
    if "azimuth_bin" in info:
        az = np.asarray(info["azimuth_bin"])[idx]
        el = np.asarray(info["elevation_bin"])[idx] if "elevation_bin" in info else np.zeros_like(az)
        order = np.lexsort((np.arange(len(idx)), el, az))
        labels = [f"azimuth bin {a}, elevation bin {e}" for a, e in zip(az[order], el[order], strict=True)]
        return TargetOrder(idx[order], labels, "azimuth bin, then elevation bin")
    names = [protocol.paths[i].name for i in idx]
    order = sorted(range(len(idx)), key=lambda j: names[j])
    return TargetOrder(idx[order], [names[j] for j in order], "file name")


def target_options(protocol: ProtocolSet, min_size: int = MIN_TARGET_SIZE) -> list[tuple[str, object]]:
    """(label, target) for a dropdown: targets in order of first appearance, with class and image count.

    Only targets of at least `min_size` images (those the measure uses) are listed, unless there are none."""
    labels, first, counts = np.unique(protocol.targets, return_index=True, return_counts=True)
    keep = counts >= min_size if (counts >= min_size).any() else counts > 0
    out = []
    for j in np.argsort(first, kind="stable"):
        if not keep[j]:
            continue
        t = labels[j]
        cls = protocol.classes[first[j]]
        text = f"{t}" + (f" · {cls}" if str(cls) != str(t) else "") + f" ({counts[j]} images)"
        out.append((text, t.item() if hasattr(t, "item") else t))
    return out
