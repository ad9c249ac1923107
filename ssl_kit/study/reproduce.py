"""Run the whole study headless: build the world, execute every numbered notebook, write `summary.md`.

`reproduce(scale, world, results, seed)` is what `make reproduce` (through `python -m ssl_kit reproduce`) calls.
Unset folders are the kit's own for the scale and seed (`ssl_kit.study.place`: `data/world/quick`,
`results/quick`, ...), and the study is remembered as the one a notebook opened as committed runs on. Each
notebook `notebooks/NN_*.ipynb` runs through papermill into `<results>/NN_*.ipynb`, with the parameters it
declares among `scale`, `world_dir`, `results_dir` and `seed`. A notebook may leave a machine-readable record
`<results>/NN_*.json`; the summary (`ssl_kit.study.summary`) opens with the paper's findings those records
checked and turns each record into a short section, rendering only records of this run's study. `run.json`
says what ran where: the study's provenance, the machine, each notebook's status and time. A failed notebook is
recorded with the last line of its error, the remaining notebooks still run, and `reproduce` raises once the
summary is written, so the command fails loudly but leaves everything there is to look at.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import json
import operator
import os
import platform
import re
import time
from dataclasses import asdict
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.common.device import choose_device
from ssl_kit.common.names import quoted
from ssl_kit.common.removal import remove_inside
from ssl_kit.common.writable import writable_folder
from ssl_kit.errors import ConfigError, SSLKitError
from ssl_kit.study.data_folder import StudyData
from ssl_kit.study.launch.options import ENV as LAUNCHER_ENV
from ssl_kit.study.launch.options import JOBS_ENV as SWEEP_JOBS_ENV
from ssl_kit.study.launch.options import LaunchOptions
from ssl_kit.study.place import CLI, Place, Spelling, remember, resolve_place
from ssl_kit.study.records import cpu_model, provenance
from ssl_kit.study.summary import NotebookRun, write_summary
from ssl_kit.world.build import build_world

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"  # the repository's
PARAMETERS = ("scale", "world_dir", "results_dir", "seed")
KERNEL = "python3"
RUN_RECORD = "run.json"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

__all__ = ["NotebookFailed", "NotebookRun", "reproduce", "find_notebooks", "declared_parameters"]


class NotebookFailed(SSLKitError):
    """One or more notebooks raised while `reproduce` ran them."""


# notebooks only the whole study runs (`make study`, `reproduce --all-notebooks`): hours at quick scale (06), or
# trainings of their own beyond the findings' (07, 08)
STUDY_ONLY = ("06_budget_curve", "07_invariance_over_training", "08_what_if")


def find_notebooks(folder: str | Path = NOTEBOOKS, all_notebooks: bool = False) -> list[Path]:
    """The numbered notebooks (`NN_*.ipynb`) in `folder`, in order; those in `STUDY_ONLY` only with
    `all_notebooks` (what `make study` runs and `make reproduce` does not)."""
    found = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    return [nb for nb in found if all_notebooks or nb.stem not in STUDY_ONLY]


def declared_parameters(notebook: str | Path, values: dict) -> dict:
    """The entries of `values` that the notebook's `parameters` cell defines (papermill warns on others)."""
    import papermill  # deferred: papermill (and nbclient) load only when notebooks run

    declared = papermill.inspect_notebook(str(notebook))
    return {k: v for k, v in values.items() if k in declared}


def check_parameter_names(notebooks: list[Path], params: dict) -> None:
    """Every name in `params` is declared by at least one of `notebooks` (its `parameters` cell); a misspelt
    name is a `ConfigError` suggesting the nearest declared one, before anything runs."""
    import papermill  # deferred: papermill (and nbclient) load only when notebooks run

    declared = set()
    for notebook in notebooks:
        declared |= set(papermill.inspect_notebook(str(notebook)))
    for name in sorted(set(params) - declared):
        near = difflib.get_close_matches(name, sorted(declared), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ConfigError(
            f"--param {quoted(name)}: no notebook that runs declares it (they declare {', '.join(sorted(declared))}){hint}"
        )


# Notebook parameters that count something (seeds, clips, steps, points, images): a whole number of at least 1,
# checked before any notebook runs (`n_seeds=0` would otherwise fail each notebook that trains, one by one).
COUNT_PARAMETERS = ("n_seeds", "card_clips", "pair_steps", "points", "images")


def check_parameter_values(params: dict) -> None:
    """Each of `params` named in `COUNT_PARAMETERS` is a whole number of at least 1, else a one-line
    `ConfigError` naming it, before anything runs."""
    for name in (n for n in COUNT_PARAMETERS if n in params):
        value = params[name]
        try:  # an int, or a whole number of another type (numpy's); never a bool
            whole = not isinstance(value, bool) and operator.index(value) >= 1
        except TypeError:
            whole = False
        if not whole:
            raise ConfigError(
                f"--param {name}={json.dumps(value, default=repr)[:60]}: {name} counts, so it must be a whole number of at "
                f"least 1 (e.g. --param {name}=3)"
            )


def _last_line(error: BaseException) -> str:
    ename, evalue = getattr(error, "ename", None), getattr(error, "evalue", None)
    text = f"{ename}: {evalue}" if ename else (f"{type(error).__name__}: {error}")
    lines = [ln.strip() for ln in _ANSI.sub("", text).splitlines() if ln.strip()]
    return lines[-1] if lines else type(error).__name__


def run_notebook(notebook: Path, output: Path, parameters: dict, progress: bool = False) -> NotebookRun:
    """Execute `notebook` into `output` (cwd: the notebook's folder, as in Jupyter); never raises on failure."""
    import papermill  # deferred: papermill (and nbclient) load only when notebooks run

    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=declared_parameters(notebook, parameters),
            kernel_name=KERNEL,
            cwd=str(notebook.parent),
            progress_bar=progress,
        )
    except Exception as e:  # any failure (cell error, dead kernel, missing kernel) is recorded, not raised
        return NotebookRun(notebook.stem, "failed", time.perf_counter() - start, _last_line(e))
    return NotebookRun(notebook.stem, "ok", time.perf_counter() - start)


def default_jobs(scale: str = "quick") -> int:
    """Sweep cells side by side by default: 2 where the notebooks train on the CPU and it has 2 or more cores
    (two trainings on one thread each beat one on two), else 1; 1 at smoke scale, whose cells take seconds,
    less than starting a worker process."""
    cpu = choose_device().type == "cpu" and (os.cpu_count() or 1) >= 2
    return 2 if cpu and scale != "smoke" else 1


@contextlib.contextmanager
def _environment(values: dict[str, str | None]):
    """Set each variable of `values` (None: unset it) for the `with` block."""
    before = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def machine() -> dict:
    """The CPU, platform, torch version and the device the notebooks will pick."""
    return {
        "cpu": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": str(choose_device()),
    }


def _write_run_record(place: Place, study: dict, runs: list[NotebookRun], jobs: int, world_seconds) -> Path:
    record = {
        "study": study,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "sweep_jobs": jobs,
        "world_seconds": world_seconds,
        "notebooks": [asdict(r) for r in runs],
    }
    path = place.results / RUN_RECORD
    atomic_write_text(path, json.dumps(record, indent=1) + "\n")
    return path


def reproduce(
    scale: str | None = None,
    world: str | Path | None = None,
    results: str | Path | None = None,
    seed: int | None = None,
    progress: bool = True,
    notebooks_dir: str | Path | None = None,
    params: dict | None = None,
    all_notebooks: bool = False,
    jobs: int | None = None,
    spell: Spelling = CLI,
    launch: LaunchOptions | None = None,
) -> Path:
    """Build the world (instant when complete), run every numbered notebook, write and return `summary.md`.

    `world` is the embedded world, or a folder of real datasets prepared by `data_scripts/` (ImageNet-100, COCO,
    TrackingNet, ALOI, GOT-10k, Pascal3D+; `ssl_kit.study.data_folder`), which is read as it is. Unset, the world
    and results folders are the kit's own for the scale and seed (`ssl_kit.study.place`); a given world decides
    an unset scale and seed, and one that disagrees with them is an error worded in `spell`'s flags. Relative
    paths are taken from the current folder.

    `params` are passed to every notebook that declares them (e.g. `{"n_seeds": 3, "policies": None}` for the
    full sweeps with three seeds), next to scale, world_dir, results_dir and seed. The notebooks in `STUDY_ONLY`
    (the budget curve: hours at quick scale) run only with `all_notebooks` (`make study`).

    `jobs`: sweep cells trained side by side in the notebooks (worker processes, `ssl_kit.study.launch`; default
    `default_jobs(scale)`: 2 on a machine without an accelerator and with 2 or more cores, else 1; 1 at smoke
    scale). `launch`: where the notebooks' sweeps run their cells (a SLURM or Ray cluster; `jobs` then caps the
    cells running at once, unset: no cap); the notebooks themselves run here.

    Raises `NotebookFailed` after writing the summary if any notebook failed.
    """
    place = resolve_place(scale, seed, world, results, spell, base=Path.cwd())
    notebooks = find_notebooks(notebooks_dir or NOTEBOOKS, all_notebooks)
    if not notebooks:
        raise NotebookFailed(f"{notebooks_dir or NOTEBOOKS}: no numbered notebooks (expected NN_*.ipynb)")
    check_parameter_names(notebooks, params or {})
    check_parameter_values(params or {})
    writable_folder(place.results, "--results" if spell.flag else "results_dir")  # before any work
    start = time.perf_counter()
    data = StudyData.open(place.world, build=False)
    if data.world:
        build_world(place.world, preset=place.scale, seed=place.seed, progress=progress)
    world_seconds = round(time.perf_counter() - start, 1) if data.world else None
    remember(place)  # a notebook opened as committed runs on this study from now on
    study = provenance(data, place.scale, place.seed)
    place.results.mkdir(parents=True, exist_ok=True)
    params = {
        **(params or {}),
        "scale": place.scale,
        "world_dir": str(place.world),
        "results_dir": str(place.results),
        "seed": place.seed,
    }
    runs: list[NotebookRun] = []
    bar = tqdm(notebooks, desc="notebooks", unit="nb", disable=not progress)
    cluster = launch is not None and launch.launcher != "local"
    jobs = (None if cluster else default_jobs(place.scale)) if jobs is None else jobs
    where = {SWEEP_JOBS_ENV: None if jobs is None else str(jobs), LAUNCHER_ENV: launch and launch.to_env()}
    with _environment(where):  # read by run_sweep in the notebooks' kernels
        for nb in bar:
            bar.set_postfix_str(nb.stem)
            for stale in place.results.glob(f"{nb.stem[:2]}_*.json"):
                remove_inside(
                    stale, place.results
                )  # a record left by an earlier run must not pass for this one
            runs.append(run_notebook(nb, place.results / nb.name, params))
    bar.close()
    _write_run_record(place, study, runs, jobs, world_seconds)
    info = {
        **machine(),
        "data": f"{data.kind} ({place.world})",
        "sweep cells side by side": jobs if jobs is not None else "no cap",
        "launcher": launch.launcher if launch else "local",
        "world build or cache check (s)": world_seconds if data.world else "-",
    }
    summary = write_summary(place.results / "summary.md", place.scale, runs, info, study)
    failed = [r for r in runs if r.status != "ok"]
    if failed:
        detail = "; ".join(f"{r.name}: {r.error}" for r in failed)
        raise NotebookFailed(f"{len(failed)} of {len(runs)} notebooks failed ({detail}); see {summary}")
    return summary
