"""Cells side by side: a sweep run as two processes trains every cell once, gathers them all, and gives the very
runs a one-process sweep gives on the same number of threads per training."""

from __future__ import annotations

import pytest
import torch

from ssl_kit.common.tidy import read_rows
from ssl_kit.runs import rundir
from ssl_kit.study.grid import parse_grid
from ssl_kit.study.sweep import run_sweep
from ssl_kit.study.sweep_jobs import ENV, sweep_jobs, threads_per_job


def _raw() -> dict:
    return {
        "name": "g",
        "scale": "smoke",
        "seeds": [0],
        "policy": ["mocov2", "no_crop", "crop_0.8"],
        "config": {"steps": 3, "batch_size": 8, "queue_size": 16},
        "evaluate": {"protocols": ["viewpoint"], "top_k": [10], "linear": False},
    }


@pytest.mark.slow
def test_two_jobs_train_every_cell_once_and_match_one_job(smoke_world, tmp_path):
    before = torch.get_num_threads()
    torch.set_num_threads(threads_per_job(2))  # what each of the two jobs trains on
    try:
        one = run_sweep(parse_grid(_raw()), tmp_path / "one", smoke_world, progress=False, jobs=1)
    finally:
        torch.set_num_threads(before)
    two = run_sweep(parse_grid(_raw()), tmp_path / "two", smoke_world, progress=False, jobs=2)
    assert not two.failed and not two.busy
    cells = ["mocov2-s0", "no_crop-s0", "crop_0.8-s0"]
    rows_one, rows_two = read_rows(one.csv), read_rows(two.csv)
    key = [(r["cell"], r["metric"], r["K"]) for r in rows_one]
    assert [(r["cell"], r["metric"], r["K"]) for r in rows_two] == key  # all gathered, in grid order
    assert {r["cell"] for r in rows_two} == {*cells, "random_init-s0"}
    for cell in cells:
        a = rundir.load_checkpoint(one.run(cell))["model"]
        b = rundir.load_checkpoint(two.run(cell))["model"]
        for name, value in a.items():  # bit for bit: the same config, seeds, steps and threads
            assert torch.equal(value, b[name]), (cell, name)
    log = (tmp_path / "two" / "g" / "helper-1.log").read_text()
    assert "Traceback" not in log
    assert not list((tmp_path / "two" / "g").glob(".helper-*"))  # the task files are cleaned up


def test_sweep_jobs_reads_the_environment(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert sweep_jobs() == 1
    monkeypatch.setenv(ENV, "2")
    assert sweep_jobs() == 2
    for bad, message in (("two", "whole number"), ("0", "at least 1")):
        monkeypatch.setenv(ENV, bad)
        with pytest.raises(ValueError, match=message):
            sweep_jobs()
