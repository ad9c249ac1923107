"""ssl_kit.common.names.safe_name: the one way text becomes a file name (sweep cells, training-set caches, class
folders). The names are on disk, so these answers were computed with the two functions it replaced and must
never change: a changed name would make a sweep retrain finished cells and rebuild cached training sets."""

from __future__ import annotations

from ssl_kit.common.names import safe_name
from ssl_kit.study.data_entry import parse_entry
from ssl_kit.study.grid import parse_grid


def test_known_names():
    assert safe_name("crop_0.8") == "crop_0.8" and safe_name("mocov2") == "mocov2"
    assert safe_name("coco_crops:/data/coco:val2017") == "coco_crops__data_coco_val2017"
    assert safe_name("a b/é.") == "a_b_é."  # letters of any script are kept
    assert safe_name(0.5) == "0.5" and safe_name("") == "_"
    long = "folder:/data/imagenet100/train_subset/very/deep"  # 47 characters
    assert safe_name(long) == "folder__data_imagenet100_train_subset_very_deep"  # no limit: kept whole
    assert safe_name(long, max_len=40) == "et100_train_subset_very_deep-ebf8d90f"  # its end and a hash
    assert safe_name("x" * 41, max_len=40) == "x" * 28 + "-3164596d"
    assert safe_name("x" * 40, max_len=40) == "x" * 40


def test_grid_cell_and_training_set_names_are_unchanged():
    raw = {
        "name": "g",
        "scale": "smoke",
        "seeds": [2],
        "evaluate": {"protocols": []},
        "data": ["objects", "folder:/data/imagenet100/train_subset/very/deep", "video:/mnt/videos/TRAIN_0"],
    }
    assert [c.name for c in parse_grid(raw).cells] == [
        "objects-s2",
        "et100_train_subset_very_deep-ebf8d90f-s2",
        "video__mnt_videos_TRAIN_0-s2",
    ]
    ts = parse_entry("coco_crops:/data/coco:val2017")
    assert safe_name(ts.name) == "coco_crops__data_coco_val2017"  # the cache folder's name, before its key
