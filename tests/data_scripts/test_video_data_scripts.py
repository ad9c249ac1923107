"""data_scripts/prepare_trackingnet.py and data_scripts/index_videos.py on small fixtures (no network)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.scripts import load_script

from ssl_kit.video import file_index, open_videos
from ssl_kit.world.build import build_set

prepare_trackingnet = load_script("prepare_trackingnet")
index_videos = load_script("index_videos")


def write_video(path: Path, n: int = 10) -> Path:
    """An MJPG .avi of n 32x24 frames (background level 10 + 12 t)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (32, 24))
    for t in range(n):
        writer.write(np.full((24, 32, 3), 10 + 12 * t, np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def world_videos(tmp_path_factory) -> Path:
    return build_set("videos", tmp_path_factory.mktemp("world"), "smoke", progress=False)


def test_prepare_trackingnet(world_videos, tmp_path, capsys):
    assert prepare_trackingnet.main([str(world_videos), "--quiet", "--decode-ends"]) == 0
    out = capsys.readouterr().out
    assert "1 chunks, 3 usable videos, 36 frames, 0 problems" in out and "min 12, median 12, max 12" in out

    root = shutil.copytree(world_videos, tmp_path / "tn")
    (root / "TRAIN_0" / "anno" / "clip_00000.txt").unlink()
    assert prepare_trackingnet.main([str(root), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "2 usable videos" in captured.out and "clip_00000.txt: file is missing" in captured.err

    assert prepare_trackingnet.main([str(root), "--quiet", "--min-frames", "13"]) == 1
    assert "no usable video" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert prepare_trackingnet.main([str(tmp_path / "empty"), "--quiet"]) == 1
    assert prepare_trackingnet.main([str(tmp_path / "missing"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "empty: no TRAIN_<k> chunk folders" in err and "missing: folder is missing" in err


def test_index_videos(tmp_path, capsys, monkeypatch):
    root = tmp_path / "clips"
    write_video(root / "a.avi", 10)
    changing = write_video(root / "sub" / "b.avi", 6)
    (root / "broken.mp4").write_bytes(b"\x00" * 300)
    assert index_videos.main([str(root), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "3 files, 2 usable (16 frames); ok 2, truncated 0, unreadable 1" in out and "32x24 (2)" in out
    index = json.loads((root / "videos.json").read_text())
    by_path = {e["path"]: e for e in index["videos"]}
    assert set(by_path) == {"a.avi", "sub/b.avi", "broken.mp4"} and index["version"] == 1
    assert by_path["a.avi"]["frames"] == 10 and by_path["a.avi"]["fps"] == pytest.approx(15.0)
    assert (by_path["sub/b.avi"]["width"], by_path["sub/b.avi"]["height"]) == (32, 24)
    assert by_path["broken.mp4"]["status"] == "unreadable" and by_path["broken.mp4"]["frames"] == 0

    def no_probe(path):
        raise AssertionError(f"{path} was probed although its entry is fresh")

    monkeypatch.setattr(file_index, "probe_file", no_probe)
    assert index_videos.main([str(root), "--quiet"]) == 0  # everything fresh: nothing probed
    with pytest.warns(UserWarning, match="skipped 1 video"):
        assert open_videos(root).frame_count == 16  # open_videos trusts the fresh index too
    monkeypatch.undo()

    write_video(changing, 9)  # same name, new content: probed again
    assert index_videos.main([str(root), "--quiet"]) == 0
    by_path = {e["path"]: e for e in json.loads((root / "videos.json").read_text())["videos"]}
    assert by_path["sub/b.avi"]["frames"] == 9
    assert "2 usable (19 frames)" in capsys.readouterr().out


def test_index_videos_nothing_usable(tmp_path, capsys):
    assert index_videos.main([str(tmp_path / "missing"), "--quiet"]) == 1
    assert index_videos.main([str(tmp_path), "--quiet"]) == 1
    assert "holds no .mp4" in capsys.readouterr().err
    (tmp_path / "x.avi").write_bytes(b"RIFF....AVI garbage")
    write_video(tmp_path / "one.avi", 1)
    assert index_videos.main([str(tmp_path), "--quiet", "--force"]) == 1
    err = capsys.readouterr().err
    assert "no usable video" in err and "one.avi: 1 frame(s)" in err and (tmp_path / "videos.json").is_file()
