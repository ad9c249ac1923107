"""Training sets for the dataset-bias experiments (ssl_kit.study.train_sets) and the positive-pair analysis
(ssl_kit.findings.positive_pairs): known answers on hand-made sets, the trainer's own crops, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ssl_kit.augment import sample_params
from ssl_kit.errors import ConfigError, DataError
from ssl_kit.findings.positive_pairs import _dominant, _union_coverage, positive_pair_stats, read_object_boxes
from ssl_kit.study.data_entry import parse_entry
from ssl_kit.study.train_sets import _square_box, materialize, set_size
from ssl_kit.video.box_geometry import box_iou


def _coco(root: Path, n_images: int = 4, size: int = 40) -> Path:
    """A COCO-layout set: image i holds a red box (5, 5, 10, 10) of category 'mug' and a green one
    (20, 10, 16, 24) of category 'car' (too thin to crop when i is odd: 4 px wide)."""
    (root / "annotations").mkdir(parents=True)
    (root / "train2017").mkdir()
    images, anns = [], []
    for i in range(n_images):
        img = np.zeros((size, size, 3), np.uint8)
        img[5:15, 5:15] = (255, 0, 0)
        w = 4 if i % 2 else 16
        img[10:34, 20 : 20 + w] = (0, 255, 0)
        name = f"{i + 1:012d}.jpg"
        Image.fromarray(img).save(root / "train2017" / name)
        images.append({"id": i + 1, "file_name": name, "width": size, "height": size})
        anns.append(
            {"id": 100 + 2 * i, "image_id": i + 1, "category_id": 1, "bbox": [5, 5, 10, 10], "iscrowd": 0}
        )
        anns.append(
            {"id": 101 + 2 * i, "image_id": i + 1, "category_id": 2, "bbox": [20, 10, w, 24], "iscrowd": 0}
        )
    data = {
        "images": images,
        "annotations": anns,
        "categories": [{"id": 1, "name": "mug"}, {"id": 2, "name": "car"}],
    }
    (root / "annotations" / "instances_train2017.json").write_text(json.dumps(data))
    return root


def test_parse_names_and_errors(tmp_path):
    ts = parse_entry("scene_crops", world=tmp_path)
    assert (ts.kind, ts.root, ts.split) == ("coco_crops", str(tmp_path / "scenes"), "train2017")
    assert parse_entry("coco:/data/coco:val2017").split == "val2017"
    assert parse_entry("folder:/data/imagenet/train").kind == "folder"
    # a relative path is the data folder's, and the set's name (its cache folder's) holds it made whole
    assert parse_entry("folder:mine/train", tmp_path).name == f"folder:{tmp_path / 'mine/train'}"
    assert parse_entry("video:clips", tmp_path) == tmp_path / "clips"
    assert parse_entry("video:/data/clips", tmp_path) == Path("/data/clips")
    with pytest.raises(ConfigError, match="objectz"):
        parse_entry("objectz", world=tmp_path)
    with pytest.raises(ConfigError, match="world folder"):
        parse_entry("objects")
    with pytest.raises(DataError, match="annotation file is missing"):
        set_size(parse_entry(f"coco:{tmp_path}"))


def test_square_box_grows_and_stays_inside():
    assert _square_box((10, 10, 10, 20), 0.1, 100, 100) == (3, 8, 27, 32)  # side 24, centred on (15, 20)
    assert _square_box((0, 0, 10, 10), 0.5, 100, 100) == (0, 0, 20, 20)  # pushed back inside
    assert _square_box((0, 0, 80, 10), 0.5, 50, 40) == (10, 0, 50, 40)  # at most the image side, kept inside


def test_coco_sets_and_crops(tmp_path):
    root = _coco(tmp_path / "coco")
    whole = materialize(parse_entry(f"coco:{root}"), tmp_path / "cache")
    rows = json.loads((whole / "metadata.json").read_text())
    assert len(rows) == 4 and all(r["category"] == "car" or r["category"] == "mug" for r in rows)
    assert rows[0]["category"] == "car" and rows[1]["category"] == "mug"  # the largest object names the image
    assert rows[0]["objects"][0]["box"] == [5, 5, 10, 10]
    crops_ts = parse_entry(f"coco_crops:{root}")
    assert set_size(crops_ts) == 6  # 4 mugs + 2 wide cars (the 4 px cars are under min_box)
    crops = materialize(crops_ts, tmp_path / "cache", n=3, seed=1)
    rows = json.loads((crops / "metadata.json").read_text())
    assert len(rows) == 3 and (crops / ".done").is_file()
    for r in rows:  # the cut object is listed first and fills the crop but for the context margin
        x, y, w, h = r["objects"][0]["box"]
        img = Image.open(crops / r["path"])
        assert img.size == (64, 64) and r["objects"][0]["category"] == r["category"]
        assert 48 <= max(w, h) <= 56 and min(x, y) >= 0 and max(x + w, y + h) <= 64 + 1e-6
        if r["category"] == "mug":  # far from the border: centred, a 10% margin on each side
            assert 4 <= x <= 8 and 4 <= y <= 8
    assert materialize(crops_ts, tmp_path / "cache", n=3, seed=1) == crops  # built once, reused
    with pytest.raises(ConfigError, match="fewer than the 7"):
        materialize(crops_ts, tmp_path / "cache", n=7)


def test_pair_geometry_known_answers():
    a, b = np.array([0.0, 0, 10, 10]), np.array([5.0, 0, 10, 10])
    assert box_iou(a, b)[0, 0] == pytest.approx(50 / 150)  # the one box IoU gives the pairs' crop_iou
    boxes = np.array([[0.0, 0, 5, 10], [0, 0, 10, 2]])
    assert _union_coverage(a, boxes) == pytest.approx(0.5 + 0.5 * 0.2, abs=0.02)  # union of the two boxes
    assert _dominant(a, boxes) == (0, 0.5)
    assert _dominant(np.array([50.0, 50, 5, 5]), boxes) == (-1, 0.0)
    assert _dominant(a, np.zeros((0, 4))) == (-1, 0.0)


def _object_folder(root: Path, n: int = 16, size: int = 32) -> Path:
    """An ImageFolder whose metadata puts one object over the left half of every image."""
    rows = []
    for i in range(n):
        rel = f"c{i % 2}/{i:03d}.png"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (2 * size, 2 * size)).save(root / rel)  # stored at twice the trainer's size
        rows.append({"path": rel, "category": f"c{i % 2}", "objects": [{"box": [0, 0, size, 2 * size]}]})
    (root / "metadata.json").write_text(json.dumps(rows))
    return root


def test_pairs_are_the_trainers_own_crops(tmp_path, monkeypatch):
    """positive_pair_stats draws exactly the crops `ssl_kit train` draws on the same folder and seed."""
    import ssl_kit.training.loop as train_mod
    import ssl_kit.training.step as step_mod
    from ssl_kit.runs.config import TrainConfig

    folder = _object_folder(tmp_path / "set")
    seen = []
    real = step_mod.step_views

    def spy(images, policy, size, n_views, generator):
        state = generator.get_state()  # the draws of the step's one batched call, view-major
        params = sample_params(len(images) * n_views, *images.shape[-2:], policy, size, generator)
        generator.set_state(state)
        seen.append(params["boxes"].double().numpy())
        return real(images, policy, size, n_views, generator)

    monkeypatch.setattr(step_mod, "step_views", spy)
    cfg = TrainConfig(
        method="mocov2",
        scale="smoke",
        data=str(folder),
        out=str(tmp_path / "run"),
        batch_size=8,
        queue_size=16,
        steps=3,
        policy="mocov2",
        seed=5,
    )
    train_mod.train(cfg, progress=False)
    stats = positive_pair_stats(folder, "mocov2", image_size=32, crop_size=32, batch_size=8, steps=3, seed=5)
    np.testing.assert_array_equal(stats.crops1, np.concatenate([s[:8] for s in seen]))
    np.testing.assert_array_equal(stats.crops2, np.concatenate([s[8:] for s in seen]))
    boxes, missing = read_object_boxes(folder, 32)
    assert missing == 0 and np.allclose(boxes[0], [[0, 0, 16, 32]])  # scaled to the trainer's 32 px
    # every view of these images touches the left half's object unless its crop lies wholly in the right half
    right = stats.crops1[:, 0] >= 16
    assert np.array_equal(stats.dominant1 < 0, right)
    assert np.all((stats.coverage1 > 0) == ~right)


def test_pair_stats_on_the_smoke_world(smoke_world, tmp_path):
    objects = materialize(parse_entry("objects", smoke_world), tmp_path / "sets", n=12)
    scenes = materialize(parse_entry("scenes", smoke_world), tmp_path / "sets", n=12)
    s_obj = positive_pair_stats(objects, "no_crop", batch_size=8, steps=2).summary()
    s_sc = positive_pair_stats(scenes, "no_crop", batch_size=8, steps=2).summary()
    assert s_obj["same_object"] == 1.0 and s_obj["crop_iou"] == 1.0  # the whole image twice: one object
    assert s_sc["crop_iou"] == 1.0
    boxes, _ = read_object_boxes(scenes, 32)
    assert max(len(b) for b in boxes) >= 2  # scenes hold several objects
    with pytest.raises(DataError, match="fewer than a batch"):
        positive_pair_stats(objects, batch_size=64)
    with pytest.raises(DataError, match="metadata.json"):
        positive_pair_stats(smoke_world / "objects" / "train")


def test_a_set_without_boxes_is_refused_not_scored_zero(smoke_real_data, tmp_path):
    """An ImageNet folder has no object boxes: the pair analysis says so instead of reporting that no pair shows
    an object."""
    from ssl_kit.findings.positive_pairs import has_object_boxes

    imagenet = materialize(parse_entry("objects", smoke_real_data), tmp_path / "sets", n=12)
    coco = materialize(parse_entry("scenes", smoke_real_data), tmp_path / "sets", n=12)
    assert not has_object_boxes(imagenet) and has_object_boxes(coco)
    with pytest.raises(DataError, match="no image has an object box"):
        positive_pair_stats(imagenet, "no_crop", batch_size=8, steps=2)
