"""The label-free training levers: a whitened stem, a batch-norm learning-rate multiplier, progressive resolution
and evaluating MoCo's key encoder; known answers, and each in a short training."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ssl_kit.errors import ConfigError
from ssl_kit.invariance.scoring import load_model, random_init_model, random_model
from ssl_kit.methods import build_method
from ssl_kit.models.whitening import whiten_stems, whitening_filters
from ssl_kit.runs import rundir
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.runs.run_keys import run_key
from ssl_kit.training.loop import train
from ssl_kit.training.prepare import param_groups
from ssl_kit.training.schedule import view_size
from ssl_kit.world.build import build_set


@pytest.fixture(scope="module")
def objects(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_set("objects", out, "smoke", progress=False)
    return out / "objects" / "train"


def _cfg(objects: Path, out: Path, **kw) -> TrainConfig:
    base = dict(data=str(objects), out=str(out), scale="smoke", batch_size=8, max_steps=3, log_every=1)
    return TrainConfig(**{**base, **kw})


def test_whitening_filters_decorrelate_patches_to_unit_variance():
    """Projected on the filters, the patches of correlated images have (nearly) the identity as second moment."""
    g = torch.Generator().manual_seed(0)
    base = torch.randn(64, 1, 12, 12, generator=g)
    images = torch.cat([base, 0.8 * base + 0.2 * torch.randn(64, 1, 12, 12, generator=g), base * 0.5], 1)
    filters = whitening_filters(images, kernel=3, out_channels=8)
    assert filters.shape == (8, 3, 3, 3)
    assert torch.equal(filters[4:], -filters[:4])  # each filter with its negative
    patches = F.unfold(images, 3).transpose(1, 2).reshape(-1, 27)
    z = patches @ filters[:4].reshape(4, -1).T
    moment = z.T @ z / len(z)
    assert torch.allclose(moment, torch.diag(torch.diag(moment)), atol=2e-2)  # uncorrelated
    assert torch.diag(moment) == pytest.approx([1.0] * 4, abs=0.05)  # unit variance (EPS aside)
    with pytest.raises(ValueError, match="even"):
        whitening_filters(images, kernel=3, out_channels=7)
    with pytest.raises(ValueError, match="at most twice"):
        whitening_filters(images, kernel=1, out_channels=8)


def test_whiten_stems_sets_and_freezes_both_moco_encoders():
    method = build_method("mocov2", arch="resnet18_w32", small_stem=False, num_classes=2, dataset_size=8)
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    assert whiten_stems(method, images) == 2
    q, k = method.encoder_q.backbone.conv1.weight, method.encoder_k.backbone.conv1.weight
    assert torch.equal(q, k) and not q.requires_grad
    assert all(p is not q for group in param_groups(method) for p in group["params"])


def test_param_groups_scale_only_the_norm_parameters():
    method = build_method("supervised", arch="resnet18_w32", small_stem=False, num_classes=2, dataset_size=8)
    assert len(param_groups(method)) == 1
    rest, norms = param_groups(method, 10.0)
    assert norms["lr_scale"] == 10.0 and rest["lr_scale"] == 1.0
    assert {id(p) for p in norms["params"]} == {
        id(method.backbone.bn1.weight),
        id(method.backbone.bn1.bias),
    } | {id(p) for n, p in method.named_parameters() if ".bn" in n or "downsample.1" in n}
    assert len(rest["params"]) + len(norms["params"]) == len(list(method.parameters()))


def test_crop_size_grows_in_steps_of_4_over_the_first_half():
    """16, 20, 24, 28 px for a tenth of the run each, then 32 px: the sizes share the first half equally."""
    sizes = [view_size(32, 16, s, 100) for s in range(100)]
    assert sizes == [16] * 10 + [20] * 10 + [24] * 10 + [28] * 10 + [32] * 60
    assert view_size(32, None, 0, 100) == 32


def test_levers_train_and_are_recorded(objects, tmp_path):
    cfg = _cfg(
        objects, tmp_path / "run", whiten_stem=True, bn_lr_scale=4.0, progressive_from=24, eval_encoder="key"
    )
    out = train(cfg, progress=False)
    rows = [r for r in rundir.read_metrics(out) if "loss" in r]
    assert len(rows) == 3 and all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)
    method, loaded, state = load_run(out)
    assert (loaded.whiten_stem, loaded.bn_lr_scale, loaded.progressive_from, loaded.eval_encoder) == (
        True,
        4.0,
        24,
        "key",
    )
    assert method.feature_backbone() is method.encoder_k.backbone
    assert [g["lr_scale"] for g in state.optimizer["param_groups"]] == [1.0, 4.0]
    # the frozen stem did not move
    first = build_method("mocov2", arch=loaded.arch, small_stem=False, num_classes=2, dataset_size=8)
    assert not torch.equal(first.encoder_q.backbone.conv1.weight, method.encoder_q.backbone.conv1.weight)
    # its untrained twin: random weights behind the same stem, cached under its own key
    measured = load_model(out)
    twin, plain = (
        random_init_model(measured, seed=0),
        random_model(loaded.arch, False, 0, measured.input_size),
    )
    assert measured.frozen_stem and twin.frozen_stem and twin.key != plain.key
    assert torch.equal(twin.model.conv1.weight, method.encoder_k.backbone.conv1.weight)
    assert torch.equal(twin.model.layer1[0].conv1.weight, plain.model.layer1[0].conv1.weight)


def test_new_knobs_at_their_defaults_keep_a_runs_key(objects, tmp_path):
    cfg = _cfg(objects, tmp_path / "k")
    assert run_key(cfg) == run_key(replace(cfg, bn_lr_scale=1.0, eval_encoder="query"))
    assert run_key(cfg) != run_key(replace(cfg, bn_lr_scale=2.0))


def test_bad_lever_values_are_one_line_errors(objects, tmp_path):
    cfg = _cfg(objects, tmp_path / "bad")
    with pytest.raises(ConfigError, match="eval_encoder 'key': supervised"):
        resolve(replace(cfg, method="supervised", eval_encoder="key"))
    with pytest.raises(ConfigError, match="progressive_from"):
        resolve(replace(cfg, progressive_from=64))
    with pytest.raises(ConfigError, match="bn_lr_scale"):
        resolve(replace(cfg, bn_lr_scale=0.0))
    with pytest.raises(ConfigError, match="--input memory"):
        train(replace(cfg, whiten_stem=True, input="stream", workers=0), progress=False)
