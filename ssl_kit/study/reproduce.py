"""Run the whole study headless: build the world, execute every numbered notebook, write `summary.md`.

`reproduce(scale, world, results)` is what `make reproduce` (through `python -m ssl_kit reproduce`) calls. Each
notebook `notebooks/NN_*.ipynb` runs through papermill into `results/NN_*.ipynb`, with the parameters it
declares among `scale`, `world_dir`, `results_dir` and `seed`. A notebook may leave a machine-readable
record `results/NN_*.json`; the summary opens with the paper's findings those records checked
(`ssl_kit.study.findings`: verdicts, checks not measured, and in its header the seeds behind each finding's
numbers) and turns each record into a short section. A failed notebook is recorded
with the last line of its error, the remaining notebooks still run, and `reproduce` raises once the summary
is written, so the command fails loudly but leaves everything there is to look at.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import re
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ssl_kit.common.device import choose_device
from ssl_kit.errors import SSLKitError
from ssl_kit.study.data_folder import StudyData
from ssl_kit.study.notebook import SMOKE_BANNER
from ssl_kit.study.sweep_jobs import ENV as SWEEP_JOBS_ENV
from ssl_kit.world.build import build_world

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"  # the repository's
PARAMETERS = ("scale", "world_dir", "results_dir", "seed")
KERNEL = "python3"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class NotebookFailed(SSLKitError):
    """One or more notebooks raised while `reproduce` ran them."""


@dataclass
class NotebookRun:
    """The outcome of one notebook: `status` is "ok" or "failed"; `error` is the error's last line."""

    name: str
    status: str
    seconds: float
    error: str = ""


# notebooks only the whole study runs (`make study`, `reproduce --all-notebooks`): hours at quick scale
STUDY_ONLY = ("06_budget_curve", "07_invariance_over_training")


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
    less than starting a helper process."""
    cpu = choose_device().type == "cpu" and (os.cpu_count() or 1) >= 2
    return 2 if cpu and scale != "smoke" else 1


@contextlib.contextmanager
def _environment(name: str, value: str):
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def machine() -> dict:
    """Platform, CPU count, torch version and the device the notebooks will pick."""

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "device": str(choose_device()),
    }


def _cell(value) -> str:
    if isinstance(value, float):
        value = f"{value:.4g}"
    return "—" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def render_record(record: dict, results: Path) -> list[str]:
    """Markdown lines for one notebook's JSON record: scalars as bullets, dicts as tables, figures inline."""
    lines: list[str] = []
    tables: list[str] = []
    for key, value in record.items():
        if key == "findings":  # rendered once, at the top of the summary
            continue
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            cols = list(dict.fromkeys(c for v in value.values() for c in v))
            tables += [
                "",
                f"**{key}**",
                "",
                "| " + " | ".join(["", *cols]) + " |",
                "|---" * (len(cols) + 1) + "|",
            ]
            tables += [
                "| " + " | ".join([_cell(k)] + [_cell(v.get(c)) for c in cols]) + " |"
                for k, v in value.items()
            ]
        elif isinstance(value, dict):
            tables += ["", f"**{key}**", "", "| | |", "|---|---|"]
            tables += [f"| {_cell(k)} | {_cell(v)} |" for k, v in value.items()]
        elif isinstance(value, list):
            tables += ["", f"**{key}**", "", "```json", json.dumps(value), "```"]
        elif isinstance(value, str) and value.endswith((".png", ".svg")) and (results / value).exists():
            tables += ["", f"![{key}]({value})"]
        else:
            lines.append(f"- **{key}**: {_cell(value)}")
    return lines + tables


def _findings(results: Path) -> list[dict]:
    """Every finding record (`Finding.record()`) the notebooks' JSON records hold, in the findings' order."""
    found = []
    for rec in sorted(results.glob("[0-9][0-9]_*.json")):
        try:
            found += json.loads(rec.read_text()).get("findings", [])
        except (OSError, json.JSONDecodeError, AttributeError):
            continue
    return sorted(found, key=lambda f: f["finding"])


def _seeds(finding: dict) -> int | None:
    """The fewest seeds of a finding's measured checks (records written before `seeds` existed: from its checks)."""
    if "seeds" in finding:
        return finding["seeds"]
    return min((c["seeds"] for c in finding.get("checks", []) if c.get("seeds")), default=None)


def seeds_line(results: Path) -> str:
    """How many seeds each finding's numbers have, "finding 1: 1; finding 2: 3; ..." ("none" where no check of
    a finding was measured); "" without finding records."""
    found = _findings(results)
    return "; ".join(f"finding {f['finding']}: {_seeds(f) or 'none'}" for f in found)


def findings_table(results: Path) -> list[str]:
    """Markdown lines: the paper's findings that the notebooks' records checked, one row each, in order; a check
    that could not be measured is listed as such ("— ... not measured")."""
    found = _findings(results)
    if not found:
        return []
    out = [
        "",
        "## The paper's findings",
        "",
        "| finding | claim | verdict | measured (mean over seeds) |",
        "|---|---|---|---|",
    ]
    for f in found:
        checks = [("✓ " if c["holds"] else "✗ ") + c["text"] for c in f["checks"]]
        checks += ["— " + m["text"] for m in f.get("missing", [])]
        note = f" {f['note']}" if f.get("note") else ""
        text = "; ".join(checks) or "—"
        out.append(f"| {f['finding']} | {_cell(f['claim'])} | **{f['verdict']}** | {_cell(text + note)} |")
    return out


def write_summary(path: Path, scale: str, runs: list[NotebookRun], info: dict) -> Path:
    """Write `summary.md`: machine, scale (at smoke scale, a line saying the numbers mean nothing), how many seeds
    each finding's numbers have, the paper's findings with verdicts, a table of notebooks, then one section per
    notebook's record."""
    results = path.parent
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    out = ["# ssl_kit: reproduction summary", ""]
    if scale == "smoke":
        out += [f"**{SMOKE_BANNER}.**", ""]
    out += [f"- **date**: {now}", f"- **scale**: {scale}"]
    seeds = seeds_line(results)
    if seeds:  # one seed gives a direction, not a verdict: say how many each finding's numbers have
        out.append(f"- **seeds**: {seeds}")
    out += [f"- **{k}**: {v}" for k, v in info.items()]
    out += findings_table(results)
    out += ["", "## Notebooks", "", "| notebook | status | wall time (s) | error |", "|---|---|---|---|"]
    for r in runs:
        out.append(
            f"| [{r.name}]({r.name}.ipynb) | {r.status} | {r.seconds:.1f} | {_cell(r.error or None)} |"
        )
    for r in runs:
        out += ["", f"## {r.name}", ""]
        records = sorted(results.glob(f"{r.name[:2]}_*.json"))
        if r.status != "ok":
            out.append(f"**failed**: `{r.error}` (see `{r.name}.ipynb` for the traceback)")
        elif not records:
            out.append("(no record written)")
        for rec in records:
            try:
                out += [f"`{rec.name}`", "", *render_record(json.loads(rec.read_text()), results), ""]
            except (OSError, json.JSONDecodeError, AttributeError) as e:
                out.append(f"`{rec.name}`: unreadable record ({e})")
    path.write_text("\n".join(out).rstrip() + "\n")
    return path


def reproduce(
    scale: str = "quick",
    world: str | Path = "data/world",
    results: str | Path = "results",
    seed: int = 0,
    progress: bool = True,
    notebooks_dir: str | Path | None = None,
    params: dict | None = None,
    all_notebooks: bool = False,
    jobs: int | None = None,
) -> Path:
    """Build the world (instant when complete), run every numbered notebook, write and return `summary.md`.

    `world` is the embedded world, or a folder of real datasets prepared by `data_scripts/` (ImageNet-100, COCO,
    TrackingNet, ALOI, GOT-10k, Pascal3D+; `ssl_kit.study.data_folder`), which is read as it is.

    `params` are passed to every notebook that declares them (e.g. `{"n_seeds": 3, "policies": None}` for the
    full sweeps with three seeds), next to scale, world_dir, results_dir and seed. The notebooks in `STUDY_ONLY`
    (the budget curve: hours at quick scale) run only with `all_notebooks` (`make study`).

    `jobs`: sweep cells trained side by side in the notebooks (`ssl_kit.study.sweep_jobs`; default
    `default_jobs(scale)`: 2 on a machine without an accelerator and with 2 or more cores, else 1; 1 at smoke
    scale).

    Raises `NotebookFailed` after writing the summary if any notebook failed.
    """

    world, results = Path(world).resolve(), Path(results).resolve()
    notebooks = find_notebooks(notebooks_dir or NOTEBOOKS, all_notebooks)
    if not notebooks:
        raise NotebookFailed(f"{notebooks_dir or NOTEBOOKS}: no numbered notebooks (expected NN_*.ipynb)")
    start = time.perf_counter()
    data = StudyData.open(world, build=False)
    if data.world:
        build_world(world, preset=scale, seed=seed, progress=progress)
    world_seconds = time.perf_counter() - start
    results.mkdir(parents=True, exist_ok=True)
    params = {
        **(params or {}),
        "scale": scale,
        "world_dir": str(world),
        "results_dir": str(results),
        "seed": seed,
    }
    runs: list[NotebookRun] = []
    bar = tqdm(notebooks, desc="notebooks", unit="nb", disable=not progress)
    jobs = default_jobs(scale) if jobs is None else jobs
    with _environment(SWEEP_JOBS_ENV, str(jobs)):  # read by run_sweep in the notebooks' kernels
        for nb in bar:
            bar.set_postfix_str(nb.stem)
            for stale in results.glob(f"{nb.stem[:2]}_*.json"):
                stale.unlink()  # a record left by an earlier run must not pass for this one
            runs.append(run_notebook(nb, results / nb.name, params))
    bar.close()
    info = {**machine(), "data": f"{data.kind} ({world})", "sweep cells side by side": jobs,
            "world build or cache check (s)": round(world_seconds, 1) if data.world else "-"}  # fmt: skip
    summary = write_summary(results / "summary.md", scale, runs, info)
    failed = [r for r in runs if r.status != "ok"]
    if failed:
        detail = "; ".join(f"{r.name}: {r.error}" for r in failed)
        raise NotebookFailed(f"{len(failed)} of {len(runs)} notebooks failed ({detail}); see {summary}")
    return summary
