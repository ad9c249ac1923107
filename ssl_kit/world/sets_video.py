"""Sequences: `got_occlusion/` (GOT-10k layout, an occluder passes in front of one object) and `videos/`
(TrackingNet layout: a hand-held camera follows one object as it moves and turns; others and occluders pass;
each clip is `ssl_kit.world.follow_clip`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.world.follow_clip import follow_clip
from ssl_kit.world.presets import WorldPreset
from ssl_kit.world.randomize import random_background, random_light
from ssl_kit.world.scene import Instance, Placed, Scene, box, frustum, orbit_camera
from ssl_kit.world.set_plan import Frame, SetPlan
from ssl_kit.world.shapes import CATEGORIES, make_instance, random_material

GOT_ID0 = 20_000
# GOT-10k cover levels: 0 = fully occluded, 1..7 = visible fraction in (0,15], (15,30], ... (75,90], (90,100),
# 8 = fully visible.
COVER_EDGES = (0.15, 0.30, 0.45, 0.60, 0.75, 0.90)


def cover_level(visible_fraction: float) -> int:
    if visible_fraction <= 0:
        return 0
    if visible_fraction >= 1.0:
        return 8
    return 1 + sum(visible_fraction > e for e in COVER_EDGES)


def _by_video(records: list[dict]) -> dict[str, list[dict]]:
    """Frame records grouped by video, each group in frame order."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["video"], []).append(r)
    return {name: sorted(rs, key=lambda r: r["frame"]) for name, rs in groups.items()}


def _occluder(rng, kind: str, half_width: float) -> Instance:
    mat = random_material(rng, textured=0.8)
    if kind == "panel":
        parts = [box((0, 0, 0.8), (half_width, 0.04, 1.4))]
    else:
        parts = [frustum((0, 0, 0.8), half_width, 1.4)]
    return Instance("occluder", parts, [mat])


def _got_clip(seed: int, v: int, n_frames: int, t: int) -> Scene:
    rng = np.random.default_rng([seed, 4, v])
    category = CATEGORIES[v % len(CATEGORIES)]
    inst = make_instance(seed, category, GOT_ID0 + v)
    az, el, dist = rng.uniform(0, 360), rng.uniform(5, 35), rng.uniform(2.4, 3.0)
    cam = orbit_camera(az, el, dist, (0, 0, 0.7), focal=2.0)
    light = random_light(rng)
    bg = random_background(rng)
    half_w = rng.uniform(0.5, 1.0)
    occ = _occluder(rng, "panel" if rng.random() < 0.7 else "pole", half_w)
    stop = 1.0 if rng.random() < 0.6 else rng.uniform(0.0, 0.4)  # some occluders stop part-way
    spin = rng.uniform(-15, 15)
    u = t / max(1, n_frames - 1)
    right = cam.rotation()[0]
    toward = (cam.eye - np.array([0, 0, 0.7])) / dist
    start, end = -(half_w + 1.6), (half_w + 1.6) * stop
    x = start + (end - start) * min(1.0, u * 1.25)
    pos = toward * dist * 0.4 + right * x
    pos[2] = 0.0
    objs = [Placed(inst, np.zeros(3), np.radians(spin * u)), Placed(occ, pos, np.radians(az))]
    return Scene(objs, cam, light, bg)


def got_plan(p: WorldPreset, seed: int) -> SetPlan:
    """`list.txt`, `GOT-10k_Train_<6 digits>/` with `00000001.jpg`, groundtruth.txt, cover/absence labels."""
    frames = []
    for v in range(p.got_videos):
        name = f"GOT-10k_Train_{v + 1:06d}"
        for t in range(p.got_frames):
            meta = {"video": name, "frame": t, "category": CATEGORIES[v % len(CATEGORIES)]}

            def make(v=v, t=t):
                return _got_clip(seed, v, p.got_frames, t)

            frames.append(Frame(f"{name}/{t + 1:08d}.jpg", make, p.size, meta))

    def finalize(root: Path, records: list[dict]) -> None:
        by_video = _by_video(records)
        for name, rs in by_video.items():
            gt, cover, absent = [], [], []
            for r in rs:
                o = r["objects"][0]
                x, y, w, h = o["amodal_box"] or o["box"] or [0.0, 0.0, 1.0, 1.0]
                gt.append(f"{x:.4f},{y:.4f},{w:.4f},{h:.4f}\n")
                cover.append(f"{cover_level(o['visible_fraction'])}\n")
                absent.append(f"{int(o['visible_pixels'] == 0)}\n")
            folder = root / name
            atomic_write_text(folder / "groundtruth.txt", "".join(gt))
            atomic_write_text(folder / "cover.label", "".join(cover))
            atomic_write_text(folder / "absence.label", "".join(absent))
            meta = (
                "[METAINFO]\nurl: ssl_kit synthetic world\nbegin: 00:00:00\nanno_fps: 10Hz\n"
                f"object_class: {rs[0]['category']}\nmotion_class: occluded by a passing panel\n"
                f"major_class: object\nroot_class: object\nmotion_adverb: slowly\n"
                f"resolution: ({rs[0]['size']}, {rs[0]['size']})\n"
            )
            atomic_write_text(folder / "meta_info.ini", meta)
        atomic_write_text(root / "list.txt", "".join(n + "\n" for n in sorted(by_video)))

    return SetPlan("got_occlusion", frames, finalize)


def videos_plan(p: WorldPreset, seed: int) -> SetPlan:
    """TrackingNet-style `TRAIN_0/frames/<clip>/<i>.jpg`, `TRAIN_0/anno/<clip>.txt` (object 0) and
    `TRAIN_0/tracks/<clip>.json` with every object's per-frame visible box and visible fraction."""
    frames = []
    for c in range(p.video_clips):
        name = f"clip_{c:05d}"
        for t in range(p.video_frames):
            meta = {"video": name, "frame": t}

            def make(c=c, t=t, m=meta):
                scene, cats = follow_clip(seed, c, p.video_frames, t)
                m["categories"] = cats
                return scene

            frames.append(Frame(f"TRAIN_0/frames/{name}/{t}.jpg", make, p.scene_size, meta))

    def finalize(root: Path, records: list[dict]) -> None:
        by_video = _by_video(records)
        for name, rs in by_video.items():
            cats = rs[0]["categories"]
            tracks = []
            for k, cat in enumerate(cats):
                boxes = [r["objects"][k]["box"] for r in rs]
                visible = [round(r["objects"][k]["visible_fraction"], 4) for r in rs]
                tracks.append({"track_id": k, "category": cat, "boxes": boxes, "visible": visible})
            lines, last = [], [0.0, 0.0, 1.0, 1.0]
            for r in rs:
                o = r["objects"][0]
                last = o["box"] or o["amodal_box"] or last
                lines.append("{:.4f},{:.4f},{:.4f},{:.4f}\n".format(*last))
            chunk = root / "TRAIN_0"
            (chunk / "anno").mkdir(parents=True, exist_ok=True)
            (chunk / "tracks").mkdir(parents=True, exist_ok=True)
            atomic_write_text(chunk / "anno" / f"{name}.txt", "".join(lines))
            data = {"frames": len(rs), "tracks": tracks}
            atomic_write_text(chunk / "tracks" / f"{name}.json", json.dumps(data, separators=(",", ":")))

    return SetPlan("videos", frames, finalize)


def clip_view_azimuths(seed: int, clip: int, n_frames: int) -> np.ndarray:
    """(objects, frames) azimuth, in degrees, from which the camera sees each object of world clip `clip`: the
    object's yaw minus the camera's bearing to it (the camera and the objects move, the objects turn). The
    change between two frames is the viewpoint change a temporal positive pair holds. Nothing is rendered."""
    rows = []
    for t in range(n_frames):
        scene, _ = follow_clip(seed, clip, n_frames, t)
        eye = scene.camera.eye
        rows.append(
            [
                np.degrees(p.yaw - np.arctan2(p.position[0] - eye[0], p.position[1] - eye[1]))
                for p in scene.objects
                if p.instance.category != "occluder"
            ]
        )
    return np.unwrap(np.asarray(rows).T, period=360.0, axis=1)


def mean_view_change(seed: int, n_clips: int, n_frames: int, delta: tuple[int, int]) -> float:
    """Mean absolute change of the viewing azimuth (degrees) of an object between frames t and t + delta of
    the world's clips, over every object, every t and every delta in [lo, hi] that fits in the clip."""
    lo, hi = delta
    changes = []
    for c in range(n_clips):
        az = clip_view_azimuths(seed, c, n_frames)
        for d in range(lo, min(hi, n_frames - 1) + 1):
            changes.append(np.abs(az[:, d:] - az[:, : n_frames - d]).ravel())
    return float(np.concatenate(changes).mean()) if changes else float("nan")
