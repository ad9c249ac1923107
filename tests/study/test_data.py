"""What the study's names mean in a world and in a real-data folder, and clear errors when data is missing."""

from __future__ import annotations

import pytest

from ssl_kit.errors import ConfigError, DataError
from ssl_kit.study.data_entry import parse_entry
from ssl_kit.study.data_folder import StudyData, is_world


def test_world_or_real_is_decided_by_what_the_folder_holds(smoke_world, smoke_real_data, tmp_path):
    assert is_world(tmp_path / "missing") and is_world(tmp_path)  # to be built
    assert is_world(smoke_world) and not is_world(smoke_real_data)
    lone = tmp_path / "pascal3d_world" / "pascal3d"
    lone.mkdir(parents=True)
    (lone / "manifest.json").write_text("{}")
    assert is_world(lone.parent)  # a world of one set (`world --sets pascal3d`), not the real Pascal3D+
    (tmp_path / "holiday_photos").mkdir()
    with pytest.raises(ConfigError, match="neither a world .* nor a real-data folder"):
        is_world(tmp_path)


def test_names_resolve_in_the_world_and_in_real_data(smoke_world, smoke_real_data):
    world = StudyData.open(smoke_world, build=False)
    assert (world.kind, world.objects("val"), world.scenes()) == (
        "world",
        smoke_world / "objects/val",
        (smoke_world / "scenes", "train2017"),
    )
    real = StudyData.open(smoke_real_data, build=False)
    assert real.kind == "real"
    assert real.objects("train") == smoke_real_data / "imagenet100/train"
    scenes = parse_entry("scenes", smoke_real_data)
    assert (scenes.kind, scenes.root, scenes.split) == ("coco", str(smoke_real_data / "coco"), "train2017")
    assert real.videos() == smoke_real_data / "trackingnet"
    assert real.protocol_root("occlusion") == smoke_real_data / "got10k/train"
    assert real.protocol_root("instance") == smoke_real_data / "pascal3d"
    assert all(real.inventory().values())


def test_a_missing_dataset_names_the_script_that_prepares_it(smoke_world, tmp_path):
    (tmp_path / "imagenette").mkdir()
    for split in ("train", "val"):
        (tmp_path / "imagenette" / split).symlink_to(smoke_world / "objects" / split)
    data = StudyData.open(tmp_path, build=False)
    assert data.objects("train") == tmp_path / "imagenette/train"  # the next candidate after imagenet100
    with pytest.raises(DataError, match="prepare_coco.py"):
        data.scenes()
    with pytest.raises(DataError, match="prepare_trackingnet.py"):
        data.videos()
    with pytest.raises(DataError, match="prepare_aloi.py"):
        data.protocol_root("viewpoint")
    inv = data.inventory()
    assert inv["objects (val)"] and inv["scenes"] is None and inv["protocol viewpoint"] is None
    with pytest.raises(ConfigError, match="split 'test'"):
        data.objects("test")
