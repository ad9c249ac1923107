"""data_scripts/: the download helper against a local HTTP server, safe extraction, and the three scripts.

No test touches the network: a `ThreadingHTTPServer` on 127.0.0.1 serves files from tmp_path, with a handler
that honours (or, for one test, ignores) `Range` requests and records what it was asked and what it sent.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
import scipy.io
from helpers.scripts import SCRIPTS, load_script
from PIL import Image

dl = load_script("_download")


# ------------------------------------------------------------------------------------------ local server


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.server.root / unquote(self.path.lstrip("/"))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        rng = self.headers.get("Range")
        self.server.ranges.append(rng)
        start = 0
        if rng and self.server.honour_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.server.cut_after is not None:  # announce the whole body, send part of it, hang up
            body, self.server.cut_after = body[: self.server.cut_after], None
            self.close_connection = True
        self.wfile.write(body)
        self.server.sent.append(len(body))

    def log_message(self, *args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def __init__(self, root: Path):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.honour_range = True
        self.cut_after: int | None = None  # the next response stops after this many bytes
        self.ranges: list[str | None] = []
        self.sent: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server(tmp_path) -> Iterator[_Server]:
    root = tmp_path / "srv"
    root.mkdir()
    srv = _Server(root)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


@pytest.fixture
def payload(server) -> bytes:
    data = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    (server.root / "blob.bin").write_bytes(data)
    return data


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------- download


def test_full_download_writes_sha256(tmp_path, server, payload):
    dest = tmp_path / "out" / "blob.bin"
    assert dl.download(f"{server.url}/blob.bin", dest, _sha(payload), progress=False) == dest
    assert dest.read_bytes() == payload
    assert dl.checksum_path(dest).read_text() == f"{_sha(payload)}  blob.bin\n"
    assert not dest.with_name("blob.bin.part").exists()
    assert server.ranges == [None]
    # a re-run verifies the file and asks the server nothing
    dl.download(f"{server.url}/blob.bin", dest, progress=False)
    assert server.ranges == [None]


def test_resume_requests_only_the_rest(tmp_path, server, payload):
    dest = tmp_path / "blob.bin"
    dest.with_name("blob.bin.part").write_bytes(payload[:123_456])
    dl.download(f"{server.url}/blob.bin", dest, _sha(payload), progress=False)
    assert dest.read_bytes() == payload
    assert server.ranges == ["bytes=123456-"]
    assert server.sent == [len(payload) - 123_456]
    assert dl.read_checksum(dest) == _sha(payload)


def test_interrupted_transfer_keeps_part_and_resumes(tmp_path, server, payload, monkeypatch):
    monkeypatch.setattr(dl, "RETRY_DELAY", 0.0)
    dest = tmp_path / "blob.bin"
    server.cut_after = 100_000
    with pytest.raises(
        dl.DownloadError, match=r"blob\.bin: download .* interrupted .* blob\.bin\.part is kept"
    ):
        dl.download(f"{server.url}/blob.bin", dest, progress=False, retries=0)
    assert dest.with_name("blob.bin.part").stat().st_size == 100_000 and not dest.exists()
    dl.download(f"{server.url}/blob.bin", dest, _sha(payload), progress=False)
    assert dest.read_bytes() == payload
    assert server.ranges == [None, "bytes=100000-"]
    server.cut_after = 50_000  # with retries, one call resumes by itself
    dest2 = tmp_path / "again.bin"
    dl.download(f"{server.url}/blob.bin", dest2, _sha(payload), progress=False, retries=1)
    assert dest2.read_bytes() == payload and server.ranges[-2:] == [None, "bytes=50000-"]


def test_server_without_range_restarts_cleanly(tmp_path, server, payload):
    server.honour_range = False
    dest = tmp_path / "blob.bin"
    dest.with_name("blob.bin.part").write_bytes(b"\0" * 5000)  # wrong bytes: appending would corrupt
    dl.download(f"{server.url}/blob.bin", dest, progress=False)
    assert dest.read_bytes() == payload
    assert server.ranges == ["bytes=5000-"] and server.sent == [len(payload)]
    assert dl.read_checksum(dest) == _sha(payload)


def test_part_longer_than_file_restarts(tmp_path, server, payload):
    dest = tmp_path / "blob.bin"
    dest.with_name("blob.bin.part").write_bytes(payload + b"junk")
    dl.download(f"{server.url}/blob.bin", dest, _sha(payload), progress=False)
    assert dest.read_bytes() == payload
    assert server.ranges == [f"bytes={len(payload) + 4}-", None]
    # a .part that already holds the whole file (a crash before the rename) is finished without a transfer
    dest.unlink()
    dest.with_name("blob.bin.part").write_bytes(payload)
    dl.download(f"{server.url}/blob.bin", dest, _sha(payload), progress=False)
    assert dest.read_bytes() == payload and server.ranges[-1] == f"bytes={len(payload)}-"
    assert server.sent == [len(payload)]  # only the earlier full transfer sent a body


def test_checksum_mismatch_raises(tmp_path, server, payload):
    dest = tmp_path / "blob.bin"
    with pytest.raises(
        dl.DownloadError, match=r"blob\.bin: sha256 of the download is .* published one is 0+"
    ):
        dl.download(f"{server.url}/blob.bin", dest, "0" * 64, progress=False)
    assert not dest.exists() and not dest.with_name("blob.bin.part").exists()
    # a finished file that no longer matches its recorded sha256 is never reused
    dl.download(f"{server.url}/blob.bin", dest, progress=False)
    dest.write_bytes(payload[:-1] + b"X")
    with pytest.raises(dl.DownloadError, match=r"blob\.bin: sha256 .* recorded in blob\.bin\.sha256"):
        dl.download(f"{server.url}/blob.bin", dest, progress=False)
    dest.write_bytes(payload)
    dl.checksum_path(dest).unlink()
    with pytest.raises(dl.DownloadError, match=r"blob\.bin: sha256 .* differs from the published"):
        dl.download(f"{server.url}/blob.bin", dest, "f" * 64, progress=False)


def test_http_error_names_the_file(tmp_path, server):
    with pytest.raises(dl.DownloadError, match=r"missing\.bin: HTTP 404"):
        dl.download(f"{server.url}/missing.bin", tmp_path / "missing.bin", progress=False)


# ------------------------------------------------------------------------------------------ extraction


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_extract_rejects_escaping_members(tmp_path):
    dest = tmp_path / "dest"
    bad = _tar(tmp_path / "bad.tar", {"ok/a.txt": b"a", "../evil.txt": b"x"})
    with pytest.raises(dl.DownloadError, match=r"bad\.tar: member '\.\./evil\.txt' escapes"):
        dl.extract(bad, dest, progress=False)
    assert not (tmp_path / "evil.txt").exists() and not (dest / "ok").exists()  # nothing written
    absolute = _tar(tmp_path / "abs.tar", {"/etc/x": b"x"})
    with pytest.raises(dl.DownloadError, match="absolute path"):
        dl.extract(absolute, dest, progress=False)
    with tarfile.open(tmp_path / "link.tar", "w") as tf:
        info = tarfile.TarInfo("link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(dl.DownloadError, match="is a link"):
        dl.extract(tmp_path / "link.tar", dest, progress=False)
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        zf.writestr("top/../../evil.txt", b"x")
    with pytest.raises(dl.DownloadError, match="escapes"):
        dl.extract(tmp_path / "bad.zip", dest, progress=False)


def test_extract_zip_strips_top_folder(tmp_path):
    with zipfile.ZipFile(tmp_path / "r.zip", "w") as zf:
        zf.writestr("R1.1/", b"")
        zf.writestr("R1.1/Images/a.txt", b"a")
        zf.writestr("R1.1/b.txt", b"b")
    assert dl.common_top_folder(tmp_path / "r.zip") == "R1.1"
    assert dl.extract(tmp_path / "r.zip", tmp_path / "out", strip_components=1, progress=False) == 2
    assert (tmp_path / "out" / "Images" / "a.txt").read_bytes() == b"a"
    assert (tmp_path / "out" / "b.txt").read_bytes() == b"b"
    assert dl.common_top_folder(_tar(tmp_path / "flat.tar", {"a": b"", "b/c": b""})) is None


# ------------------------------------------------------------------------------------------ scripts


@pytest.mark.slow
def test_scripts_have_help():
    for name in ("prepare_aloi", "prepare_pascal3d", "check_got10k"):
        out = subprocess.run(
            [sys.executable, str(SCRIPTS / f"{name}.py"), "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0 and "usage:" in out.stdout, (name, out.stderr)


def _png(size=(4, 3), value: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (value, value, value)).save(buf, format="PNG")
    return buf.getvalue()


def test_prepare_aloi_from_local_mirror(tmp_path, server, capsys):
    members = {f"png2/{o}/{o}_r{d}.png": _png(value=o) for o in (1, 2) for d in (0, 5, 10)}
    _tar(server.root / "aloi_red2_view.tar", members)
    aloi = load_script("prepare_aloi")
    out = tmp_path / "aloi"
    argv = ["--out", str(out), "--sets", "view", "--url-base", server.url, "--quiet"]
    assert aloi.main(argv) == 0
    assert (out / "aloi_red2_view" / "png2" / "2" / "2_r10.png").is_file()
    assert (out / "downloads" / "aloi_red2_view.tar.sha256").is_file()
    assert "aloi_red2_view: 2 objects, 6 images" in capsys.readouterr().out
    assert len(server.ranges) == 1
    assert aloi.main(argv) == 0  # done marker: no second download, the check still runs
    assert len(server.ranges) == 1 and "already unpacked" in capsys.readouterr().out
    # a set that is missing on the mirror is an error, exit code 1
    assert aloi.main(["--out", str(out), "--sets", "col", "--url-base", server.url, "--quiet"]) == 1
    assert "aloi_red2_col.tar: HTTP 404" in capsys.readouterr().err


def _mat(record_objects: dict, name: str) -> bytes:
    buf = io.BytesIO()
    record = {
        "filename": f"{name}.JPEG",
        "size": {"width": 8, "height": 6, "depth": 3},
        "objects": record_objects,
    }
    scipy.io.savemat(buf, {"record": record})
    return buf.getvalue()


def test_prepare_pascal3d_from_local_mirror(tmp_path, server, capsys):
    top = "PASCAL3D+_release1.1"
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 6)).save(jpeg, format="JPEG")
    vp = {"azimuth_coarse": 30.0, "elevation_coarse": 5.0, "azimuth": 31.0, "elevation": 4.0, "distance": 3.0}
    obj = {"class": "car", "bbox": np.array([1.0, 1, 8, 6]), "viewpoint": vp, "truncated": 0, "occluded": 1}
    with zipfile.ZipFile(server.root / "PASCAL3D+_release1.1.zip", "w") as zf:
        for split, name in (("train", "n1_1"), ("val", "n1_2")):
            zf.writestr(f"{top}/Images/car_imagenet/{name}.JPEG", jpeg.getvalue())
            zf.writestr(f"{top}/Annotations/car_imagenet/{name}.mat", _mat(obj, name))
            zf.writestr(f"{top}/Image_sets/car_imagenet_{split}.txt", f"{name}\n")
    p3d = load_script("prepare_pascal3d")
    out = tmp_path / "pascal3d"
    assert p3d.main(["--out", str(out), "--url-base", server.url, "--quiet", "--remove-archives"]) == 0
    assert (out / "Annotations" / "car_imagenet" / "n1_1.mat").is_file()
    assert not (out / "downloads" / "PASCAL3D+_release1.1.zip").exists()
    text = capsys.readouterr().out
    assert "train: 1 images, 1 objects with a viewpoint (1 truncated/occluded/difficult" in text
    assert re.search(r"car\s+1\s+1\s+1\s+1", text)
    assert p3d.main(["--out", str(out), "--url-base", server.url, "--quiet"]) == 0
    assert len(server.ranges) == 1  # the done marker skipped the download


# ------------------------------------------------------------------------------------------ GOT-10k


_META = "[METAINFO]\nobject_class: car\nmotion_class: moving\n"


def _got(root: Path, name: str, cover: list[int]) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    for i in range(1, len(cover) + 1):
        Image.new("RGB", (4, 3)).save(folder / f"{i:08d}.jpg")
    n = len(cover)
    (folder / "groundtruth.txt").write_text("1,1,2,2\n" * n)
    (folder / "cover.label").write_text("".join(f"{c}\n" for c in cover))
    (folder / "absence.label").write_text("0\n" * n)
    (folder / "meta_info.ini").write_text(_META)


def test_check_got10k(tmp_path, capsys):
    check = load_script("check_got10k")
    train = tmp_path / "got10k" / "train"
    _got(train, "GOT-10k_Train_000001", [8, 6, 3])  # span 5: passes
    _got(train, "GOT-10k_Train_000002", [8, 7, 8])  # span 1: filtered out
    (train / "list.txt").write_text("GOT-10k_Train_000001\nGOT-10k_Train_000002\n")
    assert check.main([str(train.parent), "--quiet"]) == 0  # the parent of train/ works too
    out = capsys.readouterr().out
    assert "2 sequences listed, 2 read (6 frames), 0 problems" in out
    assert "1 of 2 sequences pass" in out
    (train / "GOT-10k_Train_000002" / "cover.label").write_text("8\n")
    assert check.main([str(train), "--quiet"]) == 1
    assert "GOT-10k_Train_000002/cover.label: has 1 lines" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert check.main([str(tmp_path / "empty"), "--quiet"]) == 1
    assert "list.txt: file is missing" in capsys.readouterr().err
