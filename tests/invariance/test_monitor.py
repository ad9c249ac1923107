"""The invariance monitor: whole targets in its subsets, scores logged during training, and a run with it ends
with the same weights, bit for bit, as a run without it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ssl_kit.errors import ConfigError
from ssl_kit.invariance.measure import invariance_detail
from ssl_kit.invariance.protocols import PAPER_PROTOCOLS
from ssl_kit.invariance.watch import invariance_watch, target_subset
from ssl_kit.runs.config import TrainConfig
from ssl_kit.runs.rundir import read_metrics
from ssl_kit.training.loop import train


def test_target_subset_keeps_whole_targets_of_two_classes():
    # targets 0..5 with 4 images each (target t in class t // 3), target 6 with 2 images (too small to use)
    targets = np.r_[np.repeat(np.arange(6), 4), [6, 6]]
    classes = np.r_[np.repeat(np.arange(6) // 3, 4), [1, 1]]
    rows = target_subset(targets, classes, images=8, seed=0)
    kept = np.unique(targets[rows])
    assert all((targets[rows] == t).sum() == 4 for t in kept)  # whole targets
    assert 6 not in kept and len(rows) >= 8 and len(np.unique(classes[rows])) == 2
    np.testing.assert_array_equal(rows, target_subset(targets, classes, images=8, seed=0))  # seeded
    assert len(target_subset(targets, classes, images=100, seed=1)) == 24  # every usable target
    # one class first in the draw: the draw goes on until a second class is held
    same = target_subset(np.repeat(np.arange(4), 3), np.repeat([0, 0, 0, 1], 3), images=3, seed=0)
    assert len(np.unique(np.repeat([0, 0, 0, 1], 3)[same])) == 2


@pytest.fixture(scope="module")
def watch(smoke_world):
    return invariance_watch(smoke_world, size=32, images=24, cosine=True)


def test_watch_scores_each_protocol_and_restores_the_model(watch, smoke_run):
    from ssl_kit.runs.checkpoints import load_run

    method, _, _ = load_run(smoke_run)
    method.train()
    before = {k: v.clone() for k, v in method.state_dict().items()}
    values = watch(method, 0)
    assert sorted(values) == sorted(
        [f"inv_{p}" for p in PAPER_PROTOCOLS] + [f"cos_{p}" for p in PAPER_PROTOCOLS]
    )
    assert all(np.isfinite(v) for v in values.values())
    assert method.training and all(m.training for m in method.modules())
    for k, v in method.state_dict().items():
        assert torch.equal(v, before[k]), k  # batch-norm statistics and queues untouched
    assert watch(method, 1) == values
    # the monitor's score is the measure on the subset's features, at the whole protocol's firing rate
    s = watch.subsets[0]
    assert s.firing_rate == pytest.approx(1 / 3)  # the smoke world's protocols have 3 classes
    method.eval()
    with torch.no_grad():
        f = watch.features(method.feature_backbone(), s.images)
    expected = invariance_detail(f, s.targets, s.classes, (25,), firing_rate=s.firing_rate).scores[25]
    assert values[f"inv_{s.name}"] == expected


@pytest.mark.slow
def test_a_run_with_the_monitor_ends_with_the_same_weights(smoke_world, tmp_path, watch):
    def run(name, every, w):
        cfg = TrainConfig(
            method="mocov2",
            scale="smoke",
            data=str(smoke_world / "objects" / "train"),
            out=str(tmp_path / name),
            batch_size=8,
            queue_size=16,
            max_steps=4,
            invariance_every=every,
        )
        return train(cfg, progress=False, watch=w)

    plain, watched = run("plain", 0, None), run("watched", 2, watch)
    a = torch.load(plain / "checkpoint.pt", weights_only=True)
    b = torch.load(watched / "checkpoint.pt", weights_only=True)
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    rows = [r for r in read_metrics(watched) if "inv_occlusion" in r]
    assert [r["step"] for r in rows] == [0, 2, 4]
    assert not any("inv_occlusion" in r for r in read_metrics(plain))
    with pytest.raises(ConfigError, match="invariance monitor"):
        train(
            TrainConfig(method="mocov2", scale="smoke", data="x", out=str(tmp_path / "x"), invariance_every=2)
        )
