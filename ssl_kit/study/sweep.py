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
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.common.lock import FolderLocked, file_lock, folder_lock
from ssl_kit.common.tidy import write_rows
from ssl_kit.errors import ConfigError
from ssl_kit.findings.checks import RANDOM_INIT
from ssl_kit.invariance.scoring import MeasuredModel, cosine_table, load_model, measure_table
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.study.grid import Cell, Grid, grid_from_json, load_grid, subset
from ssl_kit.study.sweep_context import SweepContext
from ssl_kit.study.sweep_jobs import side_by_side, sweep_jobs
from ssl_kit.training.reuse import ensure_run
from ssl_kit.training.untrained import untrained_twin

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


def _score(
    ctx: SweepContext, model, backbone, image_size: int, seed: int
) -> list[tuple[str, int | str, float]]:
    """(metric, K, value) of one network: downstream accuracies, then every invariance at every K, then (with
    `evaluate.cosine`) every invariance by the cosine measure, K empty."""

    out = []
    if ctx.downstream():
        protocols = ("knn", "linear") if ctx.grid.evaluate.linear else ("knn",)
        for k, v in ctx.splits(image_size).scores(backbone, protocols, seed=seed).items():
            out.append((k, "", float(v)))
    protocols = list(ctx.protocols().values())
    if protocols:
        rows = measure_table(
            [model],
            protocols,
            ctx.grid.evaluate.top_k,
            cache_dir=ctx.folder.parent / "features",
            progress=False,
        )
        out += [(r["metric"], r["K"], float(r["value"])) for r in rows]
        if ctx.grid.evaluate.cosine:  # the second measure on the same (cached) features; K empty
            rows = cosine_table([model], protocols, cache_dir=ctx.folder.parent / "features", progress=False)
            out += [(r["metric"], "", float(r["value"])) for r in rows]
    return out


def _run_cell(ctx: SweepContext, cell: Cell) -> dict:
    cfg = ctx.config(cell)
    start = time.perf_counter()
    with folder_lock(cfg.out, "sweep cell"):  # trained and scored by one sweep (the trainer re-enters it)
        run = ensure_run(cfg, progress=ctx.progress)
        trained = time.perf_counter()
        method, resolved, _ = load_run(run)
        scores = _score(
            ctx, load_model(run, name=cell.name), method.feature_backbone(), resolved.image_size, cell.seed
        )
    return {
        "train_seconds": round(trained - start, 1),
        "score_seconds": round(time.perf_counter() - trained, 1),
        "run": str(run),
        "scores": scores,
    }


def _random_cells(grid: Grid) -> list[Cell]:
    return [Cell(f"random_init-s{s}", RANDOM_INIT, "-", RANDOM_INIT, "-", s) for s in grid.seeds]


def _run_random(ctx: SweepContext, cell: Cell) -> dict:
    """A random-init network with the architecture of the grid's first cell and this seed's initial weights (and,
    when that cell trains with a whitened stem, that stem: the same network untrained)."""

    cfg = ctx.random_config()
    with file_lock(ctx.folder / "cells" / f".{cell.name}.lock", "sweep cell"):  # one of the sweeps sharing it
        backbone, key = untrained_twin(cfg, cell.seed)
        model = MeasuredModel(RANDOM_INIT, backbone.eval(), key, cfg.image_size, cfg.arch, cfg.small_stem)
        return {"scores": _score(ctx, model, model.model, cfg.image_size, cell.seed)}


def _rows(grid: Grid, cell: Cell, result: dict) -> list[dict]:
    base = {"sweep": grid.name, **cell.labels(), "status": result["status"], "error": result.get("error", "")}
    if result["status"] != "ok":
        return [{**base, "metric": "", "K": "", "value": ""}]
    return [{**base, "metric": m, "K": k, "value": v} for m, k, v in result["scores"]]


def check_sweep(
    grid: Grid, out: str | Path = "results/quick/sweeps", world: str | Path | None = "data/world/quick"
) -> None:
    """What `run_sweep` checks before it trains: every training set, downstream folder and protocol is there."""
    SweepContext(grid, out, world).check()


def _pass(ctx: SweepContext, todo: list[Cell], progress: bool, retry: bool = True, helpers: bool = False):
    """Walk the cells in order: read a cell's result, or train and score it (a failed one again only with
    `retry`); a cell another process holds is skipped as busy, and said so unless `helpers` run beside this
    pass (then a held cell is a helper's, gathered afterwards). Returns (rows, failed, busy, runs)."""
    grid, folder = ctx.grid, ctx.folder
    rows, failed, busy, runs = [], {}, [], {}
    for cell in tqdm(todo, desc=f"sweep {grid.name}", unit="cell", disable=not progress):
        path = ctx.cell_path(cell)
        result = json.loads(path.read_text()) if path.is_file() else _scored_elsewhere(ctx, cell)
        if result is not None and not path.is_file():  # another grid's result for this network and evaluation
            atomic_write_text(path, json.dumps({**cell.labels(), **result}, indent=1) + "\n")
        if result is None or (retry and result["status"] != "ok"):
            try:
                result = (_run_random if cell.method == RANDOM_INIT else _run_cell)(ctx, cell)
                result["status"] = "ok"
            except FolderLocked as e:  # another sweep on this folder is running the cell: leave it to it
                busy.append(cell.name)
                if progress and not helpers:
                    tqdm.write(f"cell {cell.name} skipped: {e}")
                continue
            except Exception as e:  # a failed cell is recorded, and the sweep goes on
                result = {
                    "status": "failed",
                    "error": f"{type(e).__name__}: {e}",
                    "traceback": traceback.format_exc(),
                }
                if progress:
                    tqdm.write(f"cell {cell.name} failed: {result['error']}")
            result["key"] = ctx.key(cell)
            atomic_write_text(path, json.dumps({**cell.labels(), **result}, indent=1) + "\n")
        if result["status"] != "ok":
            failed[cell.name] = result["error"]
        elif result.get("run"):
            runs[cell.name] = Path(result["run"])
        rows += _rows(grid, cell, result)
        write_rows(rows, folder / "results.csv", FIELDS)
    return rows, failed, busy, runs


def run_sweep(
    grid: Grid | str | Path,
    out: str | Path = "results/quick/sweeps",
    world: str | Path | None = "data/world/quick",
    scale: str | None = None,
    seeds: list[int] | None = None,
    progress: bool = True,
    jobs: int | None = None,
) -> SweepResult:
    """Train and score every cell of `grid` not yet done; returns every row gathered (also in results.csv).

    `jobs` cells run side by side (default `sweep_jobs()`: 1 unless `SSL_KIT_SWEEP_JOBS` says otherwise), as
    helper processes sharing the CPU's threads (`ssl_kit.study.sweep_jobs`)."""
    if not isinstance(grid, Grid):
        grid = load_grid(grid, scale, seeds)
    ctx = SweepContext(grid, out, world, progress)
    ctx.check()  # before anything runs
    folder = ctx.folder
    (folder / "cells").mkdir(parents=True, exist_ok=True)
    todo = [*grid.cells, *(_random_cells(grid) if grid.evaluate.random_init else [])]
    jobs = sweep_jobs() if jobs is None else jobs
    if jobs > 1 and sum(not _is_ok(ctx, c) for c in todo) > 1:
        with side_by_side(grid, Path(out), ctx.world, folder, jobs):
            _pass(ctx, todo, progress, helpers=True)
        # gather once every helper is done (a cell a helper left undone is run here; none is retried twice)
        rows, failed, busy, runs = _pass(ctx, todo, progress, retry=False)
    else:
        rows, failed, busy, runs = _pass(ctx, todo, progress)
    return SweepResult(folder, folder / "results.csv", rows, failed, busy, runs)


def sweep_helper(task: str) -> None:
    """A helper process of `side_by_side`: run the sweep its task file describes (JSON: the grid, out, world,
    threads) alone, quietly."""
    spec = json.loads(Path(task).read_text())
    torch.set_num_threads(spec["threads"])
    world = None if spec["world"] is None else Path(spec["world"])
    run_sweep(grid_from_json(spec["grid"]), Path(spec["out"]), world, progress=False, jobs=1)


def _scored_elsewhere(ctx: SweepContext, cell: Cell) -> dict | None:
    """The finished result of the same network scored the same way by another grid swept into the same folder
    (the same result key: the training, or the random-init network, and the evaluation), without that grid's
    labels; None when there is none. Notebook 01's MoCo v2 cells are scored once for notebook 02's sweep too."""
    labels = set(cell.labels())
    for other in sorted(ctx.folder.parent.glob(f"*/cells/*-{ctx.key(cell)}.json")):
        found = json.loads(other.read_text())
        if found.get("status") == "ok":
            return {k: v for k, v in found.items() if k not in labels}
    return None


def _is_ok(ctx: SweepContext, cell: Cell) -> bool:
    path = ctx.cell_path(cell)
    if not path.is_file():
        return _scored_elsewhere(ctx, cell) is not None
    return json.loads(path.read_text())["status"] == "ok"


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
