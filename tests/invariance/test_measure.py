"""The invariance measure against hand computations, known answers, and the plain per-target loop."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from ssl_kit.invariance import invariance_detail, invariance_score, layer_scores, percentile_for

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_invariance.py"
_spec = importlib.util.spec_from_file_location("bench_invariance", _BENCH)
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)
reference_scores = _bench.reference_scores


def test_hand_computed_example():
    # 6 images, 1 neuron, 2 targets = 2 classes: p = 50, k = 3; sorted 1 2 3 5 6 7 -> up = 5, down = 3;
    # G = #[F >= 5] / 6 = 0.5. Target A: #[> 5] = 2, #[< 3] = 0 -> 2/3. Target B: 0 vs 2 -> 2/3.
    # Class scores (2/3) / 0.5 = 4/3; score = 4/3 * (100 - 50).
    feats = np.array([[5.0], [6.0], [7.0], [1.0], [2.0], [3.0]])
    detail = invariance_detail(feats, ["a", "a", "a", "b", "b", "b"], top_k=(1,))
    assert detail.percentile == 50 and detail.threshold_index == 3
    assert detail.up[0] == 5 and detail.down[0] == 3 and detail.global_rate[0] == 0.5
    np.testing.assert_allclose(detail.local_rate[:, 0], [2 / 3, 2 / 3])
    assert detail.scores[1] == pytest.approx(4 / 3 * 50)


def test_percentile_rule():
    assert percentile_for(2) == 50
    assert percentile_for(10) == pytest.approx(90)
    assert percentile_for(1000) == 95  # capped
    assert percentile_for(5, firing_rate=0.01) == pytest.approx(99)


def _blocks(n_targets: int, size: int, gen) -> np.ndarray:
    t = np.repeat(np.arange(n_targets), size)
    gen.shuffle(t)
    return t


@pytest.mark.parametrize("n_classes", [2, 7, 40])
def test_matches_the_per_target_loop(n_classes):
    gen = np.random.default_rng(n_classes)
    targets = _blocks(120, 6, gen)
    targets[:30] = 500 + np.arange(30)  # some 1-image targets, skipped
    classes = targets % n_classes
    feats = np.maximum(gen.standard_normal((len(targets), 48)) + gen.standard_normal((1000, 48))[targets], 0)
    kit = invariance_score(feats, targets, classes)
    ref = reference_scores(feats, targets, classes)
    for k in (10, 25):
        assert kit[k] == pytest.approx(ref[k], abs=1e-9)


def test_ties_follow_the_released_code():
    # integer features: many values tie with the thresholds; `>=` (global) vs `>` (local) matters
    gen = np.random.default_rng(3)
    targets = _blocks(60, 5, gen)
    feats = gen.integers(0, 4, size=(len(targets), 30)).astype(np.float32)
    kit = invariance_score(feats, targets, targets % 6)
    ref = reference_scores(feats, targets, targets % 6)
    for k in (10, 25):
        assert kit[k] == pytest.approx(ref[k], abs=1e-9)


def test_a_target_tied_with_the_threshold_does_not_fire():
    # 20 targets of 5 one-hot images: up_j is the value 1 itself, and 1 > 1 is false: nothing fires
    targets = np.repeat(np.arange(20), 5)
    feats = np.eye(20)[targets]
    detail = invariance_detail(feats, targets, top_k=(1,))
    assert detail.scores[1] == 0.0 and detail.global_rate[0] == pytest.approx(0.05)


def test_target_only_features_score_the_maximum():
    # 40 targets of 4 images; 25 neurons per target that are high on that target only. C = 40 -> p = 95,
    # k = 152 of N = 160, G = 8/160; each class's own neurons fire on all its images: L = 1, score = 100.
    gen = np.random.default_rng(0)
    n_t, size, per = 40, 4, 25
    targets = _blocks(n_t, size, gen)
    preferred = np.repeat(np.arange(n_t), per)  # neuron j prefers target preferred[j]
    feats = gen.uniform(0, 1, size=(len(targets), n_t * per))
    feats[targets[:, None] == preferred[None, :]] += 10
    scores = invariance_score(feats, targets)
    assert scores[10] == pytest.approx(100.0) and scores[25] == pytest.approx(100.0)


def _chance(m: int, q: float) -> float:
    """E[max(X+, X-) / m | max > 0], (X+, X-, rest) ~ Multinomial(m; q, q, 1 - 2q): independent features."""
    num = den = 0.0
    for a in range(m + 1):
        for b in range(m + 1 - a):
            if a == b == 0:
                continue
            prob = math.factorial(m) / (math.factorial(a) * math.factorial(b) * math.factorial(m - a - b))
            prob *= q**a * q**b * (1 - 2 * q) ** (m - a - b)
            num += prob * max(a, b) / m
            den += prob
    return num / den


def test_target_independent_features_score_chance():
    # C = 20 -> p = 95; N = 20,000 so N * p / 100 is whole and (100 - p) / G = 100: the score is 100 L.
    # Each image fires up with probability q = (N - k - 1) / N (likewise down), so L -> E[max / m | max > 0].
    gen = np.random.default_rng(1)
    n_t, m = 4000, 5
    targets = _blocks(n_t, m, gen)
    feats = gen.standard_normal((n_t * m, 12))
    n = len(targets)
    k = int(n * 95 // 100)
    expected = 100 * _chance(m, (n - k - 1) / n)
    score = invariance_score(feats, targets, targets % 20, top_k=(10,))[10]
    assert score == pytest.approx(expected, rel=0.06)  # top-10 of 12 neurons adds a small upward bias


def test_mixing_in_noise_lowers_the_score_monotonically():
    gen = np.random.default_rng(2)
    targets = _blocks(200, 6, gen)
    signal = gen.standard_normal((200, 64))[targets]
    noise = gen.standard_normal((len(targets), 64))
    scores = [
        invariance_score(a * signal + (1 - a) * noise, targets, targets % 10)[10]
        for a in (1, 0.8, 0.6, 0.4, 0.2, 0)
    ]
    assert all(x > y for x, y in zip(scores, scores[1:], strict=False)), scores


def test_the_features_are_not_modified():
    gen = np.random.default_rng(8)
    targets = _blocks(30, 4, gen)
    for feats in (
        np.maximum(gen.standard_normal((120, 40)), 0).astype(np.float32),
        gen.standard_normal((120, 1)),
    ):
        before = feats.copy()
        invariance_score(feats, targets, targets % 3, top_k=(1,))
        np.testing.assert_array_equal(feats, before)


def test_numpy_torch_and_string_labels_agree():
    gen = np.random.default_rng(4)
    targets = _blocks(50, 4, gen)
    feats = gen.standard_normal((len(targets), 32)).astype(np.float32)
    a = invariance_score(feats, targets, targets % 5)
    b = invariance_score(torch.from_numpy(feats), torch.from_numpy(targets), torch.from_numpy(targets % 5))
    c = invariance_score(feats.astype(np.float64), [f"t{t}" for t in targets], [f"c{t % 5}" for t in targets])
    assert a == b == c


def test_detail_reports_skipped_targets_and_top_neurons():
    targets = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3])
    gen = np.random.default_rng(5)
    feats = gen.standard_normal((9, 12))
    d = invariance_detail(feats, targets, np.array([0, 0, 0, 0, 0, 1, 1, 1, 1]), top_k=(3,))
    assert d.targets_used == 2 and d.targets_skipped == 2
    assert d.top_neurons[3].shape == (2, 3)
    order = d.ratio[0, d.top_neurons[3][0]]
    assert np.all(np.diff(order) <= 0) and order[0] == d.ratio[0].max()


def test_variants_are_explicit_options():
    # neurons 0..9 are invariant only in the "down" direction: constant low values within each target
    gen = np.random.default_rng(6)
    targets = _blocks(100, 5, gen)
    feats = gen.uniform(1, 2, size=(len(targets), 20))
    low = targets < 5  # 5 targets sit at the very bottom of neurons 0..9
    feats[np.ix_(low, np.arange(10))] = 0.01 * gen.uniform(size=(low.sum(), 10))
    classes = targets % 10
    paper = invariance_detail(feats, targets, classes, top_k=(5,))
    positive = invariance_detail(feats, targets, classes, top_k=(5,), sign="positive")
    per_neuron = invariance_detail(feats, targets, classes, top_k=(5,), sign="per_neuron")
    assert paper.scores[5] > positive.scores[5]
    assert (per_neuron.neuron_sign[:10] == -1).all()
    fixed = invariance_detail(feats, targets, classes, top_k=(5,), firing_rate=0.01)
    assert fixed.percentile == pytest.approx(99) and fixed.threshold_index == int(
        500 * fixed.percentile // 100
    )
    both = layer_scores({"a": feats, "b": feats[:, ::-1].copy()}, targets, classes, top_k=(5,))
    assert both["a"] == paper.scores and both["b"] == paper.scores  # neuron order does not matter


def _rand(*shape: int) -> np.ndarray:
    return np.random.default_rng(7).random(shape)


@pytest.mark.parametrize(
    ("feats", "targets", "classes", "match"),
    [
        (np.zeros((5, 3)), np.zeros(4), None, "one label per image"),
        (np.full((6, 30), np.nan), np.arange(6) // 3, None, "NaN"),
        (np.zeros(6), np.arange(6) // 3, None, "2-D"),
        (_rand(6, 30), np.zeros(6), None, "single class"),
        (_rand(6, 30), np.arange(6) // 2, None, "fewer than 3"),
        (_rand(6, 30), np.arange(6) // 3, np.arange(6) % 2, "more than one class"),
        (_rand(6, 3), np.arange(6) // 3, None, "top_k"),  # K = 25 > 3 neurons
    ],
)
def test_bad_input_is_refused_clearly(feats, targets, classes, match):
    with pytest.raises(ValueError, match=match):
        invariance_score(feats, targets, classes)


def test_unknown_sign_is_refused():
    with pytest.raises(ValueError, match="per_target"):
        invariance_score(_rand(6, 30), np.arange(6) // 3, sign="both")
