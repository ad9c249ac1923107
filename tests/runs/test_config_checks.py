"""Values are checked once, in the config, before any work (CLI and grid cells alike); kit checkpoints that this
version cannot read are one error naming the file; checkpoints load as weights only unless trusted."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ssl_kit.cli import main
from ssl_kit.errors import ConfigError, DataError, UntrustedCheckpointError
from ssl_kit.invariance.scoring import load_model
from ssl_kit.runs import rundir
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.study.grid import load_grid, parse_grid
from ssl_kit.training.loop import train

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A 16-image, two-class ImageFolder of 32 px noise, written with PIL."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (root / c).mkdir()
        for i in range(8):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / c / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def run(folder, tmp_path_factory) -> Path:
    """One MoCo v2 step: a real kit checkpoint."""
    out = tmp_path_factory.mktemp("runs") / "mocov2"
    cfg = TrainConfig(
        method="mocov2",
        scale="smoke",
        data=str(folder),
        out=str(out),
        batch_size=8,
        queue_size=16,
        max_steps=1,
    )
    return train(cfg, progress=False)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# --- values: one line naming the field, the value and the valid range ------------------------------------


@pytest.mark.parametrize(
    "values, message",
    [
        ({"batch_size": 0}, "batch_size must be a whole number >= 1, not 0"),
        ({"lr": 0.0}, "lr must be a finite number > 0, not 0.0"),
        ({"lr": -0.1}, "lr must be a finite number > 0, not -0.1"),
        ({"lr": float("inf")}, "lr must be a finite number > 0, not inf"),
        ({"image_size": 0}, "image_size must be a whole number >= 1, not 0"),
        ({"crop_size": 0}, "crop_size must be a whole number >= 1, not 0"),
        ({"steps": 0}, "steps must be a whole number >= 1, not 0"),
        ({"epochs": 0}, "epochs must be a whole number >= 1, not 0"),
        ({"checkpoint_every": 0}, "checkpoint_every must be a whole number >= 1, not 0"),
        ({"log_every": 0}, "log_every must be a whole number >= 1, not 0"),
        ({"knn_every": -1}, "knn_every must be a whole number >= 0, not -1"),
        ({"temperature": 0.0}, r"temperature must be a finite number > 0, not 0.0"),
        ({"queue_size": 0}, "queue_size must be a whole number >= 1, not 0"),
        ({"moco_momentum": 1.5}, r"moco_momentum must be a finite number in \[0, 1\], not 1.5"),
        ({"weight_decay": -1e-4}, "weight_decay must be a finite number >= 0, not -0.0001"),
        ({"warmup_epochs": -1.0}, "warmup_epochs must be a finite number >= 0, not -1.0"),
        ({"region_fraction": 1.5}, r"region_fraction must be a finite number in \[0, 1\], not 1.5"),
        ({"max_steps": 0}, "max_steps must be a whole number >= 1, not 0"),
        ({"seed": -1}, r"seed must be a whole number in \[0, 4294967295\], not -1"),
        ({"delta_min": 5, "delta_max": 2}, r"delta_min \(5\) must be at most delta_max \(2\)"),
        ({"steps": "five"}, "steps must be a whole number >= 1, not 'five'"),
        ({"batch_size": 8.0}, "batch_size must be a whole number >= 1, not 8.0"),
        ({"lr": "1e-3"}, "lr must be a finite number > 0, not '1e-3' .*write 1.0e-3"),
        ({"symmetric": "yes"}, "symmetric must be true or false, not 'yes'"),
        ({"arch": "resnet9"}, "arch must be one of resnet18, .* not 'resnet9'"),
    ],
)
def test_resolve_rejects_each_bad_value_in_one_line(values, message):
    with pytest.raises(ConfigError, match=message) as e:
        resolve(TrainConfig(scale="smoke", **values))
    assert "\n" not in str(e.value)


def test_the_edges_of_each_range_are_valid_and_numpy_values_become_plain():
    edges = dict(
        knn_every=0,
        moco_momentum=1.0,
        moco_momentum_end=1.0,
        region_fraction=0.0,
        delta_min=0,
        delta_max=0,
        weight_decay=0.0,
        seed=0,
        min_track_confidence=1.0,
        lr=1,
        steps=1,
    )
    cfg = resolve(TrainConfig(scale="smoke", **edges))
    assert cfg.lr == 1.0 and type(cfg.lr) is float
    cfg = resolve(
        TrainConfig(
            scale="smoke", steps=np.int64(3), lr=np.float64(0.1), data=Path("d"), symmetric=np.bool_(True)
        )
    )
    assert (type(cfg.steps), type(cfg.lr), type(cfg.data), type(cfg.symmetric)) == (int, float, str, bool)


BAD_FLAGS = [
    (["--batch-size", "0"], "batch_size", "0"),
    (["--checkpoint-every", "0"], "checkpoint_every", "0"),
    (["--image-size", "0"], "image_size", "0"),
    (["--lr", "-0.5"], "lr", "-0.5"),
    (["--epochs", "0"], "epochs", "0"),
    (["--temperature", "0"], "temperature", "0.0"),
    (["--log-every", "0"], "log_every", "0"),
    (["--crop-size", "0"], "crop_size", "0"),
    (["--queue-size", "0"], "queue_size", "0"),
    (["--lr", "nan"], "lr", "nan"),
]


@pytest.mark.parametrize("flags, field, value", BAD_FLAGS, ids=[" ".join(f[0]) for f in BAD_FLAGS])
def test_cli_train_bad_value_is_one_error_line_before_anything_is_written(
    folder, tmp_path, capsys, flags, field, value
):
    out = tmp_path / "run"
    argv = [
        "train",
        "--data",
        str(folder),
        "--out",
        str(out),
        "--scale",
        "smoke",
        "--batch-size",
        "8",
        "--queue-size",
        "16",
        "--max-steps",
        "2",
        "--no-knn",
        "--quiet",
        *flags,
    ]
    assert main(argv) == 2
    line = _one_error_line(capsys)
    assert f"{field} must be" in line and f"not {value}" in line, line
    assert not out.exists()  # no config.yaml, no checkpoint: nothing was started


@NO_CUDA
def test_cli_device_cuda_without_cuda_is_one_error_line_in_train_measure_and_world(folder, tmp_path, capsys):
    train_argv = [
        "train",
        "--data",
        str(folder),
        "--out",
        str(tmp_path / "run"),
        "--scale",
        "smoke",
        "--device",
        "cuda",
        "--quiet",
    ]
    measure_argv = [
        "measure",
        "--checkpoint",
        str(tmp_path / "not_yet.pt"),
        "--protocol",
        "viewpoint",
        "--data",
        str(tmp_path),
        "--device",
        "cuda",
        "--quiet",
    ]
    world_argv = [
        "world",
        "--out",
        str(tmp_path / "world"),
        "--preset",
        "smoke",
        "--sets",
        "objects",
        "--device",
        "cuda",
        "--quiet",
    ]
    for argv in (train_argv, measure_argv, world_argv):
        assert main(argv) == 2, argv[0]
        line = _one_error_line(capsys)
        assert "'cuda'" in line and "CUDA is not available" in line, (argv[0], line)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # the device is checked before any work


@pytest.mark.parametrize(
    "flags, message", [(["--top-k", "0"], "--top-k must be"), (["--size", "0"], "--size must be")]
)
def test_cli_measure_bad_numbers_are_one_error_line(tmp_path, capsys, flags, message):
    argv = ["measure", "--checkpoint", str(tmp_path / "not_yet.pt"), "--protocol", "viewpoint", *flags]
    assert main(argv) == 2
    assert message in _one_error_line(capsys)


# --- grids: each cell's config is checked when the grid loads, naming the file, the variant and the field --


def _grid(**fields) -> dict:
    return {"name": "g", "scale": "smoke", "seeds": [0], "evaluate": {"protocols": []}, **fields}


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"variants": {"long": {"steps": "five"}}},
            "variant 'long': steps must be a whole number >= 1, not 'five'",
        ),
        ({"config": {"batch_size": 0}}, "config: batch_size must be a whole number >= 1, not 0"),
        ({"scale_config": {"smoke": {"lr": -1.0}}}, "scale_config.smoke: lr must be a finite number > 0"),
        (
            {"variants": {"v": {"scale_config": {"smoke": {"epochs": 0}}}}},
            "variant 'v': scale_config.smoke: epochs",
        ),
        (
            {"config": {"delta_min": 9}, "variants": {"short": {"delta_max": 3}}},
            r"cell short-s0 \(variant 'short'\): delta_min \(9\) must be at most delta_max \(3\)",
        ),
        ({"seeds": [0, "one"]}, "`seeds` must hold whole numbers >= 0, not 'one'"),
        (
            {"evaluate": {"protocols": [], "top_k": [0]}},
            "`evaluate.top_k` must hold whole numbers >= 1, not 0",
        ),
    ],
)
def test_grid_values_are_checked_when_the_grid_loads(fields, message):
    with pytest.raises(ConfigError, match=message):
        parse_grid(_grid(**fields), "grid.yaml")


@pytest.mark.parametrize(
    "text, names",
    [
        ("variants:\n  long: {steps: five}\n", ["variant 'long'", "steps", "'five'"]),
        ("config: {batch_size: 0}\n", ["config", "batch_size", "not 0"]),
    ],
)
def test_sweep_dry_run_reports_the_bad_value_with_the_grid_file(tmp_path, capsys, text, names):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nscale: smoke\nevaluate: {protocols: []}\n" + text)
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_grid(path)
    assert main(["sweep", "--grid", str(path), "--dry-run", "--out", str(tmp_path / "sweeps")]) == 2
    line = _one_error_line(capsys)
    assert str(path) in line and all(n in line for n in names), line


# --- kit checkpoints this version cannot read: one error naming the file ---------------------------------


def _altered(run: Path, tmp_path: Path, name: str, **config) -> Path:
    state = torch.load(run / rundir.CHECKPOINT, weights_only=True)
    state["config"].update(config)
    torch.save(state, tmp_path / name)
    return tmp_path / name


def test_the_kits_checkpoints_load_as_weights_only_even_from_numpy_values(folder, tmp_path):
    """Numpy scalars and paths (what a notebook may pass) are stored as plain values: weights-only loads them."""
    cfg = TrainConfig(
        method="mocov2",
        scale="smoke",
        data=folder,
        out=tmp_path / "run",
        batch_size=np.int64(8),
        queue_size=16,
        max_steps=np.int64(1),
        lr=np.float64(0.03),
    )
    out = train(cfg, progress=False)
    state = torch.load(out / rundir.CHECKPOINT, weights_only=True)
    assert state["config"] == dataclasses.asdict(load_run(out)[1])
    assert all(type(v) in (int, float, str, bool, type(None)) for v in state["config"].values())


@pytest.mark.parametrize(
    "config, name, message",
    [
        ({"future_knob": 3}, "future.pt", "does not know: future_knob"),
        ({"queue_size": 32}, "queue.pt", "weights do not match its config .*queue"),
        ({"arch": "resnet34"}, "arch.pt", "weights do not match its config .*missing"),
        ({"batch_size": 0}, "batch.pt", "its config is not valid here: batch_size must be"),
    ],
)
def test_a_kit_checkpoint_this_version_cannot_read_is_one_error_naming_it(
    run, tmp_path, capsys, config, name, message
):
    path = _altered(run, tmp_path, name, **config)
    for argv in (
        ["eval", "--run", str(path), "--quiet"],
        [
            "measure",
            "--checkpoint",
            str(path),
            "--protocol",
            "viewpoint",
            "--data",
            str(tmp_path),
            "--device",
            "cpu",
            "--quiet",
        ],
    ):
        assert main(argv) == 2, argv[0]
        line = _one_error_line(capsys)
        assert line.startswith(f"error: {path}: ") and re.search(message, line), line


# --- checkpoints load as weights only; a file that needs more is refused unless trusted ------------------


class _Payload:
    """Unpickled, it creates the folder `path`: a stand-in for code a checkpoint file could run."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_a_checkpoint_carrying_code_is_refused_unless_trusted(run, tmp_path, capsys):
    marker = tmp_path / "code_ran"
    state = torch.load(run / rundir.CHECKPOINT, weights_only=True)
    path = tmp_path / "evil.pt"
    torch.save({**state, "extra": _Payload(marker)}, path)
    foreign = tmp_path / "evil_weights.pth"
    torch.save({"state_dict": {"conv1.weight": torch.zeros(1)}, "extra": _Payload(marker)}, foreign)
    refusals = [
        ["measure", "--checkpoint", str(path), "--protocol", "viewpoint", "--data", str(tmp_path), "--quiet"],
        [
            "measure",
            "--checkpoint",
            str(foreign),
            "--protocol",
            "viewpoint",
            "--data",
            str(tmp_path),
            "--quiet",
        ],
        ["eval", "--run", str(path), "--quiet"],
    ]
    for argv in refusals:
        assert main(argv) == 2, argv
        line = _one_error_line(capsys)
        assert str(Path(argv[2])) in line and "--trust-checkpoint" in line, line
        assert not marker.exists(), argv
    for load in (rundir.load_checkpoint, load_run, load_model):
        with pytest.raises(UntrustedCheckpointError, match="--trust-checkpoint"):
            load(path)
    assert not marker.exists()

    # with the flag the file is loaded in full (and its code runs): here eval then stops at a missing folder
    assert (
        main(["eval", "--run", str(path), "--trust-checkpoint", "--train", str(tmp_path / "no"), "--quiet"])
        == 2
    )
    assert marker.is_dir() and str(tmp_path / "no") in _one_error_line(capsys)
    marker.rmdir()
    method, cfg, _ = load_run(path, trust=True)
    assert marker.is_dir() and cfg.method == "mocov2"


def test_a_corrupt_file_is_a_load_error_not_a_refusal(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"garbage")
    with pytest.raises(
        DataError, match=r"cannot load checkpoint \(UnpicklingError: Unsupported operand"
    ) as e:
        rundir.load_checkpoint(tmp_path)
    assert not isinstance(e.value, UntrustedCheckpointError) and "\n" not in str(e.value)


def test_sweep_dry_run_checks_the_data_folder(tmp_path, capsys):
    missing = tmp_path / "no_world"
    assert main(["sweep", "--grid", "budget", "--scale", "smoke", "--dry-run", "--world", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and str(missing) in err[-1], err
