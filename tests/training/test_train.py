"""The training loop: every method runs, resumes exactly, stops on NaN, rejects bad input, and learns."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from PIL import Image

import ssl_kit.methods.moco as moco_module
from ssl_kit.batches.plan import epoch_order, step_plan, step_seed
from ssl_kit.data.identity import data_identity
from ssl_kit.errors import ConfigError, DataError
from ssl_kit.evaluate.splits import LabelledSplits
from ssl_kit.methods import METHODS, VIDEO_METHODS
from ssl_kit.models.random_init import random_init_backbone, random_init_key
from ssl_kit.runs import rundir
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.runs.config import TrainConfig, method_from_config, resolve
from ssl_kit.training.finite import TrainingDiverged
from ssl_kit.training.loop import train
from ssl_kit.training.schedule import key_momentum
from ssl_kit.training.untrained import untrained_twin
from ssl_kit.world.build import build_set
from ssl_kit.world.presets import PRESETS

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def objects(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_set("objects", out, "smoke", progress=False)
    return out / "objects" / "train"


def _cfg(objects: Path, out: Path, **kw) -> TrainConfig:
    base = dict(data=str(objects), out=str(out), scale="smoke", batch_size=8, max_steps=2, log_every=1)
    return TrainConfig(**{**base, **kw})


@pytest.mark.parametrize(
    "method", [m for m in METHODS if m not in VIDEO_METHODS]
)  # videos: test_video_train.py
def test_one_step_of_every_method(objects, tmp_path, method):
    out = train(_cfg(objects, tmp_path / method, method=method, max_steps=1), progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "config.yaml", "metrics.jsonl"]
    rows = rundir.read_metrics(out)
    assert rows[0]["step"] == 1 and torch.isfinite(torch.tensor(rows[0]["loss"]))
    loaded, cfg, _ = load_run(out)
    assert cfg.method == method and loaded.feature_backbone()(torch.zeros(2, 3, 32, 32)).shape[0] == 2


@pytest.mark.slow
def test_resume_continues_exactly(objects, tmp_path):
    cfg = _cfg(objects, tmp_path / "straight", max_steps=6, checkpoint_every=100)
    train(cfg, progress=False)
    part = replace(cfg, out=str(tmp_path / "resumed"), max_steps=3)
    train(part, progress=False)
    train(replace(part, max_steps=6), resume=True, progress=False)
    a, b = rundir.load_checkpoint(tmp_path / "straight"), rundir.load_checkpoint(tmp_path / "resumed")
    assert a["step"] == b["step"] == 6
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key  # weights, BN statistics, the queue and its pointer
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values(), strict=True):
        assert torch.equal(sa["momentum_buffer"], sb["momentum_buffer"])


def test_step_plan_known_answers():
    assert step_seed(0, 0) == 0 and step_seed(1, 2, 3) == 1_000_003 + 2 * 7_919 + 3 * 104_729
    assert sorted(epoch_order(5, 3, 10).tolist()) == list(range(10))
    one = step_plan(
        5, 7, n=10, batch_size=4
    )  # 2 steps an epoch (2 items dropped): step 7 = epoch 3, 2nd batch
    assert (one.step, one.epoch, one.within, one.seed) == (7, 3, 1, step_seed(5, 7))
    assert torch.equal(one.indices, epoch_order(5, 3, 10)[4:8])
    ranks = [
        step_plan(5, 7, 10, 4, rank=r, world_size=2) for r in (0, 1)
    ]  # each rank takes its half of the batch
    assert torch.equal(torch.cat([r.indices for r in ranks]), one.indices)
    assert ranks[1].seed == step_seed(5, 7, 1) != one.seed
    assert (
        one.view_generator().initial_seed() == one.seed
        and one.data_generator().initial_seed() == one.seed + 1
    )
    a, b = one.view_generator(), one.view_generator()  # a fresh generator each call
    assert torch.equal(torch.rand(3, generator=a), torch.rand(3, generator=b))


def test_the_trainer_follows_the_step_plan(tmp_path, monkeypatch):
    """Every step of `train`, across epochs, takes `step_plan`'s indices, seeds torch's global RNG with its seed
    and hands the augmentations and the batch source its two generators (what the positive-pair analysis
    replays)."""
    import ssl_kit.training.prepare as prepare
    import ssl_kit.training.step as step

    folder = tmp_path / "set"
    for i in range(10):
        (folder / f"c{i % 2}").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 32), (20 * i, 0, 0)).save(folder / f"c{i % 2}" / f"{i}.png")
    seen, views = [], []
    real_load, real_views = prepare.load_train_data, step.step_views

    def load(cfg, device, progress=False):
        data, log = real_load(cfg, device, progress)
        real_batch = data.batch

        def batch(idx, generator):
            seen.append((idx.cpu().clone(), generator.initial_seed(), torch.initial_seed()))
            return real_batch(idx, generator)

        data.batch = batch
        return data, log

    def step_views(images, policy, size, n_views, generator):
        views.append(generator.initial_seed())
        return real_views(images, policy, size, n_views, generator)

    monkeypatch.setattr(prepare, "load_train_data", load)
    monkeypatch.setattr(step, "step_views", step_views)
    cfg = TrainConfig(
        method="supervised",
        scale="smoke",
        data=str(folder),
        out=str(tmp_path / "run"),
        batch_size=4,
        steps=5,
        seed=11,
    )
    train(cfg, progress=False)
    plans = [step_plan(11, t, 10, 4) for t in range(5)]
    assert [p.epoch for p in plans] == [0, 0, 1, 1, 2] and len(seen) == len(views) == 5
    for (idx, data_seed, global_seed), view_seed, plan in zip(seen, views, plans, strict=True):
        assert torch.equal(idx, plan.indices)
        assert (data_seed, global_seed, view_seed) == (plan.seed + 1, plan.seed, plan.seed)


@pytest.mark.slow
def test_random_init_is_every_methods_own_initial_backbone():
    """The one random-init construction (`random_init_backbone`) gives exactly the weights each method's
    backbone starts from with the same seed, which is what the sweep's random-init cells were built from
    (the whole method, then its backbone): so the sweep and `random_init_model` share one network and one
    feature-cache key."""
    from ssl_kit.invariance.scoring import MeasuredModel, random_init_model, random_model

    for method in METHODS:
        for kw in ({}, {"small_stem": True, "split_bn": 2}):
            cfg = resolve(TrainConfig(method=method, scale="smoke", **kw))
            torch.manual_seed(3)
            built = method_from_config(cfg, num_classes=1, dataset_size=2).feature_backbone().state_dict()
            ours = untrained_twin(cfg, seed=3)[0].state_dict()
            assert built.keys() == ours.keys(), method
            assert all(torch.equal(built[k], ours[k]) for k in built), (method, kw)
    assert random_init_key("resnet18", False, 3) == "random-resnet18-0-3"  # the key feature caches hold
    like = MeasuredModel("run", torch.nn.Identity(), "abc", 32, "resnet18_w32", True)
    rand = random_init_model(like, seed=4)
    assert (rand.key, rand.input_size, rand.arch, rand.small_stem) == (
        "random-resnet18_w32-1-4",
        32,
        "resnet18_w32",
        True,
    )
    assert not rand.model.training and random_model("resnet18_w32", True, 4, 32).key == rand.key
    want = random_init_backbone("resnet18_w32", True, 4).state_dict()
    assert all(torch.equal(v, want[k]) for k, v in rand.model.state_dict().items())


def test_steps_replace_epochs_as_the_budget(objects, tmp_path):
    """`steps` fixes the number of optimizer steps whatever the data size; the cosine schedule spans them."""
    cfg = _cfg(objects, tmp_path / "steps", max_steps=None, steps=3, epochs=50, arch="resnet18_w32")
    out = train(cfg, progress=False)
    state = rundir.load_checkpoint(out)
    assert state["step"] == state["last_step"] == 3
    lrs = [r["lr"] for r in rundir.read_metrics(out) if "lr" in r]
    lr = resolve(cfg).lr
    assert lrs[0] == pytest.approx(lr) and lrs[-1] == pytest.approx(lr * 0.25)  # cos at 2/3 of the run
    with pytest.raises(ConfigError, match="steps"):
        resolve(replace(cfg, steps=0))


def test_key_momentum_schedule_known_answers_and_in_training(objects, tmp_path, monkeypatch):
    """Constant without an end; with one, a half cosine from moco_momentum (step 0) to the end (last step)."""
    cfg = resolve(_cfg(objects, tmp_path / "m", moco_momentum=0.9, moco_momentum_end=1.0))
    assert [key_momentum(0.9, 1.0, s, 4) for s in (0, 2, 4)] == pytest.approx([0.9, 0.95, 1.0])
    assert key_momentum(0.9, None, 3, 4) == 0.9
    with pytest.raises(ConfigError, match="moco_momentum_end"):
        resolve(replace(cfg, moco_momentum_end=0.5))
    seen = []
    real = moco_module.MoCo._momentum_update
    monkeypatch.setattr(
        moco_module.MoCo, "_momentum_update", lambda self: seen.append(self.momentum) or real(self)
    )
    train(replace(cfg, steps=4, max_steps=None), progress=False)
    assert seen == pytest.approx([0.9, 0.914645, 0.95, 0.985355], abs=1e-6)  # 1 - 0.1 (cos(pi s / 4) + 1) / 2


def test_bf16_autocast_path_runs_on_cpu(objects, tmp_path):
    out = train(_cfg(objects, tmp_path, amp="bf16"), progress=False)
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in rundir.read_metrics(out))


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(objects, tmp_path, monkeypatch):
    real = moco_module.info_nce
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        loss, logits = real(*args, **kwargs)
        return (loss * float("nan") if calls["n"] == 3 else loss), logits

    monkeypatch.setattr(moco_module, "info_nce", poisoned)
    with pytest.raises(TrainingDiverged, match="step 2.*last good checkpoint \\(step 2\\)"):
        train(_cfg(objects, tmp_path, max_steps=5, checkpoint_every=1), progress=False)
    assert rundir.load_checkpoint(tmp_path)["step"] == 2


@pytest.mark.slow
def test_bad_input_is_rejected_before_anything_is_overwritten(objects, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError):
        train(_cfg(empty, tmp_path / "a"), progress=False)
    with pytest.raises(ConfigError, match="larger than the dataset"):
        train(_cfg(objects, tmp_path / "b", batch_size=10_000), progress=False)
    with pytest.raises(ConfigError, match="not a multiple"):
        train(_cfg(objects, tmp_path / "c", queue_size=60), progress=False)
    with pytest.warns(UserWarning, match="stale keys"):
        train(_cfg(objects, tmp_path / "d", queue_size=256, max_steps=1), progress=False)
    done = train(_cfg(objects, tmp_path / "e", max_steps=1), progress=False)
    before = (done / "checkpoint.pt").read_bytes()
    with pytest.raises(ConfigError, match="already holds a run"):
        train(_cfg(objects, done, max_steps=1), progress=False)
    with pytest.raises(DataError, match="'mocov2' checkpoint"):
        train(_cfg(objects, done, method="simclr", max_steps=2), resume=True, progress=False)
    assert (done / "checkpoint.pt").read_bytes() == before


def test_unknown_method_and_scale():
    with pytest.raises(ConfigError, match="unknown method 'byol'"):
        train(TrainConfig(method="byol"), progress=False)
    with pytest.raises(ConfigError, match="unknown scale"):
        train(TrainConfig(scale="huge"), progress=False)


@pytest.fixture(scope="module")
def larger_objects(tmp_path_factory) -> Path:
    """320 training images (8 instances x 4 views x 10 categories) at 32 px: rendered in about a second."""
    preset = replace(PRESETS["smoke"], name="learn", train_instances=8, val_instances=3, views=4)
    return build_set("objects", tmp_path_factory.mktemp("learn"), preset, progress=False)


@pytest.mark.slow
def test_learning_loss_falls_and_knn_rises(larger_objects, tmp_path):
    """A short supervised run: the loss falls and held-out kNN accuracy beats the same network at init."""
    train_dir = larger_objects / "train"
    cfg = _cfg(
        train_dir,
        tmp_path,
        method="supervised",
        batch_size=32,
        epochs=20,
        max_steps=150,
        lr=0.02,
        policy="none",
        small_stem=False,
    )
    out = train(cfg, progress=False)
    losses = [r["loss"] for r in rundir.read_metrics(out)]
    assert sum(losses[-10:]) / 10 < 0.5 * sum(losses[:10]) / 10
    splits = LabelledSplits(train_dir, larger_objects / "val", 32)
    method, run_cfg, _ = load_run(out)
    trained = splits.scores(method.feature_backbone(), ("knn",), "cpu")["knn_acc"]
    initial = splits.scores(untrained_twin(run_cfg)[0], ("knn",), "cpu")["knn_acc"]
    assert trained > initial + 0.05


@pytest.mark.slow
def test_two_process_gloo_ddp_ranks_agree_and_checkpoint_loads(objects, tmp_path):
    script = tmp_path / "ddp_run.py"
    script.write_text(
        "import json, sys, torch, torch.distributed as dist\n"
        "from ssl_kit.training.loop import train\n"
        "from ssl_kit.runs.config import TrainConfig\n"
        "import ssl_kit.training.prepare as T\n"
        "captured = {}\n"
        "real_build = T.build\n"
        "def keep(*a, **k):\n"
        "    captured['m'] = real_build(*a, **k)\n"
        "    return captured['m']\n"
        "T.build = keep\n"
        "train(TrainConfig(data=sys.argv[1], out=sys.argv[2], scale='smoke', batch_size=8, max_steps=3, sync_bn=True),\n"
        "      progress=False)\n"
        "m = captured['m']\n"
        "# parameters are kept equal by DDP, the queue by gathering keys, BN running statistics by sync_bn\n"
        "s = torch.stack([t.detach().double().sum() for t in m.state_dict().values()])\n"
        "all_s = [torch.empty_like(s) for _ in range(dist.get_world_size())]\n"
        "dist.all_gather(all_s, s)\n"
        "if dist.get_rank() == 0:\n"
        "    json.dump({'agree': all(torch.equal(all_s[0], x) for x in all_s), 'world': dist.get_world_size()},\n"
        "              open(sys.argv[3], 'w'))\n"
        "dist.destroy_process_group()\n"
    )
    result = tmp_path / "result.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with socket.socket() as sock:  # a free port on this machine
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        port,
        str(script),
        str(objects),
        str(tmp_path / "run"),
        str(result),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(result.read_text()) == {"agree": True, "world": 2}
    method, cfg, state = load_run(tmp_path / "run")  # a DDP checkpoint loads in one process
    assert state.step == 3 and method.queue_ptr.item() == (3 * 8) % cfg.queue_size


def test_cli_train_then_eval_against_random_init(objects, tmp_path, capsys):
    from ssl_kit.cli import main

    out = tmp_path / "run"
    argv = [
        "train",
        "--method",
        "simclr",
        "--data",
        str(objects),
        "--out",
        str(out),
        "--scale",
        "smoke",
        "--batch-size",
        "8",
        "--max-steps",
        "2",
        "--quiet",
    ]
    assert main(argv) == 0
    assert rundir.read_metrics(out)[-1]["final"] is True  # the kNN monitor ran on objects/val at the end
    assert main(["eval", "--run", str(out), "--protocols", "knn", "--random-init", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["method"] == "simclr" and 0 <= result["knn_acc"] <= 1 and "random_init_knn_acc" in result
    assert main(argv) == 2  # the run folder is not overwritten


def test_pirl_loss_options_and_bad_loss_name(objects, tmp_path):
    # small scales default to InfoNCE over bank negatives; the paper's NCE stays one option away
    assert resolve(_cfg(objects, tmp_path, method="pirl")).pirl_loss == "infonce"
    assert resolve(_cfg(objects, tmp_path, method="pirl", scale="paper")).pirl_loss == "nce"
    out = train(_cfg(objects, tmp_path / "a", method="pirl", pirl_loss="nce", max_steps=1), progress=False)
    assert torch.isfinite(torch.tensor(rundir.read_metrics(out)[0]["loss"]))
    assert load_run(out)[0].log_z.isfinite()  # NCE's normalising constant was estimated and saved
    with pytest.raises(ConfigError, match="pirl_loss must be one of nce, infonce, not 'hinge'"):
        train(_cfg(objects, tmp_path / "b", method="pirl", pirl_loss="hinge", max_steps=1), progress=False)


def test_the_untrained_twin_of_a_whitened_run_is_its_start_either_way(objects, tmp_path):
    """A whitened run's twin: its backbone's initial weights behind its frozen stem, the same whether the stem is
    copied from the trained run or computed again from its training images, under one key."""
    cfg = resolve(_cfg(objects, tmp_path / "w", whiten_stem=True))
    method, _, _ = load_run(train(cfg, progress=False))
    copied, key = untrained_twin(cfg, stem_of=method.feature_backbone())
    computed, same_key = untrained_twin(cfg)
    assert key == same_key and key.endswith("-whitened-" + data_identity(cfg.data))
    assert all(torch.equal(v, computed.state_dict()[k]) for k, v in copied.state_dict().items())
    stem = method.feature_backbone().conv1.weight
    assert torch.equal(copied.conv1.weight, stem) and not torch.equal(
        untrained_twin(replace(cfg, whiten_stem=False))[0].conv1.weight, stem
    )
