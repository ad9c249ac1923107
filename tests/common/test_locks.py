"""One writer per folder (issue 17): lock files, training sets complete or absent, two sweeps on one folder, and
a world that never deletes what it did not write."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import ssl_kit.study.train_sets as train_sets
from ssl_kit.cli import main
from ssl_kit.common.lock import LOCK, FolderLocked, file_lock, folder_lock
from ssl_kit.errors import DataError
from ssl_kit.study.grid import parse_grid
from ssl_kit.study.sweep import cell_runs, run_sweep
from ssl_kit.study.train_sets import TrainSet, materialize
from ssl_kit.world.build import build_set

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live_pid():
    """The pid of another process that is running (a sleeper, killed after the test)."""
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield p.pid
    p.kill()
    p.wait()


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _hold(path: Path, pid: int, host: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(), "token": "theirs"}))


def test_a_live_holder_is_refused_by_name(tmp_path, live_pid):
    _hold(tmp_path / LOCK, live_pid)
    with pytest.raises(FolderLocked, match=f"process {live_pid} on {socket.gethostname()}.*delete"):
        with folder_lock(tmp_path, "run"):
            pass
    assert json.loads((tmp_path / LOCK).read_text())["pid"] == live_pid  # untouched


def test_a_lock_on_another_host_is_never_taken_over(tmp_path):
    _hold(tmp_path / LOCK, os.getpid(), host="elsewhere.example")
    with pytest.raises(FolderLocked, match="elsewhere.example"):
        with folder_lock(tmp_path):
            pass


def test_a_dead_holder_is_taken_over_and_the_lock_released_on_exit(tmp_path):
    _hold(tmp_path / LOCK, _dead_pid())
    with folder_lock(tmp_path) as path:
        info = json.loads(path.read_text())
        assert info["pid"] == os.getpid() and info["host"] == socket.gethostname()
    assert not (tmp_path / LOCK).exists()


def test_released_on_an_error_and_reentrant_in_one_process(tmp_path):
    with pytest.raises(RuntimeError):
        with folder_lock(tmp_path):
            with folder_lock(tmp_path):  # a sweep's cell lock, then the trainer's
                assert (tmp_path / LOCK).exists()
            assert (tmp_path / LOCK).exists()  # still held by the outer block
            raise RuntimeError("boom")
    assert not (tmp_path / LOCK).exists()


def test_wait_returns_once_the_holder_is_gone(tmp_path):
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    reaper = threading.Thread(target=p.wait)  # reaped when it exits (a zombie's pid would still answer)
    reaper.start()
    _hold(tmp_path / "x.lock", p.pid)
    start = time.perf_counter()
    with file_lock(tmp_path / "x.lock", wait=True, poll=0.1):
        waited = time.perf_counter() - start
    reaper.join()
    assert waited >= 0.5


def _objects(world: Path) -> TrainSet:
    return TrainSet("objects", "folder", str(world / "objects" / "train"))


def test_a_training_set_is_complete_or_absent(smoke_world, tmp_path, monkeypatch):
    real = train_sets._WRITERS["folder"]

    def dies_halfway(ts, out, n, seed):
        real(ts, out, n, seed)
        raise KeyboardInterrupt  # killed after the images, before metadata.json and .done

    monkeypatch.setitem(train_sets._WRITERS, "folder", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        materialize(_objects(smoke_world), tmp_path, n=12)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []  # no set, not even empty
    monkeypatch.setitem(train_sets._WRITERS, "folder", real)
    out = materialize(_objects(smoke_world), tmp_path, n=12)
    assert (out / ".done").is_file() and len(json.loads((out / "metadata.json").read_text())) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # the partial folder and lock are gone


@pytest.mark.slow
def test_two_processes_write_one_training_set_once(smoke_world, tmp_path):
    code = (
        "import sys; from ssl_kit.study.train_sets import TrainSet, materialize; "
        f"print(materialize(TrainSet('objects', 'folder', {str(smoke_world / 'objects' / 'train')!r}), sys.argv[1], n=40))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and outs[0] == outs[1]
    out = Path(outs[0])
    assert len(json.loads((out / "metadata.json").read_text())) == 40
    assert sum(1 for p in out.rglob("*") if p.is_symlink() and p.is_file()) == 40  # links to the images


def test_a_sweep_skips_a_cell_another_process_is_running(smoke_world, tmp_path, live_pid):
    raw = {
        "name": "g",
        "scale": "smoke",
        "seeds": [0],
        "data": ["objects"],
        "method": ["mocov2"],
        "policy": ["mocov2", "no_crop"],
        "config": {"steps": 1, "batch_size": 8, "queue_size": 16},
        "evaluate": {"protocols": [], "top_k": [10], "linear": False, "random_init": False},
    }
    out = tmp_path / "sweeps"
    _hold(cell_runs(parse_grid(raw), out, smoke_world)["mocov2-s0"] / LOCK, live_pid)
    result = run_sweep(parse_grid(raw), out, smoke_world, progress=False)
    assert result.busy == ["mocov2-s0"] and result.failed == {}
    assert not list((out / "g" / "cells").glob("mocov2-s0-*.json"))  # left to its owner: a rerun gathers it
    assert len(list((out / "g" / "cells").glob("no_crop-s0-*.json"))) == 1
    assert {r["cell"] for r in result.rows} == {"no_crop-s0"}


def test_the_world_never_deletes_a_folder_it_did_not_write(tmp_path):
    mine = tmp_path / "aloi_col" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("my work")
    with pytest.raises(
        DataError, match=r"aloi_col: exists and was not written by the world builder.*--force"
    ):
        build_set("aloi_col", tmp_path, "smoke", progress=False)
    assert mine.read_text() == "my work"
    build_set("aloi_col", tmp_path, "smoke", progress=False, force=True)
    assert not mine.exists() and (tmp_path / "aloi_col" / "manifest.json").is_file()


def test_an_empty_folder_is_built_into(tmp_path):
    (tmp_path / "aloi_col").mkdir()
    build_set("aloi_col", tmp_path, "smoke", progress=False)
    assert (tmp_path / "aloi_col" / "manifest.json").is_file()


def test_a_second_train_on_one_folder_is_refused(smoke_world, tmp_path, live_pid, capsys):
    out = tmp_path / "run"
    _hold(out / LOCK, live_pid)
    code = main(
        [
            "train",
            "--scale",
            "smoke",
            "--data",
            str(smoke_world / "objects" / "train"),
            "--out",
            str(out),
            "--max-steps",
            "1",
            "--no-knn",
            "--quiet",
        ]
    )
    assert code == 2
    assert f"is in use: process {live_pid}" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [LOCK]  # nothing written beside the holder's lock
