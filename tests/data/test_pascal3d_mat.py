"""Pascal3D+ release 1.1 `.mat` annotations, read through the public `read_pascal3d`.

Fixtures are written with `scipy.io.savemat` in the structure of the released files: a struct `record` with
`filename`, `size`, and `objects` (a 1x1 struct for one object, a 1xN struct array for several), each
object with `class`, `bbox`, `truncated`/`occluded`/`difficult` and a `viewpoint` struct or `[]`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from ssl_kit.data import read_pascal3d
from ssl_kit.data.pascal3d_mat import load_mat_record
from ssl_kit.errors import DataError

OBJ_FIELDS = ("class", "bbox", "truncated", "occluded", "difficult", "viewpoint")


def _vp(az: float, el: float, *, fine: bool = True) -> dict:
    vp = {"azimuth_coarse": float(round(az)), "elevation_coarse": float(round(el))}
    if fine:
        vp.update(azimuth=az, elevation=el, distance=4.5, theta=0.0)
    return vp


def _obj(cls: str, bbox, viewpoint, truncated: int = 0, occluded: int = 0, difficult: int = 0) -> tuple:
    """One object as a tuple in OBJ_FIELDS order; `viewpoint=None` writes MATLAB's []."""
    vp = np.zeros((0, 0)) if viewpoint is None else viewpoint
    return (cls, np.asarray(bbox, dtype=np.float64)[None, :], truncated, occluded, difficult, vp)


def _write_record(path: Path, filename: str, objects: list[tuple], size=(40, 30)) -> None:
    if len(objects) == 1:
        objs: object = dict(zip(OBJ_FIELDS, objects[0], strict=True))  # a 1x1 struct
    else:
        objs = np.zeros((1, len(objects)), dtype=[(f, "O") for f in OBJ_FIELDS])  # a 1xN struct array
        for i, o in enumerate(objects):
            objs[0, i] = o
    record = {
        "filename": filename,
        "size": {"width": size[0], "height": size[1], "depth": 3},
        "imgsize": np.array([size[1], size[0], 3]),
        "database": "ImageNet",
        "objects": objs,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"record": record})


def _image(root: Path, cls: str, name: str, objects: list[tuple], split: str = "train") -> Path:
    sub = f"{cls}_imagenet"
    img = root / "Images" / sub / f"{name}.JPEG"
    img.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), (90, 90, 90)).save(img)
    ann = root / "Annotations" / sub / f"{name}.mat"
    _write_record(ann, f"{name}.JPEG", objects)
    (root / "Image_sets").mkdir(exist_ok=True)
    with open(root / "Image_sets" / f"{sub}_{split}.txt", "a") as f:
        f.write(name + "\n")
    return ann


@pytest.fixture
def p3d(tmp_path) -> Path:
    root = tmp_path / "PASCAL3D+_release1.1"
    _image(root, "car", "n02814533_1", [_obj("car", [3, 4, 30, 25], _vp(31.5, 9.25))])
    _image(
        root,
        "car",
        "n02814533_2",
        [
            _obj("car", [1, 2, 20, 15], _vp(200.0, -5.0), truncated=1),
            _obj("car", [5, 6, 7, 8], None, occluded=1),  # no viewpoint annotation
            _obj("car", [10, 11, 38, 29], _vp(90.0, 12.0, fine=False), difficult=1),
        ],
    )
    _image(root, "aeroplane", "n02690373_7", [_obj("aeroplane", [2, 2, 39, 29], _vp(0.0, 30.0))])
    _image(root, "aeroplane", "n02690373_9", [_obj("aeroplane", [1, 1, 9, 9], _vp(45.0, 5.0))], "val")
    return root


def test_mat_read_through_read_pascal3d(p3d):
    objs = read_pascal3d(p3d)
    assert [(o.cls, o.name, o.index) for o in objs] == [
        ("aeroplane", "n02690373_7", 0),
        ("car", "n02814533_1", 0),
        ("car", "n02814533_2", 0),
        ("car", "n02814533_2", 2),  # object 1 has viewpoint [] and is skipped; positions are kept
    ]
    single, first, coarse_only = objs[1], objs[2], objs[3]
    assert single.bbox == (3.0, 4.0, 30.0, 25.0)  # 1-based pixel corners, as stored
    assert (single.azimuth, single.elevation, single.distance) == (31.5, 9.25, 4.5)
    assert single.image == p3d / "Images" / "car_imagenet" / "n02814533_1.JPEG"
    assert single.image_size == (40, 30)
    assert (first.azimuth, first.elevation, first.bbox) == (200.0, -5.0, (1.0, 2.0, 20.0, 15.0))
    assert (first.truncated, first.occluded, first.difficult) == (True, False, False)
    assert (coarse_only.azimuth, coarse_only.elevation, coarse_only.distance) == (90.0, 12.0, None)
    assert (single.azimuth_coarse, single.elevation_coarse) == (32.0, 9.0)  # kept beside the fine angles
    assert coarse_only.difficult and not coarse_only.truncated
    assert objs[0].azimuth == 0.0 and objs[0].elevation == 30.0
    val = read_pascal3d(p3d, split="val")
    assert [(o.cls, o.azimuth) for o in val] == [("aeroplane", 45.0)]


def test_mat_record_fields(p3d):
    rec = load_mat_record(p3d / "Annotations" / "car_imagenet" / "n02814533_2.mat")
    assert (rec.filename, rec.width, rec.height) == ("n02814533_2.JPEG", 40, 30)
    assert [o["class"] for o in rec.objects] == ["car", "car", "car"]
    assert rec.objects[1]["viewpoint"] is None and rec.objects[1]["occluded"] is True
    assert rec.objects[2]["viewpoint"] == {"azimuth_coarse": 90.0, "elevation_coarse": 12.0}
    assert rec.objects[0]["bbox"] == [1.0, 2.0, 20.0, 15.0]


def test_json_wins_over_mat_and_both_share_conventions(p3d):
    """The world's JSON form is tried first; the same object reads the same from either file."""
    import json

    ann = p3d / "Annotations" / "car_imagenet"
    vp = {"azimuth": 31.5, "elevation": 9.25, "distance": 4.5, "azimuth_coarse": 32, "elevation_coarse": 9}
    obj = {"class": "car", "bbox": [3, 4, 30, 25], "viewpoint": vp}
    rec = {"record": {"filename": "n02814533_1.JPEG", "size": {"width": 40, "height": 30}, "objects": [obj]}}
    from_mat = read_pascal3d(p3d, classes=["car"])[0]
    (ann / "n02814533_1.json").write_text(json.dumps(rec))
    from_json = read_pascal3d(p3d, classes=["car"])[0]
    assert from_json == from_mat


def test_mat_errors(p3d):
    ann = p3d / "Annotations" / "car_imagenet" / "n02814533_1.mat"
    scipy.io.savemat(ann, {"annotation": {"filename": "x.JPEG"}})
    with pytest.raises(DataError, match=r"n02814533_1\.mat: no 'record' variable"):
        read_pascal3d(p3d)
    scipy.io.savemat(ann, {"record": {"filename": "n02814533_1.JPEG", "objects": np.zeros((0, 0))}})
    with pytest.raises(DataError, match=r"n02814533_1\.mat: record has no 'size' field"):
        read_pascal3d(p3d)
    obj = {"class": "car", "viewpoint": _vp(1.0, 2.0)}
    scipy.io.savemat(ann, {"record": {"filename": "a", "size": {"width": 1, "height": 1}, "objects": obj}})
    with pytest.raises(DataError, match=r"record\.objects\(1\) has no 'bbox' field"):
        read_pascal3d(p3d)
    obj = {"class": "car", "bbox": np.array([1.0, 2, 3, 4])}  # no viewpoint field at all
    scipy.io.savemat(
        ann,
        {"record": {"filename": "n02814533_1.JPEG", "size": {"width": 1, "height": 1}, "objects": obj}},
    )
    with pytest.raises(DataError, match=r"n02814533_1\.mat: object 0 has no viewpoint"):
        read_pascal3d(p3d)
    ann.write_bytes(b"not a MATLAB file at all" * 8)
    with pytest.raises(DataError, match=r"n02814533_1\.mat: cannot read MATLAB file"):
        read_pascal3d(p3d)
