"""The world on disk: every set readable by its reader, deterministic, resumable, atomic, and clear on bad input."""

from __future__ import annotations

import errno
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import ssl_kit.world.build as build
from ssl_kit.cli import main
from ssl_kit.data import (
    read_aloi,
    read_coco,
    read_frame_videos,
    read_got10k,
    read_image,
    read_imagefolder,
    read_pascal3d,
    rle_decode,
)
from ssl_kit.data.identity import STAMP
from ssl_kit.errors import ConfigError, CorruptImageError, DataError, IncompleteSetError
from ssl_kit.world.build import build_set, build_world
from ssl_kit.world.presets import PRESETS, SETS
from ssl_kit.world.shapes import CATEGORIES

P = PRESETS["smoke"]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_world(out, "smoke", seed=0, progress=False)
    return out


def _digest(root: Path) -> dict[str, str]:
    """Every file's bytes, but each set's record of its files' times (`.files`: when they were written)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != STAMP
    }


def test_every_set_is_complete_with_a_manifest(world):
    for name in SETS:
        manifest = json.loads((world / name / "manifest.json").read_text())
        assert manifest["set"] == name and manifest["preset"] == "smoke" and manifest["images"] > 0
        assert not (world / name / ".incomplete").exists() and not (world / name / ".work").exists()


def test_objects_is_an_imagefolder_split_by_instance(world):
    train, val = read_imagefolder(world / "objects" / "train"), read_imagefolder(world / "objects" / "val")
    assert train.classes == sorted(CATEGORIES) == val.classes
    assert len(train.paths) == 10 * P.train_instances * P.views
    assert len(val.paths) == 10 * P.val_instances * P.views
    meta = json.loads((world / "objects" / "metadata.json").read_text())
    inst = {s: {(m["category"], m["instance"]) for m in meta if m["split"] == s} for s in ("train", "val")}
    assert inst["train"].isdisjoint(inst["val"])
    assert read_image(train.paths[0]).shape == (P.size, P.size, 3)


def test_scenes_are_coco_with_overlapping_objects(world):
    coco = read_coco(world / "scenes", "train2017")
    assert len(coco.images) == P.scenes_train
    assert set(coco.categories.values()) == set(CATEGORIES)
    counts = [len(coco.annotations[im.id]) for im in coco.images]
    assert max(counts) >= 3  # COCO-like: a few images have no object big enough to see
    im = coco.images[0]
    for ann in coco.annotations[im.id]:
        mask = rle_decode(ann.segmentation)
        assert mask.shape == (im.height, im.width) and mask.sum() == ann.area
        ys, xs = np.nonzero(mask)
        assert np.allclose(ann.bbox, (xs.min(), ys.min(), np.ptp(xs) + 1, np.ptp(ys) + 1))
    fractions = [a.visible_fraction for a in json_annotations(world)]
    assert min(fractions) < 0.9  # some objects are partly hidden by others


def json_annotations(world: Path) -> list:
    data = json.loads((world / "scenes" / "annotations" / "instances_train2017.json").read_text())
    return [type("Ann", (), a) for a in data["annotations"]]


@pytest.mark.parametrize(("kind", "per_object"), [("view", 72), ("col", 12), ("ill", 24)])
def test_aloi_sweeps(world, kind, per_object):
    idx = read_aloi(world / f"aloi_{kind}", kind)
    assert len(idx) == P.aloi_objects * per_object
    assert sorted(set(idx.objects.tolist())) == list(range(1, P.aloi_objects + 1))


def test_aloi_view_turns_the_object_and_keeps_everything_else(world):
    idx = read_aloi(world / "aloi_view", "view")
    first = [read_image(p).astype(float) for p, o in zip(idx.paths, idx.objects, strict=True) if o == 1]
    corners = [im[[0, 0, -1, -1], [0, -1, 0, -1]] for im in first]
    assert max(float(c.max()) for c in corners) == 0  # the black turntable background (lossless PNG)
    assert np.abs(first[0] - first[9]).mean() > 1.0  # 45 degrees later the image has changed
    assert np.abs(first[0] - first[1]).mean() < np.abs(first[0] - first[18]).mean()  # 5 deg is closer than 90


def test_got_occlusion_covers_a_span_of_levels(world):
    seqs = read_got10k(world / "got_occlusion")
    assert len(seqs) == P.got_videos
    for seq in seqs:
        assert len(seq) == P.got_frames and seq.object_class in CATEGORIES
        assert ((seq.cover == 0) == (seq.absence == 1)).all()
    assert max(int(s.cover.max() - s.cover.min()) for s in seqs) >= 4  # the paper's filter keeps such videos


def test_pascal3d_has_viewpoints_and_boxes(world):
    objs = read_pascal3d(world / "pascal3d", split="train") + read_pascal3d(world / "pascal3d", split="val")
    assert len(objs) == 10 * P.pascal_per_category
    for o in objs[:20]:
        x1, y1, x2, y2 = o.bbox
        assert 1 <= x1 <= x2 <= P.size and 1 <= y1 <= y2 <= P.size
        assert 0 <= o.azimuth < 360 and -90 <= o.elevation <= 90


def test_videos_have_tracks_for_every_object(world):
    videos = read_frame_videos(world / "videos")
    assert len(videos) == P.video_clips
    for v in videos:
        assert len(v) == P.video_frames and v.tracks
        assert v.boxes.shape == (P.video_frames, 4)
        assert all(t.category in CATEGORIES for t in v.tracks)
    moving = [t for v in videos for t in v.tracks if not np.isnan(t.boxes[[0, -1]]).any()]
    assert any(np.abs(t.boxes[0, :2] - t.boxes[-1, :2]).max() > 1 for t in moving)  # objects move


def test_same_seed_same_bytes_other_seed_other_bytes(world, tmp_path):
    build_set("aloi_col", tmp_path / "a", "smoke", seed=0, progress=False)
    build_set("aloi_col", tmp_path / "b", "smoke", seed=1, progress=False)
    assert _digest(tmp_path / "a" / "aloi_col") == _digest(world / "aloi_col")
    assert _digest(tmp_path / "b" / "aloi_col") != _digest(world / "aloi_col")


def test_interrupted_build_never_reads_as_complete_and_resumes_to_the_same_bytes(
    world, tmp_path, monkeypatch
):
    calls = {"n": 0}
    real = build._render_chunk

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C during the third chunk
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "_render_chunk", flaky)
    with pytest.raises(KeyboardInterrupt):
        build_set("objects", tmp_path, "smoke", progress=False)
    assert (tmp_path / "objects" / ".incomplete").exists()
    with pytest.raises(IncompleteSetError, match="partly written"):
        read_imagefolder(tmp_path / "objects" / "train")
    monkeypatch.setattr(build, "_render_chunk", real)
    build_set("objects", tmp_path, "smoke", progress=False)
    assert _digest(tmp_path / "objects") == _digest(world / "objects")


def test_a_complete_set_is_not_rebuilt(world, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(build, "_render_chunk", fail)
    build_world(world, "smoke", seed=0, progress=False)


def test_another_config_in_the_same_folder_is_refused_unless_forced(world, tmp_path):
    build_set("aloi_col", tmp_path, "smoke", seed=0, progress=False)
    with pytest.raises(DataError, match="another config"):
        build_set("aloi_col", tmp_path, "smoke", seed=5, progress=False)
    build_set("aloi_col", tmp_path, "smoke", seed=5, progress=False, force=True)
    assert json.loads((tmp_path / "aloi_col" / "manifest.json").read_text())["seed"] == 5


def test_a_set_of_an_older_world_version_is_rebuilt(world, tmp_path):
    build_set("aloi_col", tmp_path, "smoke", seed=0, progress=False)
    path = tmp_path / "aloi_col" / "manifest.json"
    old = json.loads(path.read_text())
    older = build.set_version("aloi_col") - 1
    path.write_text(json.dumps({**old, "world_version": older, "config_hash": "older"}))
    with pytest.warns(UserWarning, match="rebuilding it"):
        build_set("aloi_col", tmp_path, "smoke", seed=0, progress=False)
    assert json.loads(path.read_text()) == old and _digest(tmp_path / "aloi_col") == _digest(
        world / "aloi_col"
    )
    path.write_text(json.dumps({**old, "world_version": older, "config_hash": "older"}))
    with pytest.raises(DataError, match="another config"):  # an older set of another seed is still refused
        build_set("aloi_col", tmp_path, "smoke", seed=5, progress=False)


def test_a_set_a_later_version_left_alone_is_not_rebuilt(tmp_path, monkeypatch):
    """Sets keep their config hash across world versions that did not change them: no needless rebuild."""
    build_set("aloi_col", tmp_path, "smoke", seed=0, progress=False)
    manifest = tmp_path / "aloi_col" / "manifest.json"
    before = manifest.stat().st_mtime_ns
    monkeypatch.setattr(build, "WORLD_VERSION", build.WORLD_VERSION + 1)
    monkeypatch.setattr(build, "SET_CHANGED", {**build.SET_CHANGED, "scenes": build.WORLD_VERSION})
    build_set("aloi_col", tmp_path, "smoke", seed=0, progress=False)
    assert manifest.stat().st_mtime_ns == before
    hashes = []
    for version in (4, 5):  # a set's own version does enter its hash
        monkeypatch.setattr(build, "SET_CHANGED", {"scenes": version})
        hashes.append(build.config_hash("scenes", P, 0))
    assert hashes[0] != hashes[1]


def test_videos_follow_one_object_with_a_moving_camera(world):
    """The followed object (anno/) is large in the frame and the background moves (issue 16)."""
    videos = read_frame_videos(world / "videos")
    sides = np.concatenate([np.sqrt(v.boxes[:, 2] * v.boxes[:, 3]) / P.scene_size for v in videos])
    assert np.median(sides) >= 0.3
    from ssl_kit.fidelity.measures import background_change

    v = videos[0]
    boxes = np.stack([t.boxes for t in v.tracks])
    a, b = (read_image(v.frames[i]) for i in (0, 4))
    assert background_change(a, b, np.concatenate([boxes[:, 0], boxes[:, 4]])) > 0.05


def test_full_disk_is_a_clear_error_and_leaves_the_set_incomplete(tmp_path, monkeypatch):
    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(build, "atomic_write_bytes", full)
    with pytest.raises(DataError, match="disk is full"):
        build_set("aloi_col", tmp_path, "smoke", progress=False)
    assert (tmp_path / "aloi_col" / ".incomplete").exists()


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match="cannot write"):
        build_set("objects", blocker / "world", "smoke", progress=False)


def test_unknown_preset_and_set_are_named():
    with pytest.raises(ConfigError, match="unknown world preset 'huge'"):
        build_world("/nonexistent", "huge")
    with pytest.raises(ConfigError, match="unknown world set 'coco'"):
        build_world("/nonexistent", "smoke", sets=["coco"])


def test_corrupt_image_and_missing_annotation_name_the_file(world, tmp_path):
    build_set("got_occlusion", tmp_path, "smoke", progress=False)
    seq = read_got10k(tmp_path / "got_occlusion")[0]
    seq.frames[0].write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(CorruptImageError, match=seq.frames[0].name):
        read_image(seq.frames[0])
    gt = tmp_path / "got_occlusion" / seq.name / "groundtruth.txt"
    gt.unlink()
    with pytest.raises(DataError, match="groundtruth.txt"):
        read_got10k(tmp_path / "got_occlusion")


def test_cli_world_builds_and_reports_errors(tmp_path, capsys):
    assert main(["world", "--preset", "smoke", "--out", str(tmp_path), "--sets", "aloi_ill", "--quiet"]) == 0
    assert (tmp_path / "aloi_ill" / "manifest.json").exists()
    assert (
        main(
            [
                "world",
                "--preset",
                "smoke",
                "--out",
                str(tmp_path / "x" / "y"),
                "--sets",
                "aloi_ill",
                "--quiet",
            ]
        )
        == 0
    )
    (tmp_path / "f").write_text("")
    assert main(["world", "--preset", "smoke", "--out", str(tmp_path / "f"), "--quiet"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["world", "--preset", "huge"])


@pytest.mark.parametrize("argv", [["--help"], ["world", "--help"], ["reproduce", "--help"]])
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0 and "usage" in capsys.readouterr().out
