"""A grid file is read as written: a quoted boolean, a key given twice or a name that is a path is one clear
error before any work, never a silent guess."""

from __future__ import annotations

import json

import pytest

from ssl_kit.errors import ConfigError
from ssl_kit.study.grid import load_grid, parse_grid

BASE = "name: g\nscale: smoke\nseeds: [0]\n"


def _write(tmp_path, text: str, suffix: str = ".yaml"):
    path = tmp_path / f"grid{suffix}"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        (
            'equal_size: "false"\n',
            "`equal_size` must be true or false \\(unquoted\\), not 'false' \\(a string\\)",
        ),
        ("evaluate: {linear: 'no'}\n", "evaluate: `linear` must be true or false \\(unquoted\\), not 'no'"),
        (
            "evaluate: {random_init: 0}\n",
            "evaluate: `random_init` must be true or false \\(unquoted\\), not 0",
        ),
    ],
)
def test_a_quoted_boolean_is_an_error_not_true(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_grid(_write(tmp_path, BASE + text))


def test_real_booleans_are_read_as_written(tmp_path):
    grid = load_grid(
        _write(tmp_path, BASE + "equal_size: true\nevaluate: {linear: false, random_init: no}\n")
    )
    assert grid.equal_size is True and grid.evaluate.linear is False and grid.evaluate.random_init is False


def test_a_key_given_twice_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="the key 'seeds' is given twice"):
        load_grid(_write(tmp_path, BASE + "seeds: [1, 2]\n"))
    with pytest.raises(ConfigError, match="given twice"):
        load_grid(_write(tmp_path, BASE + "evaluate: {linear: true, linear: false}\n"))
    with pytest.raises(ConfigError, match=r"\['scale'\] given twice"):
        load_grid(_write(tmp_path, '{"name": "g", "scale": "smoke", "scale": "quick"}', ".json"))


@pytest.mark.parametrize("name", ["../../escape", "/tmp/abs", "a/b", "..", "", ".hidden", "a..b", 3])
def test_a_grid_name_is_a_plain_folder_name(name):
    with pytest.raises(ConfigError, match="`name` must be a plain folder name"):
        parse_grid({"name": name, "scale": "smoke"})


def test_the_command_line_refuses_them_in_one_line_and_writes_nothing(tmp_path, capsys):
    from ssl_kit.cli import main

    out = tmp_path / "sweeps"
    twice = _write(tmp_path, BASE + "seeds: [1]\n")
    assert main(["sweep", "--grid", str(twice), "--out", str(out), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {twice}: not valid YAML (line 4, column 1): the key 'seeds' is given twice"]
    path = _write(tmp_path, json.dumps({"name": "../../escape", "scale": "smoke"}), ".json")
    assert main(["sweep", "--grid", str(path), "--out", str(out), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "plain folder name" in err[0]
    assert not out.exists() and not (tmp_path.parent / "escape").exists()


def test_a_grid_travels_to_the_sweeps_helpers_as_plain_json():
    """The helpers of `sweep --jobs N` read their grid as JSON, so nothing in a results folder is unpickled."""
    from ssl_kit.study.grid import grid_from_json, grid_to_json, subset

    raw = {
        "name": "g",
        "scale": "smoke",
        "seeds": [0, 1],
        "policy": ["mocov2", "no_crop"],
        "variants": {"a": {"steps": 3, "whiten_stem": True}, "b": {"lr": 0.01}},
        "config": {"batch_size": 8},
        "evaluate": {"downstream": {"train": "x/train", "val": "x/val"}, "top_k": [10], "protocols": []},
    }
    grid = subset(parse_grid(raw), seeds=[1])
    assert grid.name == "g" and grid_from_json(grid_to_json(grid)) == grid


def test_nothing_in_the_kit_unpickles_a_file():
    from pathlib import Path

    import ssl_kit

    root = Path(ssl_kit.__file__).parent
    found = [str(p.relative_to(root)) for p in root.rglob("*.py") if "pickle.load" in p.read_text()]
    assert found == []
