"""What an engine runs for one cell: a plain-data task (`cell_task`) and the function that runs it (`run_task`).

A task is JSON-able data, never code: the grid (`grid_to_json`), the sweeps folder, the data folder, the cell's
name and the threads it trains on. `run_task` rebuilds the sweep's context from it and runs the cell through
`ssl_kit.study.sweep_cell.cell_outcome`, exactly as a one-process sweep does, so the record it writes is the same
file wherever it ran. With `gpus > 1` the cell's training runs first through torchrun (`torch.distributed.run`,
one process per GPU, `python -m ssl_kit.study.launch.cell_task train TASK.json`), then the cell is scored here.

`run_task` returns a small summary for the engine: the cell, its status (`ok`, `failed`, or `busy` when another
sweep holds it) and the error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from ssl_kit.common.removal import remove_inside
from ssl_kit.findings.checks import RANDOM_INIT
from ssl_kit.study.grid import grid_from_json, grid_to_json
from ssl_kit.study.sweep_cell import cell_outcome, find_cell, is_ok
from ssl_kit.study.sweep_context import SweepContext
from ssl_kit.training.reuse import ensure_run


def cell_task(ctx, cell, threads: int, gpus: int = 0) -> dict:
    """The task of `cell` in the sweep `ctx` (a `SweepContext`)."""
    return {
        "grid": grid_to_json(ctx.grid),
        "out": str(ctx.folder.parent),
        "world": None if ctx.world is None else str(ctx.world),
        "cell": cell.name,
        "threads": int(threads),
        "gpus": int(gpus),
    }


def _context(task: dict):
    grid = grid_from_json(task["grid"])
    ctx = SweepContext(grid, task["out"], task["world"], progress=False)
    return ctx, find_cell(grid, task["cell"])


def run_task(task: dict) -> dict:
    """Run one cell's task in this process (on `task["threads"]` threads); its summary."""
    torch.set_num_threads(task["threads"])
    ctx, cell = _context(task)
    (ctx.folder / "cells").mkdir(parents=True, exist_ok=True)
    if task.get("gpus", 0) > 1 and not is_ok(ctx, cell):
        train_distributed(task)
    result = cell_outcome(ctx, cell)
    if result is None:
        return {"cell": cell.name, "status": "busy", "error": ""}
    return {"cell": cell.name, "status": result["status"], "error": result.get("error", "")}


def train_distributed(task: dict) -> None:
    """Train the task's cell on `task["gpus"]` GPUs: torchrun, one process per GPU, on this node."""
    ctx, cell = _context(task)
    if cell.method == RANDOM_INIT:
        return  # a random-init cell trains nothing
    folder = Path(ctx.config(cell).out)
    folder.parent.mkdir(parents=True, exist_ok=True)
    spec = folder.parent / f".{folder.name}.task.json"
    spec.write_text(json.dumps(task))
    try:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command += [
            f"--nproc-per-node={task['gpus']}",
            "-m",
            "ssl_kit.study.launch.cell_task",
            "train",
            str(spec),
        ]
        subprocess.run(command, check=True)
    finally:
        remove_inside(spec, folder.parent)


def _train_rank(task_file: str) -> None:
    """One torchrun process: train the cell's config (rank 0 writes the run folder; `ssl_kit.training.loop`)."""
    ctx, cell = _context(json.loads(Path(task_file).read_text()))
    ensure_run(ctx.config(cell), progress=False)


if __name__ == "__main__":  # torchrun's entry: `python -m ssl_kit.study.launch.cell_task train TASK.json`
    if len(sys.argv) != 3 or sys.argv[1] != "train":
        sys.exit("usage: python -m ssl_kit.study.launch.cell_task train TASK.json")
    _train_rank(sys.argv[2])
