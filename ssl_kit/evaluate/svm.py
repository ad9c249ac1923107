"""Pascal VOC 2007 classification on frozen features: one linear SVM per class, scored by average precision.

Targets are an (N, C) matrix in {1, -1, 0}: 1 = the class is present, -1 = absent, 0 = present only as
"difficult" objects. As in the VOC devkit, difficult entries are ignored in training and in AP.
Features are L2-normalised. Per class, the SVM cost is chosen from a grid by k-fold cross-validation on
the train set (mean fold AP), then the SVM is refit on all of it; this follows the protocol of Goyal et al.
2019 ("Scaling and Benchmarking Self-Supervised Visual Representation Learning"): `LinearSVC` with the
squared hinge loss and positives weighted 2:1. mAP and APs are fractions in [0, 1].
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from ssl_kit.evaluate._checks import as_features, check_count, check_same_dim


def voc_ap(scores, targets, eleven_point: bool = True) -> float:
    """Average precision of one class's ranking, as the VOC devkit computes it (a fraction in [0, 1]).

    Args:
        scores: (N,) confidences; higher = more likely present. Ties keep the input order (stable sort).
        targets: (N,) in {1, -1, 0}; 0 (difficult) entries are dropped before ranking, which gives the
            same precision/recall points as the devkit, where they count as neither TP nor FP.
        eleven_point: VOC2007's 11-point interpolated AP, the mean over recall thresholds
            t = 0, 0.1, ..., 1 of the best precision at recall >= t (0 if that recall is never reached).
            False -> VOC2010+'s area under the precision-made-monotone PR curve.

    Returns:
        The AP, or NaN when there is no positive (recall is undefined).
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    t = np.asarray(targets, dtype=np.float64).reshape(-1)
    if s.shape != t.shape:
        raise ValueError(f"scores has {s.size} entries but targets has {t.size}; expected equal lengths")
    if not np.isin(t, (-1, 0, 1)).all():
        raise ValueError("targets must hold only 1 (present), -1 (absent) and 0 (difficult, ignored)")
    if not np.isfinite(s).all():
        raise ValueError("scores holds NaN or infinite values; expected finite")
    keep = t != 0
    s, t = s[keep], t[keep]
    n_pos = int((t > 0).sum())
    if n_pos == 0:
        return math.nan
    order = np.argsort(-s, kind="stable")
    tp = np.cumsum(t[order] > 0)
    fp = np.cumsum(t[order] < 0)
    rec = tp / n_pos
    prec = tp / (tp + fp)
    if eleven_point:
        return float(
            sum(prec[rec >= thr].max() if (rec >= thr).any() else 0.0 for thr in np.linspace(0, 1, 11)) / 11
        )
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.nonzero(mrec[1:] != mrec[:-1])[0] + 1
    return float(((mrec[i] - mrec[i - 1]) * mpre[i]).sum())


def _targets(x, name: str, n: int, n_name: str) -> np.ndarray:
    t = torch.as_tensor(x).cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if t.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, C) matrix in {{1, -1, 0}}, got shape {t.shape}")
    if t.shape[0] != n:
        raise ValueError(f"{name} has {t.shape[0]} rows but {n_name} has {n}; expected equal lengths")
    if not np.isin(t, (-1, 0, 1)).all():
        raise ValueError(f"{name} must hold only 1 (present), -1 (absent) and 0 (difficult, ignored)")
    return t.astype(np.int64)


def _svm(cost: float, seed: int, max_iter: int) -> LinearSVC:
    return LinearSVC(
        C=cost,
        loss="squared_hinge",
        penalty="l2",
        class_weight={1: 2.0, 0: 1.0},
        tol=1e-4,
        max_iter=max_iter,
        dual=True,
        random_state=seed,
    )


def _choose_cost(
    x: np.ndarray,
    y: np.ndarray,
    costs: Sequence[float],
    folds: int,
    seed: int,
    max_iter: int,
    eleven_point: bool,
) -> tuple[float, list[float]]:
    """The cost with the best mean fold AP (ties -> the first in the grid), and every cost's mean fold AP."""
    k = min(folds, int(y.sum()), int((1 - y).sum()))
    if len(costs) == 1 or k < 2:
        return float(costs[len(costs) // 2]), []
    splits = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(x, y))
    means = []
    for cost in costs:
        aps = []
        for fit, held in splits:
            svm = _svm(cost, seed, max_iter).fit(x[fit], y[fit])
            aps.append(voc_ap(svm.decision_function(x[held]), np.where(y[held] > 0, 1, -1), eleven_point))
        means.append(float(np.nanmean(aps)) if not np.isnan(aps).all() else -1.0)
    return float(costs[int(np.argmax(means))]), means


def svm_map(
    train_feats,
    train_targets,
    test_feats,
    test_targets,
    costs: Sequence[float] = (0.01, 0.1, 1.0, 10.0),
    seed: int = 0,
    folds: int = 3,
    eleven_point: bool = True,
    max_iter: int = 2000,
) -> dict:
    """Per-class linear SVMs on L2-normalised frozen features; the VOC mean AP on the test set.

    Args:
        train_feats, test_feats: (N, D) and (M, D) features (moved to the CPU for scikit-learn).
        train_targets, test_targets: (N, C) and (M, C) in {1, -1, 0} (0 = difficult: ignored).
        costs: grid for the SVM cost C, chosen per class by `folds`-fold cross-validation (fewer folds
            when a class has fewer positives; with fewer than 2 the middle cost of the grid is used).
        seed: fold split and the solver's coordinate order.
        eleven_point: VOC2007 11-point AP (True) or the area-under-curve AP of VOC2010+ (False).
        max_iter: solver iterations per SVM (convergence warnings are silenced).

    Returns:
        {"map": mean AP over the classes with a finite AP, "per_class_ap": [AP per class], "costs": [the
        chosen cost per class], "cv_ap": [[mean fold AP per cost] per class]}. A class without a positive
        or a negative among its non-difficult train rows cannot be trained and gets NaN AP and cost (with
        a warning); a class without a positive test row gets NaN AP. Both are left out of "map".
    """
    train = as_features(train_feats, "train_feats")
    test = as_features(test_feats, "test_feats")
    check_same_dim(train, "train_feats", test, "test_feats")
    t_train = _targets(train_targets, "train_targets", train.shape[0], "train_feats")
    t_test = _targets(test_targets, "test_targets", test.shape[0], "test_feats")
    if t_train.shape[1] != t_test.shape[1]:
        raise ValueError(
            f"test_targets has {t_test.shape[1]} classes but train_targets has {t_train.shape[1]}; expected equal"
        )
    grid = [float(c) for c in costs]
    if not grid or any(not (c > 0) or not math.isfinite(c) for c in grid):
        raise ValueError(f"costs must be a non-empty list of finite values > 0, got {costs!r}")
    folds = check_count(folds, "folds", minimum=2)
    max_iter = check_count(max_iter, "max_iter")

    x_train = torch.nn.functional.normalize(train.cpu().double(), dim=1).numpy()
    x_test = torch.nn.functional.normalize(test.cpu().double(), dim=1).numpy()
    aps: list[float] = []
    chosen: list[float] = []
    cv: list[list[float]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for c in range(t_train.shape[1]):
            rows = t_train[:, c] != 0
            y = (t_train[rows, c] > 0).astype(np.int64)
            if y.min(initial=1) == 1 or y.max(initial=0) == 0:
                warnings.warn(
                    f"svm_map: class {c} has no {'positive' if y.max(initial=0) == 0 else 'negative'} "
                    "non-difficult train example; its AP is NaN",
                    stacklevel=2,
                )
                aps.append(math.nan)
                chosen.append(math.nan)
                cv.append([])
                continue
            cost, means = _choose_cost(x_train[rows], y, grid, folds, seed, max_iter, eleven_point)
            svm = _svm(cost, seed, max_iter).fit(x_train[rows], y)
            aps.append(voc_ap(svm.decision_function(x_test), t_test[:, c], eleven_point))
            chosen.append(cost)
            cv.append(means)
    finite = [a for a in aps if not math.isnan(a)]
    return {
        "map": float(np.mean(finite)) if finite else math.nan,
        "per_class_ap": aps,
        "costs": chosen,
        "cv_ap": cv,
    }
