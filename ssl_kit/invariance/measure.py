"""The paper's invariance measure (Purushwalkam & Gupta 2020, sec. 3), exactly as the authors' code computes it.

Inputs: features F (N images x D neurons, e.g. ResNet pool5 after ReLU, not normalised), a *target* id per
image (the images that are transformations of one thing) and a *class* id per image (default: the target).

- C classes; p = min((1 - 1/C) * 100, 95) percent; k = floor(N * p / 100).
- Neuron j fires "up" above up_j = the k-th smallest value of column j (0-based) and "down" below
  down_j = the k-th largest. Global firing rate G_j = mean_i [F_ij >= up_j].
- Each target with at least 3 images: count_tj = max(#[F > up_j], #[F < down_j]) over its images (the
  better sign, chosen per target). Targets with count 0 are left out for that neuron; the others add
  count / size to their class's sum and 1 to its count: L_cj = sum / count (0 where no target fired).
- Class score: mean of the top-K values of L_cj / G_j. Score: mean over classes x (100 - p).

Quirks of the released code (senthilps8/demystifyssl, `measure_invariances.py`) kept on purpose, so numbers
compare with the paper: `>=` for the global rate but strict `>` / `<` for the local one (a target whose
values tie exactly with up_j does not fire); the sign is chosen per target and neuron, and a "down" count is
divided by the *up* global rate; a target's class is its first image's class; a class whose targets
never fire scores 0 and still counts in the mean. For continuous features G_j = (N - k) / N, so a neuron
that fires on every image of its targets scores about 100: the score is, roughly, the percentage of a
target's images on which the class's most invariant neurons agree.

Cleaner variants, only as explicit options: `firing_rate=0.01` (a fixed global rate, as in Goodfellow et
al. 2009, instead of the class-count rule), `sign="positive"` (only "up" firing) or `sign="per_neuron"`
(one sign per neuron, with its own global rate `F <= down_j` for "down"), and `layer_scores` for several
layers at once.

Everything is vectorised over targets: thresholds by a partial sort of column blocks (in threads), counts by
one gather per group of equal-size targets and a comparison-and-sum over each block; rates and sums are
accumulated in float64. There is no Python loop over targets.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

MIN_TARGET_SIZE = 3
SIGNS = ("per_target", "positive", "per_neuron")
_COLUMNS = 64  # neurons per partial sort (a transposed block of N x 64 values)
_BLOCK_BYTES = 64 << 20  # bounds each gathered block of target rows


@dataclass
class InvarianceResult:
    """Scores and everything behind them (for plots and widgets). Arrays are numpy."""

    scores: dict[int, float]  # K -> score
    per_class: dict[int, np.ndarray]  # K -> (C,) class scores before the x (100 - p)
    top_neurons: dict[int, np.ndarray]  # K -> (C, K) neuron indices, most invariant first
    classes: np.ndarray  # (C,) class labels, sorted
    percentile: float  # p
    threshold_index: int  # k
    up: np.ndarray  # (D,) up_j
    down: np.ndarray  # (D,) down_j
    global_rate: np.ndarray  # (D,) G_j (per_neuron: of the chosen sign)
    local_rate: np.ndarray  # (C, D) L_cj
    ratio: np.ndarray  # (C, D) L_cj / G_j
    targets_per_class: np.ndarray  # (C,) targets with >= 3 images
    targets_used: int
    targets_skipped: int  # fewer than 3 images
    sign: str
    neuron_sign: np.ndarray | None = None  # per_neuron only: (D,) +1 / -1


def label_codes(labels, n: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique labels, code per item) for any array-like of hashable labels."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    arr = np.asarray(labels)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} must hold one label per image: expected shape ({n},), got {arr.shape}")
    uniq, codes = np.unique(arr, return_inverse=True)
    return uniq, codes.reshape(-1)


def feature_array(features) -> np.ndarray:
    """`features` (a tensor or an array, images x neurons) as a 2-D finite float numpy array, or a ValueError."""
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu()
        features = (
            features.float() if features.dtype in (torch.float16, torch.bfloat16) else features
        ).numpy()
    f = np.asarray(features)
    if f.ndim != 2:
        raise ValueError(f"features must be 2-D (images x neurons), got shape {f.shape}")
    if f.shape[0] == 0 or f.shape[1] == 0:
        raise ValueError(f"features are empty: shape {f.shape}")
    if f.dtype.kind != "f" or f.dtype == np.float16:
        f = f.astype(np.float64 if f.dtype.kind in "iub" else np.float32)
    if not np.isfinite(f.sum(0)).all() and not np.isfinite(f).all():  # column sums: a cheap first check
        bad = np.flatnonzero(~np.isfinite(f).all(1))[:5].tolist()
        raise ValueError(
            f"features hold NaN or infinite values (first rows: {bad}); fix the extraction first"
        )
    return np.ascontiguousarray(f)


def percentile_for(num_classes: int, firing_rate: float | None = None) -> float:
    """p: min((1 - 1/C) * 100, 95) as in the paper, or 100 * (1 - firing_rate) for a fixed rate."""
    if firing_rate is not None:
        if not 0 < firing_rate < 1:
            raise ValueError(f"firing_rate must be in (0, 1), e.g. 0.01; got {firing_rate}")
        return (1.0 - firing_rate) * 100
    return min((1.0 - 1.0 / num_classes) * 100, 95)


def _thresholds(f: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(k-th smallest, k-th largest) value of every column (0-based), by partial sorts of transposed blocks.

    The k-th largest is taken as minus the k-th smallest of -F: one selection index for both, which keeps
    numpy's introselect fast on ReLU features (half zeros), where selecting inside the block of tied
    zeros is an order of magnitude slower.
    """
    d = f.shape[1]
    up, down = np.empty(d, f.dtype), np.empty(d, f.dtype)
    with warnings.catch_warnings():  # a read-only array (e.g. np.load(mmap_mode="r")) is only read here
        warnings.simplefilter("ignore", UserWarning)
        features = torch.from_numpy(f)

    def block(j: int) -> None:
        cols = features[:, j : j + _COLUMNS].T.clone(memory_format=torch.contiguous_format).numpy()  # a copy
        cols.partition(k, axis=1)
        up[j : j + _COLUMNS] = cols[:, k]
        np.negative(cols, out=cols)
        cols.partition(k, axis=1)
        down[j : j + _COLUMNS] = -cols[:, k]

    with ThreadPoolExecutor(max(1, min(torch.get_num_threads(), 8))) as pool:
        list(pool.map(block, range(0, d, _COLUMNS)))
    return up, down


def _counts(f: np.ndarray, tcode: np.ndarray, size: np.ndarray, keep: np.ndarray, up, down):
    """#[F > up] and #[F < down] per kept target and neuron, in one gather per group of equal-size targets."""
    kept = np.flatnonzero(keep)
    pos = np.empty((len(kept), f.shape[1]), np.int32)
    neg = np.empty_like(pos)
    order = np.argsort(tcode, kind="stable")  # rows grouped by target, targets in code order
    starts = np.concatenate([[0], np.cumsum(size)[:-1]])
    for m in np.unique(size[kept]):
        which = np.flatnonzero(size[kept] == m)  # positions among kept targets
        rows = order[starts[kept[which]][:, None] + np.arange(m)]  # (targets of size m, m)
        step = max(1, _BLOCK_BYTES // (m * f.shape[1] * f.itemsize))
        for s in range(0, len(which), step):
            block = f[rows[s : s + step]]  # (t, m, D)
            pos[which[s : s + step]] = (block > up).sum(1, dtype=np.int32)
            neg[which[s : s + step]] = (block < down).sum(1, dtype=np.int32)
    return pos, neg


def _local_rate(count: np.ndarray, size: np.ndarray, tclass: np.ndarray, n_classes: int) -> np.ndarray:
    """L_cj: mean over a class's targets that fired of count / size (0 where none fired), in float64."""
    sums = np.zeros((n_classes, count.shape[1]))
    fired = np.zeros((n_classes, count.shape[1]))
    np.add.at(sums, tclass, count / size[:, None].astype(np.float64))
    np.add.at(fired, tclass, (count > 0).astype(np.float64))
    return sums / (fired + 1e-20)  # the released code's guard: 0 / 1e-20 = 0 where no target fired


def invariance_detail(
    features,
    targets,
    classes=None,
    top_k: Sequence[int] = (10, 25),
    *,
    firing_rate: float | None = None,
    sign: str = "per_target",
) -> InvarianceResult:
    """The measure with every intermediate quantity. See the module docstring; defaults are the paper's."""
    if sign not in SIGNS:
        raise ValueError(
            f"sign must be one of {', '.join(SIGNS)} (the paper's is 'per_target'), not {sign!r}"
        )
    f = feature_array(features)
    n, d = f.shape
    t_labels, tcode_np = label_codes(targets, n, "targets")
    c_labels, ccode_np = label_codes(targets if classes is None else classes, n, "classes")
    ks = sorted({int(k) for k in top_k})
    if not ks or ks[0] < 1 or ks[-1] > d:
        raise ValueError(f"top_k must be between 1 and the number of neurons ({d}), got {list(top_k)}")
    if len(c_labels) < 2 and firing_rate is None:
        raise ValueError(
            "a single class: p = (1 - 1/C) * 100 = 0, so every image fires and the score means nothing; "
            "give at least 2 classes (or a fixed firing_rate)"
        )
    n_t, n_c = len(t_labels), len(c_labels)
    # a target's class is its first image's class (as in the released code); all its images must agree
    first = np.full(n_t, n, dtype=np.int64)
    np.minimum.at(first, tcode_np, np.arange(n))
    tclass_np = ccode_np[first]
    if not np.array_equal(tclass_np[tcode_np], ccode_np):
        bad = t_labels[np.unique(tcode_np[tclass_np[tcode_np] != ccode_np])][:5]
        raise ValueError(
            f"targets {list(bad)} hold images of more than one class; a target must be one thing"
        )
    size = np.bincount(tcode_np, minlength=n_t)
    keep = size >= MIN_TARGET_SIZE
    if not keep.any():
        raise ValueError(
            f"every target has fewer than {MIN_TARGET_SIZE} images (largest: {int(size.max())}); "
            "the measure needs targets of at least 3 transformed images"
        )

    p = percentile_for(n_c, firing_rate)
    k = int((n * p) // 100)  # the released code's index, float arithmetic included
    up, down = _thresholds(f, k)  # k-th smallest, k-th largest
    pos, neg = _counts(f, tcode_np, size, keep, up, down)
    tsize, tclass = size[keep], tclass_np[keep]
    g_up = (f >= up).sum(0, dtype=np.int64) / n

    neuron_sign = None
    if sign == "per_target":
        local, glob = _local_rate(np.maximum(pos, neg), tsize, tclass, n_c), g_up
    elif sign == "positive":
        local, glob = _local_rate(pos, tsize, tclass, n_c), g_up
    else:
        g_down = (f <= down).sum(0, dtype=np.int64) / n
        l_up, l_down = _local_rate(pos, tsize, tclass, n_c), _local_rate(neg, tsize, tclass, n_c)
        take_up = (l_up / g_up).mean(0) >= (l_down / g_down).mean(0)
        local = np.where(take_up, l_up, l_down)
        glob = np.where(take_up, g_up, g_down)
        neuron_sign = np.where(take_up, 1, -1)
    ratio = local / glob

    per_class, top_neurons, scores = {}, {}, {}
    best = np.argsort(-ratio, axis=1, kind="stable")[:, : ks[-1]]  # most invariant first
    best_values = np.take_along_axis(ratio, best, axis=1)
    for kk in ks:
        per_class[kk] = best_values[:, :kk].mean(1)
        top_neurons[kk] = best[:, :kk]
        scores[kk] = float(per_class[kk].mean() * (100 - p))
    targets_per_class = np.bincount(tclass, minlength=n_c)
    if (targets_per_class == 0).any():
        empty = list(c_labels[targets_per_class == 0][:5])
        warnings.warn(
            f"classes {empty} have no target with >= {MIN_TARGET_SIZE} images; they score 0 and still count "
            "in the mean (as in the released code)",
            stacklevel=2,
        )
    return InvarianceResult(
        scores=scores,
        per_class=per_class,
        top_neurons=top_neurons,
        classes=c_labels,
        percentile=p,
        threshold_index=k,
        up=up,
        down=down,
        global_rate=glob,
        local_rate=local,
        ratio=ratio,
        targets_per_class=targets_per_class,
        targets_used=int(keep.sum()),
        targets_skipped=int((~keep).sum()),
        sign=sign,
        neuron_sign=neuron_sign,
    )


def invariance_score(
    features,
    targets,
    classes=None,
    top_k: Sequence[int] = (10, 25),
    *,
    firing_rate: float | None = None,
    sign: str = "per_target",
) -> dict[int, float]:
    """The paper's invariance score for each K in `top_k`: `{10: score, 25: score}`.

    `features` (N, D) numpy array or torch tensor; `targets` and `classes` one label (any hashable) per row.
    """
    return invariance_detail(features, targets, classes, top_k, firing_rate=firing_rate, sign=sign).scores


def layer_scores(
    features_by_layer: Mapping[str, object], targets, classes=None, top_k: Sequence[int] = (10, 25), **options
) -> dict[str, dict[int, float]]:
    """The score of each layer's features (e.g. `protocol_features(model, protocol, ["layer3", "avgpool"])`)."""
    return {
        name: invariance_score(feats, targets, classes, top_k, **options)
        for name, feats in features_by_layer.items()
    }
