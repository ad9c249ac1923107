from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ssl_kit.data.coco import (
    CocoAnnotation,
    annotation_mask,
    polygons_to_mask,
    read_coco,
    rle_decode,
    rle_encode,
    rle_from_string,
    rle_to_string,
)
from ssl_kit.data.manifest import INCOMPLETE
from ssl_kit.errors import DataError, IncompleteSetError

# ------------------------------------------------------------------------------------------------ reader


@pytest.fixture
def data_coco(tmp_path) -> Path:
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    (root / "train2017").mkdir()
    for name in ("000000000001.jpg", "000000000002.jpg"):
        Image.new("RGB", (6, 4)).save(root / "train2017" / name)
    data = {
        "images": [
            {"id": 1, "file_name": "000000000001.jpg", "width": 6, "height": 4},
            {"id": 2, "file_name": "000000000002.jpg", "width": 6, "height": 4},
        ],
        "annotations": [
            {
                "id": 10,
                "image_id": 1,
                "category_id": 3,
                "bbox": [1, 1, 2, 2],
                "area": 4.0,
                "iscrowd": 0,
                "segmentation": [[1, 1, 3, 1, 3, 3, 1, 3]],
            },
            {
                "id": 11,
                "image_id": 1,
                "category_id": 5,
                "bbox": [0, 0, 1, 4],
                "iscrowd": 1,
                "segmentation": {"size": [4, 6], "counts": [0, 4, 20]},
            },
        ],
        "categories": [{"id": 3, "name": "car"}, {"id": 5, "name": "person"}],
    }
    (root / "annotations" / "instances_train2017.json").write_text(json.dumps(data))
    return root


def _rewrite(root: Path, fn) -> None:
    path = root / "annotations" / "instances_train2017.json"
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_read_coco(data_coco):
    idx = read_coco(data_coco)
    assert [im.id for im in idx.images] == [1, 2]
    assert idx.images[0].path == data_coco / "train2017" / "000000000001.jpg"
    assert idx.by_id[2].width == 6 and idx.categories == {3: "car", 5: "person"}
    assert idx.annotations[2] == []
    a, b = idx.annotations[1]
    assert a.bbox == (1.0, 1.0, 2.0, 2.0) and a.area == 4.0 and a.category_id == 3
    assert b.iscrowd == 1 and b.area == 4.0  # area defaults to the box area
    assert annotation_mask(a, 4, 6).sum() > 0
    np.testing.assert_array_equal(annotation_mask(b, 4, 6)[:, 0], [True] * 4)
    assert annotation_mask(b, 4, 6).sum() == 4


def test_read_coco_errors(tmp_path, data_coco):
    with pytest.raises(DataError, match="instances_val2017.json: annotation file is missing"):
        read_coco(data_coco, split="val2017")
    (data_coco / "annotations" / "instances_val2017.json").write_text("{}")
    with pytest.raises(DataError, match="val2017: image folder is missing"):
        read_coco(data_coco, split="val2017")
    (data_coco / "val2017").mkdir()
    with pytest.raises(DataError, match="missing 'images'"):
        read_coco(data_coco, split="val2017")
    (data_coco / "annotations" / "instances_val2017.json").write_text("[1,")
    with pytest.raises(DataError, match="unreadable JSON"):
        read_coco(data_coco, split="val2017")

    (data_coco / "train2017" / "000000000002.jpg").unlink()
    with pytest.raises(DataError, match="000000000002.jpg: image file is missing"):
        read_coco(data_coco)
    assert len(read_coco(data_coco, check_files=False).images) == 2
    Image.new("RGB", (6, 4)).save(data_coco / "train2017" / "000000000002.jpg")

    _rewrite(data_coco, lambda d: d["annotations"][0].update(image_id=99))
    with pytest.raises(DataError, match="annotation 0 refers to unknown image id 99"):
        read_coco(data_coco)
    _rewrite(data_coco, lambda d: d["annotations"][0].update(image_id=1, category_id=7))
    with pytest.raises(DataError, match="unknown category id 7"):
        read_coco(data_coco)
    _rewrite(data_coco, lambda d: d["annotations"][0].update(category_id=3, bbox=[1, 2]))
    with pytest.raises(DataError, match="annotation 0 has a bad bbox"):
        read_coco(data_coco)
    _rewrite(data_coco, lambda d: d["images"][1].pop("height"))
    with pytest.raises(DataError, match="image 1 has no 'height'"):
        read_coco(data_coco)
    (data_coco / INCOMPLETE).touch()
    with pytest.raises(IncompleteSetError):
        read_coco(data_coco)


# ------------------------------------------------------------------------------------------------- masks


def test_rle_encode_hand_computed():
    mask = np.array([[0, 1, 1], [0, 1, 0]], dtype=bool)
    # column-major: col0 = 0,0  col1 = 1,1  col2 = 1,0  -> 0 0 1 1 1 0
    assert rle_encode(mask) == {"size": [2, 3], "counts": [2, 3, 1]}
    # a mask starting with a foreground pixel starts with an empty run of zeros
    assert rle_encode(np.array([[1, 0], [1, 1]], dtype=bool))["counts"] == [0, 2, 1, 1]
    assert rle_encode(np.zeros((2, 2), bool))["counts"] == [4]
    assert rle_encode(np.ones((2, 2), bool))["counts"] == [0, 4]
    np.testing.assert_array_equal(rle_decode({"size": [2, 3], "counts": [2, 3, 1]}), mask)


def test_rle_string_hand_computed():
    # 2, 3, 1 fit in one 5-bit group each: chr(48 + n); the 4th count is stored minus the 2nd: 4 - 3 = 1
    assert rle_to_string([2, 3, 1, 4]) == "2311"
    # 1 - 5 = -4 -> low 5 bits 0b11100 = 28 (sign bit 0x10 set, rest is -1): chr(48 + 28) = "L"
    assert rle_to_string([1, 5, 1, 1]) == "151L"
    # 40 = 0b01000_01000 -> groups 8 (with continuation 0x20: 40 -> "X") then 1 -> "1"
    assert rle_to_string([40]) == "X1"
    assert rle_from_string("2311") == [2, 3, 1, 4]
    assert rle_from_string("151L") == [1, 5, 1, 1]
    assert rle_from_string(b"X1") == [40]
    # a tiny mask through the compressed form: 2x2 with only the bottom-right pixel set
    mask = np.array([[0, 0], [0, 1]], dtype=bool)
    np.testing.assert_array_equal(rle_decode({"size": [2, 2], "counts": "31"}), mask)
    assert rle_to_string(rle_encode(mask)["counts"]) == "31"


def test_rle_round_trip_random():
    rng = np.random.default_rng(0)
    for trial in range(30):
        h, w = rng.integers(1, 40, size=2)
        p = rng.uniform(0.02, 0.98)
        mask = rng.random((h, w)) < p
        if trial % 3 == 0:  # blobby masks with long runs (multi-group and negative deltas)
            mask = np.zeros((h, w), bool)
            mask[rng.integers(0, h) :, rng.integers(0, w) :] = True
        rle = rle_encode(mask)
        assert sum(rle["counts"]) == h * w
        np.testing.assert_array_equal(rle_decode(rle), mask)
        s = rle_to_string(rle["counts"])
        assert rle_from_string(s) == rle["counts"]
        np.testing.assert_array_equal(rle_decode({"size": rle["size"], "counts": s}), mask)


def test_rle_large_counts_round_trip():
    counts = [0, 1, 100000, 3, 7, 250000, 1, 1, 123456789]
    assert rle_from_string(rle_to_string(counts)) == counts


def test_rle_decode_errors():
    with pytest.raises(ValueError, match="sum to 5"):
        rle_decode({"size": [2, 3], "counts": [2, 3]})
    with pytest.raises(ValueError, match="expected an RLE"):
        rle_decode({"counts": [1]})
    with pytest.raises(ValueError, match="ends inside"):
        rle_from_string("X")
    with pytest.raises(ValueError, match="invalid character"):
        rle_from_string("2 3")


def test_polygons_to_mask():
    mask = polygons_to_mask([[1, 1, 4, 1, 4, 3, 1, 3]], 5, 6)
    assert mask.shape == (5, 6) and mask.dtype == bool
    assert mask[1:4, 1:5].all() and mask.sum() == 12
    two = polygons_to_mask([[0, 0, 1, 0, 1, 1, 0, 1], [4, 3, 5, 3, 5, 4, 4, 4]], 5, 6)
    assert two[0, 0] and two[4, 5] and not two[2, 2]
    with pytest.raises(ValueError, match="odd"):
        polygons_to_mask([[1, 2, 3]], 5, 6)


def test_annotation_mask_dispatch():
    h, w = 3, 4
    target = np.zeros((h, w), bool)
    target[1:, 2:] = True
    rle = rle_encode(target)
    assert (annotation_mask({"segmentation": rle}, h, w) == target).all()
    compressed = {"size": rle["size"], "counts": rle_to_string(rle["counts"])}
    assert (annotation_mask({"segmentation": compressed}, h, w) == target).all()
    poly = {"segmentation": [[2, 1, 3, 1, 3, 2, 2, 2]]}
    assert (annotation_mask(poly, h, w) == target).all()
    ann = CocoAnnotation(1, 1, 1, (2.0, 1.0, 2.0, 2.0), 4.0, 0, None)
    assert (annotation_mask(ann, h, w) == target).all()  # no segmentation -> filled bbox
    with pytest.raises(ValueError, match="does not match"):
        annotation_mask({"segmentation": rle}, 4, 3)
