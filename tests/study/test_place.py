"""Where a study reads and writes (`ssl_kit.study.place`): each scale and seed in folders of its own, the study
run last remembered, a given world deciding the scale, and a mismatch said in the caller's own parameters."""

from __future__ import annotations

import pytest

from ssl_kit.errors import ConfigError
from ssl_kit.study.place import CLI, HOME_ENV, NOTEBOOK, Place, latest, remember, resolve_place


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    return tmp_path


def test_each_scale_and_seed_has_its_own_folders(home):
    assert resolve_place() == Place(
        "quick",
        0,
        home / "data/world/quick",
        home / "results/quick",
        "the kit's folder for this scale and seed",
    )
    smoke = resolve_place("smoke", 2)
    assert (smoke.world, smoke.results) == (home / "data/world/smoke-seed2", home / "results/smoke-seed2")
    assert resolve_place("smoke", results="elsewhere").results == home / "elsewhere"  # from the home


def test_the_study_run_last_is_what_a_committed_notebook_opens(home):
    place = resolve_place("smoke", 1)
    remember(place)
    assert latest() is None  # its world is not there yet: a stale pointer is ignored
    place.world.mkdir(parents=True)
    assert resolve_place().world == place.world and resolve_place().scale == "smoke"
    assert resolve_place().seed == 1 and resolve_place().results == place.results
    assert "last run or built here" in resolve_place().how
    assert resolve_place("quick").world == home / "data/world/quick"  # a given scale is not the last study's
    assert resolve_place(world="data/world").world == place.world  # the folder of worlds names none of them


def test_a_given_world_decides_the_scale_and_seed(smoke_world, home):
    place = resolve_place(world=smoke_world)
    assert (place.scale, place.seed, place.world) == ("smoke", 0, smoke_world)
    assert place.results == home / "results/smoke"
    assert resolve_place("smoke", 0, smoke_world).world == smoke_world  # agreeing values are fine
    empty = home / "new"
    assert (resolve_place(world=empty).scale, resolve_place("smoke", world=empty).scale) == ("quick", "smoke")


def test_a_mismatch_is_said_in_the_callers_own_parameters(smoke_world, home):
    with pytest.raises(ConfigError) as notebook:
        resolve_place("quick", None, smoke_world, spell=NOTEBOOK)
    text = str(notebook.value)
    assert "holds the smoke world (seed 0" in text and "scale='quick' asks for another" in text
    assert "set scale=None to run on this world" in text and "set world_dir=None" in text
    assert "data/world/quick" in text
    with pytest.raises(ConfigError) as cli:
        resolve_place("smoke", 4, smoke_world, spell=CLI)
    text = str(cli.value)
    assert "--seed 4 asks for another" in text and "leave out --seed" in text and "leave out --world" in text
    assert "data/world/smoke-seed4" in text
    with pytest.raises(ConfigError, match=r"scale='tiny': expected one of 'smoke', 'quick', 'paper'"):
        resolve_place("tiny")


def test_real_data_needs_a_scale(smoke_real_data, home):
    with pytest.raises(ConfigError, match=r"holds real datasets.*scale='smoke' checks the pipeline"):
        resolve_place(world=smoke_real_data)
    assert resolve_place("smoke", world=smoke_real_data).results == home / "results/smoke"


def test_the_command_line_takes_the_worlds_scale_or_says_which_flag_to_change(
    smoke_world, smoke_real_data, home, capsys
):
    from ssl_kit.cli import main

    assert main(["sweep", "--grid", "augmentation_ablations", "--world", str(smoke_world), "--dry-run"]) == 0
    assert "at smoke scale" in capsys.readouterr().err  # the world's own scale, not the grid's quick
    assert (
        main(["sweep", "--grid", "budget", "--world", str(smoke_world), "--scale", "quick", "--dry-run"]) == 2
    )
    err = capsys.readouterr().err
    assert "--scale quick asks for another: leave out --scale to run on this world" in err
    assert main(["sweep", "--grid", "dataset_biases", "--world", str(smoke_real_data), "--dry-run"]) == 0
    assert "at quick scale" in capsys.readouterr().err  # real data records no scale: the grid's


def test_sweep_variants_runs_only_the_variants_named(smoke_world, home, capsys):
    from ssl_kit.cli import main

    argv = ["sweep", "--grid", "budget", "--world", str(smoke_world), "--dry-run", "--variants"]
    assert main([*argv, "mocov2_x1", "supervised_x4"]) == 0
    out = capsys.readouterr()
    assert out.out.split() == [f"{v}-s{s}" for s in (0, 1, 2) for v in ("supervised_x4", "mocov2_x1")]
    assert "6 cells" in out.err
    assert main([*argv, "mocov2_x3"]) == 2
    assert "unknown variant value(s) ['mocov2_x3']" in capsys.readouterr().err
