"""The student's path, as a new user takes it: notebooks opened as committed run on the world that is there,
`reproduce` at two scales or seeds in either order on one checkout, a result never reused for another run, and
`--resume` on a folder that holds no run refused.

Each test runs in a home of its own (`SSL_KIT_HOME`), where `data/world/<scale>` and `results/<scale>` are the
kit's default folders, exactly as in a checkout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.real_layout import real_layout

from ssl_kit.cli import main
from ssl_kit.study.place import HOME_ENV
from ssl_kit.study.reproduce import NOTEBOOKS, reproduce
from ssl_kit.world.build import build_world


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path))  # the notebooks' kernels inherit it
    return tmp_path


def _run(notebook: str, out: Path, **parameters) -> dict:
    """Execute a committed notebook as Jupyter would (from notebooks/), with only `parameters` injected."""
    import papermill

    papermill.execute_notebook(
        str(NOTEBOOKS / f"{notebook}.ipynb"),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(NOTEBOOKS),
        progress_bar=False,
    )
    return json.loads(out.read_text())


def _record(results: Path, notebook: str) -> dict:
    return json.loads((results / f"{notebook}.json").read_text())


@pytest.mark.slow
def test_a_committed_notebook_runs_on_the_world_that_is_there(home, capsys):
    """A smoke world of another seed, built in the kit's default folder: notebook 01 as committed (its scale,
    seed and folders all None) runs on it at its scale, into that study's results folder."""
    assert main(["world", "--preset", "smoke", "--seed", "1", "--quiet"]) == 0
    world = home / "data/world/smoke-seed1"
    assert (world / "objects/manifest.json").is_file()
    _run("01_measuring_invariances", home / "01.ipynb")
    record = _record(home / "results/smoke-seed1", "01_measuring_invariances")
    prov = record["provenance"]
    assert (prov["scale"], prov["seed"], prov["data_dir"]) == ("smoke", 1, str(world))


@pytest.mark.slow
def test_reproduce_at_two_seeds_in_either_order_keeps_each_study(home):
    chosen = home / "notebooks"
    chosen.mkdir()
    (chosen / "00_quickstart.ipynb").symlink_to(NOTEBOOKS / "00_quickstart.ipynb")
    for seed in (0, 1, 0):  # 0 then 1, and 1 then 0
        summary = reproduce("smoke", seed=seed, progress=False, notebooks_dir=chosen)
        name = "smoke" if seed == 0 else "smoke-seed1"
        assert summary == home / "results" / name / "summary.md"
        assert f"smoke scale, seed {seed}, world" in summary.read_text()
        assert json.loads((home / "data/world/latest.json").read_text())["world"] == f"data/world/{name}"
    for seed, name in ((0, "smoke"), (1, "smoke-seed1")):
        prov = _record(home / "results" / name, "00_quickstart")["provenance"]
        assert (prov["seed"], prov["data_dir"]) == (seed, str(home / "data/world" / name))
    assert (
        json.loads((home / "results/smoke/run.json").read_text())["world_seconds"] < 30
    )  # reused, not rebuilt


@pytest.mark.slow
def test_a_sweep_is_never_reused_for_another_world(smoke_world, tmp_path):
    """The reported case: notebook 02 at smoke scale on one data folder, then on another with the same
    `results_dir`. The second run must train on its own data, not print the first one's cells: its numbers
    are those of the same notebook run alone on that data."""
    other = tmp_path / "world_b"
    build_world(other, preset="smoke", seed=1, progress=False)
    a, b = real_layout(smoke_world, tmp_path / "real_a"), real_layout(other, tmp_path / "real_b")
    params = {"scale": "smoke", "seed": 0, "policies": ["crop_0.8"], "n_seeds": 1}
    shared, alone = tmp_path / "results", tmp_path / "results_b_alone"
    _run(
        "02_augmentation_ablations", tmp_path / "a.ipynb", world_dir=str(a), results_dir=str(shared), **params
    )
    first = _record(shared, "02_augmentation_ablations")["summary"]
    _run(
        "02_augmentation_ablations", tmp_path / "b.ipynb", world_dir=str(b), results_dir=str(shared), **params
    )
    second = _record(shared, "02_augmentation_ablations")["summary"]
    _run(
        "02_augmentation_ablations", tmp_path / "c.ipynb", world_dir=str(b), results_dir=str(alone), **params
    )
    assert second == _record(alone, "02_augmentation_ablations")["summary"] != first


def test_resume_on_a_folder_that_holds_no_run_is_an_error(smoke_world, tmp_path, capsys):
    typo = tmp_path / "runs" / "mocov2-typo"
    argv = [
        "train",
        "--resume",
        "--out",
        str(typo),
        "--scale",
        "smoke",
        "--data",
        str(smoke_world / "objects/train"),
        "--no-knn",
        "--quiet",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"--resume: {typo} does not exist; drop --resume to start a new run there" in err
    assert not typo.exists()  # nothing written, nothing trained
    typo.mkdir(parents=True)
    assert main(argv) == 2
    assert "holds no run to continue (no config.yaml, no checkpoint.pt)" in capsys.readouterr().err
    assert list(typo.iterdir()) == []
