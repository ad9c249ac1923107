"""Linear probe: multinomial logistic regression on frozen, standardised features.

Features are standardised with the train set's per-dimension mean and standard deviation (dimensions
with zero variance are only centred). The classifier is fit full-batch with L-BFGS (strong-Wolfe line
search) for a fixed number of iterations from a zero initialisation, minimising

    mean cross-entropy + weight_decay / 2 * ||W||^2        (the bias is not decayed)

which is convex, so the result does not depend on an initial draw. The weight decay is chosen from a grid
on a held-out, class-stratified split of the train set (highest held-out accuracy; ties -> lowest
held-out cross-entropy), then the probe is refit on the whole train set. The split is drawn from `seed`,
so a run on the CPU repeats bit for bit. It runs on the features' device. Accuracies are fractions in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ssl_kit.evaluate._checks import (
    as_features,
    as_labels,
    check_count,
    check_same_dim,
    resolve_num_classes,
)


def standardise(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    """Standardise `train` and `others` with train's per-column mean and std (zero-variance columns: std 1)."""
    mean = train.mean(dim=0, keepdim=True)
    std = train.std(dim=0, unbiased=False, keepdim=True)
    std = torch.where(std > 1e-8 * (1 + mean.abs()), std, torch.ones_like(std))
    return [(t - mean) / std for t in (train, *others)]


def fit_logistic(
    x: torch.Tensor, y: torch.Tensor, num_classes: int, weight_decay: float, epochs: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit W (D, C) and b (C,) by full-batch L-BFGS for `epochs` iterations; returns detached tensors."""
    w = torch.zeros(x.shape[1], num_classes, device=x.device, requires_grad=True)
    b = torch.zeros(num_classes, device=x.device, requires_grad=True)
    opt = torch.optim.LBFGS(
        [w, b],
        lr=1.0,
        max_iter=epochs,
        history_size=20,
        tolerance_grad=1e-9,
        tolerance_change=1e-12,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(x @ w + b, y) + 0.5 * weight_decay * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return w.detach(), b.detach()


def _accuracy(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> float:
    return int(((x @ w + b).argmax(dim=1) == y).sum()) / y.numel()


def stratified_split(labels: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(fit_idx, held_idx): about `fraction` of each class held out; at least one example of a class stays
    in fit, and classes with 2+ examples hold out at least one. Deterministic in `seed`."""
    gen = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    fit, held = [], []
    for c in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(idx.numel(), generator=gen)]
        n_held = 0 if idx.numel() < 2 else min(max(1, round(fraction * idx.numel())), idx.numel() - 1)
        held.append(idx[:n_held])
        fit.append(idx[n_held:])
    return torch.cat(fit).sort().values, torch.cat(held).sort().values


def linear_probe(
    train_feats,
    train_labels,
    test_feats,
    test_labels,
    weight_decays: Sequence[float] = (0.0, 1e-4, 1e-3, 1e-2),
    epochs: int = 100,
    seed: int = 0,
    val_fraction: float = 0.2,
    num_classes: int | None = None,
) -> dict:
    """Train a linear probe on frozen train features and score it on the test features.

    Args:
        train_feats, train_labels: (N, D) features and (N,) class ids >= 0.
        test_feats, test_labels: (M, D) and (M,), on the same device as the train features.
        weight_decays: grid of L2 penalties; one value skips the held-out selection.
        epochs: L-BFGS iterations per fit (the fit is full-batch, so one iteration = one epoch).
        seed: draws the held-out split.
        val_fraction: share of each class held out to choose the weight decay.
        num_classes: C; None -> 1 + the largest label in train or test.

    Returns:
        {"accuracy": test top-1, "train_accuracy": top-1 on the train set, "weight_decay": the chosen
        value, "selection": [{"weight_decay", "val_accuracy", "val_loss"} per grid value]} (fractions in
        [0, 1]; "selection" is empty when there was nothing to choose).
    """
    train = as_features(train_feats, "train_feats")
    test = as_features(test_feats, "test_feats")
    check_same_dim(train, "train_feats", test, "test_feats")
    if test.device != train.device:
        raise ValueError(
            f"test_feats is on {test.device} but train_feats on {train.device}; expected one device"
        )
    y_train = as_labels(train_labels, "train_labels", train.shape[0], "train_feats", device=train.device)
    y_test = as_labels(test_labels, "test_labels", test.shape[0], "test_feats", device=train.device)
    num_classes = resolve_num_classes(num_classes, (y_train, "train_labels"), (y_test, "test_labels"))
    epochs = check_count(epochs, "epochs")
    grid = [float(wd) for wd in weight_decays]
    if not grid or any(not (wd >= 0) or wd == float("inf") for wd in grid):
        raise ValueError(
            f"weight_decays must be a non-empty list of finite values >= 0, got {weight_decays!r}"
        )
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")

    selection: list[dict] = []
    chosen = grid[0]
    if len(grid) > 1:
        fit_idx, held_idx = stratified_split(y_train, val_fraction, seed)
        if held_idx.numel():
            fit_idx, held_idx = fit_idx.to(train.device), held_idx.to(train.device)
            x_fit, x_held = standardise(train[fit_idx], train[held_idx])
            y_fit, y_held = y_train[fit_idx], y_train[held_idx]
            best = None
            for wd in grid:
                w, b = fit_logistic(x_fit, y_fit, num_classes, wd, epochs)
                acc = _accuracy(x_held, y_held, w, b)
                loss = float(F.cross_entropy(x_held @ w + b, y_held))
                selection.append({"weight_decay": wd, "val_accuracy": acc, "val_loss": loss})
                if best is None or (acc, -loss) > best:
                    best, chosen = (acc, -loss), wd

    x_train, x_test = standardise(train, test)
    w, b = fit_logistic(x_train, y_train, num_classes, chosen, epochs)
    return {
        "accuracy": _accuracy(x_test, y_test, w, b),
        "train_accuracy": _accuracy(x_train, y_train, w, b),
        "weight_decay": chosen,
        "selection": selection,
    }
