"""The notebooks' shared first and last steps (`ssl_kit.study.notebook`): folders, data, the smoke banner, the
record `reproduce` reads, with its provenance."""

from __future__ import annotations

import json

from ssl_kit.study.notebook import ROOT, SMOKE_BANNER, smoke_banner, study_notebook
from ssl_kit.study.reproduce import NOTEBOOKS, find_notebooks


def test_setup_resolves_folders_and_says_when_numbers_mean_nothing(tmp_path, capsys):
    world, results = tmp_path / "world", tmp_path / "results"
    setup = study_notebook("02_x", "smoke", world, results, seed=3, build=False)  # absolute paths stay
    printed = capsys.readouterr().out
    assert SMOKE_BANNER in printed and f"data in {world}, results in {results}" in printed
    assert (setup.world, setup.results, setup.scale, setup.seed) == (world, results, "smoke", 3)
    assert setup.figures == results / "figures" and setup.figures.is_dir()
    assert setup.runs == results / "runs"
    assert setup.data.world and setup.data.root == world and not world.exists()  # nothing built
    assert (ROOT / "ssl_kit" / "study" / "notebook.py").is_file()  # relative paths are from the repository

    study_notebook("02_x", "quick", world, results, build=False)
    assert SMOKE_BANNER not in capsys.readouterr().out and smoke_banner("paper") == ""


def test_record_is_written_where_reproduce_reads_it_with_its_provenance(smoke_world, tmp_path):
    setup = study_notebook("03_y", None, smoke_world, tmp_path / "results", build=False)
    assert (setup.scale, setup.seed) == ("smoke", 0)  # the world's own, from its manifests
    path = setup.save_record({"scale": "smoke", "figure": "figures/a.png", "where": tmp_path})
    assert path == tmp_path / "results" / "03_y.json"
    saved = json.loads(path.read_text())
    assert list(saved) == ["provenance", "scale", "figure", "where"] and saved["where"] == str(tmp_path)
    prov = saved["provenance"]
    assert (prov["notebook"], prov["scale"], prov["seed"], prov["data"]) == ("03_y", "smoke", 0, "world")
    assert prov["world_version"] and len(prov["data_identity"]) == 12
    assert setup.saved_record() == saved


def test_reproduce_finds_the_repositorys_notebooks_by_default():
    assert NOTEBOOKS == ROOT / "notebooks"
    assert [p.stem[:2] for p in find_notebooks()] == ["00", "01", "02", "03", "04", "05"]
