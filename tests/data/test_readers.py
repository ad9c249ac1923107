from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ssl_kit.data import (
    detect_aloi_kind,
    read_aloi,
    read_frame_videos,
    read_got10k,
    read_pascal3d,
)
from ssl_kit.data.manifest import INCOMPLETE
from ssl_kit.data.pascal3d import ANNOTATION_LOADERS, Pascal3DRecord
from ssl_kit.errors import DataError, IncompleteSetError


def _img(path: Path, value: int = 0, size: tuple[int, int] = (4, 3)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, value, value)).save(path)
    return path


# -------------------------------------------------------------------------------------------------- ALOI


def _aloi(root: Path, kind: str, objects=(1, 2, 10)) -> Path:
    names = {
        "view": ["{o}_r0.png", "{o}_r5.png", "{o}_r355.png", "{o}_r10.png"],
        "col": ["{o}_i110.png", "{o}_i250.png", "{o}_i120.png"],
        "ill": ["{o}_l1c1.png", "{o}_l8c3.png", "{o}_l2c1.png", "{o}_l1c2.png"],
    }[kind]
    for o in objects:
        for n in names:
            _img(root / "png2" / str(o) / n.format(o=o), value=o)
    return root


def test_aloi_view(tmp_path):
    root = _aloi(tmp_path / "aloi_view", "view")
    (root / "png2" / "manifest.json").write_text("{}")
    (root / "png2" / "1" / ".DS_Store").write_text("")
    idx = read_aloi(root, "view")
    assert idx.objects.tolist() == [1] * 4 + [2] * 4 + [10] * 4
    assert idx.factors.tolist()[:4] == [0, 5, 10, 355]
    assert idx.paths[3].name == "1_r355.png" and idx.kind == "view"
    # png2 itself is accepted, and the kind is detected
    same = read_aloi(root / "png2")
    assert same.paths == idx.paths and detect_aloi_kind(root) == "view"


def test_aloi_col_and_ill(tmp_path):
    col = read_aloi(_aloi(tmp_path / "c", "col", objects=(3,)), "col")
    assert col.factors.tolist() == [110, 120, 250] and col.objects.tolist() == [3, 3, 3]
    ill = read_aloi(_aloi(tmp_path / "i", "ill", objects=(1, 2)), "ill")
    assert ill.factors.shape == (8, 2) and ill.factors.dtype == np.int64
    assert ill.factors[:4].tolist() == [[1, 1], [1, 2], [2, 1], [8, 3]]
    assert detect_aloi_kind(tmp_path / "c") == "col" and detect_aloi_kind(tmp_path / "i") == "ill"


def test_aloi_errors(tmp_path):
    with pytest.raises(DataError, match="no png2"):
        read_aloi(tmp_path, "view")
    root = _aloi(tmp_path / "a", "view", objects=(1,))
    with pytest.raises(ValueError, match="unknown ALOI kind"):
        read_aloi(root, "zoom")
    stray = _img(root / "png2" / "1" / "1_i110.png")
    with pytest.raises(DataError, match="1_i110.png"):
        read_aloi(root, "view")
    stray.unlink()
    _img(root / "png2" / "1" / "2_r15.png")
    with pytest.raises(DataError, match="does not match its folder"):
        read_aloi(root, "view")
    (root / "png2" / "1" / "2_r15.png").unlink()
    _img(root / "png2" / "1" / "1_r05.png")
    with pytest.raises(DataError, match="duplicate"):
        read_aloi(root, "view")
    (root / "png2" / "1" / "1_r05.png").unlink()
    (root / "png2" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="readme.txt"):
        read_aloi(root, "view")
    (root / "png2" / "readme.txt").unlink()
    (root / "png2" / "7").mkdir()
    with pytest.raises(DataError, match="no images"):
        read_aloi(root, "view")
    (root / "png2" / "7").rmdir()
    (root / INCOMPLETE).touch()
    with pytest.raises(IncompleteSetError):
        read_aloi(root / "png2", "view")


# ----------------------------------------------------------------------------------------------- GOT-10k

_META = """[METAINFO]
url: https://youtu.be/x?t=1%20s
object_class: car
motion_class: moving
major_class: vehicle
root_class: object
resolution: (1280, 720)
"""


def _got_seq(root: Path, name: str, n: int = 3) -> Path:
    folder = root / name
    for i in range(1, n + 1):
        _img(folder / f"{i:08d}.jpg", value=i)
    (folder / "groundtruth.txt").write_text("".join(f"{i},{i + 1}.5,10,20\n" for i in range(n)))
    (folder / "cover.label").write_text("".join(f"{8 - i}\n" for i in range(n)))
    (folder / "absence.label").write_text("".join(f"{int(i == n - 1)}\n" for i in range(n)))
    (folder / "meta_info.ini").write_text(_META)
    return folder


@pytest.fixture
def data_got(tmp_path) -> Path:
    root = tmp_path / "got10k" / "train"
    _got_seq(root, "GOT-10k_Train_000002", 3)
    _got_seq(root, "GOT-10k_Train_000001", 2)
    (root / "list.txt").write_text("GOT-10k_Train_000002\nGOT-10k_Train_000001\n\n")
    return root


def test_got10k_happy(data_got):
    seqs = read_got10k(data_got)
    assert [s.name for s in seqs] == ["GOT-10k_Train_000002", "GOT-10k_Train_000001"]
    s = seqs[0]
    assert [f.name for f in s.frames] == ["00000001.jpg", "00000002.jpg", "00000003.jpg"]
    assert s.boxes.shape == (3, 4) and s.boxes.dtype == np.float64
    assert s.boxes[2].tolist() == [2.0, 3.5, 10.0, 20.0]
    assert s.cover.tolist() == [8, 7, 6] and s.absence.tolist() == [0, 0, 1]
    assert s.object_class == "car" and s.meta["motion_class"] == "moving"
    assert s.meta["url"].endswith("%20s") and s.resolution == (1280, 720)


@pytest.mark.parametrize("fname", ["groundtruth.txt", "cover.label", "absence.label"])
def test_got10k_wrong_line_count(data_got, fname):
    path = data_got / "GOT-10k_Train_000001" / fname
    path.write_text(path.read_text() + "1\n" if fname != "groundtruth.txt" else "1,2,3,4\n")
    with pytest.raises(DataError, match=rf"{fname}.*(lines but the sequence has 2 frames)"):
        read_got10k(data_got)


@pytest.mark.parametrize("fname", ["groundtruth.txt", "cover.label", "absence.label", "meta_info.ini"])
def test_got10k_missing_file(data_got, fname):
    (data_got / "GOT-10k_Train_000002" / fname).unlink()
    with pytest.raises(DataError, match=rf"GOT-10k_Train_000002/{fname}: file is missing"):
        read_got10k(data_got)


@pytest.mark.parametrize(
    ("fname", "text", "match"),
    [
        ("groundtruth.txt", "1,2,3\n1,2,3,4\n", "line 1 has 3 fields"),
        ("groundtruth.txt", "1,2,3,4\n1,2,x,4\n", "line 2 is not numeric"),
        ("cover.label", "8\n9\n", "line 2 has label 9"),
        ("absence.label", "0\nyes\n", "non-integer"),
        ("meta_info.ini", "object_class: car\n", "cannot parse"),
        ("meta_info.ini", "[OTHER]\nobject_class: car\n", "no \\[METAINFO\\]"),
        ("meta_info.ini", "[METAINFO]\nmotion_class: x\n", "no object_class"),
    ],
)
def test_got10k_malformed(data_got, fname, text, match):
    (data_got / "GOT-10k_Train_000001" / fname).write_text(text)
    with pytest.raises(DataError, match=match):
        read_got10k(data_got)


def test_got10k_list_and_frames_errors(data_got):
    (data_got / "GOT-10k_Train_000001" / "00000002.jpg").rename(
        data_got / "GOT-10k_Train_000001" / "00000004.jpg"
    )
    with pytest.raises(DataError, match="GOT-10k_Train_000001: frame 2 is missing"):
        read_got10k(data_got)
    (data_got / "list.txt").write_text("GOT-10k_Train_000009\n")
    with pytest.raises(DataError, match="GOT-10k_Train_000009.*missing"):
        read_got10k(data_got)
    (data_got / "list.txt").write_text("\n")
    with pytest.raises(DataError, match="no sequences"):
        read_got10k(data_got)
    (data_got / "list.txt").unlink()
    with pytest.raises(DataError, match="list.txt: file is missing"):
        read_got10k(data_got)
    (data_got.parent / INCOMPLETE).touch()
    with pytest.raises(IncompleteSetError):
        read_got10k(data_got)


# ----------------------------------------------------------------------------------------- TrackingNet


def _video(chunk: Path, name: str, n: int, tracks: dict | None = None) -> None:
    for i in range(n):
        _img(chunk / "frames" / name / f"{i}.jpg", value=i)
    (chunk / "anno").mkdir(parents=True, exist_ok=True)
    (chunk / "anno" / f"{name}.txt").write_text("".join(f"{i}.0,1.0,5,6\n" for i in range(n)))
    if tracks is not None:
        (chunk / "tracks").mkdir(exist_ok=True)
        (chunk / "tracks" / f"{name}.json").write_text(json.dumps(tracks))


@pytest.fixture
def data_trackingnet(tmp_path) -> Path:
    root = tmp_path / "trackingnet"
    track = {"track_id": 3, "category": "car", "boxes": [[1, 2, 3, 4]] * 11 + [None]}
    tracks = {"frames": 12, "tracks": [{**track, "visible": [1.0] * 11 + [0.0]}]}
    _video(root / "TRAIN_10", "vid_b", 2)
    _video(root / "TRAIN_2", "vid_z", 12, tracks)
    _video(root / "TRAIN_2", "vid_a", 1)
    (root / "manifest.json").write_text("{}")
    return root


def test_frame_videos_happy(data_trackingnet):
    videos = read_frame_videos(data_trackingnet)
    assert [(v.chunk, v.name) for v in videos] == [
        ("TRAIN_2", "vid_a"),
        ("TRAIN_2", "vid_z"),
        ("TRAIN_10", "vid_b"),
    ]
    z = videos[1]
    assert [f.name for f in z.frames][:3] == ["0.jpg", "1.jpg", "2.jpg"] and z.frames[-1].name == "11.jpg"
    assert z.boxes.shape == (12, 4) and z.boxes[11].tolist() == [11.0, 1.0, 5.0, 6.0]
    assert videos[0].tracks is None and len(z.tracks) == 1
    tr = z.tracks[0]
    assert tr.track_id == 3 and tr.category == "car" and tr.boxes.shape == (12, 4)
    assert np.isnan(tr.boxes[11]).all() and tr.boxes[0].tolist() == [1, 2, 3, 4] and tr.visible[-1] == 0.0
    single = read_frame_videos(data_trackingnet / "TRAIN_10")
    assert [v.name for v in single] == ["vid_b"]


def test_frame_videos_errors(tmp_path, data_trackingnet):
    chunk = data_trackingnet / "TRAIN_2"
    (chunk / "frames" / "vid_z" / "5.jpg").unlink()
    with pytest.raises(DataError, match=r"vid_z: frame 5 is missing"):
        read_frame_videos(data_trackingnet)
    _img(chunk / "frames" / "vid_z" / "5.jpg")
    (chunk / "anno" / "vid_a.txt").write_text("1,2,3,4\n1,2,3,4\n")
    with pytest.raises(DataError, match=r"vid_a.txt: has 2 lines but the sequence has 1 frames"):
        read_frame_videos(data_trackingnet)
    (chunk / "anno" / "vid_a.txt").unlink()
    with pytest.raises(DataError, match=r"vid_a.txt: file is missing"):
        read_frame_videos(data_trackingnet)
    (chunk / "anno" / "vid_a.txt").write_text("1,2,3,4\n")
    (chunk / "anno" / "vid_q.txt").write_text("1,2,3,4\n")
    with pytest.raises(DataError, match=r"vid_q.txt: anno file has no frame folder"):
        read_frame_videos(data_trackingnet)
    (chunk / "anno" / "vid_q.txt").unlink()
    tracks = chunk / "tracks" / "vid_z.json"
    data = json.loads(tracks.read_text())
    data["tracks"][0]["visible"] = [1.0]
    tracks.write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"vid_z.json: track 0 has 1 visible values"):
        read_frame_videos(data_trackingnet)
    tracks.write_text('{"frames": 3, "tracks": []}')
    with pytest.raises(DataError, match=r"vid_z.json: says 3 frames"):
        read_frame_videos(data_trackingnet)
    tracks.write_text("{not json")
    with pytest.raises(DataError, match=r"vid_z.json: unreadable JSON"):
        read_frame_videos(data_trackingnet)
    tracks.unlink()
    with pytest.raises(DataError, match="no TRAIN_<k>"):
        read_frame_videos(tmp_path)
    (data_trackingnet / INCOMPLETE).touch()
    with pytest.raises(IncompleteSetError):
        read_frame_videos(data_trackingnet / "TRAIN_2")


def test_frame_videos_missing_folders(tmp_path):
    (tmp_path / "tn" / "TRAIN_0" / "frames").mkdir(parents=True)
    with pytest.raises(DataError, match=r"TRAIN_0/anno: folder is missing"):
        read_frame_videos(tmp_path / "tn")
    (tmp_path / "tn" / "TRAIN_0" / "anno").mkdir()
    with pytest.raises(DataError, match="no video folders"):
        read_frame_videos(tmp_path / "tn")
    (tmp_path / "tn" / "TRAIN_0" / "frames" / "v").mkdir()
    with pytest.raises(DataError, match=r"frames/v: folder holds no frames"):
        read_frame_videos(tmp_path / "tn")


# ------------------------------------------------------------------------------------------- Pascal3D+


def _p3d_image(root: Path, cls: str, name: str, objects: list[dict], split: str = "train") -> None:
    sub = f"{cls}_imagenet"
    _img(root / "Images" / sub / f"{name}.JPEG", size=(8, 6))
    record = {"record": {"filename": f"{name}.JPEG", "size": {"width": 8, "height": 6}, "objects": objects}}
    (root / "Annotations" / sub).mkdir(parents=True, exist_ok=True)
    (root / "Annotations" / sub / f"{name}.json").write_text(json.dumps(record))
    sets = root / "Image_sets"
    sets.mkdir(exist_ok=True)
    with open(sets / f"{sub}_{split}.txt", "a") as f:
        f.write(name + "\n")


def _obj(cls: str, az: float, el: float = 10.0) -> dict:
    vp = {"azimuth_coarse": az, "elevation_coarse": el, "azimuth": az, "elevation": el, "distance": 5.0}
    return {"class": cls, "bbox": [1, 1, 5, 4], "viewpoint": vp}


@pytest.fixture
def data_p3d(tmp_path) -> Path:
    root = tmp_path / "pascal3d"
    _p3d_image(root, "car", "n01_2", [_obj("car", 30.0), _obj("car", 200.0, -5.0)])
    _p3d_image(root, "car", "n01_1", [_obj("car", 90.0)])
    _p3d_image(root, "aeroplane", "n02_1", [_obj("aeroplane", 0.0)])
    _p3d_image(root, "car", "n01_9", [_obj("car", 45.0)], split="val")
    return root


def test_pascal3d_happy(data_p3d):
    objs = read_pascal3d(data_p3d)
    assert [(o.cls, o.name, o.azimuth) for o in objs] == [
        ("aeroplane", "n02_1", 0.0),
        ("car", "n01_2", 30.0),
        ("car", "n01_2", 200.0),
        ("car", "n01_1", 90.0),
    ]
    o = objs[2]
    assert o.image == data_p3d / "Images" / "car_imagenet" / "n01_2.JPEG" and o.image.is_file()
    assert o.bbox == (1.0, 1.0, 5.0, 4.0) and o.elevation == -5.0 and o.index == 1
    assert o.distance == 5.0 and o.image_size == (8, 6)
    val = read_pascal3d(data_p3d, split="val")
    assert [o.name for o in val] == ["n01_9"]
    assert read_pascal3d(data_p3d, classes=["car"])[0].cls == "car"


def test_pascal3d_coarse_fallback(data_p3d):
    obj = {"class": "car", "bbox": [0, 0, 2, 2], "viewpoint": {"azimuth_coarse": 15, "elevation_coarse": 3}}
    _p3d_image(data_p3d, "boat", "n03_1", [obj])
    (o,) = read_pascal3d(data_p3d, classes=["boat"])
    assert (o.azimuth, o.elevation, o.distance) == (15.0, 3.0, None)


def test_pascal3d_pluggable_loader(data_p3d, monkeypatch):
    ann = data_p3d / "Annotations" / "aeroplane_imagenet"
    (ann / "n02_1.json").rename(ann / "n02_1.fake")

    def load_fake(path: Path) -> Pascal3DRecord:
        return Pascal3DRecord("n02_1.JPEG", 8, 6, [_obj("aeroplane", 123.0)], path)

    monkeypatch.setitem(ANNOTATION_LOADERS, ".fake", load_fake)
    (o,) = read_pascal3d(data_p3d, classes=["aeroplane"])
    assert o.azimuth == 123.0


def test_pascal3d_errors(tmp_path, data_p3d):
    with pytest.raises(DataError, match="Image_sets: folder is missing"):
        read_pascal3d(tmp_path)
    with pytest.raises(DataError, match="no image-set file for split 'test'"):
        read_pascal3d(data_p3d, split="test")
    ann = data_p3d / "Annotations" / "car_imagenet" / "n01_1.json"
    text = ann.read_text()
    ann.write_text("{broken")
    with pytest.raises(DataError, match="n01_1.json: malformed annotation"):
        read_pascal3d(data_p3d)
    bad = json.loads(text)
    bad["record"]["objects"][0]["bbox"] = [1, 2, 3]
    ann.write_text(json.dumps(bad))
    with pytest.raises(DataError, match="n01_1.json: object 0 has a bad bbox"):
        read_pascal3d(data_p3d)
    del bad["record"]["objects"][0]["viewpoint"]
    bad["record"]["objects"][0]["bbox"] = [1, 2, 3, 4]
    ann.write_text(json.dumps(bad))
    with pytest.raises(DataError, match="object 0 has no viewpoint"):
        read_pascal3d(data_p3d)
    ann.unlink()
    with pytest.raises(DataError, match="n01_1.json: annotation file is missing"):
        read_pascal3d(data_p3d)
    ann.write_text(text)
    (data_p3d / "Images" / "car_imagenet" / "n01_1.JPEG").unlink()
    with pytest.raises(DataError, match="n01_1.JPEG: image of annotation"):
        read_pascal3d(data_p3d)
    (data_p3d / INCOMPLETE).touch()
    with pytest.raises(IncompleteSetError):
        read_pascal3d(data_p3d)
