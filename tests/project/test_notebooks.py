"""Every numbered notebook runs top to bottom through papermill at smoke scale, and is committed clean.

Notebooks are discovered by glob, so a notebook added to `notebooks/` is tested without touching this file.
The smoke world is built once per session and shared (tests/conftest.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from ssl_kit.errors import ConfigError
from ssl_kit.study.notebook import SMOKE_BANNER
from ssl_kit.study.reproduce import NotebookFailed, declared_parameters, find_notebooks, reproduce

FOLDER = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = find_notebooks(FOLDER, all_notebooks=True)
REPRODUCED = find_notebooks(FOLDER)  # what `make reproduce` runs: without 06, which only `make study` runs
IDS = [nb.stem for nb in NOTEBOOKS]
# the sweeps' notebooks run a few cells of their grids here (every code path, a fraction of the cells); the
# whole grids run in `make study`. Both policies are in the augmentation and the dataset-bias grids.
SMOKE_SUBSETS = {
    "policies": ["crop_0.8", "mocov2"],
    "variants": ["mocov2_frames", "fti", "rt_flow", "rt_oracle"],
    "budgets": [
        0.25,
        16,
    ],  # the budget curve's ends: several seeds, then one (notebook 06, with two seeds here)
}
REAL_DATA_NOTEBOOKS = ("00", "01", "03", "04")  # each reads a dataset of its own from a real-data folder


def papermill_parameters(notebook: Path) -> dict[str, str]:
    """The `parameters` cell's names and their default values as written (papermill's reading of it)."""
    import papermill

    return {name: str(p["default"]) for name, p in papermill.inspect_notebook(str(notebook)).items()}


def test_notebooks_found():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_notebook_committed_clean(notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, (
        f"{notebook.name}: expected exactly one cell tagged 'parameters', found {len(tagged)}"
    )
    assert "scale" in declared_parameters(notebook, {"scale": "smoke"}), (
        f"{notebook.name}: no `scale` parameter"
    )
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{notebook.name}: cell {i} has outputs (clear them before committing)"
            assert cell.execution_count is None, f"{notebook.name}: cell {i} has an execution_count"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    # the shared setup (folders, data, the smoke banner) and the record `reproduce` reads, named after the file
    assert f'study_notebook("{notebook.stem}"' in code, (
        f'{notebook.name}: no study_notebook("{notebook.stem}", ...)'
    )
    assert "setup.save_record(" in code, f"{notebook.name}: no record saved"
    # opened as committed, it runs on the study `make reproduce` ran last: every place parameter is None
    params = papermill_parameters(notebook)
    unset = {k: params.get(k, "missing") for k in ("scale", "seed", "world_dir", "results_dir")}
    assert set(unset.values()) == {"None"}, f"{notebook.name}: committed place parameters {unset}"
    # it ends with what the run found, rendered from the records (never typed), then what to look at and what a
    # rerun may change, in words: no measured number typed into the closing cell
    assert "Markdown(findings_markdown(setup.name, setup.saved_record()))" in nb.cells[-2].source
    closing = nb.cells[-1].source if nb.cells[-1].cell_type == "markdown" else ""
    missing = [s for s in ("**Look at**", "**A rerun may change**") if s not in closing]
    assert not missing, f"{notebook.name}: the closing markdown cell lacks {missing}"
    typed = re.findall(r"\d+\.\d+|±|\d+(?:\.\d+)? ?%", closing)
    assert not typed, f"{notebook.name}: the closing cell types measured numbers by hand: {typed}"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_notebook_runs(notebook: Path, smoke_world: Path, tmp_path: Path):
    import papermill

    results = tmp_path / "results"
    values = {
        "scale": "smoke",
        "world_dir": str(smoke_world),
        "results_dir": str(results),
        "seed": 0,
        **SMOKE_SUBSETS,
        # one seed: the notebook's every path in the fewest cells; two where a path needs a spread (01's tables
        # over seeds; 06: two at x1/4, one at x16); the default three run as committed in test_front_door
        "n_seeds": 2 if notebook.stem in ("01_measuring_invariances", "06_budget_curve") else 1,
    }
    papermill.execute_notebook(
        str(notebook),
        str(tmp_path / notebook.name),
        parameters=declared_parameters(notebook, values),
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )  # raises PapermillExecutionError (with the failing cell's traceback) on any error
    executed = nbformat.read(tmp_path / notebook.name, as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert SMOKE_BANNER in printed, f"{notebook.name}: no smoke-scale banner"
    assert (results / f"{notebook.stem}.json").is_file(), f"{notebook.name}: no record"


@pytest.mark.slow
def test_reproduce_smoke_on_real_data(smoke_real_data: Path, tmp_path: Path):
    """`reproduce` end to end on a real-data folder (ImageNet-100, COCO, TrackingNet, ALOI, GOT-10k and Pascal3D+
    layouts, made of the smoke world's sets): what `SCALE=paper` reads on a GPU machine. The notebooks that read
    a dataset of their own run here (00 the inventory, 01 the protocols, 03 COCO, 04 TrackingNet); 02 and 05 read
    01's ImageNet folder the same way, and test_notebook_runs runs every notebook on the world itself."""
    results = tmp_path / "results"
    chosen = tmp_path / "notebooks"
    chosen.mkdir()
    for nb in REPRODUCED:
        if nb.stem[:2] in REAL_DATA_NOTEBOOKS:
            (chosen / nb.name).symlink_to(nb)
    summary = reproduce(
        "smoke",
        smoke_real_data,
        results,
        progress=False,
        params={**{k: v for k, v in SMOKE_SUBSETS.items() if k != "budgets"}, "n_seeds": 1},  # 06 is not run
        notebooks_dir=chosen,
    )
    assert summary == results / "summary.md"
    for nb in REPRODUCED:
        if nb.stem[:2] in REAL_DATA_NOTEBOOKS:
            assert (results / nb.name).exists(), f"executed {nb.name} missing"
    assert sorted(p.stem[:2] for p in results.glob("*.ipynb")) == sorted(REAL_DATA_NOTEBOOKS)
    assert not any((smoke_real_data / s).exists() for s in ("objects", "scenes", "videos"))  # no world built
    record = json.loads((results / "00_quickstart.json").read_text())
    assert record["data"] == "real" and all(record["inventory"].values())
    assert record["total_images"] == 0 and record["figure"] is None  # no world sets to count or show
    pairs = json.loads((results / "03_dataset_biases.json").read_text())["positive_pairs"]
    assert any(k.startswith("scenes") for k in pairs)  # COCO has boxes ...
    assert not any(k.startswith("objects") for k in pairs)  # ... an ImageNet folder has none
    text = summary.read_text()
    assert "| failed |" not in text and "real (" in text


def _write_notebook(path: Path, params: str, body: str) -> None:
    cells = [
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_reproduce_records_failures(smoke_world: Path, tmp_path: Path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    # 01 declares only `scale`: the others must not be injected
    _write_notebook(
        nbs / "01_ok.ipynb", 'scale = "quick"', "assert scale == 'smoke' and 'world_dir' not in dir()"
    )
    _write_notebook(nbs / "02_boom.ipynb", 'scale = "quick"', "raise ValueError('boom at ' + scale)")
    _write_notebook(nbs / "helper.ipynb", "x = 1", "raise RuntimeError('unnumbered notebooks are not run')")
    results = tmp_path / "results"
    with pytest.raises(NotebookFailed, match="02_boom: ValueError: boom at smoke"):
        reproduce("smoke", smoke_world, results, progress=False, notebooks_dir=nbs)
    text = (results / "summary.md").read_text()
    assert "| [01_ok](01_ok.ipynb) | ok |" in text
    assert "| [02_boom](02_boom.ipynb) | failed |" in text and "ValueError: boom at smoke" in text
    assert "helper" not in text
    assert (results / "01_ok.ipynb").exists() and (results / "02_boom.ipynb").exists()


def test_reproduce_passes_declared_params(smoke_world: Path, tmp_path: Path, capsys):
    """`--param NAME=JSON` reaches the notebooks that declare NAME, and only those."""
    from ssl_kit.cli import main

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _write_notebook(
        nbs / "01_a.ipynb",
        'scale = "quick"\nn_seeds = 1\npolicies = ["x"]',
        "assert n_seeds == 3 and policies is None",
    )
    _write_notebook(nbs / "02_b.ipynb", 'scale = "quick"', "assert 'n_seeds' not in dir()")
    results = tmp_path / "results"
    reproduce(
        "smoke",
        smoke_world,
        results,
        progress=False,
        notebooks_dir=nbs,
        params={"n_seeds": 3, "policies": None},
    )
    assert (results / "summary.md").read_text().count("| ok |") == 2
    assert main(["reproduce", "--scale", "smoke", "--world", str(smoke_world), "--param", "n_seeds"]) == 2
    assert "expected NAME=VALUE" in capsys.readouterr().err


@pytest.mark.slow
def test_reproduce_tells_the_notebooks_sweeps_where_to_run(smoke_world: Path, tmp_path: Path):
    """`reproduce --launcher slurm ...`: the notebooks run here, and every sweep in them reads the launcher from
    the environment (`SSL_KIT_LAUNCHER`); on a cluster the cells running at once have no cap unless `--jobs`."""
    from ssl_kit.study.launch.options import LaunchOptions

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    body = (
        "from ssl_kit.study.launch.options import launch_options\n"
        "got = launch_options()\n"
        "assert (got.launcher, got.partition, got.gpus_per_cell, got.jobs) == ('slurm', 'gpu', 1, None), got"
    )
    _write_notebook(nbs / "01_where.ipynb", 'scale = "quick"', body)
    launch = LaunchOptions("slurm", partition="gpu", gpus_per_cell=1)
    reproduce("smoke", smoke_world, tmp_path / "results", progress=False, notebooks_dir=nbs, launch=launch)
    assert "| ok |" in (tmp_path / "results" / "summary.md").read_text()


def _refused_before_running(world: Path, tmp_path: Path, params: dict, message: str) -> None:
    """`reproduce` of one notebook declaring `scale` and `n_seeds`, given `params`, raises a ConfigError matching
    `message` before anything runs (no results folder)."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _write_notebook(nbs / "01_a.ipynb", 'scale = "quick"\nn_seeds = 1', "pass")
    with pytest.raises(ConfigError, match=message):
        reproduce("smoke", world, tmp_path / "results", progress=False, notebooks_dir=nbs, params=params)
    assert not (tmp_path / "results").exists()  # refused before anything ran


def test_a_misspelt_param_is_refused_with_the_nearest_name(smoke_world: Path, tmp_path: Path):
    _refused_before_running(
        smoke_world,
        tmp_path,
        {"n_seedz": 3},
        r"--param 'n_seedz': no notebook that runs declares it .*did you mean 'n_seeds'",
    )


@pytest.mark.parametrize("value", [0, -2, 1.5, "3", True, None, {"a": 1}])
def test_a_count_param_that_is_not_a_whole_number_of_at_least_one_is_refused(
    smoke_world: Path, tmp_path: Path, value
):
    _refused_before_running(
        smoke_world,
        tmp_path,
        {"n_seeds": value},
        r"--param n_seeds=.*: n_seeds counts, so it must be a whole number of at least 1",
    )
