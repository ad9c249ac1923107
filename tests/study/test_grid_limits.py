"""A grid is read within limits: YAML aliases refused (a 600-byte "billion laughs" would expand to 10^9
strings), nesting capped, a file that is not text, a field of the wrong type and a huge value each one short line
naming the field."""

from __future__ import annotations

import json
import time

import pytest

from ssl_kit.cli import main
from ssl_kit.errors import ConfigError
from ssl_kit.study.grid import load_grid, parse_grid

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)


def _write(tmp_path, text: str | bytes, name: str = "grid.yaml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_yaml_aliases_are_refused_at_once(tmp_path):
    path = _write(tmp_path, "name: g\n" + LAUGHS)
    assert len(path.read_text()) < 700
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"line 3, column \d+\): aliases \(\*a\) are not allowed here") as e:
        load_grid(path)
    assert time.perf_counter() - start < 2 and len(str(e.value)) < 300


def test_nesting_is_capped_in_yaml_and_in_json(tmp_path):
    with pytest.raises(ConfigError, match="nested more than 32 levels deep"):
        load_grid(_write(tmp_path, "name: g\nconfig: " + "[" * 5000 + "]" * 5000 + "\n"))
    deep = '{"name": "g", "config": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ConfigError, match="nested too deep to read"):
        load_grid(_write(tmp_path, deep, "grid.json"))


def test_a_file_that_is_not_text_is_one_line(tmp_path, capsys):
    path = _write(tmp_path, bytes(range(256)) * 4, "grid.bin")
    with pytest.raises(ConfigError, match="not a text file"):
        load_grid(path)
    assert main(["sweep", "--grid", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "not a text file" in err[-1] and not any("Traceback" in line for line in err)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("evaluate", {"downstream": ["objects"]}, "`evaluate.downstream` must be a name or .*, not a list"),
        ("config", [1, 2], "`config` must be a mapping .*, not a list"),
        ("variants", "fast", "`variants` must be a mapping .*, not a str"),
        ("evaluate", 3, "`evaluate` must be a mapping .*, not a int"),
    ],
)
def test_a_field_of_the_wrong_type_is_one_line_naming_it(field, value, message):
    with pytest.raises(ConfigError, match=message):
        parse_grid({"name": "g", "scale": "smoke", field: value})


def test_an_error_quotes_only_the_start_of_a_huge_value():
    with pytest.raises(ConfigError, match="unknown scale 'xxxx") as e:
        parse_grid({"name": "g", "scale": "x" * 1_000_000})
    assert len(str(e.value)) < 300
    with pytest.raises(ConfigError) as e:
        parse_grid({"name": "g", "scale": "smoke", "policy": ["p" * 1_000_000]})
    assert len(str(e.value)) < 2000  # the valid policies are listed, the bad one cut


def test_a_json_grid_reads_as_before(tmp_path):
    grid = load_grid(
        _write(tmp_path, json.dumps({"name": "g", "scale": "smoke", "policy": ["mocov2"]}), "g.json")
    )
    assert [c.name for c in grid.cells] == ["mocov2-s0"]


def test_no_seeds_is_said_as_such_and_one_policy_name_is_one_policy():
    from ssl_kit.study.grid import subset

    with pytest.raises(ConfigError, match="no seeds to run .*n_seeds must be 1 or more"):
        load_grid("augmentation_ablations", scale="smoke", seeds=[])
    grid = load_grid("augmentation_ablations", scale="smoke", seeds=[0])
    assert [c.policy for c in subset(grid, policy="crop_0.8").cells] == ["crop_0.8"]  # not c, r, o, p, ...
