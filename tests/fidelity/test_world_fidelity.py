"""The world's fidelity card: known answers on hand-made inputs, then the card and CLI on the smoke world."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ssl_kit.cli import main
from ssl_kit.errors import ConfigError, DataError
from ssl_kit.fidelity.card import render_markdown
from ssl_kit.fidelity.measures import (
    COCO_LARGE,
    COCO_SMALL,
    background_change,
    box_mask,
    colour_accuracy,
    colour_histogram,
    cover_span,
    mean_abs_change,
    object_change,
    relative_scale,
    size_split,
)
from ssl_kit.fidelity.real_values import REAL
from ssl_kit.fidelity.set_tables import fidelity_card, objects_rows, scenes_rows, videos_rows
from ssl_kit.world.presets import SETS

# ------------------------------------------------------------------------------------- pure measurements


def test_box_mask_covers_the_pixels_of_the_boxes_and_ignores_nan_rows():
    mask = box_mask(np.array([[2, 1, 3, 2], [np.nan] * 4]), 5, 6)
    assert mask.sum() == 6 and mask[1:3, 2:5].all()


def _textured(h=64, w=64, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_a_square_moving_over_a_static_background_is_no_camera_motion():
    bg = _textured()
    a, b = bg.copy(), bg.copy()
    a[16:32, 0:16] = 255  # the square at t ...
    b[16:32, 24:40] = 255  # ... and at t + 4
    boxes = np.array([[0, 16, 16, 16], [24, 16, 16, 16]], float)
    assert background_change(a, b, boxes) == 0.0
    assert background_change(a, b, boxes[:1]) > 0  # the square's new place, outside its old box, changed


def test_a_shifted_background_gives_the_share_of_background_pixels_that_changed():
    a = np.zeros((20, 20, 3), np.uint8)
    b = a.copy()
    b[:, :10, 1] = 50  # changed (> 16 in one channel)
    b[:, 10:15] = 16  # not changed: the threshold is "more than 16"
    b[:, 15:] = 200  # inside the object's box: not counted
    assert background_change(a, b, np.array([[15, 0, 5, 20]], float)) == pytest.approx(200 / 300)
    assert np.isnan(background_change(a, b, np.array([[0, 0, 20, 20]], float)))  # no background at all


def test_relative_scale_size_split_and_cover_span():
    assert relative_scale(np.array([0, 0, 50, 50]), (100, 100))[0] == pytest.approx(0.5)
    assert relative_scale(np.array([[0, 0, 20, 10]]), np.array([[100, 200]]))[0] == pytest.approx(0.1)
    assert COCO_SMALL == pytest.approx(0.00333, abs=1e-5) and COCO_LARGE == pytest.approx(0.03)
    assert size_split([0.001, 0.002, 0.01, 0.05]) == pytest.approx((0.5, 0.25, 0.25))
    assert all(np.isnan(size_split([])))
    assert cover_span([8, 8, 3, 0, 8]) == 8 and cover_span([5]) == 0


def test_mean_abs_change_is_on_a_zero_to_one_scale():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[:2] = 255
    assert mean_abs_change(a, a) == 0 and mean_abs_change(a, b) == pytest.approx(0.5)


def test_object_change_counts_only_the_pixels_an_object_covers():
    a = np.zeros((4, 4, 3), np.uint8)
    a[0, :2] = 200  # the object in view a: 2 pixels
    b = np.zeros_like(a)
    b[0, 1:3] = 100  # in view b: 2 pixels, one shared
    # over the 3 pixels either view covers: |200 - 0| + |200 - 100| + |0 - 100| = 400 of 3 x 255
    assert object_change(a, b) == pytest.approx(400 / 3 / 255)
    assert object_change(a, a) == 0 and object_change(a * 0, a * 0) == 0
    assert mean_abs_change(a, b) == pytest.approx(400 / 16 / 255)


def test_colour_histogram_is_a_joint_rgb_histogram_summing_to_one():
    img = np.zeros((4, 4, 3), np.uint8)
    img[..., 0] = 255  # pure red: r bin 7, g 0, b 0 with 8 bins
    img[0, 0] = (0, 0, 40)  # one pixel in b bin 1
    h = colour_histogram(img, bins=8)
    assert h.shape == (512,) and h.sum() == pytest.approx(1)
    assert h[7 * 64] == pytest.approx(15 / 16) and h[1] == pytest.approx(1 / 16)
    assert colour_histogram(img, bins=4).shape == (64,)


def _noise_images(n, rng, tint=(0, 0, 0)):
    base = rng.integers(0, 160, (n, 8, 8, 3))
    return np.clip(base + np.asarray(tint), 0, 255).astype(np.uint8)


def test_colour_classifier_separates_colours_and_is_at_chance_on_identical_colour_statistics():
    rng = np.random.default_rng(0)

    def hists(images):
        return np.stack([colour_histogram(i) for i in images])

    # two classes that differ only by colour: one tinted red, one tinted blue
    tr = np.concatenate([_noise_images(40, rng, (90, 0, 0)), _noise_images(40, rng, (0, 0, 90))])
    va = np.concatenate([_noise_images(40, rng, (90, 0, 0)), _noise_images(40, rng, (0, 0, 90))])
    y = np.repeat([0, 1], 40)
    assert colour_accuracy(hists(tr), y, hists(va), y) == 1.0
    # two classes of identical colour statistics
    tr, va = _noise_images(100, rng), _noise_images(100, rng)
    y = np.repeat([0, 1], 50)
    assert 0.35 <= colour_accuracy(hists(tr), y, hists(va), y) <= 0.65


# --------------------------------------------------------------------------------------- hand-made sets


def _jpeg(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, quality=95, subsampling=0)


def test_scenes_rows_on_a_hand_made_coco_folder(tmp_path):
    root = tmp_path / "scenes"
    images = [(1, 100, 100), (2, 200, 100), (3, 100, 100)]  # id, width, height
    for i, w, h in images:
        _jpeg(root / "train2017" / f"{i:012d}.jpg", np.zeros((h, w, 3), np.uint8))
    anns = [  # (image id, bbox, mask area): area fractions 0.002, 0.01, 0.05 and 0.04; scales .04 .1 .3 .2
        (1, [0, 0, 4, 4], 20),
        (1, [10, 10, 10, 10], 100),
        (1, [0, 0, 30, 30], 500),
        (2, [0, 0, 40, 20], 800),
    ]
    data = {
        "images": [{"id": i, "file_name": f"{i:012d}.jpg", "width": w, "height": h} for i, w, h in images],
        "annotations": [
            {"id": k + 1, "image_id": i, "category_id": 1, "bbox": b, "area": a, "iscrowd": 0}
            for k, (i, b, a) in enumerate(anns)
        ],
        "categories": [{"id": 1, "name": "mug"}],
    }
    (root / "annotations").mkdir()
    (root / "annotations" / "instances_train2017.json").write_text(json.dumps(data))
    rows = {r.property: r for r in scenes_rows(root)}
    per_image = rows["objects per image"]
    assert per_image.value == pytest.approx(4 / 3) and "median 1 " in per_image.world
    assert rows["small / medium / large objects (mask area)"].world.startswith("25% / 25% / 50%")
    scale = rows["object scale sqrt(box area / image area): 10th pct / median / 90th pct"]
    assert (
        scale.value == pytest.approx(0.15) and scale.world == "0.058 / 0.15 / 0.27"
    )  # numpy's interpolation
    assert rows["image size (pixels)"].world == "100x100 (2), 200x100 (1) of 3 read"
    assert per_image.real == REAL["scenes"]["objects_per_image"][0]


def test_videos_rows_on_a_hand_made_trackingnet_clip(tmp_path):
    """A 32-pixel square moving over a static textured background in 64x64 frames: box side 0.5, no camera
    motion, the box covers a quarter of the frame; no world manifest, so no viewing-angle ground truth."""
    chunk = tmp_path / "videos" / "TRAIN_0"
    bg = _textured(seed=1)
    lines = []
    for t, x in enumerate([0, 8, 16, 24, 32, 24, 16, 8]):  # 8-pixel steps: the JPEG blocks stay aligned
        frame = bg.copy()
        frame[16:48, x : x + 32] = (250, 40, 40)
        _jpeg(chunk / "frames" / "clip" / f"{t}.jpg", frame)
        lines.append(f"{x},16,32,32\n")
    (chunk / "anno").mkdir()
    (chunk / "anno" / "clip.txt").write_text("".join(lines))
    rows = {r.property.split(":")[0]: r for r in videos_rows(tmp_path / "videos", clips=1)}
    side = rows["followed object's median box side / shorter frame side"]
    assert side.value == pytest.approx(0.5) and side.goal == ">= 0.30: met"
    motion = rows["camera motion"]
    assert motion.value == 0.0 and motion.goal == ">= 0.20: NOT met" and "annotated object" in motion.world
    assert "1 of 1 clips < 1%" in motion.world
    assert rows["share of the frame inside the objects' boxes"].value == pytest.approx(0.25)
    assert rows["viewing-angle change of a temporal pair"].world.startswith("n/a")
    assert rows["clip length (frames)"].value == 8
    assert 0 <= rows["region proposals that are objects (IoU >= 0.5)"].value <= 1


# ------------------------------------------------------------------------------- the card, the command


def test_card_on_the_smoke_world(smoke_world):
    tables = fidelity_card(smoke_world, clips=2)
    assert [t.name for t in tables] == list(SETS)
    by_set = {t.name: {r.property: r for r in t.rows} for t in tables}
    assert all(t.rows and not t.note for t in tables)
    assert by_set["aloi_view"]["views per object, angular step"].world.startswith("72 views, 5° steps")
    assert by_set["aloi_ill"]["illumination directions per object"].world.startswith(
        "24 (8 lights x 3 cameras"
    )
    assert by_set["aloi_col"]["illumination colours per object"].value == 12
    assert by_set["pascal3d"]["objects per image"].value == 1 and by_set["pascal3d"]["categories"].value == 10
    videos = by_set["videos"]
    assert np.isfinite(videos["viewing-angle change of a temporal pair"].value)  # from the manifest's seed
    colour = next(r for r in by_set["objects"].values() if r.property.startswith("colour-only"))
    assert 0 <= colour.value <= 1 and colour.goal.startswith("<= 0.25")
    assert "--supervised" in by_set["objects"]["supervised network's kNN accuracy on objects/val"].world
    for t in tables:  # every real value is the sources file's, with its source
        for key, (real, source) in REAL[t.name].items():
            assert any(r.real == real and r.source == source for r in t.rows), (t.name, key)
    text = render_markdown(tables)
    assert text.count("| property | real dataset | source | world | goal |") == len(SETS)


def test_supervised_row_is_the_runs_knn_accuracy_on_objects_val(smoke_world, smoke_run):
    row = objects_rows(smoke_world / "objects", smoke_run)[-1]
    assert 0 <= row.value <= 1 and "weighted kNN top-1, mocov2 run" in row.world


def test_card_skips_missing_and_unfinished_sets_and_refuses_a_world_without_sets(smoke_world, tmp_path):
    world = tmp_path / "world"
    world.mkdir()
    (world / "aloi_col").symlink_to(smoke_world / "aloi_col", target_is_directory=True)
    (world / "pascal3d").mkdir()
    (world / "pascal3d" / ".incomplete").touch()
    tables = {t.name: t for t in fidelity_card(world)}
    assert tables["aloi_col"].rows and tables["videos"].note == f"not in {world}: skipped"
    assert not tables["pascal3d"].rows and "partly written" in tables["pascal3d"].note
    assert "not in" in render_markdown(list(tables.values()))
    with pytest.raises(DataError, match="holds none of the world's sets"):
        fidelity_card(tmp_path)
    with pytest.raises(DataError, match="folder is missing"):
        fidelity_card(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="clips"):
        fidelity_card(world, clips=0)


def test_cli_prints_the_card(smoke_world, capsys):
    assert main(["world", "--card", "--out", str(smoke_world), "--card-clips", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("| property |") == len(SETS) and "### videos: " in out
    assert main(["world", "--card", "--out", str(smoke_world / "missing"), "--quiet"]) == 2
    assert "folder is missing" in capsys.readouterr().err
    assert main(["world", "--supervised", "run", "--out", str(smoke_world), "--quiet"]) == 2
    assert "go with --card" in capsys.readouterr().err
