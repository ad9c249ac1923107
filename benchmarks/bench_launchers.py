"""One smoke grid through the three launchers on this machine, and what submitting to SLURM costs the user.

The smoke grid (3 MoCo v2 cells and the random-init baseline, 3 steps each, scored on the viewpoint protocol) runs
through `--launcher local` (2 worker processes of 1 thread: the baseline), `--launcher slurm` (a one-node SLURM
cluster on this machine, started by `tests/cluster/start_slurm.sh` if none answers; 1 CPU a task) and
`--launcher ray` (a local Ray cluster the kit starts for the sweep; 1 CPU a task). For each: the wall time, its
ratio to the local launcher's, and whether its records equal the local run's (every score in results.csv, every
trained weight and every training loss, bit for bit). Then the user's time to submit a 100-cell grid to SLURM
(from `run_sweep` to the array in the queue; the array is cancelled at once) and to run a grid whose cells are all
done (nothing is submitted). Prints one JSON object (kept as docs/reference/cpu/bench_launchers.json, rendered on
docs/cluster.md).

    python benchmarks/bench_launchers.py > docs/reference/cpu/bench_launchers.json
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from ssl_kit.common.cpu_peak import cpu_spec
from ssl_kit.common.tidy import read_rows
from ssl_kit.runs import rundir
from ssl_kit.study.grid import parse_grid
from ssl_kit.study.launch import slurm_array
from ssl_kit.study.launch.options import LaunchOptions
from ssl_kit.study.sweep import run_sweep
from ssl_kit.world.build import build_world

REPO = Path(__file__).resolve().parents[1]
GOAL_SUBMIT_S = 10  # a 100-cell grid submitted in under 10 seconds of the user's time


def smoke_grid(name="g", seeds=(0,), policies=("mocov2", "no_crop", "crop_0.8"), random_init=True):
    return parse_grid({
        "name": name, "scale": "smoke", "seeds": list(seeds), "policy": list(policies),
        "config": {"steps": 3, "batch_size": 8, "queue_size": 16, "log_every": 1},
        "evaluate": {"protocols": ["viewpoint"], "top_k": [10], "linear": False, "random_init": random_init},
    })  # fmt: skip


def same_records(a, b) -> bool:
    if read_rows(a.csv) != read_rows(b.csv) or a.runs.keys() != b.runs.keys():
        return False
    for cell in a.runs:
        wa, wb = rundir.load_checkpoint(a.run(cell))["model"], rundir.load_checkpoint(b.run(cell))["model"]
        if not all(torch.equal(v, wb[k]) for k, v in wa.items()):
            return False
        if rundir.read_metrics(a.run(cell)) and [r.get("loss") for r in rundir.read_metrics(a.run(cell))] != [
            r.get("loss") for r in rundir.read_metrics(b.run(cell))
        ]:
            return False
    return True


def timed(grid, out, world, opts):
    start = time.perf_counter()
    result = run_sweep(grid, out, world, progress=False, launch=opts)
    return result, round(time.perf_counter() - start, 2)


def submit_seconds(out: Path, world: Path) -> float:
    """The user's time from `run_sweep` to a 100-cell array in SLURM's queue (the array is cancelled at once)."""
    real, when = slurm_array.submit, {}

    def submit_then_cancel(tasks, opts, folder, name):
        jobs = real(tasks, opts, folder, name)
        when["submitted"] = time.perf_counter()
        subprocess.run(["scancel", str(jobs[0].job_id).split("_")[0]], check=True)
        return jobs

    slurm_array.submit = submit_then_cancel
    try:
        start = time.perf_counter()
        grid = smoke_grid("hundred", seeds=range(100), policies=("mocov2",), random_init=False)
        run_sweep(grid, out, world, progress=False, launch=LaunchOptions("slurm", cpus_per_cell=1, poll_s=1))
    finally:
        slurm_array.submit = real
    return round(when["submitted"] - start, 2)


def main() -> None:
    started = subprocess.run(
        ["bash", str(REPO / "tests/cluster/start_slurm.sh")], capture_output=True, text=True
    )
    if started.returncode != 0:
        sys.exit(f"no SLURM cluster: {started.stdout}{started.stderr}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        world = tmp / "world"
        build_world(world, preset="smoke", seed=0, progress=False)
        opts = {
            "local": LaunchOptions(jobs=2, cpus_per_cell=1),
            "slurm": LaunchOptions("slurm", cpus_per_cell=1, poll_s=1),
            "ray": LaunchOptions("ray", cpus_per_cell=1),
        }
        results, launchers = {}, {}
        for name, o in opts.items():
            results[name], wall = timed(smoke_grid(), tmp / name, world, o)
            launchers[name] = {
                "wall_s": wall,
                "cells": len(results[name].runs) + 1,
                "failed": len(results[name].failed),
            }
        for name, entry in launchers.items():
            entry["ratio_to_local"] = round(entry["wall_s"] / launchers["local"]["wall_s"], 2)
            entry["records_equal_local"] = same_records(results["local"], results[name])
        _, all_done = timed(smoke_grid(), tmp / "slurm", world, opts["slurm"])
        submit = submit_seconds(tmp / "hundred", world)
    print(json.dumps({
        "benchmark": "bench_launchers",
        "cpu": cpu_spec().as_dict(),
        "torch": torch.__version__,
        "baseline": "local launcher: 2 worker processes of 1 thread",
        "grid": "smoke: 3 MoCo v2 cells and the random-init baseline, 3 steps each, viewpoint protocol",
        "threads_per_cell": 1,
        "launchers": launchers,
        "slurm_submit_100_cells_s": submit,
        "slurm_all_done_s": all_done,
        "goal_submit_s": GOAL_SUBMIT_S,
        "goal_met": submit < GOAL_SUBMIT_S,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
