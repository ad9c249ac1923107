"""data_scripts/prepare_coco.py and prepare_imagenet.py (the dataset-bias sets) on tiny fixtures, no network.

As in test_data_scripts.py, a local HTTP server on 127.0.0.1 (a free port) serves archives built in tmp_path;
it records every path it is asked for, so a test can tell that a done marker skipped a download.
"""

from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers.scripts import SCRIPTS, load_script
from PIL import Image

from ssl_kit.data import read_coco, read_imagefolder

prepare_coco = load_script("prepare_coco")
prepare_imagenet = load_script("prepare_imagenet")


# ------------------------------------------------------------------------------------------ local server


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(tmp_path) -> Iterator[ThreadingHTTPServer]:
    root = tmp_path / "srv"
    root.mkdir()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    srv.root, srv.requests = root, []
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def _jpeg(value: int = 0, size=(8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (value, value, value)).save(buf, format="JPEG")
    return buf.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _tgz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.slow
def test_scripts_have_help():
    for name, words in (("prepare_coco", "instances_train2017"), ("prepare_imagenet", "class folders")):
        out = subprocess.run(
            [sys.executable, str(SCRIPTS / f"{name}.py"), "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0 and "usage:" in out.stdout and words in out.stdout, (name, out.stderr)


# ---------------------------------------------------------------------------------------------- COCO


def _instances(ids: list[int]) -> bytes:
    """A minimal instances JSON: one box per image, two categories (the second only on image 1)."""
    anns = [{"id": 100 + i, "image_id": i, "category_id": 1, "bbox": [1, 1, 4, 3], "iscrowd": 0} for i in ids]
    anns.append({"id": 99, "image_id": ids[0], "category_id": 2, "bbox": [0, 0, 2, 2], "iscrowd": 1})
    data = {
        "images": [{"id": i, "file_name": f"{i:012d}.jpg", "width": 8, "height": 6} for i in ids],
        "annotations": anns,
        "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}],
    }
    return json.dumps(data).encode()


@pytest.fixture
def coco_mirror(server) -> ThreadingHTTPServer:
    """`zips/{train,val}2017.zip` and `annotations/annotations_trainval2017.zip` as on images.cocodataset.org."""
    splits = {"train2017": [1, 2, 3], "val2017": [4]}
    for split, ids in splits.items():
        _zip(server.root / "zips" / f"{split}.zip", {f"{split}/{i:012d}.jpg": _jpeg(i) for i in ids})
    members = {f"annotations/instances_{split}.json": _instances(ids) for split, ids in splits.items()}
    members["annotations/captions_train2017.json"] = b'{"annotations": []}'  # extracted too
    _zip(server.root / "annotations" / "annotations_trainval2017.zip", members)
    return server


def test_prepare_coco_from_local_mirror(tmp_path, coco_mirror, capsys):
    out = tmp_path / "coco"
    argv = ["--out", str(out), "--url-base", coco_mirror.url, "--quiet"]
    assert prepare_coco.main(argv) == 0
    assert sorted(coco_mirror.requests) == [
        "/annotations/annotations_trainval2017.zip",
        "/zips/train2017.zip",
        "/zips/val2017.zip",
    ]
    assert (out / "train2017" / "000000000003.jpg").is_file() and (
        out / "val2017" / "000000000004.jpg"
    ).is_file()
    assert (out / "annotations" / "captions_train2017.json").is_file()
    assert (out / "downloads" / "train2017.zip.sha256").is_file()
    for step in ("annotations_trainval2017", "train2017", "val2017"):
        assert (out / f".coco_{step}.done").is_file()
    text = capsys.readouterr().out
    assert "train2017: 3 images, 4 annotations, 2 categories (1 crowd annotations" in text
    assert "val2017: 1 images, 2 annotations, 2 categories" in text
    assert "note: the full split has 118287 images and 80 categories" in text
    assert len(read_coco(out, "val2017").images) == 1  # the layout the kit's reader (and coco:<root>) uses

    # second run: the markers skip every download and extraction, the check still runs
    assert prepare_coco.main([*argv, "--remove-archives"]) == 0
    assert len(coco_mirror.requests) == 3
    text = capsys.readouterr().out
    assert text.count("already unpacked") == 3 and "train2017: 3 images" in text
    assert not list((out / "downloads").iterdir())  # --remove-archives deleted the zips and their .sha256


def test_prepare_coco_damaged_archives(tmp_path, coco_mirror, capsys):
    good = (coco_mirror.root / "zips" / "val2017.zip").read_bytes()
    (coco_mirror.root / "zips" / "val2017.zip").write_bytes(good[: len(good) // 2])  # a short download
    out = tmp_path / "coco"
    argv = ["--out", str(out), "--splits", "val2017", "--url-base", coco_mirror.url, "--quiet"]
    assert prepare_coco.main(argv) == 1
    err = capsys.readouterr().err
    assert "val2017.zip: not a readable tar or zip archive" in err
    assert "delete it and val2017.zip.sha256 to download it again" in err
    assert not (out / ".coco_val2017.done").exists()

    # a zip whose member data is corrupt (bad CRC) is named too, and nothing is marked done
    data = bytearray(good)
    data[30 + len("val2017/000000000004.jpg") + 5] ^= 0xFF  # in the compressed data after the local header
    (coco_mirror.root / "zips" / "val2017.zip").write_bytes(bytes(data))
    for name in ("val2017.zip", "val2017.zip.sha256"):
        (out / "downloads" / name).unlink()
    assert prepare_coco.main(argv) == 1
    err = capsys.readouterr().err
    assert "val2017.zip: is damaged" in err and "download it again" in err
    assert not (out / ".coco_val2017.done").exists()


def test_prepare_coco_missing_image_is_an_error(tmp_path, coco_mirror, capsys):
    _zip(
        coco_mirror.root / "zips" / "val2017.zip", {"val2017/000000000005.jpg": _jpeg()}
    )  # not the listed one
    out = tmp_path / "coco"
    argv = ["--out", str(out), "--splits", "val2017", "--url-base", coco_mirror.url, "--quiet"]
    assert prepare_coco.main(argv) == 1
    assert "000000000004.jpg: image file is missing" in capsys.readouterr().err
    assert not (out / ".coco_val2017.done").exists()


# ------------------------------------------------------------------------------------------ Imagenette


def test_prepare_imagenette_from_local_mirror(tmp_path, server, capsys):
    members = {"imagenette2-320/noisy_imagenette.csv": b"path,noisy_labels_0\n"}
    for split, n in (("train", 3), ("val", 1)):
        for wnid in ("n01440764", "n02102040"):
            for k in range(n):
                members[f"imagenette2-320/{split}/{wnid}/{wnid}_{k}.JPEG"] = _jpeg(k)
    _tgz(server.root / "imagenette2-320.tgz", members)
    out = tmp_path / "imagenette"
    argv = ["--imagenette", "--out", str(out), "--url-base", server.url, "--quiet"]
    assert prepare_imagenet.main(argv) == 0
    assert (out / "train" / "n02102040" / "n02102040_2.JPEG").is_file()
    assert (out / "noisy_imagenette.csv").is_file() and not (out / "imagenette2-320").exists()
    text = capsys.readouterr().out
    assert "without the top folder imagenette2-320/" in text
    assert "train: 2 classes, 6 images (3-3 per class)" in text and "val: 2 classes, 2 images" in text
    assert "note: the full set has 10 classes and 9469 images" in text
    assert read_imagefolder(out / "train").classes == ["n01440764", "n02102040"]
    assert prepare_imagenet.main(argv) == 0
    assert server.requests == ["/imagenette2-320.tgz"]
    assert "Imagenette: already unpacked" in capsys.readouterr().out

    # a truncated tgz is a clear error naming the file
    data = (server.root / "imagenette2-320.tgz").read_bytes()
    (server.root / "imagenette2-320.tgz").write_bytes(data[: len(data) // 2])
    out2 = tmp_path / "imagenette2"
    assert (
        prepare_imagenet.main(["--imagenette", "--out", str(out2), "--url-base", server.url, "--quiet"]) == 1
    )
    err = capsys.readouterr().err
    assert "imagenette2-320.tgz: is damaged (EOFError" in err and "download it again" in err
    assert not (out2 / ".imagenette2-320.done").exists()


# ---------------------------------------------------------------------------------------- --from ImageNet


WNIDS = ("n01440764", "n01443537", "n02102040")


@pytest.fixture
def imagenet(tmp_path) -> Path:
    """A fake ImageNet: train/<wnid>/ with 3 images each, val/<wnid>/ with 2."""
    root = tmp_path / "imagenet"
    for split, n in (("train", 3), ("val", 2)):
        for wnid in WNIDS:
            (root / split / wnid).mkdir(parents=True)
            for k in range(n):
                Image.new("RGB", (8, 6)).save(root / split / wnid / f"{wnid}_{k}.JPEG", format="JPEG")
    return root


def test_imagenet100_list():
    wnids = prepare_imagenet.IMAGENET100
    assert len(wnids) == len(set(wnids)) == 100
    assert all(prepare_imagenet.WNID.match(w) for w in wnids)
    assert wnids[:2] == ["n02869837", "n01749939"] and wnids[-1] == "n02090622"


def test_prepare_imagenet_from_folder(tmp_path, imagenet, capsys):
    classes = tmp_path / "classes.txt"
    classes.write_text("# two of them\nn02102040\n\nn01440764  # tench\n")
    out = tmp_path / "subset"
    base = ["--from", str(imagenet), "--classes", str(classes), "--out", str(out), "--quiet"]
    argv = [*base, "--per-class", "2"]
    assert prepare_imagenet.main(argv) == 0
    text = capsys.readouterr().out
    assert "train: 2 classes, 4 images (2-2 per class)" in text and "val: 2 classes, 4 images" in text
    links = sorted((out / "train" / "n01440764").iterdir())
    assert [p.name for p in links] == ["n01440764_0.JPEG", "n01440764_1.JPEG"]  # the first 2 by name
    assert all(p.is_symlink() for p in links)
    assert links[0].resolve() == (imagenet / "train" / "n01440764" / "n01440764_0.JPEG").resolve()
    assert not (out / "train" / "n01443537").exists() and not (out / ".train.partial").exists()

    assert prepare_imagenet.main(argv) == 0  # same options: skipped
    assert capsys.readouterr().out.count("already built") == 2
    assert prepare_imagenet.main([*base, "--copy", "--splits", "train"]) == 0
    text = capsys.readouterr().out  # other options: rebuilt (no cap, copies)
    assert "rebuilding" in text and "train: 2 classes, 6 images (3-3 per class)" in text
    assert not any(p.is_symlink() for p in (out / "train" / "n01440764").iterdir())


def test_prepare_imagenet_errors(tmp_path, imagenet, capsys):
    def run(*extra: str, classes: str = "n01440764\n", code: int = 1) -> str:
        (tmp_path / "c.txt").write_text(classes)
        base = ["--from", str(imagenet), "--classes", str(tmp_path / "c.txt"), "--quiet"]
        assert prepare_imagenet.main([*base, *extra]) == code
        return capsys.readouterr().err

    out = str(tmp_path / "subset")
    err = run("--out", out, classes="n01440764\nn09999999\n")
    assert f"{imagenet / 'train'}: 1 of 2 classes are missing: n09999999" in err
    assert not (tmp_path / "subset" / "train").exists()
    assert "line 2: 'dog' is not a WordNet id" in run("--out", out, classes="n01440764\ndog\n")
    assert "line 2: n01440764 is listed twice" in run("--out", out, classes="n01440764\nn01440764\n")
    err = run("--out", out, classes="# nothing\n")
    assert "lists no wnids" in err
    # the official ILSVRC2012 val folder is flat: named, with what to do (train alone still works)
    for p in (imagenet / "val").rglob("*.JPEG"):
        p.rename(imagenet / "val" / f"ILSVRC2012_val_{p.stem}.JPEG")
    err = run("--out", out)
    assert f"{imagenet / 'val'}: holds 6 images directly, not in class folders" in err and "--splits" in err
    assert not (tmp_path / "subset" / "train").exists()  # every split's source is checked before linking
    assert run("--out", out, "--splits", "train", code=0) == ""
    # a folder the script did not make is never overwritten
    (tmp_path / "other" / "train").mkdir(parents=True)
    assert "exists and was not made by --from" in run("--out", str(tmp_path / "other"), "--splits", "train")
    assert "ImageNet root is missing" in run("--from", str(tmp_path / "nowhere"), "--out", out)
