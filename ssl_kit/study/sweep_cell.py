"""One cell of a sweep: train it (or reuse its run), score it, and write its record.

Whichever process runs a cell (the sweep's own, a local worker, a SLURM task or a Ray worker:
`ssl_kit.study.launch`), it runs it through `cell_outcome`, so a cell's record is the same file with the same
fields wherever it ran. A record is `<sweep folder>/cells/<cell>-<result key>.json`: the cell's labels, its
status (`ok` or `failed`, with the error and its traceback), the run folder it trained into and every
(metric, K, value) it scored. A cell another process is running (its lock, `ssl_kit.common.lock`) is left to
it: `cell_outcome` returns None.
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path

from tqdm.auto import tqdm

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.common.lock import FolderLocked, file_lock, folder_lock
from ssl_kit.findings.checks import RANDOM_INIT
from ssl_kit.invariance.scoring import MeasuredModel, cosine_table, load_model, measure_table
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.study.grid import Cell, Grid
from ssl_kit.study.sweep_context import SweepContext
from ssl_kit.training.reuse import ensure_run
from ssl_kit.training.untrained import untrained_twin


def all_cells(grid: Grid) -> list[Cell]:
    """The cells a sweep of `grid` runs, in order: the grid's, then a random-init network per seed (unless
    `evaluate.random_init` is off)."""
    return [*grid.cells, *(random_cells(grid) if grid.evaluate.random_init else [])]


def random_cells(grid: Grid) -> list[Cell]:
    return [Cell(f"random_init-s{s}", RANDOM_INIT, "-", RANDOM_INIT, "-", s) for s in grid.seeds]


def find_cell(grid: Grid, name: str) -> Cell:
    for cell in all_cells(grid):
        if cell.name == name:
            return cell
    raise KeyError(f"grid {grid.name} has no cell {name!r}")


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


def _run_random(ctx: SweepContext, cell: Cell) -> dict:
    """A random-init network with the architecture of the grid's first cell and this seed's initial weights (and,
    when that cell trains with a whitened stem, that stem: the same network untrained)."""

    cfg = ctx.random_config()
    with file_lock(ctx.folder / "cells" / f".{cell.name}.lock", "sweep cell"):  # one of the sweeps sharing it
        backbone, key = untrained_twin(cfg, cell.seed)
        model = MeasuredModel(RANDOM_INIT, backbone.eval(), key, cfg.image_size, cfg.arch, cfg.small_stem)
        return {"scores": _score(ctx, model, model.model, cfg.image_size, cell.seed)}


def recorded(ctx: SweepContext, cell: Cell) -> dict | None:
    """The cell's record: its own file, or the same network scored the same way by another grid swept into the
    same folder (copied under this grid's labels); None when there is neither."""
    path = ctx.cell_path(cell)
    if path.is_file():
        return json.loads(path.read_text())
    found = scored_elsewhere(ctx, cell)
    if found is not None:
        atomic_write_text(path, json.dumps({**cell.labels(), **found}, indent=1) + "\n")
    return found


def scored_elsewhere(ctx: SweepContext, cell: Cell) -> dict | None:
    """The finished result of the same network scored the same way by another grid swept into the same folder
    (the same result key: the training, or the random-init network, and the evaluation), without that grid's
    labels; None when there is none. Notebook 01's MoCo v2 cells are scored once for notebook 02's sweep too."""
    labels = set(cell.labels())
    for other in sorted(ctx.folder.parent.glob(f"*/cells/*-{ctx.key(cell)}.json")):
        found = json.loads(other.read_text())
        if found.get("status") == "ok":
            return {k: v for k, v in found.items() if k not in labels}
    return None


def is_ok(ctx: SweepContext, cell: Cell) -> bool:
    """True when the cell has a finished, successful record (its own or another grid's)."""
    path = ctx.cell_path(cell)
    if not path.is_file():
        return scored_elsewhere(ctx, cell) is not None
    return json.loads(path.read_text())["status"] == "ok"


def cell_outcome(ctx: SweepContext, cell: Cell, retry: bool = True) -> dict | None:
    """The cell's record, reading it if it exists, else training and scoring the cell and writing it (a failed
    cell is run again with `retry`). None when another process holds the cell (said so with progress on)."""
    result = recorded(ctx, cell)
    if result is not None and not (retry and result["status"] != "ok"):
        return result
    try:
        result = (_run_random if cell.method == RANDOM_INIT else _run_cell)(ctx, cell)
        result["status"] = "ok"
    except FolderLocked as e:  # another sweep on this folder is running the cell: leave it to it
        if ctx.progress:
            tqdm.write(f"cell {cell.name} skipped: {e}")
        return None
    except Exception as e:  # a failed cell is recorded, and the sweep goes on
        result = {
            "status": "failed",
            "error": f"{type(e).__name__}: {e}",
            "traceback": traceback.format_exc(),
        }
        if ctx.progress:
            tqdm.write(f"cell {cell.name} failed: {result['error']}")
    result["key"] = ctx.key(cell)
    atomic_write_text(ctx.cell_path(cell), json.dumps({**cell.labels(), **result}, indent=1) + "\n")
    return result


def run_path(result: dict | None) -> Path | None:
    return Path(result["run"]) if result and result.get("status") == "ok" and result.get("run") else None
