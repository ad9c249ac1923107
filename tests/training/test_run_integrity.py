"""Runs that cannot be corrupted (issue 17, items 1, 4 and 7): `--resume` continues the run's own config, the
"last good checkpoint" is finite, and the small gaps (stale temp files, the resume marker, Ctrl-C advice,
skipped-file counts, unfinished-run and small-image warnings, zero-step runs) are closed."""

from __future__ import annotations

import re
import shutil
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import yaml

import ssl_kit.methods.moco as moco_module
import ssl_kit.training.hooks as hooks
from ssl_kit.cli import main
from ssl_kit.errors import ConfigError, DataError
from ssl_kit.runs import rundir
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.training.finite import TrainingDiverged
from ssl_kit.training.loop import train


@pytest.fixture(scope="module")
def objects(smoke_world) -> Path:
    return smoke_world / "objects" / "train"  # read only (a test that corrupts files copies it first)


def _cfg(objects: Path, out: Path, **kw) -> TrainConfig:
    base = dict(
        data=str(objects), out=str(out), scale="smoke", batch_size=8, queue_size=16, max_steps=2, log_every=1
    )
    return TrainConfig(**{**base, **kw})


def _error_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(err) == 1, err
    return err[0]


def _all_finite(state: dict) -> bool:
    tensors = [v for v in state["model"].values() if v.is_floating_point()]
    tensors += [v for s in state["optimizer"]["state"].values() for v in s.values() if torch.is_tensor(v)]
    return all(bool(t.isfinite().all()) for t in tensors)


# 1. --resume reads the run's config and continues it


@pytest.mark.slow
def test_the_readme_resume_line_continues_a_run_made_with_other_flags(objects, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    first = [
        "train",
        "--method",
        "mocov2",
        "--data",
        str(objects),
        "--out",
        "runs/mocov2",
        "--scale",
        "smoke",
        "--batch-size",
        "8",
        "--queue-size",
        "16",
        "--max-steps",
        "2",
        "--log-every",
        "1",
        "--quiet",
    ]
    assert main(first) == 0
    run = tmp_path / "runs" / "mocov2"
    recorded = (run / rundir.CONFIG).read_bytes()
    # the README's own line, as written: the batch size, data and scale come from the run's config
    assert main(["train", "--method", "mocov2", "--out", "runs/mocov2", "--resume"]) == 0
    assert (run / rundir.CONFIG).read_bytes() == recorded
    capsys.readouterr()

    # flags that would change a recorded field are refused, each named with its old and new value
    changed = "train --out runs/mocov2 --resume --lr 0.5 --policy mocov2 --steps 8".split()
    assert main(changed) == 2
    line = _error_line(capsys)
    for text in ("lr 0.03 -> 0.5", "policy 'crop_0.8' -> 'mocov2'", "steps None -> 8"):
        assert text in line, line
    assert (run / rundir.CONFIG).read_bytes() == recorded and rundir.load_checkpoint(run)["step"] == 2

    # a field that may change on resume still needs an explicit --override, which the error spells out
    assert main(["train", "--out", "runs/mocov2", "--resume", "--max-steps", "3", "--quiet"]) == 2
    assert "max_steps 2 -> 3" in (line := _error_line(capsys)) and "--override max_steps=3" in line
    assert main(["train", "--out", "runs/mocov2", "--resume", "--override", "max_steps=3", "--quiet"]) == 0
    assert rundir.load_checkpoint(run)["step"] == 3
    saved = yaml.safe_load((run / rundir.CONFIG).read_text())
    assert saved["max_steps"] == 3 and {k: v for k, v in saved.items() if k != "max_steps"} == {
        k: v for k, v in yaml.safe_load(recorded).items() if k != "max_steps"
    }
    capsys.readouterr()
    assert main(["train", "--out", "runs/mocov2", "--resume", "--override", "lr=0.5"]) == 2
    assert "only max_steps" in _error_line(capsys)
    assert main(["train", "--out", "runs/mocov2", "--override", "max_steps=4"]) == 2
    assert "--resume" in _error_line(capsys)


@pytest.mark.slow
def test_resume_in_python_refuses_other_training_values(objects, tmp_path):
    cfg = _cfg(objects, tmp_path / "run")
    out = train(cfg, progress=False)
    recorded, before = (out / rundir.CONFIG).read_bytes(), (out / rundir.CHECKPOINT).read_bytes()
    with pytest.raises(ConfigError, match=r"crop_size 32 there, 24 here, lr 0\.03 there, 0\.5 here"):
        train(replace(cfg, lr=0.5, crop_size=24, max_steps=4), resume=True, progress=False)
    assert (out / rundir.CONFIG).read_bytes() == recorded and (out / rundir.CHECKPOINT).read_bytes() == before
    # fields that may change on resume, and the data folder spelled another way
    train(
        replace(cfg, max_steps=3, log_every=2, data=f"{objects.parent}/./train"), resume=True, progress=False
    )
    assert rundir.load_checkpoint(out)["step"] == 3


def test_override_values_are_parsed_by_field_and_limited_to_the_resumable_ones():
    from ssl_kit.runs.fields import RESUMABLE
    from ssl_kit.runs.resume import parse_overrides

    assert {"max_steps", "checkpoint_every", "log_every", "knn_every", "device", "skip_corrupt"} <= set(
        RESUMABLE
    )
    assert parse_overrides(["max-steps=10", "device=none", "skip_corrupt=true", "knn_every=2"]) == {
        "max_steps": 10,
        "device": None,
        "skip_corrupt": True,
        "knn_every": 2,
    }
    for bad, match in [
        ("batch_size=8", "only max_steps"),
        ("max_steps", "expected FIELD=VALUE"),
        ("max_steps=ten", "whole number"),
        ("nope=1", "not a field"),
    ]:
        with pytest.raises(ConfigError, match=match):
            parse_overrides([bad])


# 4. the "last good checkpoint" is good


def test_a_diverging_lr_never_saves_a_non_finite_checkpoint(objects, tmp_path):
    with pytest.raises(TrainingDiverged) as caught:
        train(_cfg(objects, tmp_path, lr=1e6, max_steps=8, checkpoint_every=1), progress=False)
    message = str(caught.value)
    good = re.search(r"last good checkpoint \(step (\d+)\)", message)
    assert good and "lower --lr" in message, message
    state = rundir.load_checkpoint(tmp_path)
    assert state["step"] == int(good.group(1)) and _all_finite(state)  # BN statistics included


def test_with_no_checkpoint_written_the_error_says_there_is_none(objects, tmp_path):
    with pytest.raises(TrainingDiverged) as caught:
        train(_cfg(objects, tmp_path, lr=1e6, max_steps=8), progress=False)  # checkpoint_every 500
    assert "no checkpoint was written" in str(caught.value) and "(step 0)" not in str(caught.value)
    assert not (tmp_path / rundir.CHECKPOINT).exists()


def test_a_loss_non_finite_before_any_update_does_not_blame_the_learning_rate(objects, tmp_path, monkeypatch):
    real = moco_module.info_nce

    def poisoned(*args, **kwargs):  # the first loss is NaN: nothing has been updated yet
        loss, logits = real(*args, **kwargs)
        return loss * float("nan"), logits

    monkeypatch.setattr(moco_module, "info_nce", poisoned)
    with pytest.raises(TrainingDiverged) as caught:
        train(_cfg(objects, tmp_path), progress=False)
    message = str(caught.value)
    assert "at step 0" in message and "no checkpoint was written" in message and "--temperature" in message
    assert "lower --lr" not in message


def test_temperature_zero_is_one_error_line_naming_the_temperature(objects, tmp_path, capsys):
    argv = [
        "train",
        "--data",
        str(objects),
        "--out",
        str(tmp_path / "run"),
        "--scale",
        "smoke",
        "--batch-size",
        "8",
        "--temperature",
        "0",
        "--no-knn",
        "--quiet",
    ]
    assert main(argv) == 2
    line = _error_line(capsys)
    assert "temperature" in line and "last good checkpoint (step 0)" not in line, line
    assert not (tmp_path / "run" / rundir.CHECKPOINT).exists()


def test_a_non_finite_checkpoint_is_refused_on_resume(objects, tmp_path):
    cfg = _cfg(objects, tmp_path)
    out = train(cfg, progress=False)
    state = rundir.load_checkpoint(out)
    key = next(k for k in state["model"] if k.endswith("running_var"))
    state["model"][key][0] = float("inf")  # as the old loop saved after a diverging lr
    state["step"] = 1
    rundir.save_checkpoint(out, state)
    with pytest.raises(DataError, match=f"non-finite values \\({re.escape(key)}"):
        train(cfg, resume=True, progress=False)


def test_the_finiteness_check_sees_weights_buffers_and_optimizer_state():
    from ssl_kit.training.finite import nonfinite, nonfinite_state

    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.randn(4, 3)).sum().backward()
    opt.step()
    assert nonfinite_state(net, opt) == []
    net[1].running_var[1] = float("inf")
    opt.state[net[0].weight]["momentum_buffer"][0, 0] = float("nan")
    assert nonfinite_state(net, opt) == ["1.running_var", "optimizer.state.0.momentum_buffer"]
    assert nonfinite({"steps": torch.tensor([3]), "empty": torch.empty(0), "w": torch.ones(2)}) == []


# 7. small gaps


def test_a_run_start_removes_the_temp_files_a_killed_writer_left(objects, tmp_path):
    stale = [
        tmp_path / ".checkpoint.pt.k3j_x9a1.tmp",
        tmp_path / ".config.yaml.abcd1234.tmp",
        tmp_path / ".metrics.jsonl.zz.tmp",
    ]
    kept = [tmp_path / ".notes.tmp", tmp_path / ".data.csv.ab12.tmp", tmp_path / "notes.txt"]
    for path in stale + kept:
        path.write_bytes(b"x" * 100)
    train(_cfg(objects, tmp_path, max_steps=1), progress=False)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept)


@pytest.mark.slow
def test_resume_marks_metrics_and_repeats_no_step(objects, tmp_path, monkeypatch):
    real_save = hooks.save_checkpoint

    def save(run, step):  # the run is "killed" after logging step 3, before saving it
        if step != 3:
            real_save(run, step)

    monkeypatch.setattr(hooks, "save_checkpoint", save)
    cfg = _cfg(objects, tmp_path, max_steps=3, checkpoint_every=2)
    train(cfg, progress=False)
    monkeypatch.setattr(hooks, "save_checkpoint", real_save)
    assert rundir.load_checkpoint(tmp_path)["step"] == 2
    with open(tmp_path / rundir.METRICS, "a") as f:
        f.write('{"step": 3, "lo')  # a line cut short by the kill
    train(cfg, resume=True, progress=False)
    rows = rundir.read_metrics(tmp_path)
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3]
    marker = [r for r in rows if r.get("resumed")]
    assert len(marker) == 1 and marker[0]["step"] == 2 and marker[0]["dropped_rows"] == 1
    assert rows.index(marker[0]) == 2  # after the rows it kept, before the steps taken again


@pytest.mark.parametrize(
    "argv, advice",
    [
        (["train", "--out", "r", "--no-knn", "--quiet"], "start again from step 0"),  # r holds no checkpoint
        (["sweep", "--grid", "g", "--quiet"], "finished cells are kept"),
        (["reproduce", "--scale", "smoke", "--quiet"], "finished runs are reused"),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else None,
)
def test_ctrl_c_advice_fits_the_command(argv, advice, monkeypatch, capsys):
    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("ssl_kit.training.loop.train", interrupt)
    monkeypatch.setattr("ssl_kit.study.grid.load_grid", interrupt)
    monkeypatch.setattr("ssl_kit.study.reproduce.reproduce", interrupt)
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err.startswith("interrupted: ") and advice in err, err
    if argv[0] != "train":
        assert "--resume" not in err


def test_skipped_corrupt_files_are_counted_in_metrics(objects, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(objects, data)
    victim = next(p for p in sorted(data.rglob("*")) if p.is_file())
    victim.write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="skipped 1 corrupt"):
        out = train(_cfg(data, tmp_path / "run", max_steps=1, skip_corrupt=True), progress=False)
    counts = [r for r in rundir.read_metrics(out) if "data_images_skipped" in r]
    total = sum(1 for p in data.rglob("*") if p.is_file())
    assert counts == [{"step": 0, "data_images": total - 1, "data_images_skipped": 1}]


@pytest.mark.slow
def test_scoring_an_unfinished_run_warns_with_the_steps(objects, tmp_path):
    from ssl_kit.invariance.scoring import load_model

    out = train(_cfg(objects, tmp_path, max_steps=2), progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a finished run: no warning
        load_run(out)
    state = rundir.load_checkpoint(out)
    state["step"] = 1  # as if interrupted after one step
    rundir.save_checkpoint(out, state)
    with pytest.warns(UserWarning, match=r"unfinished run \(step 1 of 2\)"):
        load_run(out)  # eval's path
    with pytest.warns(UserWarning, match=r"unfinished run \(step 1 of 2\)"):
        load_model(out)  # measure's path


def test_training_below_a_sensible_image_size_warns(objects, tmp_path):
    with pytest.warns(UserWarning, match=r"--image-size 8, --crop-size 8: below 16 px"):
        train(_cfg(objects, tmp_path, image_size=8, crop_size=8, max_steps=1), progress=False)


def test_zero_epochs_is_an_error_before_any_work(objects, tmp_path, capsys):
    argv = [
        "train",
        "--data",
        str(objects),
        "--out",
        str(tmp_path / "run"),
        "--scale",
        "smoke",
        "--batch-size",
        "8",
        "--epochs",
        "0",
        "--no-knn",
        "--quiet",
    ]
    assert main(argv) == 2
    assert "epochs" in _error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_a_multiplier_out_of_range_is_refused_and_divergence_names_the_changed_knob(objects, tmp_path):
    from ssl_kit.runs.config import check_values
    from ssl_kit.training.finite import diverged_advice

    with pytest.raises(ConfigError, match="bn_lr_scale"):
        check_values({"bn_lr_scale": 1e30}, "--bn-lr-scale")
    cfg = resolve(_cfg(objects, tmp_path, bn_lr_scale=100.0))
    advice = diverged_advice(cfg, step=5)
    assert (
        "--bn-lr-scale 100 gives the batch-norm parameters 100 times" in advice and "default is 1" in advice
    )
    assert "lower --lr" in diverged_advice(resolve(_cfg(objects, tmp_path)), step=5)  # nothing else changed
