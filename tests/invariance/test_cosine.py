"""The cosine invariance (Ericsson et al. 2021) against hand computations, known answers and a plain loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from ssl_kit.common.tidy import read_rows
from ssl_kit.errors import ConfigError
from ssl_kit.invariance.cosine import cosine_detail, cosine_invariance
from ssl_kit.invariance.feature_cache import protocol_features
from ssl_kit.invariance.protocols import ProtocolSet
from ssl_kit.invariance.scoring import cosine_table, random_model, write_csv


def _blocks(n_targets: int, size: int, gen) -> np.ndarray:
    t = np.repeat(np.arange(n_targets), size)
    gen.shuffle(t)
    return t


def _naive(feats, targets, standardise="standard", include_self=False) -> float:
    """The definition, one pair at a time: standardise over all images, then mean cosine per target."""
    f = np.asarray(feats, dtype=np.float64)
    if standardise == "standard":
        f = (f - f.mean(0)) / f.std(0, ddof=1)
    elif standardise == "whiten":  # the authors' form: (mu - f) @ chol(inv(cov))
        f = (f.mean(0) - f) @ np.linalg.cholesky(np.linalg.inv(np.cov(f, rowvar=False)))
    scores = []
    for t in np.unique(targets):
        rows = f[targets == t]
        n = len(rows)
        if n < 2:
            continue
        cos = [
            rows[i] @ rows[j] / (np.linalg.norm(rows[i]) * np.linalg.norm(rows[j])) if i != j else 1.0
            for i in range(n)
            for j in range(n)
            if include_self or i != j
        ]
        scores.append(np.mean(cos))
    return float(np.mean(scores))


def test_identical_features_within_targets_score_one():
    gen = np.random.default_rng(0)
    targets = _blocks(50, 4, gen)
    feats = gen.standard_normal((50, 16))[targets]
    for mode in ("standard", "none"):
        assert cosine_invariance(feats, targets, standardise=mode) == pytest.approx(1.0, abs=1e-12)
    detail = cosine_detail(feats, targets, include_self=True)
    np.testing.assert_allclose(detail.per_target, 1.0, atol=1e-12)


def test_hand_computed_example():
    # two columns f = (3 + 2a, -1 + 5b) with a = (1, 1, -1, -1, 1, -1), b = (1, -1, 1, -1, -1, 1): both
    # have mean 0 and the same std, so the standardised rows are (a, b) times one common factor:
    # z = (1,1) (1,-1) (-1,1) | (-1,-1) (1,-1) | (-1,1). Target x: cos01 = 0, cos02 = 0, cos12 = -2/2 = -1,
    # mean over its 3 pairs -1/3; target y: cos = (-1 + 1)/2 = 0; target z has 1 image and is skipped.
    # Score: (-1/3 + 0) / 2 = -1/6.
    a = np.array([1, 1, -1, -1, 1, -1.0])
    b = np.array([1, -1, 1, -1, -1, 1.0])
    feats = np.stack([3 + 2 * a, -1 + 5 * b], 1)
    targets = ["x", "x", "x", "y", "y", "z"]
    detail = cosine_detail(feats, targets)
    assert detail.score == pytest.approx(-1 / 6, abs=1e-12)
    np.testing.assert_allclose(detail.per_target, [-1 / 3, 0.0], atol=1e-12)
    assert list(detail.targets) == ["x", "y"] and detail.targets_skipped == 1 and list(detail.sizes) == [3, 2]
    # with the diagonal (the authors' n x n mean): x (3 - 2) / 9 = 1/9, y (2 + 0) / 4 = 1/2 -> 11/36
    assert cosine_invariance(feats, targets, include_self=True) == pytest.approx(11 / 36, abs=1e-12)
    # raw rows (5,4) (5,-6) (1,4) | (1,-6) (5,-6): x: 1/sqrt(41*61), 21/sqrt(41*17), -19/sqrt(61*17);
    # y: (5 + 36) / sqrt(37 * 61)
    x = (1 / math.sqrt(41 * 61) + 21 / math.sqrt(41 * 17) - 19 / math.sqrt(61 * 17)) / 3
    y = 41 / math.sqrt(37 * 61)
    assert cosine_invariance(feats, targets, standardise="none") == pytest.approx((x + y) / 2, abs=1e-12)


def test_independent_features_score_about_zero():
    # iid Gaussian rows: cos(v_i, v_j) has mean 0, variance 1/D, and the pairs of a target are uncorrelated,
    # so the mean over N/m targets of m(m-1)/2 pairs has std sqrt(2 / (D (m - 1) N)). Centring with the
    # sample mean adds a bias of about -1/(N - 1). Bound: 5 std + 1/(N - 1).
    gen = np.random.default_rng(1)
    n_t, m, d = 500, 4, 64
    n = n_t * m
    targets = _blocks(n_t, m, gen)
    feats = gen.standard_normal((n, d)) * gen.uniform(0.1, 10, d) + gen.uniform(-5, 5, d)
    bound = 5 * math.sqrt(2 / (d * (m - 1) * n)) + 1 / (n - 1)
    for mode in ("standard", "whiten"):
        assert abs(cosine_invariance(feats, targets, standardise=mode)) < bound


def test_standardising_ignores_per_feature_rescaling_whitening_any_linear_map():
    gen = np.random.default_rng(2)
    targets = _blocks(80, 5, gen)
    feats = gen.standard_normal((80, 12))[targets] + gen.standard_normal((400, 12))
    base = cosine_invariance(feats, targets)
    rescaled = feats * gen.uniform(0.01, 100, 12) + gen.uniform(-50, 50, 12)  # positive scale, any shift
    assert cosine_invariance(rescaled, targets) == pytest.approx(base, abs=1e-10)
    assert cosine_invariance(rescaled, targets, standardise="none") != pytest.approx(base, abs=1e-2)
    mixed = feats @ gen.standard_normal((12, 12)) + 3.0  # invertible mix: only whitening is unchanged
    white = cosine_invariance(feats, targets, standardise="whiten")
    assert cosine_invariance(mixed, targets, standardise="whiten") == pytest.approx(white, abs=1e-8)
    assert cosine_invariance(mixed, targets) != pytest.approx(base, abs=1e-2)


def test_a_huge_variance_feature_dominates_only_without_standardising():
    # 3 features carry the target (noise 0.1), one independent feature has std 1000. Raw cosines are the
    # sign of that feature's product (mean about 0); standardised or whitened, it is one unit direction of 4.
    gen = np.random.default_rng(3)
    n_t, m = 150, 4
    targets = np.repeat(np.arange(n_t), m)
    signal = gen.standard_normal((n_t, 3))[targets] + 0.1 * gen.standard_normal((n_t * m, 3))
    noise = 1000 * gen.standard_normal((n_t * m, 1))
    feats = np.hstack([signal, noise])
    none, std, white = (
        cosine_invariance(feats, targets, standardise=s) for s in ("none", "standard", "whiten")
    )
    assert abs(none) < 0.15 and white > 0.6 and std == pytest.approx(white, abs=0.02)
    # ten exact copies of the noise feature: standardising counts it ten times; whitening sees one direction
    copies = np.hstack([signal, np.repeat(noise, 10, axis=1)])
    assert cosine_invariance(copies, targets) < 0.45
    assert cosine_invariance(copies, targets, standardise="whiten") == pytest.approx(white, abs=1e-6)


@pytest.mark.parametrize("include_self", [False, True])
def test_vectorised_equals_the_double_loop(include_self):
    gen = np.random.default_rng(4)
    targets = _blocks(40, 3, gen)
    targets[:10] = 100 + np.arange(10)  # 1-image targets, skipped
    targets[10:20] = 200  # one large target
    feats = gen.standard_normal((40, 8))[targets % 40] + 0.7 * gen.standard_normal((120, 8))
    for mode in ("standard", "whiten", "none"):
        kit = cosine_invariance(feats, targets, standardise=mode, include_self=include_self)
        assert kit == pytest.approx(_naive(feats, targets, mode, include_self), abs=1e-10)


def test_numpy_torch_labels_and_reference():
    gen = np.random.default_rng(5)
    targets = _blocks(30, 4, gen)
    feats = gen.standard_normal((120, 10)).astype(np.float32)
    before = feats.copy()
    a = cosine_invariance(feats, targets)
    for mode in ("whiten", "none"):
        cosine_invariance(feats, targets, standardise=mode)
    np.testing.assert_array_equal(feats, before)  # the features are not modified
    b = cosine_invariance(torch.from_numpy(feats), torch.from_numpy(targets))
    c = cosine_invariance(feats.astype(np.float64), [f"t{t}" for t in targets])
    assert a == pytest.approx(b, abs=1e-12) and a == pytest.approx(c, abs=1e-6)
    assert cosine_invariance(feats, targets, reference=feats) == a
    other = gen.standard_normal((500, 10)) * 3 + 1  # statistics from another set, as the authors' ImageNet
    assert cosine_invariance(feats, targets, reference=other) != pytest.approx(a, abs=1e-3)


def test_constant_features_and_zero_vectors():
    gen = np.random.default_rng(6)
    targets = _blocks(20, 3, gen)
    feats = gen.standard_normal((20, 5))[targets] + 0.3 * gen.standard_normal((60, 5))
    dead = np.hstack([feats, np.zeros((60, 2)), np.full((60, 1), 4.0)])  # dead ReLUs, a constant channel
    d = cosine_detail(dead, targets)
    assert d.dims == 5 and d.score == pytest.approx(cosine_invariance(feats, targets), abs=1e-12)
    raw = np.zeros((4, 3))
    raw[1] = raw[2] = raw[3] = [1, 2, 3]  # a zero vector has cosine 0 with everything (as torch's)
    assert cosine_invariance(raw, [0, 0, 1, 1], standardise="none") == pytest.approx(0.5)


def _rand(*shape: int) -> np.ndarray:
    return np.random.default_rng(7).standard_normal(shape)


@pytest.mark.parametrize(
    ("feats", "targets", "options", "match"),
    [
        (_rand(6), np.arange(6) // 2, {}, "2-D"),
        (_rand(6, 3), np.arange(5), {}, "one label per image"),
        (np.full((6, 3), np.nan), np.arange(6) // 2, {}, "NaN"),
        (_rand(6, 3), np.arange(6), {}, "fewer than 2"),
        (np.ones((6, 3)), np.arange(6) // 2, {}, "no feature varies"),
        (_rand(6, 3), np.arange(6) // 2, {"reference": _rand(9, 4)}, "dimensions"),
        (_rand(6, 8), np.arange(6) // 2, {"standardise": "whiten"}, "simplex"),
    ],
)
def test_bad_input_is_refused_clearly(feats, targets, options, match):
    with pytest.raises(ValueError, match=match):
        cosine_invariance(feats, targets, **options)


def test_unknown_standardise_is_a_config_error():
    with pytest.raises(ConfigError, match="standard, whiten, none"):
        cosine_invariance(_rand(6, 3), np.arange(6) // 2, standardise="zca")


def test_cosine_table_scores_models_on_protocols(tmp_path):
    # 4 targets of 3 images (a colour, brightened), a random-init ResNet-18 at 16 px: rows and a CSV
    gen = np.random.default_rng(8)
    paths, targets = [], []
    for t in range(4):
        colour = gen.integers(0, 200, 3)
        for k in range(3):
            pixels = np.clip(colour + 20 * k + gen.integers(0, 30, (16, 16, 3)), 0, 255).astype(np.uint8)
            paths.append(tmp_path / f"{t}_{k}.png")
            Image.fromarray(pixels).save(paths[-1])
            targets.append(t)
    targets = np.array(targets)
    protocol = ProtocolSet("toy", tmp_path, paths, targets, targets.copy(), 16)
    model = random_model("resnet18", True, input_size=16)
    rows = cosine_table([model], [protocol], progress=False)
    feats = protocol_features(model.model, protocol, size=16, progress=False)["avgpool"]
    assert rows == [
        {
            "model": "random init",
            "metric": "toy",
            "K": None,
            "value": pytest.approx(cosine_invariance(feats, targets)),
        },
    ]
    assert -1 <= rows[0]["value"] <= 1
    back = read_rows(write_csv(rows, tmp_path / "cosine.csv"))
    assert back == [{**rows[0], "value": pytest.approx(rows[0]["value"], abs=1e-6)}]
