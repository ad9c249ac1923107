"""What a set asks the builder to render, and what the builder hands back after rendering.

A set is a list of `Frame`s (one image each: a relative path, a scene factory, metadata) and a `finalize`
function that turns the per-frame `Record`s into the set's annotation files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssl_kit.world.scene import Scene


@dataclass
class Frame:
    path: str  # relative to the set folder
    make_scene: Callable[[], Scene]
    size: int
    meta: dict = field(default_factory=dict)
    want_masks: bool = False  # keep visible masks (RLE) in the record


@dataclass
class SetPlan:
    name: str
    frames: list[Frame]
    finalize: Callable[[Path, list[dict]], None]
    culled: bool = False  # many small objects an image: render with `render_culled`


def box_of(mask: np.ndarray) -> list[float] | None:
    """Tight (x, y, w, h) box of a boolean mask in pixel units, or None when empty."""
    (ys,), (xs,) = np.nonzero(mask.any(1)), np.nonzero(mask.any(0))
    if len(xs) == 0:
        return None
    return [float(xs[0]), float(ys[0]), float(xs[-1] - xs[0] + 1), float(ys[-1] - ys[0] + 1)]


def object_record(visible: np.ndarray, amodal: np.ndarray, n_objects: int) -> list[dict]:
    """Per object slot: visible box, amodal box, visible pixels and visible fraction of its silhouette."""
    out = []
    for o in range(n_objects):
        vis = visible == o
        full = amodal[o]
        n_full = int(full.sum())
        n_vis = int(vis.sum())
        out.append(
            {
                "box": box_of(vis),
                "amodal_box": box_of(full),
                "visible_pixels": n_vis,
                "visible_fraction": (n_vis / n_full) if n_full else 0.0,
            }
        )
    return out
