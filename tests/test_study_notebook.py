"""The notebooks' shared first and last steps (`ssl_kit.study.notebook`): folders, data, the smoke banner, the
record `reproduce` reads."""

from __future__ import annotations

import json

from ssl_kit.study.notebook import ROOT, SMOKE_BANNER, smoke_banner, study_notebook
from ssl_kit.study.reproduce import NOTEBOOKS, find_notebooks


def test_setup_resolves_folders_and_says_when_numbers_mean_nothing(tmp_path, capsys):
    world, results = tmp_path / "world", tmp_path / "results"
    setup = study_notebook("02_x", "smoke", world, results, seed=3, build=False)  # absolute paths stay
    assert SMOKE_BANNER in capsys.readouterr().out
    assert (setup.world, setup.results, setup.root) == (world, results, ROOT)
    assert setup.figures == results / "figures" and setup.figures.is_dir()
    assert setup.runs == results / "runs" / "smoke" and setup.seed == 3
    assert setup.data.world and setup.data.root == world and not world.exists()  # nothing built
    assert (ROOT / "ssl_kit" / "study" / "notebook.py").is_file()  # relative paths are from the repository

    study_notebook("02_x", "quick", world, results, build=False)
    assert capsys.readouterr().out == "" and smoke_banner("paper") == ""


def test_record_is_written_where_reproduce_reads_it(tmp_path):
    setup = study_notebook("03_y", "quick", tmp_path / "world", tmp_path / "results", build=False)
    path = setup.save_record({"scale": "quick", "figure": "figures/a.png", "where": tmp_path})
    assert path == tmp_path / "results" / "03_y.json"
    assert json.loads(path.read_text()) == {
        "scale": "quick",
        "figure": "figures/a.png",
        "where": str(tmp_path),
    }


def test_reproduce_finds_the_repositorys_notebooks_by_default():
    assert NOTEBOOKS == ROOT / "notebooks"
    assert [p.stem[:2] for p in find_notebooks()] == ["00", "01", "02", "03", "04", "05"]
