"""Where a command writes is checked before its work: a folder that is a file, a file name that is a folder, a
folder that cannot be written, a disk that fills. Each is one line naming the flag (exit 2, nothing lost);
caches go to the kit's cache folder, never into the folder a command runs in."""

from __future__ import annotations

import collections
import errno
import json
import shutil
import socket

import pytest
import torch
from helpers.cli_errors import error_line

from ssl_kit.cli import main
from ssl_kit.common.cache import user_cache
from ssl_kit.common.writable import writable_file, writable_folder
from ssl_kit.errors import ConfigError, DiskFullError
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig
from ssl_kit.world.build import build_world

GRID = "name: g\nscale: smoke\nseeds: [0]\nmethod: [mocov2]\npolicy: [mocov2]\n"


def test_sweep_out_that_is_a_file_is_refused_before_any_work(smoke_world, tmp_path, capsys):
    grid = tmp_path / "g.yaml"
    grid.write_text(GRID)
    afile = tmp_path / "afile"
    afile.write_text("")
    for out, dry in ((afile, False), (afile / "x", False), (afile / "x", True)):
        argv = ["sweep", "--grid", str(grid), "--world", str(smoke_world), "--out", str(out), "--quiet"]
        assert main(argv + (["--dry-run"] if dry else [])) == 2
        line = error_line(capsys)
        assert f"--out {out}" in line and "is a file, not a folder" in line, line
    assert afile.read_text() == ""


def test_measure_csv_that_is_a_folder_is_refused_before_measuring(smoke_run, smoke_world, tmp_path, capsys):
    cache = tmp_path / "cache"
    argv = ["measure", "--checkpoint", str(smoke_run), "--protocol", "viewpoint", "--data", str(smoke_world)]
    assert main([*argv, "--csv", str(tmp_path), "--cache", str(cache), "--quiet"]) == 2
    line = error_line(capsys)
    assert (
        f"--csv {tmp_path} is a folder; give --csv a file name (e.g. {tmp_path / 'invariance.csv'})" in line
    )
    assert not any(cache.rglob("*.npy")) and not any(cache.rglob("*.pt"))  # nothing was measured


def test_measure_cache_that_cannot_be_written_is_refused(
    smoke_run, smoke_world, tmp_path, capsys, monkeypatch
):
    afile = tmp_path / "afile"
    afile.write_text("")
    argv = ["measure", "--checkpoint", str(smoke_run), "--protocol", "viewpoint", "--data", str(smoke_world)]
    assert main([*argv, "--cache", str(afile / "features"), "--quiet"]) == 2
    assert f"--cache {afile / 'features'}: {afile} is a file" in error_line(capsys)

    def read_only(*a, **k):  # a read-only folder (root ignores permissions, so the OS's answer is simulated)
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("tempfile.TemporaryFile", read_only)
    assert main([*argv, "--cache", str(tmp_path / "ro"), "--quiet"]) == 2
    line = error_line(capsys)
    assert (
        f"{tmp_path / 'ro'}: cannot write here (Permission denied)" in line and "give --cache another" in line
    )


def test_writable_paths_know_files_from_folders(tmp_path):
    assert writable_folder(tmp_path / "a" / "b", "--out").is_dir()
    assert writable_file(tmp_path / "c" / "t.csv", "--csv").parent.is_dir()
    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        writable_folder(tmp_path / "f", "--out")
    with pytest.raises(ConfigError, match="is a folder"):
        writable_file(tmp_path, "--csv")
    assert not (tmp_path / "dry").exists() and writable_folder(tmp_path / "dry", "--out", create=False)
    assert not (tmp_path / "dry").exists()


def test_a_full_disk_while_saving_a_checkpoint_is_one_error_and_loses_nothing(
    smoke_run, tmp_path, monkeypatch
):
    state = rundir.load_checkpoint(smoke_run)
    rundir.save_checkpoint(tmp_path, state)
    before = (tmp_path / rundir.CHECKPOINT).read_bytes()

    def torch_on_a_full_disk(obj, f, *a, **k):  # what torch's zip writer raises when a write is refused
        f.write(b"x" * 100)
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 15967488 vs 15967384")

    monkeypatch.setattr(torch, "save", torch_on_a_full_disk)
    with pytest.raises(DiskFullError, match="the write stopped \\(\\[enforce fail"):  # room left: not "full"
        rundir.save_checkpoint(tmp_path, state)
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(2**30, 2**30 - 2**20, 2**20))  # 1 MiB free
    with pytest.raises(DiskFullError, match="could not be written: its disk is full \\(1.0 MiB free") as e:
        rundir.save_checkpoint(tmp_path, state)
    assert str(tmp_path / rundir.CHECKPOINT) in str(e.value) and "\n" not in str(e.value)
    assert (tmp_path / rundir.CHECKPOINT).read_bytes() == before  # the previous checkpoint is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == [rundir.CHECKPOINT]  # the temporary file is gone


def test_a_full_disk_while_logging_is_one_error(tmp_path, monkeypatch):
    def no_space(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("builtins.open", no_space)
    with pytest.raises(DiskFullError, match="its disk is full"):
        rundir.append_metrics(tmp_path, step=1)


def test_a_set_of_another_config_names_the_world_command_that_rebuilds_it(tmp_path, capsys):
    world = tmp_path / "w"
    build_world(world, "smoke", 0, sets=["objects"], progress=False)
    manifest = world / "objects" / "manifest.json"
    record = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**record, "config_hash": "0123456789abcdef"}))
    argv = ["reproduce", "--world", str(world), "--results", str(tmp_path / "r"), "--quiet"]
    assert main(argv) == 2
    line = error_line(capsys)
    rebuild = f"`python -m ssl_kit world --preset smoke --seed 0 --sets objects --out {world} --force`"
    assert rebuild in line and "another --out" not in line, line
    assert not (tmp_path / "r" / "summary.md").exists()


def test_caches_go_to_the_kits_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_KIT_CACHE", str(tmp_path / "kit"))
    assert user_cache("regions") == tmp_path / "kit" / "regions"
    monkeypatch.delenv("SSL_KIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache("features") == tmp_path / "xdg" / "ssl_kit" / "features"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_cache() == tmp_path / "home" / ".cache" / "ssl_kit"
    assert TrainConfig().region_cache is None  # not ./.cache/regions of whatever folder a command runs in


def test_region_tracker_caches_its_regions_in_the_kits_cache(smoke_world, tmp_path, monkeypatch, kit_cache):
    monkeypatch.chdir(tmp_path)  # the folder the command runs in must stay clean
    argv = ["train", "--method", "region_tracker", "--data", str(smoke_world / "videos"), "--out", "run"]
    argv += ["--scale", "smoke", "--max-steps", "1", "--max-videos", "2", "--no-knn", "--quiet"]
    assert main(argv) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert any((kit_cache / "regions").rglob("*")), "the regions were cached in the kit's cache folder"


def test_a_cell_another_sweep_holds_is_skipped_and_said_so(smoke_world, tmp_path, capsys):
    from ssl_kit.study.grid import parse_grid
    from ssl_kit.study.sweep import RANDOM_INIT
    from ssl_kit.study.sweep_cell import cell_outcome, random_cells
    from ssl_kit.study.sweep_context import SweepContext

    grid = parse_grid(
        {"name": "g", "scale": "smoke", "seeds": [0], "method": ["mocov2"], "policy": ["mocov2"]}
    )
    ctx = SweepContext(grid, tmp_path, smoke_world, True)
    (ctx.folder / "cells").mkdir(parents=True)
    cell = random_cells(grid)[0]
    assert cell.method == RANDOM_INIT
    holder = {"pid": 1, "host": socket.gethostname(), "since": "now"}  # a live process holds the cell
    (ctx.folder / "cells" / f".{cell.name}.lock").write_text(json.dumps(holder))
    assert cell_outcome(ctx, cell) is None
    assert f"cell {cell.name} skipped" in capsys.readouterr().out and not ctx.cell_path(cell).exists()


def test_a_disk_without_room_for_one_checkpoint_is_refused_before_training(
    smoke_world, tmp_path, monkeypatch, capsys
):
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(2**30, 2**30 - 2**20, 2**20))  # 1 MiB free
    out = tmp_path / "run"
    argv = ["train", "--data", str(smoke_world / "objects" / "train"), "--out", str(out), "--scale", "smoke"]
    assert main([*argv, "--no-knn", "--quiet"]) == 2
    line = error_line(capsys)
    assert f"{out}: its disk has 1.0 MiB free, and a checkpoint of this run takes about " in line, line
    assert "give --out a folder on another disk" in line and not out.exists()  # nor an empty folder left
