"""Build the world's sets on disk: deterministic, resumable and atomic.

For each set the builder renders its frames in fixed chunks. A chunk's images are written through temporary
files and renames, then a chunk record under `.work/`; a re-run skips chunks already recorded. When every
chunk is done the set's annotation files are written, then `manifest.json` (counts, config hash), and only
then is the `.incomplete` marker removed. A reader refuses a set that still holds the marker, so an
interrupted build never reads as complete; a finished set with the same config hash is left alone. A folder
the builder did not write is never deleted (refused without --force), and one process builds a set at a time.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import shutil
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from ssl_kit.common.atomic import atomic_write_bytes, atomic_write_text
from ssl_kit.common.keys import content_hash
from ssl_kit.common.lock import file_lock
from ssl_kit.common.removal import remove_inside
from ssl_kit.data.coco import rle_encode
from ssl_kit.data.identity import STAMP, edited, stamp_files
from ssl_kit.data.manifest import INCOMPLETE, MANIFEST, read_manifest
from ssl_kit.errors import ConfigError, DataError
from ssl_kit.world.info import world_info
from ssl_kit.world.presets import EXTRA_SETS, SETS, WorldPreset, get_preset
from ssl_kit.world.render import render
from ssl_kit.world.render_culled import render_culled
from ssl_kit.world.scene import pack
from ssl_kit.world.set_plan import SetPlan, object_record
from ssl_kit.world.sets_scenes import scenes_plan
from ssl_kit.world.sets_static import (
    aloi_plan,
    objects_more_plan,
    objects_plan,
    objects_variant_plan,
    pascal3d_plan,
)
from ssl_kit.world.sets_video import got_plan, videos_plan
from ssl_kit.world.variation import ObjectsVariant, variant_folder

# 3: objects/metadata.json holds object boxes; 4: videos follow one object with a hand-held camera;
# 5: scenes with COCO's object counts and sizes; 6: objects carry one-sided markings (every set)
WORLD_VERSION = 6
SET_CHANGED = dict.fromkeys(
    SETS + EXTRA_SETS, 6
)  # sets changed since version 4, by the version that changed them last


def set_version(name: str) -> int:
    """The world version in a set's config hash: the version that last changed it, 4 for a set unchanged
    since then (versions were per world before), so a set a later version leaves alone is not rebuilt."""
    return SET_CHANGED.get(name, 4)


CHUNK = 32  # frames rendered together; fixed so that bytes do not depend on the run
WORK = ".work"


def plan_set(name: str, preset: WorldPreset, seed: int, variant: ObjectsVariant | None = None) -> SetPlan:
    """What set `name` renders; with `variant`, objects/train changed as it says (`ssl_kit.world.variation`)."""
    if variant is not None:
        if name != "objects":
            raise ConfigError(f"a world variant changes the objects set, not {name!r}")
        return objects_variant_plan(preset, seed, variant)
    builders = {
        "objects": lambda: objects_plan(preset, seed),
        "scenes": lambda: scenes_plan(preset, seed),
        "aloi_view": lambda: aloi_plan(preset, seed, "view"),
        "aloi_col": lambda: aloi_plan(preset, seed, "col"),
        "aloi_ill": lambda: aloi_plan(preset, seed, "ill"),
        "got_occlusion": lambda: got_plan(preset, seed),
        "pascal3d": lambda: pascal3d_plan(preset, seed),
        "videos": lambda: videos_plan(preset, seed),
        "objects_more": lambda: objects_more_plan(preset, seed),
    }
    if name not in builders:
        raise ConfigError(f"unknown world set {name!r} (expected one of {', '.join(SETS + EXTRA_SETS)})")
    return builders[name]()


def config_hash(name: str, preset: WorldPreset, seed: int, variant: ObjectsVariant | None = None) -> str:
    config = {"set": name, "preset": preset.to_dict(), "seed": seed, "version": set_version(name)}
    if variant is not None:  # keyed only for a variant: the world's own sets keep their hashes
        config["variant"] = variant.key()
    return content_hash(json.dumps(config, sort_keys=True), chars=16)


def _encode(image: np.ndarray, path: str, quality: int) -> bytes:
    buf = io.BytesIO()
    img = Image.fromarray(image)
    if path.lower().endswith(".png"):
        img.save(buf, format="PNG", compress_level=1)
    else:
        img.save(buf, format="JPEG", quality=quality, subsampling=0)
    return buf.getvalue()


def _check_writable(root: Path, expected_bytes: int) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write_probe"
        probe.write_bytes(b"ok")
        remove_inside(probe, root)
    except OSError as e:
        raise DataError(root, f"cannot write here ({e.strerror or e})", "a writable output folder") from e
    free = shutil.disk_usage(root).free
    if free < expected_bytes:
        raise DataError(
            root, f"only {free / 2**20:.0f} MiB free", f"about {expected_bytes / 2**20:.0f} MiB for this set"
        )


def _render_chunk(plan: SetPlan, chunk: list[int], root: Path, device, quality: int, pool) -> list[dict]:
    frames = [plan.frames[i] for i in chunk]
    records: list[dict] = []
    for size in sorted({f.size for f in frames}):
        group = [f for f in frames if f.size == size]
        scenes = [f.make_scene() for f in group]
        with torch.no_grad():
            out = (render_culled if plan.culled else render)(pack(scenes, device), size)
        images = (out.image * 255 + 0.5).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        visible, amodal = out.visible.cpu().numpy(), out.amodal.cpu().numpy()
        jobs = []
        for b, frame in enumerate(group):
            path = root / frame.path
            path.parent.mkdir(parents=True, exist_ok=True)
            jobs.append(
                pool.submit(
                    lambda p, im, fp: atomic_write_bytes(p, _encode(im, fp, quality)),
                    path,
                    images[b],
                    frame.path,
                )
            )
            objs = object_record(visible[b], amodal[b], len(scenes[b].objects))
            if frame.want_masks:
                for o, rec in enumerate(objs):
                    rec["rle"] = rle_encode(visible[b] == o)
            records.append({"path": frame.path, "size": size, **frame.meta, "objects": objs})
        for j in jobs:
            j.result()
    order = {f.path: k for k, f in enumerate(frames)}
    return sorted(records, key=lambda r: order[r["path"]])


def build_set(
    name: str,
    out: str | Path,
    preset: str | WorldPreset = "quick",
    seed: int = 0,
    device="cpu",
    progress=True,
    force=False,
    variant: ObjectsVariant | None = None,
) -> Path:
    """Build one set under `out/name` (or do nothing if it is already complete with the same config); with
    `variant`, the objects set's train split changed as it says (`ssl_kit.world.variation.build_variant`).

    One process at a time (a lock file `out/.<name>.lock`; another is refused, or for a variant, which a sweep's
    processes ask for side by side, waits); a folder the builder did not write (neither a manifest nor an
    `.incomplete` marker) is refused unless `force`."""
    with file_lock(Path(out) / f".{name}.lock", f"world set {name!r}", wait=variant is not None):
        return _build_set(name, out, preset, seed, device, progress, force, variant)


def _stale(name: str, manifest: dict, preset: WorldPreset, seed: int) -> bool:
    """Whether a set's manifest is of the same preset and seed, written before the set last changed."""
    older = isinstance(manifest.get("world_version"), int) and manifest["world_version"] < set_version(name)
    return older and manifest.get("preset") == preset.name and manifest.get("seed") == seed


def _rebuild(out, preset: str, seed: int, name: str) -> str:
    """The command that rebuilds set `name` in `out` whatever it holds (every command that builds a world
    points here: only `world` has --force)."""
    return f"`python -m ssl_kit world --preset {preset} --seed {seed} --sets {name} --out {out} --force`"


def _warn_if_edited(root: Path, manifest: dict, out, preset: str, seed: int, name: str) -> None:
    """Say so when a finished set's files are no longer those it was built with (edited, added or removed); a
    set built before the kit recorded them has its files as found now recorded."""
    if not (root / STAMP).is_file():
        with contextlib.suppress(OSError):  # a world on a read-only disk stays as it is
            stamp_files(root)
    elif edited(root):
        warnings.warn(
            f"{root}: its files changed since it was built (edited, added or removed by hand); runs and scores "
            f"on it are keyed by what is there now, so they train and score anew. {_rebuild(out, preset, seed, name)} "
            "rebuilds it",
            stacklevel=4,
        )


def _build_set(name, out, preset, seed, device, progress, force, variant=None) -> Path:
    preset = get_preset(preset) if isinstance(preset, str) else preset
    root = Path(out) / name
    digest = config_hash(name, preset, seed, variant)
    manifest = read_manifest(root) if root.exists() else None
    if manifest is not None and not (root / INCOMPLETE).exists():
        if manifest.get("config_hash") == digest:
            _warn_if_edited(root, manifest, out, preset.name, seed, name)
            return root
        if _stale(name, manifest, preset, seed):  # the builder's own set, from an older version of the world
            warnings.warn(
                f"{root}: built by world version {manifest.get('world_version')}, this is version "
                f"{WORLD_VERSION}: rebuilding it",
                stacklevel=3,
            )
            force = True
        if not force:
            raise DataError(
                root / MANIFEST,
                f"holds a set built with another config (hash {manifest.get('config_hash')}, this one is {digest})",
                f"the same preset and seed; to rebuild it, {_rebuild(out, preset.name, seed, name)}, or use "
                "another folder",
            )
    if root.is_dir() and manifest is None and not (root / INCOMPLETE).exists() and any(root.iterdir()):
        if not force:
            raise DataError(
                root,
                "exists and was not written by the world builder (no manifest.json, no .incomplete marker)",
                f"an empty or absent folder for the {name!r} set: move it away, use another folder, or "
                f"replace it with {_rebuild(out, preset.name, seed, name)}",
            )
    plan = plan_set(name, preset, seed, variant)
    work = root / WORK
    state = work / "state.json"
    if root.exists() and (
        force or not state.exists() or json.loads(state.read_text()).get("config_hash") != digest
    ):
        remove_inside(root, out)  # a different or unknown partial build: start over
    _check_writable(root, sum(f.size * f.size for f in plan.frames) // 3)
    (root / INCOMPLETE).touch()
    work.mkdir(exist_ok=True)
    atomic_write_text(state, json.dumps({"config_hash": digest}))

    chunks = [list(range(i, min(i + CHUNK, len(plan.frames)))) for i in range(0, len(plan.frames), CHUNK)]
    bar = tqdm(total=len(plan.frames), desc=name, unit="img", disable=not progress, leave=False)
    try:
        with ThreadPoolExecutor(2) as pool:
            for k, chunk in enumerate(chunks):
                rec_path = work / f"chunk_{k:05d}.json"
                if not rec_path.exists():
                    records = _render_chunk(plan, chunk, root, device, preset.jpeg_quality, pool)
                    atomic_write_text(rec_path, json.dumps(records, separators=(",", ":")))
                bar.update(len(chunk))
        records = []
        for k in range(len(chunks)):
            records += json.loads((work / f"chunk_{k:05d}.json").read_text())
        plan.finalize(root, records)
        files = sum(
            1 for p in root.rglob("*") if p.is_file() and WORK not in p.parts and p.name != INCOMPLETE
        )
        manifest = {
            "set": name,
            "preset": preset.name,
            "seed": seed,
            "config_hash": digest,
            "world_version": WORLD_VERSION,
            "images": len(plan.frames),
            "files": files + 1,
            "size": plan.frames[0].size if plan.frames else preset.size,
        }
        atomic_write_text(root / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        stamp_files(root)  # its files as built: a file edited by hand later makes it other data
    except OSError as e:
        full = e.errno == errno.ENOSPC
        raise DataError(
            e.filename or root,
            "the disk is full" if full else f"write failed ({e.strerror or e})",
            "free space, then re-run the same command to resume" if full else "a writable output folder",
        ) from e
    finally:
        bar.close()
    remove_inside(work, root)
    remove_inside(root / INCOMPLETE, root)
    return root


def build_world(
    out="data/world/quick", preset="quick", seed=0, sets=None, device="cpu", progress=True, force=False
) -> dict:
    """Build every set (or those named in `sets`) under `out`; returns {set name: folder}."""
    preset_obj = get_preset(preset) if isinstance(preset, str) else preset
    names = list(sets) if sets else list(SETS)
    for n in names:
        if n not in SETS + EXTRA_SETS:
            raise ConfigError(f"unknown world set {n!r} (expected one of {', '.join(SETS + EXTRA_SETS)})")
    folders = {}
    for n in tqdm(names, desc="world", unit="set", disable=not progress):
        folders[n] = build_set(n, out, preset_obj, seed, device, progress, force)
    return folders


def build_variant(world: str | Path, variant: ObjectsVariant, progress: bool = True) -> Path:
    """The train folder (an ImageFolder) of `variant` of the world in `world` (`ssl_kit.world.variation`),
    rendered once with the world's preset and seed into `<world>/variants/objects-<key>/` (instant when complete;
    resumable, one process at a time, like every world set)."""
    info = world_info(world)
    if info is None:
        raise ConfigError(
            f"{world}: no world here to vary (a world variant renders the embedded world's objects)"
        )
    out = variant_folder(world, variant)
    return build_set("objects", out, info.preset, info.seed, progress=progress, variant=variant) / "train"
