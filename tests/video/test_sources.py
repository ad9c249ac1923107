"""ssl_kit.video.sources: video files (mp4v, MJPG) read frame-exactly, truncated and garbage files, the
world's videos, a GOT-10k folder, skipped frame folders, the index and load_frames.

Each test video encodes its frame number t in the red level of its background (10 + 12 t), with a white block
moving 2 px a frame, so a frame read back can be identified despite codec loss.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ssl_kit.data.images import read_image
from ssl_kit.errors import DataError
from ssl_kit.video import captures, file_index
from ssl_kit.video.file_index import probe_file
from ssl_kit.video.sources import FileVideo, FrameFolderVideo, is_video_source, load_frames, open_videos
from ssl_kit.world.build import build_set

N, H, W = 20, 48, 64


def write_video(path: Path, n: int = N, fps: float = 10.0, size: tuple[int, int] = (H, W)) -> Path:
    """n frames; frame t has a background of RGB (10 + 12 t, (10 + 12 t) // 2, 40) and a white block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.suffix == ".mp4" else "MJPG"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, (size[1], size[0]))
    assert writer.isOpened()
    for t in range(n):
        level = 10 + 12 * t
        bgr = np.empty((*size, 3), np.uint8)
        bgr[:] = (40, level // 2, level)
        bgr[24:40, 2 * t : 2 * t + 16] = 255
        writer.write(bgr)
    writer.release()
    return path


def frame_number(rgb: np.ndarray) -> int:
    """Which frame `rgb` is (from its background's red level), checking the channel order on the way."""
    assert rgb.dtype == np.uint8 and rgb.shape == (H, W, 3)
    red, blue = np.median(rgb[:16, :, 0]), np.median(rgb[:16, :, 2])
    assert abs(blue - 40) < 12, "channels are not in RGB order"
    t = int(round((red - 10) / 12))
    assert abs(red - (10 + 12 * t)) < 5, f"red level {red} is not one of the written levels"
    return t


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("files")
    write_video(root / "a.mp4")
    write_video(root / "sub" / "b.avi", fps=25.0)
    return root


@pytest.fixture(scope="module")
def world_videos(tmp_path_factory) -> Path:
    return build_set("videos", tmp_path_factory.mktemp("world"), "smoke", progress=False)


@pytest.mark.parametrize("name", ["a.mp4", "sub/b.avi"])
def test_file_reads_the_requested_frames(files, name):
    vs = open_videos(files)
    assert vs.layout == "files" and len(vs) == 2 and vs.frame_count == 2 * N and not vs.skipped
    video = next(v for v in vs if v.name == name)
    assert isinstance(video, FileVideo) and len(video) == N and video.boxes is None and video.tracks is None
    assert video.fps == pytest.approx(10.0 if name.endswith("mp4") else 25.0)
    assert (video.width, video.height) == (W, H)
    wanted = [17, 3, 3, 0, 19, 5, 6, 7, 12, 1]  # out of order, a repeat, short and long gaps
    frames = video.read(wanted)
    assert [frame_number(f) for f in frames] == wanted
    assert frames[1] is not frames[2] and np.array_equal(frames[1], frames[2])
    assert [frame_number(f) for f in video.read(range(N))] == list(range(N))
    with pytest.raises(IndexError, match="frame 20 is out of range"):
        video.read([N])
    video.close()


def test_seek_only_and_grab_only_agree(files, monkeypatch):
    video = open_videos(files)[0]
    wanted = [0, 2, 9, 10, 18, 19]
    for gap in (-1, N):  # -1: every read seeks; N: every forward read grabs
        monkeypatch.setattr(captures, "GRAB_GAP", gap)
        video.close()
        assert [frame_number(f) for f in video.read(wanted)] == wanted


def test_capture_cache_stays_small(tmp_path, monkeypatch):
    for k in range(4):
        write_video(tmp_path / f"{k}.avi", n=3)
    monkeypatch.setattr(captures.CAPTURES, "size", 2)
    for video in open_videos(tmp_path):
        assert frame_number(video.read([2])[0]) == 2
        assert len(captures.CAPTURES.open) <= 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_starts_with_no_captures_and_does_not_hang(files):
    """A child forked while the parent holds an open capture (a DataLoader worker, say) must not free it: that
    waits on the parent's FFmpeg threads (it hung the suite once). The child reads the file itself."""
    video = open_videos(files)[0]
    assert frame_number(video.read([3])[0]) == 3 and captures.CAPTURES.open
    pid = os.fork()
    if pid == 0:  # the child: empty cache, and a read of its own works
        ok = not captures.CAPTURES.open and frame_number(video.read([5])[0]) == 5
        os._exit(0 if ok else 1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")
    assert os.waitstatus_to_exitcode(status) == 0
    video.close()


def test_truncated_and_garbage_files(tmp_path):
    good = write_video(tmp_path / "good.avi")
    data = good.read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: len(data) * 6 // 10])  # header says 20 frames
    mp4 = write_video(tmp_path / "cut.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(mp4[: len(mp4) // 2])
    (tmp_path / "garbage.mkv").write_bytes(np.random.default_rng(0).bytes(5000))
    (tmp_path / "empty.mov").write_bytes(b"")
    write_video(tmp_path / "one.avi", n=1)
    (tmp_path / ".hidden.mp4").write_bytes(b"x")

    cut = probe_file(tmp_path / "cut.avi")
    assert cut["status"] == "truncated" and 1 <= cut["frames"] < N and "header says 20" in cut["reason"]
    with pytest.warns(UserWarning) as record:
        vs = open_videos(tmp_path)
    messages = " ".join(str(w.message) for w in record)
    assert "1 video file(s) shortened" in messages and "skipped 4 video(s)" in messages
    assert sorted(v.name for v in vs) == ["cut.avi", "good.avi"]
    short = next(v for v in vs if v.name == "cut.avi")
    assert len(short) == cut["frames"] and [v.name for v in vs if len(v) == N] == ["good.avi"]
    assert frame_number(short.read([len(short) - 1])[0]) == len(short) - 1
    skipped = {p.name: why for p, why in vs.skipped}
    assert set(skipped) == {"cut.mp4", "garbage.mkv", "empty.mov", "one.avi"}
    assert "cannot open" in skipped["garbage.mkv"] and "min_frames=2" in skipped["one.avi"]
    assert "4 skipped" in vs.summary and "1 shortened" in vs.summary
    with pytest.warns(UserWarning) as record:
        assert len(open_videos(tmp_path, min_frames=1, layout="files").skipped) == 3
    assert "skipped 3 video(s)" in " ".join(str(w.message) for w in record)


def test_missing_or_empty_root(tmp_path):
    with pytest.raises(DataError, match="folder is missing"):
        open_videos(tmp_path / "nope")
    with pytest.raises(DataError, match="holds no videos"):
        open_videos(tmp_path)
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(DataError, match=r"no usable video \(1 skipped"):
        open_videos(tmp_path)
    with pytest.raises(ValueError, match="unknown video layout"):
        open_videos(tmp_path, layout="youtube")


def test_fresh_index_is_used_and_stale_one_ignored(tmp_path):
    path = write_video(tmp_path / "a.avi")
    entries = file_index.index_files(tmp_path)
    assert entries[0]["frames"] == N and entries[0]["status"] == "ok"
    entries[0]["frames"] = 5  # a fresh entry is trusted without probing the file again
    file_index.write_index(tmp_path, entries)
    assert len(open_videos(tmp_path)[0]) == 5
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the file changed: probed again
    assert len(open_videos(tmp_path)[0]) == N
    (tmp_path / "videos.json").write_text("{broken")
    with pytest.warns(UserWarning, match="unreadable video index"):
        assert len(open_videos(tmp_path)[0]) == N
    (tmp_path / "videos.json").write_text(json.dumps({"version": 99, "videos": []}))
    assert len(open_videos(tmp_path)[0]) == N


def test_world_videos(world_videos):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vs = open_videos(world_videos)
    assert vs.layout == "frames" and len(vs) == 3 and vs.frame_count == 36 and not vs.skipped
    video = vs[1]
    assert isinstance(video, FrameFolderVideo) and video.name == "TRAIN_0/clip_00001" and video.fps is None
    assert (
        len(video) == 12
        and video.boxes.shape == (12, 4)
        and video.tracks
        and video.tracks[0].boxes.shape == (12, 4)
    )
    frames = video.read([5, 0])
    assert np.array_equal(frames[0], read_image(world_videos / "TRAIN_0" / "frames" / "clip_00001" / "5.jpg"))
    assert frames[1].shape == (48, 48, 3) and frames[1].dtype == np.uint8
    assert len(open_videos(world_videos / "TRAIN_0")) == 3  # one chunk works too


def test_world_videos_all_too_short(world_videos):
    with pytest.raises(DataError, match="fewer than min_frames=13"):
        open_videos(world_videos, min_frames=13)


def test_frame_folder_problems_are_skipped(world_videos, tmp_path):
    root = shutil.copytree(world_videos, tmp_path / "videos")
    (root / "TRAIN_0" / "frames" / "clip_00000" / "3.jpg").unlink()  # a gap
    anno = root / "TRAIN_0" / "anno" / "clip_00002.txt"
    anno.write_text("".join(anno.read_text().splitlines(keepends=True)[:-1]))  # one line short
    (root / "TRAIN_0" / "anno" / "stray.txt").write_text("0,0,1,1\n")
    with pytest.warns(UserWarning, match="skipped 3 video") as record:
        vs = open_videos(root)
    assert "frame 3 is missing" in str(record[0].message)
    assert [v.name for v in vs] == ["TRAIN_0/clip_00001"]
    reasons = " | ".join(why for _, why in vs.skipped)
    assert "frame 3 is missing" in reasons and "has 11 lines" in reasons and "no frame folder" in reasons


def test_is_video_source_agrees_with_open_videos(world_videos, files, tmp_path):
    """The one detector says yes exactly for the folders `open_videos` reads as video sources, on each layout:
    a folder of TRAIN_<k> chunks, one TRAIN_<k> chunk itself, a GOT-10k folder, a folder of video files; and
    no for an image folder, hidden video files only, a chunk without frames/, an empty or missing folder."""
    got = tmp_path / "got"
    _got_seq(got, "GOT-10k_Train_000001", 3)
    (got / "list.txt").write_text("GOT-10k_Train_000001\n")
    images = tmp_path / "images" / "cat"
    images.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(images / "0.png")
    hidden = tmp_path / "hidden"
    write_video(hidden / ".a.avi", n=3)
    write_video(hidden / ".cache" / "b.avi", n=3)
    zips_only = tmp_path / "TRAIN_1"
    (zips_only / "zips").mkdir(parents=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    yes = {world_videos: "frames", world_videos / "TRAIN_0": "frames", got: "got10k", files: "files"}
    for root, layout in yes.items():
        assert is_video_source(root) and is_video_source(str(root)), root
        assert open_videos(root).layout == layout
    for root in (images.parent, hidden, zips_only, empty, tmp_path / "missing", files / "a.mp4"):
        assert not is_video_source(root), root
        with pytest.raises(DataError):
            open_videos(root)


def _got_seq(root: Path, name: str, n: int, lines: int | None = None) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    for i in range(1, n + 1):
        Image.new("RGB", (8, 6), (20 * i, 0, 0)).save(folder / f"{i:08d}.jpg")
    lines = n if lines is None else lines
    (folder / "groundtruth.txt").write_text("".join(f"{i},1,4,3\n" for i in range(lines)))
    (folder / "cover.label").write_text("8\n" * n)
    (folder / "absence.label").write_text("0\n" * n)
    (folder / "meta_info.ini").write_text("[METAINFO]\nobject_class: car\n")


def test_got10k_folder(tmp_path):
    root = tmp_path / "train"
    _got_seq(root, "GOT-10k_Train_000001", 3)
    _got_seq(root, "GOT-10k_Train_000002", 4)
    _got_seq(root, "GOT-10k_Train_000003", 3, lines=2)
    (root / "list.txt").write_text("GOT-10k_Train_000002\nGOT-10k_Train_000003\nGOT-10k_Train_000001\n")
    with pytest.warns(UserWarning, match="skipped 1 video.*groundtruth.txt: has 2 lines"):
        vs = open_videos(root)
    assert vs.layout == "got10k" and [v.name for v in vs] == ["GOT-10k_Train_000002", "GOT-10k_Train_000001"]
    video = vs[0]
    assert len(video) == 4 and video.boxes[3].tolist() == [3, 1, 4, 3] and video.tracks is None
    red = [int(f[0, 0, 0]) for f in video.read([3, 0])]
    assert abs(red[0] - 80) < 8 and abs(red[1] - 20) < 8  # frames 4 and 1 (red 20 i), give or take JPEG


def test_load_frames(world_videos, files):
    vs = open_videos(world_videos)
    images, video_index, frame_index = load_frames(vs, 32, every=5, progress=False)
    assert images.shape == (9, 3, 32, 32) and str(images.dtype) == "torch.uint8"
    assert video_index.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2] and frame_index.tolist() == [0, 5, 10] * 3
    images, video_index, frame_index = load_frames(open_videos(files), 16, every=7, progress=False, chunk=2)
    assert images.shape == (6, 3, 16, 16) and frame_index.tolist() == [0, 7, 14] * 2
    red = images[:, 0, :4].float().mean(dim=(1, 2))
    assert abs(red[2].item() - (10 + 12 * 14)) < 8  # frame 14 of a.mp4, resized
    with pytest.raises(ValueError, match="every must be"):
        load_frames(vs, 32, every=0)
