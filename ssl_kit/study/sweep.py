"""Run a grid of trainings as one resumable sweep and gather every score into one tidy table.

`run_sweep(grid, out, world)` (what `python -m ssl_kit sweep --grid FILE` and the notebooks call) trains each
cell of the grid (`ssl_kit.study.grid`) into a normal run directory `<out>/<name>/runs/<cell>-<run key>/`, scores
it (weighted kNN and a linear probe on the downstream folders, the paper's invariances at K = 10 and 25), and
writes the cell's result to `<out>/<name>/cells/<cell>-<key>.json`. The run key is that of the resolved training
config and the training data's identity (`ssl_kit.training.reuse.run_key`); the cell's key adds the evaluation
(the downstream and protocol data's identities, the probes, K) and the kit's result format. So a cell's result
is reused only for the same training on the same data scored the same way: another scale, world or setting is
another key, trained and scored anew, and never overwrites the first. An unfinished run resumes, and a cell
that fails is recorded with its error while the sweep goes on (a rerun retries it). Two sweeps may share a folder: a cell one of them is running is skipped by the other (its lock,
`ssl_kit.common.lock`), and a training set is written by one while the other waits. Every result is gathered into `<out>/<name>/results.csv`: one row per (cell, metric, K), with a
random-init network of the same architecture and seed as the baseline every score is compared with.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ssl_kit.common.atomic import atomic_write_bytes, atomic_write_text
from ssl_kit.common.keys import digest, result_key
from ssl_kit.common.lock import FolderLocked, file_lock, folder_lock
from ssl_kit.data.identity import data_identity
from ssl_kit.errors import ConfigError
from ssl_kit.evaluate.splits import LabelledSplits
from ssl_kit.invariance.protocols import build_protocol, protocol_root
from ssl_kit.invariance.scoring import load_model, measure_table, random_model
from ssl_kit.methods import VIDEO_METHODS
from ssl_kit.models.whitening import whiten_stems
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.runs.config import resolve
from ssl_kit.runs.run_keys import run_key
from ssl_kit.study.data_folder import StudyData
from ssl_kit.study.grid import Cell, Grid, cell_config, grid_from_json, load_grid, subset
from ssl_kit.study.sweep_jobs import side_by_side, sweep_jobs
from ssl_kit.study.train_sets import check_train_set, materialize, parse_train_set, set_size
from ssl_kit.training.data import decide_input, load_train_data
from ssl_kit.training.prepare import stem_images
from ssl_kit.training.reuse import ensure_run
from ssl_kit.video.sources import is_video_source

FIELDS = ("sweep", "cell", "variant", "data", "method", "policy", "seed", "status", "metric", "K", "value",
          "error")  # fmt: skip
RANDOM_INIT = "random init"


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


def _world_video(entry: str, world: Path | None) -> Path | None:
    """The video folder an entry names (`videos`, `video:<path>`, relative paths under `world`), or None for an
    image training set."""
    if entry == "videos":
        if world is None:
            raise ConfigError("training set 'videos' is a world set; give the world folder")
        return StudyData.open(world, build=False).videos()
    if entry.startswith("video:"):
        path = Path(entry.partition(":")[2])
        return path if path.is_absolute() or world is None else world / path
    return None


def _real(entry: str, world: Path | None) -> str:
    """A `kind:path[:split]` entry with a relative path made relative to the data folder `world`."""
    kind, sep, rest = entry.partition(":")
    if not sep or kind == "video" or world is None or Path(rest).is_absolute():
        return entry
    return f"{kind}:{world / rest}"


class _Context:
    """What a sweep resolves once: training folders, downstream splits and protocols (loaded lazily)."""

    def __init__(self, grid: Grid, folder: Path, world: Path | None, progress: bool):
        self.grid, self.folder, self.world, self.progress = grid, folder, world, progress
        self._data: dict[str, str] = {}
        self._splits: dict[int, object] = {}
        self._protocols: dict[str, object] | None = None
        self._eval_key: str | None = None
        self._keys: dict[str, str] = {}

    def check(self) -> None:
        """Every training set, downstream folder and protocol is there; video methods get videos."""

        for entry in sorted({self.entry(c.data) for c in self.grid.cells}):
            video = _world_video(entry, self.world)
            if video is not None:
                if not is_video_source(video):
                    raise ConfigError(f"training set {entry!r}: {video} is not a video folder")
            else:
                check_train_set(parse_train_set(entry, self.world))
        for c in self.grid.cells:
            if c.method in VIDEO_METHODS and _world_video(self.entry(c.data), self.world) is None:
                raise ConfigError(
                    f"cell {c.name}: {c.method} trains on videos, and {c.data!r} is an image set"
                )
        for split in self.downstream():
            if not split.is_dir():
                raise ConfigError(f"evaluate.downstream: {split} is not a folder")
        self.protocols()

    def entry(self, name: str) -> str:
        """A cell's training set entry, relative paths made relative to the data folder."""
        return _real(name, self.world)

    def downstream(self) -> tuple[Path, Path] | tuple[()]:
        down = self.grid.evaluate.downstream
        if not down:
            return ()
        if isinstance(down, dict):
            base = self.world or Path(".")
            return base / down["train"], base / down["val"]
        if down == "objects":
            if self.world is None:
                raise ConfigError("evaluate.downstream 'objects' is a world set; give the world folder")
            data = StudyData.open(self.world, build=False)  # the world's objects, or ImageNet-100
            return data.objects("train"), data.objects("val")
        root = Path(down)
        return root / "train", root / "val"

    def protocols(self) -> dict:
        if self._protocols is None:
            names = self.grid.evaluate.protocols
            if names and self.world is None:
                raise ConfigError("invariance protocols need a data folder (the world, or real datasets)")
            self._protocols = {n: build_protocol(n, protocol_root(n, self.world)) for n in names}
        return self._protocols

    def data(self, name: str) -> str:
        """The folder a cell trains on: a video folder as is, an image set written once as an ImageFolder."""
        entry = self.entry(name)
        if entry not in self._data:
            video = _world_video(entry, self.world)
            if video is not None:
                self._data[entry] = str(video)
            else:
                n = None
                if self.grid.equal_size:
                    images = [
                        e for e in {c.data for c in self.grid.cells} if _world_video(e, self.world) is None
                    ]
                    n = min(set_size(parse_train_set(e, self.world)) for e in images)
                ts = parse_train_set(entry, self.world)
                self._data[entry] = str(materialize(ts, self.folder.parent / "sets", n=n, seed=0))
        return self._data[entry]

    def eval_key(self) -> str:
        """What scoring a cell depends on besides its network: the downstream and protocol data's identities,
        the probes and the K values."""
        if self._eval_key is None:
            ev = self.grid.evaluate
            down = [data_identity(p) for p in self.downstream()]
            protocols = {n: data_identity(protocol_root(n, self.world)) for n in ev.protocols}
            self._eval_key = digest(
                {"downstream": down, "linear": ev.linear, "protocols": protocols, "top_k": list(ev.top_k)}
            )
        return self._eval_key

    def config(self, cell: Cell):
        """The resolved TrainConfig of `cell`, in its keyed run folder (`runs/<cell>-<run key>`)."""
        cfg = resolve(
            cell_config(self.grid, cell, self.data(cell.data), "-", self.folder.parent / "cache" / "regions")
        )
        return dataclasses.replace(cfg, out=str(self.folder / "runs" / f"{cell.name}-{run_key(cfg)}"))

    def key(self, cell: Cell) -> str:
        """The key of `cell`'s result: its training (run key) or random-init network, and the evaluation."""
        if cell.name not in self._keys:
            if cell.method == RANDOM_INIT:
                cfg = self.random_config()
                network = {"random_init": [cfg.arch, cfg.small_stem, cell.seed, cfg.image_size]}
                if cfg.whiten_stem:  # the grid's networks' frozen stem, from their training images
                    network["whitened_stem"] = data_identity(cfg.data)
            else:
                network = {"run": Path(self.config(cell).out).name}
            self._keys[cell.name] = result_key(network=network, evaluation=self.eval_key())
        return self._keys[cell.name]

    def cell_path(self, cell: Cell) -> Path:
        return self.folder / "cells" / f"{cell.name}-{self.key(cell)}.json"

    def random_config(self):
        """The config whose architecture, stem and image size every random-init cell takes: the first cell's."""
        first = self.grid.cells[0]
        return resolve(cell_config(self.grid, first, self.data(first.data), "-", "-"))

    def splits(self, size: int):
        if size not in self._splits:
            train, val = self.downstream()
            self._splits[size] = LabelledSplits(train, val, size)
        return self._splits[size]


def _score(ctx: _Context, model, backbone, image_size: int, seed: int) -> list[tuple[str, int | str, float]]:
    """(metric, K, value) of one network: downstream accuracies, then every invariance at every K."""

    out = []
    if ctx.downstream():
        protocols = ("knn", "linear") if ctx.grid.evaluate.linear else ("knn",)
        for k, v in ctx.splits(image_size).scores(backbone, protocols, seed=seed).items():
            out.append((k, "", float(v)))
    protocols = list(ctx.protocols().values())
    if protocols:
        rows = measure_table(
            [model], protocols, ctx.grid.evaluate.top_k, cache_dir=ctx.folder / "features", progress=False
        )
        out += [(r["invariance"], r["K"], float(r["score"])) for r in rows]
    return out


def _run_cell(ctx: _Context, cell: Cell) -> dict:
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


def _run_random(ctx: _Context, cell: Cell) -> dict:
    """A random-init network with the architecture of the grid's first cell and this seed's initial weights (and,
    when that cell trains with a whitened stem, that stem: the same network untrained)."""

    cfg = ctx.random_config()
    with file_lock(ctx.folder / "cells" / f".{cell.name}.lock", "sweep cell"):  # one of the sweeps sharing it
        model = random_model(cfg.arch, cfg.small_stem, cell.seed, cfg.image_size, RANDOM_INIT)
        if cfg.whiten_stem:
            model = _whitened(model, dataclasses.replace(cfg, seed=cell.seed))
        return {"scores": _score(ctx, model, model.model, cfg.image_size, cell.seed)}


def _whitened(model, cfg):
    """`model` (random init) with the frozen whitened stem a training of `cfg` starts from (same images, seed)."""
    source, _ = load_train_data(decide_input(cfg), torch.device("cpu"))
    whiten_stems(model.model, stem_images(source, cfg.seed, torch.device("cpu")), cfg.seed)
    return dataclasses.replace(model, key=f"{model.key}-whitened-{data_identity(cfg.data)}")


def _rows(grid: Grid, cell: Cell, result: dict) -> list[dict]:
    base = {"sweep": grid.name, **cell.labels(), "status": result["status"], "error": result.get("error", "")}
    if result["status"] != "ok":
        return [{**base, "metric": "", "K": "", "value": ""}]
    return [{**base, "metric": m, "K": k, "value": v} for m, k, v in result["scores"]]


def write_rows(rows: list[dict], path: Path) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())
    return path


def read_rows(path: str | Path) -> list[dict]:
    """The rows of a sweep's `results.csv`, with seed, K and value as numbers where they are set."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["seed"] = int(r["seed"])
        r["K"] = int(r["K"]) if r["K"] else None
        r["value"] = float(r["value"]) if r["value"] else None
    return rows


def check_sweep(
    grid: Grid, out: str | Path = "results/quick/sweeps", world: str | Path | None = "data/world/quick"
) -> None:
    """What `run_sweep` checks before it trains: every training set, downstream folder and protocol is there."""
    _Context(grid, Path(out) / grid.name, Path(world) if world else None, False).check()


def _pass(ctx: _Context, todo: list[Cell], progress: bool, retry: bool = True, helpers: bool = False):
    """Walk the cells in order: read a cell's result, or train and score it (a failed one again only with
    `retry`); a cell another process holds is skipped as busy, and said so unless `helpers` run beside this
    pass (then a held cell is a helper's, gathered afterwards). Returns (rows, failed, busy, runs)."""
    grid, folder = ctx.grid, ctx.folder
    rows, failed, busy, runs = [], {}, [], {}
    for cell in tqdm(todo, desc=f"sweep {grid.name}", unit="cell", disable=not progress):
        path = ctx.cell_path(cell)
        result = json.loads(path.read_text()) if path.is_file() else None
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
        write_rows(rows, folder / "results.csv")
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
    folder = Path(out) / grid.name
    ctx = _Context(grid, folder, Path(world) if world else None, progress)
    ctx.check()  # before anything runs
    (folder / "cells").mkdir(parents=True, exist_ok=True)
    todo = [*grid.cells, *(_random_cells(grid) if grid.evaluate.random_init else [])]
    jobs = sweep_jobs() if jobs is None else jobs
    if jobs > 1 and sum(not _is_ok(ctx, c) for c in todo) > 1:
        with side_by_side(grid, Path(out), Path(world) if world else None, folder, jobs):
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


def _is_ok(ctx: _Context, cell: Cell) -> bool:
    path = ctx.cell_path(cell)
    return path.is_file() and json.loads(path.read_text())["status"] == "ok"


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
    """The run folder each cell of `grid` trains into (`runs/<cell>-<run key>`), without training anything."""
    ctx = _Context(grid, Path(out) / grid.name, Path(world) if world else None, progress=False)
    return {c.name: Path(ctx.config(c).out) for c in grid.cells}


def training_folders(
    grid: Grid, out: str | Path = "results/quick/sweeps", world: str | Path | None = "data/world/quick"
) -> dict[str, Path]:
    """The folder each training set of `grid` is read from (image sets written once, as `run_sweep` writes
    them): what `ssl_kit.study.positive_pairs` measures positive pairs on."""
    ctx = _Context(grid, Path(out) / grid.name, Path(world) if world else None, progress=False)
    return {entry: Path(ctx.data(entry)) for entry in dict.fromkeys(c.data for c in grid.cells)}
