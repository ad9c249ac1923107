"""The local launcher: a sweep run by a pool of worker processes trains every cell once, gathers them all, and
gives the very runs a one-process sweep gives on the same number of threads per training; the launcher's
options come from the grid, the environment and the flags, each checked."""

from __future__ import annotations

import pytest
import torch

from ssl_kit.common.tidy import read_rows
from ssl_kit.errors import ConfigError
from ssl_kit.runs import rundir
from ssl_kit.study.grid import parse_grid
from ssl_kit.study.launch.options import ENV, JOBS_ENV, LaunchOptions, launch_options
from ssl_kit.study.sweep import run_sweep


def _raw(**extra) -> dict:
    return {
        "name": "g",
        "scale": "smoke",
        "seeds": [0],
        "policy": ["mocov2", "no_crop", "crop_0.8"],
        "config": {"steps": 3, "batch_size": 8, "queue_size": 16},
        "evaluate": {"protocols": ["viewpoint"], "top_k": [10], "linear": False},
        **extra,
    }


@pytest.mark.slow
def test_two_jobs_train_every_cell_once_and_match_one_job(smoke_world, tmp_path):
    one = run_sweep(parse_grid(_raw()), tmp_path / "one", smoke_world, progress=False,
                    launch=LaunchOptions(cpus_per_cell=1))  # fmt: skip
    two = run_sweep(parse_grid(_raw()), tmp_path / "two", smoke_world, progress=False,
                    launch=LaunchOptions(jobs=2, cpus_per_cell=1))  # fmt: skip
    assert not two.failed and not two.busy
    cells = ["mocov2-s0", "no_crop-s0", "crop_0.8-s0"]
    rows_one, rows_two = read_rows(one.csv), read_rows(two.csv)
    assert rows_two == rows_one  # all gathered, in grid order, every score equal
    assert {r["cell"] for r in rows_two} == {*cells, "random_init-s0"}
    for cell in cells:
        a = rundir.load_checkpoint(one.run(cell))["model"]
        b = rundir.load_checkpoint(two.run(cell))["model"]
        for name, value in a.items():  # bit for bit: the same config, seeds, steps and threads
            assert torch.equal(value, b[name]), (cell, name)
    assert sorted(p.name for p in (tmp_path / "two" / "g").iterdir()) == ["cells", "results.csv"]


def test_a_pool_worker_that_dies_is_reported_and_the_rest_are_gathered(smoke_world, tmp_path, monkeypatch):
    """A task whose worker process dies leaves no record: the gather reports the cell failed with the reason,
    and a rerun runs it."""
    import ssl_kit.study.sweep as sweep

    grid = parse_grid(_raw(evaluate={"protocols": [], "linear": False, "random_init": False},
                           config={"steps": 1, "batch_size": 8, "queue_size": 16}))  # fmt: skip

    def launched(ctx, cells, opts, progress):
        return {
            c.name: {"cell": c.name, "status": "died", "error": "its worker process died (killed)"}
            for c in cells
        }

    monkeypatch.setattr(sweep, "launch_cells", launched)
    result = run_sweep(grid, tmp_path, smoke_world, progress=False, launch=LaunchOptions(jobs=2))
    assert set(result.failed) == {"mocov2-s0", "no_crop-s0", "crop_0.8-s0"}
    assert all("worker process died" in e for e in result.failed.values())
    assert not list((tmp_path / "g" / "cells").glob("*.json"))  # nothing recorded: a rerun retries them


def test_launch_options_come_from_the_grid_the_environment_and_the_flags(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delenv(JOBS_ENV, raising=False)
    assert launch_options() == LaunchOptions()
    section = parse_grid(
        _raw(launcher={"launcher": "slurm", "partition": "gpu", "cpus_per_cell": 8})
    ).launcher
    assert launch_options(section) == LaunchOptions("slurm", cpus_per_cell=8, partition="gpu")
    monkeypatch.setenv(ENV, '{"launcher": "ray", "address": "auto"}')
    monkeypatch.setenv(JOBS_ENV, "3")
    got = launch_options(section, launcher="slurm", time_min=30)  # flags over the environment over the grid
    assert got == LaunchOptions(
        "slurm", jobs=3, cpus_per_cell=8, partition="gpu", address="auto", time_min=30
    )
    monkeypatch.setenv(ENV, "ray")
    assert launch_options().launcher == "ray"
    assert LaunchOptions(jobs=2).threads() == max(1, (__import__("os").cpu_count() or 1) // 2)
    assert LaunchOptions("slurm").threads() == 4 and LaunchOptions("ray", cpus_per_cell=2).threads() == 2


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"launcher": "kubernetes"}, "unknown launcher 'kubernetes'"),
        ({"jobs": 0}, "jobs must be a whole number of at least 1"),
        ({"cpus_per_cell": "4"}, "cpus_per_cell must be a whole number"),
        ({"mem_gb": -1}, "mem_gb must be a positive number"),
        ({"queue": "long"}, r"unknown field\(s\) \['queue'\] in `launcher`"),
    ],
)
def test_a_bad_launcher_section_is_one_line_naming_the_field(bad, message):
    with pytest.raises(ConfigError, match=message):
        parse_grid(_raw(launcher=bad))


def test_the_jobs_variable_is_read_like_the_flag(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    for bad, message in (("two", "whole number"), ("0", "at least 1")):
        monkeypatch.setenv(JOBS_ENV, bad)
        with pytest.raises(ConfigError, match=message):
            launch_options()
    monkeypatch.setenv(ENV, "{not json")
    monkeypatch.delenv(JOBS_ENV)
    with pytest.raises(ConfigError, match="SSL_KIT_LAUNCHER must be a launcher's name"):
        launch_options()


@pytest.mark.slow
def test_a_cell_on_several_gpus_trains_through_torchrun_inside_its_task(smoke_world, tmp_path, monkeypatch):
    """`gpus_per_cell > 1`: the task trains its cell as torchrun processes (one per GPU; on a CPU, gloo), then
    scores it itself; the record is the same kind of record."""
    import ssl_kit.study.launch.cell_task as cell_task_module
    from ssl_kit.study.launch.cell_task import cell_task, run_task
    from ssl_kit.study.sweep_cell import find_cell, recorded
    from ssl_kit.study.sweep_context import SweepContext

    grid = parse_grid(_raw(policy=["mocov2"], config={"steps": 2, "batch_size": 8, "queue_size": 16},
                           evaluate={"protocols": [], "linear": False, "random_init": False}))  # fmt: skip
    ctx = SweepContext(grid, tmp_path, smoke_world)
    ctx.check()
    commands, real = [], cell_task_module.subprocess.run
    monkeypatch.setattr(
        cell_task_module.subprocess, "run", lambda c, **kw: commands.append(c) or real(c, **kw)
    )
    summary = run_task(cell_task(ctx, find_cell(grid, "mocov2-s0"), threads=1, gpus=2))
    assert summary == {"cell": "mocov2-s0", "status": "ok", "error": ""}
    (command,) = commands
    assert command[1:4] == ["-m", "torch.distributed.run", "--standalone"] and "--nproc-per-node=2" in command
    record = recorded(ctx, find_cell(grid, "mocov2-s0"))
    assert record["status"] == "ok" and rundir.load_checkpoint(record["run"])["step"] == 2
    assert not list((tmp_path / "runs").glob(".*.task.json"))  # the torchrun task file is cleaned up


@pytest.mark.slow
def test_the_pool_runs_from_a_notebook_kernel(smoke_world, tmp_path):
    """The notebooks' sweeps run in a Jupyter kernel: its worker processes start there too (spawned, not forked)."""
    import nbformat
    import papermill

    code = (
        "from ssl_kit.study.grid import parse_grid\n"
        "from ssl_kit.study.launch.options import LaunchOptions\n"
        "from ssl_kit.study.sweep import run_sweep\n"
        f"raw = {_raw(policy=['mocov2', 'no_crop'], evaluate={'protocols': [], 'linear': False, 'random_init': False})!r}\n"
        f"result = run_sweep(parse_grid(raw), {str(tmp_path / 'out')!r}, {str(smoke_world)!r}, progress=False,\n"
        "                   launch=LaunchOptions(jobs=2, cpus_per_cell=1))\n"
        "assert not result.failed and sorted(result.runs) == ['mocov2-s0', 'no_crop-s0'], result.failed\n"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "pool.ipynb")
    papermill.execute_notebook(str(tmp_path / "pool.ipynb"), str(tmp_path / "ran.ipynb"), progress_bar=False)
    assert len(read_rows(tmp_path / "out" / "g" / "results.csv")) == 2
