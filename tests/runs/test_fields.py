"""A config field's facts live in one table (`ssl_kit.runs.fields`): a knob added there, and nowhere else, is a
`train` flag in its group with its choices, enters the run key as its `key` fact says, may change on resume or
not, and is range-checked. Each case adds one knob to a copy of the kit and asks a fresh interpreter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ssl_kit
from ssl_kit.runs.fields import BY_DATA, FACTS, KEYED, NOT_KEYED, WHEN_SET, TrainConfig
from ssl_kit.runs.run_keys import run_key

PACKAGE = Path(ssl_kit.__file__).resolve().parent
ANCHOR = "    skip_corrupt: bool = knob("  # the dummy goes before the table's last field
# what the kit with the dummy says of it: its flag, resume rules, run keys and checks (argv: values to key)
PROBE = """
import argparse, dataclasses, json, sys
import ssl_kit
from ssl_kit.cli.run_commands import train_args
from ssl_kit.errors import ConfigError
from ssl_kit.runs.config import check_values, resolve, with_defaults
from ssl_kit.runs.fields import RESUMABLE, TrainConfig
from ssl_kit.runs.resume import parse_overrides
from ssl_kit.runs.run_keys import run_key

data, values, bad = json.loads(sys.argv[1])
parser = argparse.ArgumentParser()
train_args(parser)
group, action = next((g.title, a) for g in parser._action_groups for a in g._group_actions
                     if "--dummy-knob" in a.option_strings)
def error(call):
    try:
        call()
    except ConfigError as e:
        return str(e)
cfg = TrainConfig(method="simclr", scale="smoke", data=data)
print(json.dumps({
    "kit": ssl_kit.__file__,
    "group": group, "choices": action.choices, "help": action.help,
    "resumable": "dummy_knob" in RESUMABLE,
    "override": error(lambda: parse_overrides([f"dummy-knob={values[-1]}"])),
    "keys": [run_key(dataclasses.replace(cfg, dummy_knob=v)) for v in values],
    "before": with_defaults({})["dummy_knob"],
    "checked": [error(lambda: check_values({"dummy_knob": bad})), error(lambda: resolve(
        dataclasses.replace(cfg, dummy_knob=bad)))],
}))
"""
# one knob each: its declaration, the facts it declares, the values to key it at (its default first), and a bad
# value with the errors of `check_values` (types and ranges) and of `resolve` (choices too)
DUMMIES = {
    "a range, resumable, not keyed": dict(
        declare='dummy_knob: int = knob(4, "optimisation", at_least=2, at_most=9, resumable=True, key=NOT_KEYED, '
        'help="a dummy")',
        group="optimisation", choices=None, resumable=True, key=NOT_KEYED, before=4, values=[4, 7], bad=10,
        errors=["dummy_knob must be a whole number in [2, 9], not 10"] * 2,
    ),
    "keyed, a run before it trained as said": dict(
        declare='dummy_knob: float = knob(0.5, "video", above=0, before=0.25, help="a dummy")',
        group="video", choices=None, resumable=False, key=KEYED, before=0.25, values=[0.5, 0.75], bad=0.0,
        errors=["dummy_knob must be a finite number > 0, not 0.0"] * 2,
    ),
    "choices, a group of its own, keyed when set": dict(
        declare='dummy_knob: str = knob("a", "dummies", choices=("a", "b"), key=WHEN_SET, help="a dummy")',
        group="dummies", choices=["a", "b"], resumable=False, key=WHEN_SET, before="a", values=["a", "b"],
        bad="c", errors=[None, "dummy_knob must be one of a, b, not 'c'"],
    ),
    "a folder keyed by its data, resumable": dict(
        declare='dummy_knob: str | None = knob(None, "run-time", resumable=True, key=BY_DATA, help="a dummy")',
        group="run-time", choices=None, resumable=True, key=BY_DATA, before=None, values=[None, "folder", "copy"],
        bad=3, errors=["dummy_knob must be a string, not 3"] * 2,
    ),
}  # fmt: skip


def kit_with(tmp_path: Path, declaration: str) -> Path:
    """A copy of the kit whose table of fields has one more entry, `declaration`."""
    kit = tmp_path / "kit"
    shutil.copytree(PACKAGE, kit / "ssl_kit", ignore=shutil.ignore_patterns("__pycache__"))
    table = kit / "ssl_kit" / "runs" / "fields.py"
    text = table.read_text()
    assert text.count(ANCHOR) == 1
    table.write_text(text.replace(ANCHOR, f"    {declaration}\n{ANCHOR}"))
    return kit


@pytest.mark.parametrize("case", DUMMIES)
def test_a_knob_added_to_the_table_is_a_flag_a_key_a_resume_rule_and_a_check(case, tmp_path):
    dummy = DUMMIES[case]
    world = tmp_path / "world"  # a world set: its identity is its manifest's hash, wherever it lies
    world.mkdir()
    (world / "manifest.json").write_text(json.dumps({"config_hash": "dummy"}))
    (tmp_path / "folder" / "a").mkdir(parents=True)
    (tmp_path / "folder" / "a" / "0.png").write_bytes(b"png")
    shutil.copytree(tmp_path / "folder", tmp_path / "copy")  # the same files, with their times: the same data
    data = str(world / "objects" / "train")
    values = [str(tmp_path / v) if v in ("folder", "copy") else v for v in dummy["values"]]
    kit = kit_with(tmp_path, dummy["declare"])
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([data, values, dummy["bad"]])],
        env={**os.environ, "PYTHONPATH": str(kit)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(seen["kit"]).resolve().is_relative_to(kit)

    assert (seen["group"], seen["choices"]) == (dummy["group"], dummy["choices"])
    assert seen["help"].startswith("a dummy")
    assert seen["resumable"] == dummy["resumable"]
    assert (seen["override"] is None) == dummy["resumable"], seen["override"]
    assert seen["before"] == dummy["before"]
    assert seen["checked"] == dummy["errors"]
    # the run key: of this kit (no dummy), and of the kit with the dummy at each value
    without, keys = run_key(TrainConfig(method="simclr", scale="smoke", data=data)), seen["keys"]
    if dummy["key"] == NOT_KEYED:
        assert keys == [without] * len(values)
    elif dummy["key"] == WHEN_SET:  # a run trained before the field existed keeps its key
        assert keys[0] == without != keys[1]
    elif dummy["key"] == KEYED:
        assert without != keys[0] != keys[1]
    else:  # BY_DATA: the same files in another place are the same data
        assert without != keys[0] != keys[1] == keys[2]
    assert "dummy_knob" not in FACTS  # the table of this kit is untouched
