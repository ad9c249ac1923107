"""Contrastive methods learn: a short run lifts kNN accuracy clearly above the same network at random init.

The loop can be refactored only if this holds: every other test would stay green if MoCo's step stopped
learning. On 320 training images (8 instances x 4 views x 10 categories, 32 px) and 320 held-out ones, 400
steps of batch 32 of `resnet18_w32` with the kit's quick crops, kNN accuracy on the held-out images is compared
with the same architecture and seed untrained.

The margin was chosen from seeds this test does not run (2-core AMD EPYC, torch 2.14.1): over seeds 0-7 MoCo v2
gained 0.116 to 0.222 (mean 0.151, std 0.036) and over seeds 0-5 SimCLR 0.103 to 0.197 (mean 0.152). The test
asks for 0.05, more than three standard deviations below either mean, so another CPU's rounding (which moves a
run as a new seed would) cannot make it fail; a step that stops learning gains about 0.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ssl_kit.evaluate.splits import LabelledSplits
from ssl_kit.runs.checkpoints import load_run
from ssl_kit.runs.config import TrainConfig
from ssl_kit.training.loop import train
from ssl_kit.training.untrained import untrained_twin
from ssl_kit.world.build import build_set
from ssl_kit.world.presets import PRESETS

MARGIN = 0.05  # kNN accuracy above random init (see the module docstring for how it was chosen)


@pytest.fixture(scope="module")
def learnable(tmp_path_factory):
    preset = replace(PRESETS["smoke"], name="learnable", train_instances=8, val_instances=8, views=4)
    return build_set("objects", tmp_path_factory.mktemp("learnable"), preset, progress=False)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["mocov2", "simclr"])
def test_a_contrastive_method_learns_above_random_init(method, learnable, tmp_path):
    cfg = TrainConfig(
        method=method,
        scale="smoke",
        data=str(learnable / "train"),
        out=str(tmp_path / method),
        seed=0,
        arch="resnet18_w32",
        batch_size=32,
        steps=400,
        policy="crop_0.8",
        queue_size=64 if method == "mocov2" else None,
    )
    run = train(cfg, progress=False)
    trained, resolved, _ = load_run(run)
    splits = LabelledSplits(learnable / "train", learnable / "val", 32)
    after = splits.scores(trained.feature_backbone(), ("knn",), "cpu")["knn_acc"]
    before = splits.scores(untrained_twin(resolved)[0], ("knn",), "cpu")["knn_acc"]
    assert after > before + MARGIN, f"{method}: kNN {after:.3f} after 400 steps, {before:.3f} at random init"
