"""`python -m ssl_kit`: every train flag explains itself, finite flags list their choices, errors are one line,
and the top-level `--help` loads no torch."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ssl_kit.augment import list_policies
from ssl_kit.cli import COMMANDS, build_parser, main
from ssl_kit.methods.registry import METHODS, REGISTRY
from ssl_kit.runs.config import SCALES
from ssl_kit.video.tracking import METHODS as TRACKING_METHODS

REPO = Path(__file__).resolve().parents[2]


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices[name]


def flags(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.option_strings[-1]: a for a in parser._actions if a.option_strings and a.dest != "help"}


@pytest.fixture(scope="module")
def train_parser() -> argparse.ArgumentParser:
    return subcommand(build_parser(), "train")


def test_every_train_flag_has_a_help_line_that_is_more_than_its_default(train_parser):
    found = flags(train_parser)
    assert {"--method", "--batch-size", "--tracker", "--resume", "--no-knn"} <= set(found)
    for flag, action in found.items():
        text = (action.help or "").strip()
        assert text and not re.fullmatch(r"\(default: [^)]*\)", text), f"{flag}: {text!r}"
        assert "default: None" not in text, f"{flag}: {text!r}"
    page = train_parser.format_help()
    assert all(flag in page for flag in found)


def test_finite_train_flags_list_their_choices(train_parser):
    found = flags(train_parser)
    assert found["--method"].choices == list(METHODS)
    assert found["--policy"].choices == list_policies()
    assert found["--scale"].choices == list(SCALES)
    assert found["--tracker"].choices == [*TRACKING_METHODS, "annotation"]
    assert found["--pirl-loss"].choices == ["nce", "infonce"]
    assert found["--amp"].choices == ["auto", "bf16", "off"]


def test_train_description_names_every_method_one_a_line(train_parser):
    lines = train_parser.format_help().splitlines()
    for name in METHODS:
        assert any(line.split()[:1] == [name] and REGISTRY[name].summary in line for line in lines), name


def test_an_unknown_method_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--method", "nope"])
    assert exit_.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("device", ["cuda", "gpu"])
def test_an_unavailable_device_is_one_error_line(device, tmp_path, capsys):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    argv = [
        "train",
        "--device",
        device,
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "run"),
        "--no-knn",
        "--quiet",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and repr(device) in err[0], err
    assert "available: " in err[0] and not (tmp_path / "run").exists()


SAMPLES = [
    ["world", "--preset", "smoke", "--out", "w", "--sets", "objects", "--quiet"],
    ["train", "--method", "pirl", "--scale", "smoke", "--batch-size", "8", "--symmetric", "true"],
    ["eval", "--run", "r", "--protocols", "knn", "--random-init"],
    ["measure", "--checkpoint", "a", "b", "--protocol", "viewpoint", "--top-k", "5"],
    ["sweep", "--grid", "g", "--scale", "smoke", "--dry-run"],
    ["reproduce", "--scale", "smoke", "--param", "n_seeds=1"],
]


@pytest.mark.parametrize("argv", SAMPLES, ids=lambda argv: argv[0])
def test_a_parser_built_for_one_command_parses_it_as_the_full_parser_does(argv):
    assert vars(build_parser(argv).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_other_commands_keep_their_errors(tmp_path, capsys):
    assert main(["eval", "--run", str(tmp_path / "missing"), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    with pytest.raises(SystemExit) as exit_:
        main(["world", "--preset", "huge"])
    assert exit_.value.code == 2


def test_top_level_help_lists_every_command_and_loads_no_torch():
    code = (
        "import sys\nfrom ssl_kit.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('torch loaded:', 'torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "torch loaded: False"
    assert list(COMMANDS) == ["world", "train", "eval", "measure", "sweep", "what-if", "reproduce", "report"]
    for name in COMMANDS:
        assert re.search(rf"^\s+{name}\b", proc.stdout, re.MULTILINE), name


def test_help_explains_scales_probes_and_lists_the_built_in_grids(capsys):
    from ssl_kit.study.grid import GRIDS

    for argv in (["reproduce", "--help"], ["eval", "--help"], ["sweep", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
    text = " ".join(capsys.readouterr().out.split())
    assert "smoke: a few images and steps" in text and "paper: the paper's recipes, for a GPU" in text
    assert (
        "knn: weighted k-nearest-neighbour accuracy" in text
        and "probe trained on the frozen train features" in text
    )
    grids = sorted(p.stem for p in GRIDS.glob("*.yaml"))
    assert grids and all(f" {name} " in text for name in grids), "sweep --help lists every built-in grid"
