"""The fidelity card's table of the world's videos, measured on their pixels over time.

The followed object is `anno/<clip>.txt` (object 0); its box side is sqrt(w * h) over the frame's shorter side,
the median over every frame of every clip. Camera motion (the background's change between frames t and t + 4,
`PAIRS_PER_CLIP` pairs per clip), the boxes' cover and the region proposals' precision
(`ssl_kit.video.diagnostics.region_quality`, default `RegionParams`, cached in a temporary folder) are measured
on the first `clips` clips; the viewing-angle change is the world's own ground truth
(`ssl_kit.world.sets_video.mean_view_change` with the seed of the set's manifest.json).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ssl_kit.data.manifest import read_manifest
from ssl_kit.fidelity.card import Row, num, row, spread
from ssl_kit.fidelity.measures import background_change
from ssl_kit.video.box_geometry import box_mask
from ssl_kit.video.diagnostics import region_quality
from ssl_kit.video.regions import RegionParams
from ssl_kit.video.sources import open_videos
from ssl_kit.world.sets_video import mean_view_change

MOTION_DELTA = 4  # frames between the two frames of a camera-motion pair
PAIRS_PER_CLIP = 8  # camera-motion pairs per clip, their first frames evenly spaced
STILL = (
    0.01  # a clip whose background changes less than this (mean of its pairs) looks filmed by a still camera
)
VIEW_DELTA = (1, 8)  # frame offsets of the viewing-angle change (a temporal pair's)


def _manifest_seed(root: Path) -> int | None:
    manifest = read_manifest(root)
    return None if manifest is None or "seed" not in manifest else int(manifest["seed"])


def videos_rows(root: Path, clips: int, region_cache: str | Path | None = None) -> list[Row]:
    videos = open_videos(root)
    subset = list(videos)[:clips]
    sides, lengths = [], [len(v) for v in videos]
    for v in videos:
        h, w = v.read([0])[0].shape[:2]
        b = np.asarray(v.boxes, np.float64)
        b = b[np.isfinite(b).all(1) & (b[:, 2] > 0) & (b[:, 3] > 0)]
        sides.append(np.sqrt(b[:, 2] * b[:, 3]) / min(h, w))
    side = float(np.median(np.concatenate(sides)))
    per_clip, cover = [], []  # background change of each pair, by clip; box cover of each pair's first frame
    for v in subset:
        boxes = np.stack([t.boxes for t in v.tracks]) if v.tracks else np.asarray(v.boxes)[None]
        starts = np.unique(np.linspace(0, len(v) - 1 - MOTION_DELTA, PAIRS_PER_CLIP).round().astype(int))
        changes = []
        for t in starts[starts >= 0]:
            a, b = v.read([t, t + MOTION_DELTA])
            changes.append(background_change(a, b, np.concatenate([boxes[:, t], boxes[:, t + MOTION_DELTA]])))
            cover.append(box_mask(boxes[:, t], *a.shape[:2]).mean())
        per_clip.append(np.asarray(changes, np.float64))
    motion = np.concatenate(per_clip)
    motion_value = float(np.nanmean(motion)) if np.isfinite(motion).any() else float("nan")
    still = sum(1 for c in per_clip if np.isfinite(c).any() and np.nanmean(c) < STILL)
    seed, n = _manifest_seed(root), len(subset)
    if seed is not None and len(set(lengths[:n])) == 1:
        view = mean_view_change(seed, n, lengths[0], VIEW_DELTA)
        view_text = f"{num(view)}° (mean |Δ azimuth|, Δt {VIEW_DELTA[0]}–{VIEW_DELTA[1]}, {n} clips)"
    else:
        view, view_text = None, "n/a: needs the world's manifest.json (its seed) and clips of one length"
    with tempfile.TemporaryDirectory(prefix="ssl_kit_card_") as tmp:  # the trainer's cache, when given
        q = region_quality(subset, RegionParams(), region_cache or tmp)
    tracked = "every object's box" if subset[0].tracks else "the annotated object's box only"
    return [
        row(
            "videos",
            "box_side",
            "followed object's median box side / shorter frame side",
            f"{num(side)} ({len(videos)} clips)",
            side,
        ),
        row(
            "videos",
            "camera_motion",
            f"camera motion: background changed, t vs t+{MOTION_DELTA}",
            f"{num(motion_value)} ({len(motion)} pairs outside {tracked}; {still} of {n} clips "
            f"< {STILL:.0%}, a still background)",
            motion_value,
        ),
        row(
            "videos",
            "box_cover",
            "share of the frame inside the objects' boxes",
            f"{num(float(np.mean(cover)))} ({tracked})",
            float(np.mean(cover)),
        ),
        row("videos", "view_change", "viewing-angle change of a temporal pair", view_text, view),
        row(
            "videos",
            "proposal_precision",
            "region proposals that are objects (IoU >= 0.5)",
            f"{num(q['precision'])} ({q['regions']} regions, mean best IoU {num(q['mean_best_iou'])})",
            q["precision"],
        ),
        row("videos", "clip_length", "clip length (frames)", spread(lengths), float(np.mean(lengths))),
    ]
