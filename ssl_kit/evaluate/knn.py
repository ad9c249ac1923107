"""Weighted k-nearest-neighbour classification on frozen features (InstDisc, Wu et al. 2018; MoCo's monitor).

Features are L2-normalised, so the similarity is the cosine. Each test point takes its k most similar
training points; neighbour i votes for its class with weight exp(sim_i / T); the class scores are the
summed votes and the prediction is the class with the largest score (ties -> the lowest class id).
Test rows are processed `chunk` at a time, so memory stays at O(chunk x N_train).
Accuracies are fractions in [0, 1] (as everywhere in `ssl_kit.evaluate`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ssl_kit.evaluate._checks import (
    as_features,
    as_labels,
    check_count,
    check_positive,
    check_same_dim,
    resolve_num_classes,
)

# exp(sim / T) <= exp(1 / T) must stay far from float32's limit (3.4e38) even summed over many neighbours.
MIN_TEMPERATURE = 1.0 / 80.0


def knn_predict(
    train_feats,
    train_labels,
    test_feats,
    k: int = 200,
    temperature: float = 0.1,
    num_classes: int | None = None,
    chunk: int = 1024,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted kNN predictions.

    Args:
        train_feats: (N, D) features of the labelled set (any device; need not be normalised).
        train_labels: (N,) class ids >= 0.
        test_feats: (M, D) features to classify, on the same device as `train_feats`.
        k: neighbours per test point; clipped to N.
        temperature: T in the weight exp(cosine / T); at least 1/80 so the weights fit float32.
        num_classes: number of classes C; None -> 1 + the largest train label.
        chunk: test rows per similarity block.

    Returns:
        (pred, scores): pred is an int64 (M,) tensor of class ids; scores is a float32 (M, C) tensor, the
        summed weights exp(sim / T) of each test point's k neighbours per class. Both on the features'
        device.
    """
    train = as_features(train_feats, "train_feats")
    test = as_features(test_feats, "test_feats", allow_empty=True)
    check_same_dim(train, "train_feats", test, "test_feats")
    if test.device != train.device:
        raise ValueError(
            f"test_feats is on {test.device} but train_feats on {train.device}; expected one device"
        )
    labels = as_labels(train_labels, "train_labels", train.shape[0], "train_feats", device=train.device)
    k = min(check_count(k, "k"), train.shape[0])
    chunk = check_count(chunk, "chunk")
    temperature = check_positive(temperature, "temperature")
    if temperature < MIN_TEMPERATURE:
        raise ValueError(
            f"temperature={temperature} is below {MIN_TEMPERATURE:.4f}: exp(sim / T) would overflow float32"
        )
    num_classes = resolve_num_classes(num_classes, (labels, "train_labels"))

    train = F.normalize(train, dim=1)
    test = F.normalize(test, dim=1)
    scores = torch.zeros(test.shape[0], num_classes, dtype=torch.float32, device=train.device)
    for start in range(0, test.shape[0], chunk):
        sim = test[start : start + chunk] @ train.T  # (b, N)
        top_sim, top_idx = sim.topk(k, dim=1)  # (b, k)
        weights = (top_sim / temperature).exp()
        scores[start : start + chunk].scatter_add_(1, labels[top_idx], weights)
    pred = scores.argmax(dim=1)
    return pred, scores


def knn_accuracy(
    train_feats,
    train_labels,
    test_feats,
    test_labels,
    k: int = 200,
    temperature: float = 0.1,
    num_classes: int | None = None,
    chunk: int = 1024,
) -> float:
    """Top-1 accuracy of `knn_predict` on (test_feats, test_labels), as a fraction in [0, 1]."""
    test = torch.as_tensor(test_feats)
    n_test = test.shape[0] if test.ndim >= 1 else 0
    truth = as_labels(test_labels, "test_labels", n_test, "test_feats")
    if n_test == 0:
        raise ValueError("test_feats is empty (0 rows); expected at least one example to score")
    pred, _ = knn_predict(train_feats, train_labels, test_feats, k, temperature, num_classes, chunk)
    return int((pred.cpu() == truth).sum()) / n_test
