"""Run a grid of trainings as one resumable sweep and gather every score into one tidy table.

`run_sweep(grid, out, world)` (what `python -m ssl_kit sweep --grid FILE` and the notebooks call) trains each
cell of the grid (`ssl_kit.study.grid`) into a normal run directory `<out>/runs/<method>-s<seed>-<run key>/` (one
per training: grids swept into one `out` share the runs they have in common, `ssl_kit.study.sweep_context`), scores
it (weighted kNN and a linear probe on the downstream folders, the paper's invariances at K = 10 and 25), and
writes the cell's result to `<out>/<name>/cells/<cell>-<key>.json` (the keys: `ssl_kit.study.sweep_context`).
Another scale, world or setting is another key, trained and scored anew, and never overwrites the first. An
unfinished run resumes, and a cell that fails is recorded with its error while the sweep goes on (a rerun retries
it). Two sweeps may share a folder: a cell one of them is running is skipped by the other (its lock,
`ssl_kit.common.lock`), and a training set is written by one while the other waits. Every result is gathered into
`<out>/<name>/results.csv`: one row per (cell, metric, K; K empty for the cosine measure), with a random-init
network of the same architecture and seed as the baseline every score is compared with.

The cells run in this process by default, or where a launcher sends them (`ssl_kit.study.launch`: worker
processes on this machine, a SLURM job array, a Ray cluster); each writes the same record wherever it ran
(`ssl_kit.study.sweep_cell`), and this process gathers them.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ssl_kit.common.cpus import within_cpus
from ssl_kit.common.tidy import write_rows
from ssl_kit.errors import ConfigError
from ssl_kit.findings.checks import RANDOM_INIT  # noqa: F401 (the sweep's name for the baseline's rows)
from ssl_kit.study.grid import Cell, Grid, load_grid, subset
from ssl_kit.study.launch.dispatch import launch_cells
from ssl_kit.study.launch.options import LaunchOptions, launch_options
from ssl_kit.study.sweep_cell import all_cells, cell_outcome, is_ok, recorded, run_path
from ssl_kit.study.sweep_context import SweepContext

FIELDS = ("sweep", "cell", "variant", "data", "method", "policy", "seed", "status", "metric", "K", "value",
          "error")  # fmt: skip


@dataclass
class SweepResult:
    folder: Path
    csv: Path
    rows: list[dict]
    failed: dict[str, str] = field(default_factory=dict)  # cell -> error
    busy: list[str] = field(default_factory=list)  # cells another process was running: not in `rows` yet
    runs: dict[str, Path] = field(default_factory=dict)  # cell -> the run folder it trained into

    def run(self, cell: str) -> Path:
        """The run folder cell `cell` trained into (what `load_model` and `load_run` read)."""
        path = self.runs.get(cell)
        if cell in self.failed or path is None or not (path / "checkpoint.pt").is_file():
            why = self.failed.get(cell, "no finished run there")
            raise ConfigError(f"sweep {self.folder.name}: cell {cell!r} has no run ({why})")
        return path


def check_sweep(
    grid: Grid, out: str | Path = "results/quick/sweeps", world: str | Path | None = "data/world/quick"
) -> None:
    """What `run_sweep` checks before it trains: every training set, downstream folder and protocol is there."""
    SweepContext(grid, out, world).check()


def _rows(grid: Grid, cell: Cell, result: dict) -> list[dict]:
    base = {"sweep": grid.name, **cell.labels(), "status": result["status"], "error": result.get("error", "")}
    if result["status"] != "ok":
        return [{**base, "metric": "", "K": "", "value": ""}]
    return [{**base, "metric": m, "K": k, "value": v} for m, k, v in result["scores"]]


def _gather(ctx: SweepContext, todo: list[Cell], progress: bool, launched: dict | None = None):
    """Walk the cells in order and gather their records into results.csv. Without `launched`, run each cell
    that has none here (`cell_outcome`: a failed one again); with it (the summaries of cells an engine ran),
    only read: a cell with no record is busy (another sweep holds it) or failed with the engine's reason.
    Returns (rows, failed, busy, runs)."""
    grid, folder = ctx.grid, ctx.folder
    rows, failed, busy, runs = [], {}, [], {}
    bar = tqdm(todo, desc=f"sweep {grid.name}", unit="cell", disable=not progress or launched is not None)
    for cell in bar:
        result = cell_outcome(ctx, cell) if launched is None else recorded(ctx, cell)
        if result is None:
            summary = (launched or {}).get(cell.name, {})
            if summary.get("status") == "died":
                failed[cell.name] = summary["error"]
            else:
                busy.append(cell.name)
            continue
        if result["status"] != "ok":
            failed[cell.name] = result["error"]
        elif run_path(result):
            runs[cell.name] = run_path(result)
        rows += _rows(grid, cell, result)
        if launched is None:  # the table grows as cells finish here
            write_rows(rows, folder / "results.csv", FIELDS)
    write_rows(rows, folder / "results.csv", FIELDS)
    return rows, failed, busy, runs


@contextlib.contextmanager
def _threads(n: int | None):
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_sweep(
    grid: Grid | str | Path,
    out: str | Path = "results/quick/sweeps",
    world: str | Path | None = "data/world/quick",
    scale: str | None = None,
    seeds: list[int] | None = None,
    progress: bool = True,
    jobs: int | None = None,
    launch: LaunchOptions | None = None,
) -> SweepResult:
    """Train and score every cell of `grid` not yet done; returns every row gathered (also in results.csv).

    Where the cells run is `launch` (`ssl_kit.study.launch.options`; default: the grid's `launcher:` section and
    the environment, `SSL_KIT_LAUNCHER` and `SSL_KIT_SWEEP_JOBS`, else this process). `jobs` overrides its jobs:
    on this machine, that many cells side by side in worker processes sharing the CPU's threads. Only cells
    without a finished record are handed to an engine; a grid whose cells are all done submits nothing."""
    if not isinstance(grid, Grid):
        grid = load_grid(grid, scale, seeds)
    opts = launch or launch_options(grid.launcher)
    if jobs is not None:
        opts = dataclasses.replace(opts, jobs=jobs)
    if opts.launcher == "local" and opts.local_jobs > 1:  # processes on this machine: at most one a CPU
        opts = dataclasses.replace(opts, jobs=within_cpus(opts.local_jobs, "--jobs"))
    ctx = SweepContext(grid, out, world, progress)
    ctx.check()  # before anything runs
    folder = ctx.folder
    (folder / "cells").mkdir(parents=True, exist_ok=True)
    todo = all_cells(grid)
    pending = [c for c in todo if not is_ok(ctx, c)]
    here = opts.launcher == "local" and (opts.local_jobs == 1 or len(pending) <= 1)
    if not pending or here:
        with _threads(opts.cpus_per_cell if here else None):
            rows, failed, busy, runs = _gather(ctx, todo, progress)
    else:
        launched = launch_cells(ctx, pending, opts, progress)
        rows, failed, busy, runs = _gather(ctx, todo, progress, launched)
    return SweepResult(folder, folder / "results.csv", rows, failed, busy, runs)


def study_mocov2(
    results: str | Path,
    world: str | Path,
    scale: str,
    seed: int = 0,
    progress: bool = True,
    policy: str = "crop_0.8",
) -> Path:
    """The study's MoCo v2 run with augmentation `policy`: that policy's cell of the augmentation sweep (notebook
    02), trained once into `<results>/sweeps` and scored there, so every notebook that reads it shares one run.

    The default, `crop_0.8` (crops of (0.8, 1)), is the kit's quick recipe: what notebook 05 explores and
    notebook 01's second MoCo v2 row. `policy="mocov2"` is the paper's MoCo v2 augmentation (crops of (0.2, 1),
    colour jitter, grayscale, blur, flips): the model notebook 01 holds finding 1 against."""
    return study_mocov2_runs(results, world, scale, seed, progress, [policy])[policy]


def study_mocov2_runs(
    results: str | Path, world: str | Path, scale: str, seed: int, progress: bool, policies: list[str]
) -> dict[str, Path]:
    """`study_mocov2` for several policies at once, as one sweep (so they may train side by side): policy ->
    run folder."""
    grid = subset(load_grid("augmentation_ablations", scale=scale, seeds=[seed]), policy=policies)
    sweep = run_sweep(grid, Path(results) / "sweeps", world, progress=progress)
    return {c.policy: sweep.run(c.name) for c in grid.cells}


def cell_runs(
    grid: Grid, out: str | Path = "results/quick/sweeps", world: str | Path | None = "data/world/quick"
) -> dict[str, Path]:
    """The run folder each cell of `grid` trains into (`<out>/runs/<method>-s<seed>-<run key>`), without training
    anything."""
    ctx = SweepContext(grid, out, world)
    return {c.name: Path(ctx.config(c).out) for c in grid.cells}


def training_folders(
    grid: Grid, out: str | Path = "results/quick/sweeps", world: str | Path | None = "data/world/quick"
) -> dict[str, Path]:
    """The folder each training set of `grid` is read from (image sets written once, as `run_sweep` writes
    them): what `ssl_kit.findings.positive_pairs` measures positive pairs on."""
    ctx = SweepContext(grid, out, world)
    return {entry: Path(ctx.data(entry)) for entry in dict.fromkeys(c.data for c in grid.cells)}
