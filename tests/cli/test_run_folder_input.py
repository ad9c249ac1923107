"""A run folder that is damaged, or a command that repeats itself, ends in one clear line: what is wrong, in
which file, and the fix in the command's own flags (exit 2, nothing lost)."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest
import torch
from helpers.cli_errors import error_line

from ssl_kit.cli import main
from ssl_kit.common.lock import FolderLocked, folder_lock
from ssl_kit.runs import rundir


def _train(world: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train",
        "--method",
        "mocov2",
        "--data",
        str(world / "objects" / "train"),
        "--out",
        str(out),
        "--scale",
        "smoke",
        "--batch-size",
        "8",
        "--queue-size",
        "16",
        "--no-knn",
        "--quiet",
        *extra,
    ]


@pytest.fixture(scope="module")
def two_steps(smoke_world, tmp_path_factory) -> Path:
    """A finished run of two steps, trained by the command line (copied before each test changes it)."""
    out = tmp_path_factory.mktemp("runs") / "two"
    assert main(_train(smoke_world, out, "--max-steps", "2")) == 0
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / "run"))


def test_a_damaged_metrics_log_names_its_line_on_resume(smoke_world, two_steps, tmp_path, capsys):
    run = _copy(two_steps, tmp_path)
    rows = (run / rundir.METRICS).read_bytes()
    (run / rundir.METRICS).write_bytes(b"\xa7\xff garbage\n" + rows)  # not UTF-8, and not the last line
    checkpoint = (run / rundir.CHECKPOINT).read_bytes()
    argv = _train(smoke_world, run, "--max-steps", "2", "--resume", "--override", "max_steps=3")
    assert main(argv) == 2
    line = error_line(capsys, only=True)
    assert f"{run / rundir.METRICS}: line 1 is not text" in line and "move the file aside" in line, line
    assert (run / rundir.CHECKPOINT).read_bytes() == checkpoint  # nothing lost


def test_a_cut_last_metrics_line_is_dropped_not_an_error(two_steps, tmp_path):
    run = _copy(two_steps, tmp_path)
    with open(run / rundir.METRICS, "ab") as f:
        f.write(b'{"step": 9, "lo\xe2')  # a writer killed mid-line, mid-character
    rows, cut = rundir.metrics_rows(run / rundir.METRICS)
    assert cut and rows == rundir.read_metrics(two_steps)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("a: [b\n", "not valid YAML (line 2, column 1): expected ',' or ']'"),
        ("", "is empty"),
        ("- 1\n", "holds a list, not a mapping"),
    ],
    ids=["invalid", "empty", "list"],
)
def test_a_bad_config_yaml_is_one_line_with_the_fix(smoke_world, two_steps, tmp_path, capsys, text, problem):
    run = _copy(two_steps, tmp_path)
    (run / rundir.CONFIG).write_text(text)
    assert main(_train(smoke_world, run, "--max-steps", "2", "--resume")) == 2
    line = error_line(capsys, only=True)
    assert f"{run / rundir.CONFIG}: {problem}" in line, line
    assert "scale" not in line.partition("(expected")[0]  # not the misleading "scale 'quick' -> 'smoke'"
    assert f"delete {run / rundir.CONFIG} and re-run" in line  # the checkpoint records the config too
    (run / rundir.CONFIG).unlink()  # the advice works: the run continues from its checkpoint's record
    assert main(_train(smoke_world, run, "--max-steps", "2", "--resume", "--override", "max_steps=3")) == 0
    assert rundir.load_checkpoint(run)["step"] == 3


def test_repeating_the_original_command_with_an_override_continues(smoke_world, two_steps, tmp_path, capsys):
    run = _copy(two_steps, tmp_path)
    argv = _train(smoke_world, run, "--max-steps", "2", "--resume", "--override", "max_steps=3")
    assert main(argv) == 0  # --max-steps 2 repeats the recorded value; the override changes it
    assert rundir.load_checkpoint(run)["step"] == 3
    capsys.readouterr()
    argv = _train(smoke_world, run, "--max-steps", "1", "--resume", "--override", "max_steps=4")
    assert main(argv) == 2
    line = error_line(capsys, only=True)
    assert "--max-steps 1 and --override max_steps=4 disagree" in line, line


def test_an_empty_lock_names_no_ghost_process(tmp_path, capsys, smoke_world, two_steps):
    run = _copy(two_steps, tmp_path)
    (run / ".lock").write_text("")
    assert main(_train(smoke_world, run, "--max-steps", "2", "--resume")) == 2
    line = error_line(capsys, only=True)
    assert "process ?" not in line and "names no process" in line and f"delete {run / '.lock'}" in line, line
    with pytest.raises(FolderLocked, match="names no process"):  # waiting would wait forever: refused too
        with folder_lock(run, "run", wait=True):
            pass


def test_a_live_lock_still_names_its_holder(tmp_path):
    holder = {"pid": os.getpid() + 10**6, "host": socket.gethostname() + "-other", "since": "today"}
    (tmp_path / ".lock").write_text(json.dumps(holder))
    with pytest.raises(FolderLocked, match=f"process {holder['pid']} on {holder['host']}"):
        with folder_lock(tmp_path, "run"):
            pass


def test_ctrl_c_advice_says_what_the_run_folder_holds(tmp_path, monkeypatch, capsys, two_steps):
    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("ssl_kit.training.loop.train", interrupt)
    assert main(["train", "--out", str(tmp_path / "new"), "--no-knn", "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "no checkpoint had been written yet" in err and "start again from step 0" in err, err
    assert "last checkpoint" not in err
    assert main(["train", "--out", str(two_steps), "--no-knn", "--quiet"]) == 130
    assert "with --resume to continue from the last checkpoint" in capsys.readouterr().err


def test_eval_of_a_run_that_diverged_names_the_run_and_its_step(two_steps, tmp_path, capsys):
    run = _copy(two_steps, tmp_path)
    state = torch.load(run / rundir.CHECKPOINT, weights_only=True)
    for name, value in state["model"].items():  # weights that overflow: features are inf, then NaN
        if name.endswith("conv1.weight"):
            value.mul_(1e38)
    torch.save(state, run / rundir.CHECKPOINT)
    rundir.append_metrics(run, step=2, epoch=0, error="loss is nan")
    assert main(["eval", "--run", str(run), "--quiet"]) == 2
    line = error_line(capsys, only=True)
    assert line.startswith(f"error: {run}: its features are NaN or infinite on "), line
    assert "the checkpoint of step 2" in line and "at step 2 loss is nan" in line and "lower --lr" in line


class _Payload:
    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_resume_on_a_payload_checkpoint_names_no_flag_train_lacks(smoke_world, two_steps, tmp_path, capsys):
    run = _copy(two_steps, tmp_path)
    marker = tmp_path / "code_ran"
    state = torch.load(run / rundir.CHECKPOINT, weights_only=True)
    torch.save({**state, "extra": _Payload(marker)}, run / rundir.CHECKPOINT)
    for config in (True, False):  # read through config.yaml, or through the checkpoint's own record
        if not config:
            (run / rundir.CONFIG).unlink()
        assert main(_train(smoke_world, run, "--max-steps", "2", "--resume")) == 2
        line = error_line(capsys, only=True)
        assert "--trust-checkpoint" not in line and "not the run's own checkpoint" in line, line
        assert "train into another --out" in line and not marker.exists()
