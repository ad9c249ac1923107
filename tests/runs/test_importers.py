"""Checkpoint importers: every layout loads the exact trunk tensors; bad checkpoints fail with clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision.models import resnet18, resnet50

from ssl_kit.errors import ConfigError, DataError
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.runs.config import TrainConfig
from ssl_kit.runs.importers import import_backbone
from ssl_kit.training.loop import train

FC = {"fc.weight", "fc.bias"}


def _randomised(model: nn.Module, seed: int = 0) -> dict[str, torch.Tensor]:
    """The state dict of `model` with random BN statistics too (so that copying them is checked)."""
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.0)
            m.num_batches_tracked.fill_(int(torch.randint(1, 1000, ())))
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def tv18() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return _randomised(resnet18(weights=None))


def _moco(sd: dict, version: int) -> dict:
    trunk = {k: v for k, v in sd.items() if k not in FC}
    if version == 1:
        head = {"fc.weight": torch.randn(128, 512), "fc.bias": torch.randn(128)}
    else:
        head = {"fc.0.weight": torch.randn(512, 512), "fc.0.bias": torch.randn(512)}
        head |= {"fc.2.weight": torch.randn(128, 512), "fc.2.bias": torch.randn(128)}
    enc = trunk | head
    state = {f"module.encoder_q.{k}": v for k, v in enc.items()}
    state |= {f"module.encoder_k.{k}": v + 1 for k, v in enc.items()}
    state |= {"module.queue": torch.randn(128, 64), "module.queue_ptr": torch.zeros(1, dtype=torch.long)}
    return {"epoch": 200, "arch": "resnet18", "state_dict": state, "optimizer": {"state": {}}}


def _vissl_trunk(sd: dict) -> dict:
    return {f"_feature_blocks.{k}": v for k, v in sd.items() if k not in FC}


HEADS = {"0.clf.0.weight": torch.zeros(128, 512), "0.clf.0.bias": torch.zeros(128)}
LAYOUTS = {  # name -> (re-keying of a torchvision state dict, expected layout, expected dropped keys)
    "torchvision": (lambda sd: sd, "torchvision", sorted(FC)),
    "torchvision_dataparallel": (
        lambda sd: {f"module.{k}": v for k, v in sd.items()},
        "torchvision",
        ["module.fc.bias", "module.fc.weight"],
    ),
    "moco_v1": (lambda sd: _moco(sd, 1), "moco", None),
    "moco_v2": (lambda sd: _moco(sd, 2), "moco", None),
    "vissl_classy": (
        lambda sd: {
            "type": "consolidated",
            "phase_idx": 799,
            "classy_state_dict": {"base_model": {"model": {"trunk": _vissl_trunk(sd), "heads": HEADS}}},
        },
        "vissl",
        sorted(f"heads.{k}" for k in HEADS),
    ),
    "vissl_model_state_dict": (lambda sd: {"model_state_dict": _vissl_trunk(sd)}, "vissl", []),
    "vissl_trunk": (lambda sd: {"trunk": _vissl_trunk(sd), "heads": HEADS}, "vissl", None),
    "vissl_flat": (
        lambda sd: (
            {f"trunk.{k}": v for k, v in _vissl_trunk(sd).items()}
            | {f"heads.{k}": v for k, v in HEADS.items()}
        ),
        "vissl",
        sorted(f"heads.{k}" for k in HEADS),
    ),
}


def _assert_same_trunk(model: nn.Module, source: dict[str, torch.Tensor]) -> None:
    got = model.state_dict()
    assert set(got) == set(source) - FC
    for key, value in got.items():
        assert torch.equal(value, source[key]), key  # weights, BN running stats and num_batches_tracked


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_layout_imports_the_exact_trunk(tv18, tmp_path, name):
    rekey, layout, dropped = LAYOUTS[name]
    path = tmp_path / f"{name}.pth.tar"
    torch.save(rekey(tv18), path)
    out = import_backbone(path)
    assert (out.layout, out.arch, out.source) == (layout, "resnet18", str(path))
    assert not out.model.training and isinstance(out.model.fc, nn.Identity)
    _assert_same_trunk(out.model, tv18)
    if dropped is not None:
        assert sorted(out.dropped) == dropped
    if layout == "moco":
        assert "module.queue" in out.dropped and "module.encoder_k.conv1.weight" in out.dropped
        assert not any(k.startswith("module.encoder_q.") and ".fc." not in k for k in out.dropped)
    assert out.model(torch.zeros(2, 3, 32, 32)).shape == (2, 512)


def test_in_memory_dict_and_explicit_matching_args(tv18):
    out = import_backbone(_moco(tv18, 2), arch="resnet18", small_stem=False)
    assert out.source == "<in-memory checkpoint>" and out.layout == "moco"
    _assert_same_trunk(out.model, tv18)


def test_small_stem_and_resnet50_are_inferred():
    small = resnet18(weights=None)
    small.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    sd = _randomised(small, seed=1)
    out = import_backbone(sd)
    assert out.arch == "resnet18" and out.model.conv1.kernel_size == (3, 3)
    assert isinstance(out.model.maxpool, nn.Identity)
    _assert_same_trunk(out.model, sd)

    from ssl_kit.models import build_backbone

    narrow = build_backbone("resnet18_w32")
    sd32 = _randomised(narrow, seed=3)
    out = import_backbone(sd32)
    assert out.arch == "resnet18_w32" and out.model.feature_dim == 256
    _assert_same_trunk(out.model, sd32)

    sd50 = _randomised(resnet50(weights=None), seed=2)
    out = import_backbone({"model_state_dict": _vissl_trunk(sd50)})
    assert out.arch == "resnet50" and out.model.conv1.kernel_size == (7, 7)
    assert out.model.feature_dim == 2048
    _assert_same_trunk(out.model, sd50)


@pytest.fixture(scope="module")
def kit_run(tmp_path_factory) -> Path:
    """One MoCo v2 step on a 16-image, two-class ImageFolder written with PIL."""
    root = tmp_path_factory.mktemp("kit")
    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (root / "data" / c).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "data" / c / f"{i}.png")
    cfg = TrainConfig(
        method="mocov2",
        scale="smoke",
        data=str(root / "data"),
        out=str(root / "run"),
        batch_size=8,
        queue_size=16,
        max_steps=1,
    )
    return train(cfg, progress=False)


@pytest.mark.slow
def test_kit_run_matches_load_run(kit_run):
    method, _, state = load_run(kit_run)
    expected = method.feature_backbone().state_dict()
    for checkpoint in (kit_run, kit_run / "checkpoint.pt", state.as_dict()):
        out = import_backbone(checkpoint)
        assert (out.layout, out.arch) == ("ssl_kit", "resnet18")
        got = out.model.state_dict()
        assert set(got) == set(expected)
        assert all(torch.equal(got[k], expected[k]) for k in got)
        assert "queue" in out.dropped and "encoder_k.backbone.conv1.weight" in out.dropped
        assert not any(k.startswith("encoder_q.backbone.") for k in out.dropped)
    with pytest.raises(ConfigError, match="arch='resnet50'.*resnet18"):
        import_backbone(kit_run, arch="resnet50")


def test_unknown_layout_lists_the_keys_found(tmp_path):
    path = tmp_path / "weird.pt"
    torch.save({f"blob{i}": torch.zeros(1) for i in range(12)}, path)
    with pytest.raises(DataError, match="12 top-level keys") as e:
        import_backbone(path)
    msg = str(e.value)
    assert str(path) in msg and "blob0" in msg and "blob9" in msg and "blob11" not in msg
    assert all(layout in msg for layout in ("torchvision", "moco", "vissl", "ssl_kit"))


def test_missing_trunk_key_is_named(tv18, tmp_path):
    sd = {k: v for k, v in tv18.items() if k != "layer2.0.bn1.running_mean"}
    with pytest.raises(DataError, match="missing trunk keys.*layer2.0.bn1.running_mean"):
        import_backbone({"trunk": _vissl_trunk(sd)})
    extra = _vissl_trunk(tv18) | {"_feature_blocks.layer5.0.conv1.weight": torch.zeros(1)}
    with pytest.raises(DataError, match="unexpected trunk keys.*layer5.0.conv1.weight"):
        import_backbone({"trunk": extra})


def test_explicit_arch_or_stem_that_contradicts_the_weights(tv18):
    with pytest.raises(ConfigError, match="arch='resnet34'.*arch='resnet18'.*basic blocks per stage"):
        import_backbone(tv18, arch="resnet34")
    with pytest.raises(ConfigError, match="small_stem=True.*small_stem=False.*conv1 kernel 7"):
        import_backbone(tv18, small_stem=True)
    with pytest.raises(DataError, match="missing"):
        import_backbone(Path("/nonexistent/moco_v2_800ep_pretrain.pth.tar"))


@pytest.mark.parametrize(
    "malformed, message",
    [
        ({"classy_state_dict": {"base_model": [1, 2]}}, "match no known layout"),  # VISSL's base_model a list
        ({3: torch.zeros(1), "conv1.weight": torch.zeros(1)}, r"holds keys that are not names \(3\)"),
        (
            {"classy_state_dict": {"base_model": {"model": {"trunk": {7: 1}, "heads": 5}}}},
            "match no known layout",
        ),
    ],
)
def test_a_malformed_foreign_checkpoint_is_one_line_naming_the_file(malformed, message, tmp_path):
    path = tmp_path / "odd.pth"
    torch.save(malformed, path)
    with pytest.raises(DataError, match=message) as caught:
        import_backbone(path)
    assert str(path) in str(caught.value)


def test_a_torchvision_checkpoint_with_nan_weights_names_the_file_and_the_tensors(tv18, tmp_path):
    poisoned = {k: v.clone() for k, v in tv18.items()}
    poisoned["layer1.0.conv1.weight"][0] = float("nan")
    path = tmp_path / "nan.pth"
    torch.save(poisoned, path)
    with pytest.raises(
        DataError, match=r"holds non-finite weights \(NaN or infinite\) in layer1.0.conv1.weight"
    ):
        import_backbone(path)
