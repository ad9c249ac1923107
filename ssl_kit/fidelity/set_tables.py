"""The world's fidelity card measured: `fidelity_card(world)` (`python -m ssl_kit world --card`) measures a built
world folder into one table per set (`ssl_kit.fidelity.card`), each row a property: the real dataset's value and
its source (`ssl_kit.fidelity.real_values`, copied from docs/world_sources.md; "no source found" where there is
none), the world's value measured from the files and the ground truth on disk, and the goal where the issue sets
one.

Where the world is measured (the definitions: `ssl_kit.fidelity.measures`):
- videos: the followed object is `anno/<clip>.txt` (object 0); its box side is sqrt(w * h) over the frame's
  shorter side, the median over every frame of every clip. Camera motion (the background's change between
  frames t and t + 4, `PAIRS_PER_CLIP` pairs per clip), the boxes' cover and the region proposals'
  precision (`ssl_kit.video.diagnostics.region_quality`, default `RegionParams`, cached in a temporary
  folder) are measured on the first `clips` clips; the viewing-angle change is the world's own ground truth
  (`ssl_kit.world.sets_video.mean_view_change` with the seed of the set's manifest.json).
- scenes: train2017's annotations (every annotation counts, as in COCO's own statistics).
- objects: objects/metadata.json's boxes; the colour-only classifier trains on objects/train and is scored
  on objects/val; `supervised=RUN_DIR` adds the run's weighted-kNN top-1 on objects/val (the kit's `eval`).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ssl_kit.data.aloi import read_aloi
from ssl_kit.data.coco import read_coco
from ssl_kit.data.got10k import read_got10k
from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.data.images import read_image
from ssl_kit.data.manifest import INCOMPLETE, read_manifest
from ssl_kit.data.pascal3d import pascal3d_classes, read_pascal3d
from ssl_kit.errors import ConfigError, DataError
from ssl_kit.evaluate.splits import LabelledSplits
from ssl_kit.fidelity.card import Row, Table, num, row, spread
from ssl_kit.fidelity.measures import (
    COLOUR_BINS,
    background_change,
    colour_accuracy,
    colour_histogram,
    cover_span,
    image_sides,
    mean_abs_change,
    object_change,
    relative_scale,
    size_split,
)
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.video.box_geometry import box_mask
from ssl_kit.video.diagnostics import region_quality
from ssl_kit.video.regions import RegionParams
from ssl_kit.video.sources import open_videos
from ssl_kit.world.presets import SETS
from ssl_kit.world.sets_video import mean_view_change

MOTION_DELTA = 4  # frames between the two frames of a camera-motion pair
PAIRS_PER_CLIP = 8  # camera-motion pairs per clip, their first frames evenly spaced
STILL = 0.01  # a clip whose background changes less than this (its pairs' mean) looks filmed standing still
VIEW_DELTA = (1, 8)  # frame offsets of the viewing-angle change (a temporal pair's)
ALOI_APART = 30  # degrees between the two ALOI views whose pixel change is measured
SUPERVISED_HINT = "`python -m ssl_kit train --method supervised --data <world>/objects/train`"


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


def scenes_rows(root: Path, split: str = "train2017") -> list[Row]:
    coco = read_coco(root, split, check_files=False)
    counts = [len(coco.annotations[im.id]) for im in coco.images]
    areas, scales = [], []
    for im in coco.images:
        for ann in coco.annotations[im.id]:
            areas.append(ann.area / (im.width * im.height))
            scales.append(relative_scale(np.asarray(ann.bbox), (im.height, im.width))[0])
    small, medium, large = size_split(areas)
    scale = float(np.median(scales)) if scales else float("nan")
    paths = [im.path for im in coco.images]
    return [
        row(
            "scenes",
            "objects_per_image",
            "objects per image",
            f"mean {num(float(np.mean(counts)))}, median {num(float(np.median(counts)))} "
            f"({len(coco.images)} {split} images)",
            float(np.mean(counts)),
        ),
        row(
            "scenes",
            "size_split",
            "small / medium / large objects (mask area)",
            f"{small:.0%} / {medium:.0%} / {large:.0%} ({len(areas)} objects)",
            small,
        ),
        row(
            "scenes",
            "median_scale",
            "object scale sqrt(box area / image area): 10th pct / median / 90th pct",
            " / ".join(num(float(v)) for v in np.percentile(scales, [10, 50, 90])) if scales else "none",
            scale,
        ),
        row("scenes", "image_side", "image size (pixels)", image_sides(paths)),
    ]


def _colour_features(paths: Sequence[Path]) -> dict[int, np.ndarray]:
    """bins -> (N, bins^3) histograms of the images, each image read once."""
    feats: dict[int, list[np.ndarray]] = {b: [] for b in COLOUR_BINS}
    for p in paths:
        image = read_image(p)
        for b in COLOUR_BINS:
            feats[b].append(colour_histogram(image, b))
    return {b: np.stack(f) for b, f in feats.items()}


def supervised_knn(objects: Path, run: str | Path) -> tuple[float, str]:
    """kNN top-1 on objects/val of a run's backbone (the kit's `eval`: train features as the neighbours)."""
    method, cfg, _ = load_run(run)
    splits = LabelledSplits(objects / "train", objects / "val", cfg.image_size)
    acc = splits.scores(method.feature_backbone(), ("knn",))["knn_acc"]
    return acc, f"{num(acc)} (weighted kNN top-1, {cfg.method} run {run})"


def objects_rows(root: Path, supervised: str | Path | None = None) -> list[Row]:
    meta_path = root / "metadata.json"
    if not meta_path.is_file():
        raise DataError(
            meta_path, "file is missing", "the world's objects/metadata.json (world version >= 3)"
        )
    meta = json.loads(meta_path.read_text())
    with_box = [r for r in meta if r.get("box")]
    scale = float(
        np.median([relative_scale(np.asarray(r["box"]), (r["size"], r["size"]))[0] for r in with_box])
    )
    train, val = read_imagefolder(root / "train"), read_imagefolder(root / "val")
    xtr, xva = _colour_features(train.paths), _colour_features(val.paths)
    accs = {b: colour_accuracy(xtr[b], train.labels, xva[b], val.labels) for b in COLOUR_BINS}
    acc = max(accs.values())
    per_bins = ", ".join(f"{b} bins {num(a)}" for b, a in accs.items())
    chance = 1 / len(train.classes)
    sup, sup_text = None, f"not measured: pass --supervised RUN_DIR (e.g. a run of {SUPERVISED_HINT})"
    if supervised is not None:
        sup, sup_text = supervised_knn(root, supervised)
    return [
        row(
            "objects",
            "median_scale",
            "median object scale sqrt(box area / image area)",
            f"{num(scale)} ({len(with_box)} images)",
            scale,
        ),
        row("objects", "image_side", "image size (pixels)", image_sides(train.paths)),
        row(
            "objects",
            "colour_only",
            "colour-only accuracy (RGB histogram + logistic regression)",
            f"{num(acc)} ({per_bins}; chance {num(chance)}, {len(train.classes)} categories)",
            acc,
        ),
        row("objects", "supervised_knn", "supervised network's kNN accuracy on objects/val", sup_text, sup),
    ]


def _per_object(objects: np.ndarray) -> np.ndarray:
    return np.asarray(list(Counter(objects.tolist()).values()))


def aloi_view_rows(root: Path) -> list[Row]:
    index = read_aloi(root, "view")
    counts = _per_object(index.objects)
    steps, changes, on_object = [], [], []
    for obj in np.unique(index.objects):
        rows = np.flatnonzero(index.objects == obj)
        by_angle = {int(index.factors[i]) % 360: index.paths[i] for i in rows}
        angles = sorted(by_angle)
        steps.extend(np.diff(angles))
        images = {}
        for a in (a for a in angles if a % ALOI_APART == 0 and (a + ALOI_APART) % 360 in by_angle):
            for k in (a, (a + ALOI_APART) % 360):
                images.setdefault(k, read_image(by_angle[k]))
            pair = images[a], images[(a + ALOI_APART) % 360]
            changes.append(mean_abs_change(*pair))
            on_object.append(object_change(*pair))
    step = float(np.median(steps)) if steps else float("nan")
    change = float(np.mean(changes)) if changes else float("nan")
    change_obj = float(np.mean(on_object)) if on_object else float("nan")
    return [
        row(
            "aloi_view",
            "views",
            "views per object, angular step",
            f"{num(float(np.median(counts)))} views, {num(step)}° steps ({len(counts)} objects)",
            float(np.median(counts)),
        ),
        row(
            "aloi_view",
            "view_change_30",
            f"mean |pixel change| (0-1) between views {ALOI_APART}° apart",
            f"{num(change)} ({len(changes)} pairs)",
            change,
        ),
        row(
            "aloi_view",
            "view_change_30_object",
            "the same on the object's pixels (non-black in either view)",
            f"{num(change_obj)} ({len(on_object)} pairs)",
            change_obj,
        ),
        row("aloi_view", "image_side", "image size (pixels)", image_sides(index.paths)),
    ]


def aloi_conditions_rows(root: Path, kind: str) -> list[Row]:
    index = read_aloi(root, kind)
    counts = _per_object(index.objects)
    if kind == "ill":
        lights, cams = len(np.unique(index.factors[:, 0])), len(np.unique(index.factors[:, 1]))
        detail, label = f"{lights} lights x {cams} cameras", "illumination directions per object"
    else:
        f = np.unique(index.factors)
        detail, label = f"i{f.min()} … i{f.max()}", "illumination colours per object"
    per_object = float(np.median(counts))
    text = f"{num(per_object)} ({detail}; {len(counts)} objects)"
    return [row(f"aloi_{kind}", "conditions", label, text, per_object)]


def got_rows(root: Path) -> list[Row]:
    seqs = read_got10k(root)
    spans = np.asarray([cover_span(s.cover) for s in seqs])
    levels = [len(np.unique(s.cover)) for s in seqs]
    kept = float((spans >= 4).mean())
    return [
        row(
            "got_occlusion",
            "frames",
            "frames per video",
            spread([len(s) for s in seqs]),
            float(np.mean([len(s) for s in seqs])),
        ),
        row(
            "got_occlusion",
            "cover_span",
            "spread of cover levels per video (max - min)",
            f"{spread(spans)}; {kept:.0%} of {len(seqs)} videos span ≥ 4; distinct levels {spread(levels)}",
            kept,
        ),
    ]


def pascal3d_rows(root: Path) -> list[Row]:
    objects = [o for split in ("train", "val") for o in read_pascal3d(root, split)]
    per_image = Counter(o.image for o in objects)
    classes = sorted(set(pascal3d_classes(root, "train")) | set(pascal3d_classes(root, "val")))
    mean = float(np.mean(list(per_image.values())))
    return [
        row(
            "pascal3d",
            "objects_per_image",
            "objects per image",
            f"{num(mean)} ({len(per_image)} images)",
            mean,
        ),
        row(
            "pascal3d",
            "categories",
            "categories",
            f"{len(classes)} ({', '.join(classes)})",
            float(len(classes)),
        ),
    ]


def _set_rows(name: str, root: Path, supervised, clips: int, region_cache) -> list[Row]:
    if name == "videos":
        return videos_rows(root, clips, region_cache)
    if name == "scenes":
        return scenes_rows(root)
    if name == "objects":
        return objects_rows(root, supervised)
    if name == "aloi_view":
        return aloi_view_rows(root)
    if name in ("aloi_ill", "aloi_col"):
        return aloi_conditions_rows(root, name.split("_")[1])
    if name == "got_occlusion":
        return got_rows(root)
    return pascal3d_rows(root)


def fidelity_card(
    world: str | Path = "data/world/quick",
    supervised: str | Path | None = None,
    clips: int = 20,
    progress: bool = False,
    region_cache: str | Path | None = None,
) -> list[Table]:
    """One `Table` per world set (in `SETS` order) measured from the built world folder `world`; a set that is
    missing or only partly written is a table without rows whose `note` says so. `supervised`: a run folder
    whose backbone's kNN accuracy on objects/val fills its row; `clips`: the videos measured from pixels;
    `region_cache`: where their region proposals are cached (default: a temporary folder; the trainer's
    cache folder shares them with a Region Tracker run on the same videos)."""
    world = Path(world)
    if not world.is_dir():
        raise DataError(world, "folder is missing", "a built world: `python -m ssl_kit world --out FOLDER`")
    if not any((world / name).is_dir() for name in SETS):
        raise DataError(world, "holds none of the world's sets", f"folders {', '.join(SETS)}")
    if clips < 1:
        raise ConfigError(f"clips must be at least 1 (the videos measured from their pixels), not {clips}")
    tables = []
    for name in tqdm(SETS, desc="fidelity card", unit="set", disable=not progress):
        root = world / name
        if not root.is_dir():
            tables.append(Table(name, [], f"not in {world}: skipped"))
        elif (root / INCOMPLETE).exists():
            tables.append(
                Table(name, [], "only partly written: skipped (run `python -m ssl_kit world` to finish)")
            )
        else:
            tables.append(Table(name, _set_rows(name, root, supervised, clips, region_cache)))
    return tables
