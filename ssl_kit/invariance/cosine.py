"""A second invariance measure: the cosine similarity of Ericsson, Gouk & Hospedales (2021), "Why do
self-supervised models transfer? Investigating the impact of invariance on downstream tasks".

Read in the authors' released code (github.com/linusericsson/ssl-invariances, `eval_realworld_invariance.py`
at d3415cb and `eval_synthetic_invariance.py` at 62d5085): with mu and Sigma the mean and covariance
(`np.cov`, N - 1) of the model's features over a reference set (ImageNet val), every feature f becomes
z = (mu - f) @ chol(inv(Sigma)) (plus 1e-10 I on Sigma for the random model). The real-world score of a
set of views of one object is the mean of the full n x n matrix of cos(z_i, z_j), diagonal included; the
dataset score is the mean over objects. The synthetic score instead compares each transformed image with
its clean original. The sign of mu - f and the choice of whitening matrix do not matter: z_i . z_j =
(f_i - mu)' inv(Sigma) (f_j - mu) for any W with W W' = inv(Sigma) (Cholesky, ZCA, PCA).

What is implemented here, for features F (N x D), a target per image and `standardise`:

- z_i = f_i (`"none"`); (f_i - mu) / sigma, per feature (`"standard"`, the default); or
  U' (f_i - mu) / sqrt(lambda) over the eigenpairs of Sigma (`"whiten"`: the authors' inner product).
  mu, sigma, Sigma come from `reference` (M x D), by default from F itself: all N images of the protocol.
- v_i = z_i / |z_i|, and v_i = 0 where |z_i| <= 1e-9 x the typical norm (a cosine with a zero vector is 0,
  as with torch's `cosine_similarity`).
- A target with n >= 2 images scores the mean cosine over its n (n - 1) ordered pairs i != j:
  s_t = (|sum_i v_i|^2 - #nonzero v_i) / (n (n - 1)). The score is the mean of s_t over those targets.
  Identical features within every target score 1; features independent across images score about 0.

Choices where the kit differs or its protocols force one:
- No image of a target is the "original", so the synthetic script's clean-vs-transformed form does not
  apply; the pairwise form of the real-world script is used. Its diagonal (cos = 1 for every image with
  itself) is left out by default, so the score does not depend on target size through self-pairs;
  `include_self=True` gives their n x n mean, |sum_i v_i|^2 / n^2. Targets with 1 image are skipped
  (theirs would score 1), and each target counts once, whatever its class.
- Statistics come from the protocol's own images unless `reference` is given (theirs: ImageNet val).
- `"standard"` is the default because protocols at quick scale hold fewer images than features, where a
  covariance cannot be inverted. Its scale (N or N - 1) does not change any cosine. A feature whose
  spread is below 1e-6 of its mean (e.g. a dead ReLU) is constant: it is dropped, not divided by 0.
- `"whiten"` drops eigen-directions with variance below 1e-10 of the largest (instead of their 1e-10 I
  ridge) and refuses a reference of M <= rank + 1 images: whitened, the centred reference images are then
  the corners of a regular simplex, every cosine among them is -1 / (M - 1), and nothing is measured.

Everything is accumulated in float64, in blocks of rows; there is no Python loop over targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ssl_kit.errors import ConfigError
from ssl_kit.invariance.measure import feature_array, label_codes

STANDARDISE = ("standard", "whiten", "none")
MIN_TARGET_SIZE = 2
_BLOCK_BYTES = 64 << 20  # float64 rows per block
_ZERO = 1e-9  # a norm below this fraction of the typical norm: a zero vector
_CONSTANT = 1e-6  # a feature whose std is below this fraction of |mean|: constant
_EIG_RTOL = 1e-10  # whitening: directions with less variance than this fraction of the largest are dropped


@dataclass
class CosineResult:
    """The score and the per-target means behind it. Arrays are numpy."""

    score: float
    per_target: np.ndarray  # (T,) mean pairwise cosine of each target with >= 2 images
    targets: np.ndarray  # (T,) their labels
    sizes: np.ndarray  # (T,) their image counts
    targets_used: int
    targets_skipped: int  # fewer than 2 images
    standardise: str
    include_self: bool
    dims: int  # dimensions left after standardising or whitening


def _blocks(n: int, d: int):
    step = max(1, _BLOCK_BYTES // (8 * d))
    return [slice(s, min(n, s + step)) for s in range(0, n, step)]


def _statistics(ref: np.ndarray, standardise: str):
    """(columns kept or None, shift or None, scale (D',) or matrix (D', r) or None, dims, typical |z|)."""
    m, d = ref.shape
    if standardise == "none":
        sq = sum(float(np.square(ref[b], dtype=np.float64).sum()) for b in _blocks(m, d))
        return None, None, None, d, np.sqrt(sq / m)
    if m < 2:
        raise ValueError(f"standardising needs at least 2 reference images, got {m}")
    mean = sum(ref[b].sum(0, dtype=np.float64) for b in _blocks(m, d)) / m
    if standardise == "standard":
        std = np.sqrt(sum(np.square(ref[b] - mean).sum(0) for b in _blocks(m, d)) / (m - 1))
        cols = np.flatnonzero(std > _CONSTANT * np.abs(mean))
        if len(cols) == 0:
            raise ValueError("no feature varies over the reference images: every standardised feature is 0")
        return cols, mean[cols], 1.0 / std[cols], len(cols), np.sqrt(len(cols))
    cov = np.zeros((d, d))
    for b in _blocks(m, d):
        c = ref[b] - mean
        cov += c.T @ c
    lam, vec = np.linalg.eigh(cov / (m - 1))
    keep = lam > _EIG_RTOL * max(lam[-1], 0.0)
    rank = int(keep.sum())
    if rank == 0:
        raise ValueError("no feature varies over the reference images: nothing to whiten")
    if m <= rank + 1:
        raise ValueError(
            f"whitening needs more reference images than dimensions + 1 ({m} images, rank {rank}): whitened, "
            f"{m} centred images are a regular simplex and every cosine is -1/{m - 1}; use "
            "standardise='standard', or pass a larger `reference` set (the authors used ImageNet val)"
        )
    return None, mean, vec[:, keep] / np.sqrt(lam[keep]), rank, np.sqrt(rank)


def cosine_detail(
    features,
    targets,
    *,
    standardise: str = "standard",
    reference=None,
    include_self: bool = False,
) -> CosineResult:
    """The cosine invariance with its per-target means. See the module docstring for the definition."""
    if standardise not in STANDARDISE:
        raise ConfigError(f"standardise must be one of {', '.join(STANDARDISE)}, not {standardise!r}")
    f = feature_array(features)
    n, d = f.shape
    labels, codes = label_codes(targets, n, "targets")
    ref = f if reference is None else feature_array(reference)
    if ref.shape[1] != d:
        raise ValueError(f"reference features have {ref.shape[1]} dimensions, the features {d}")
    size = np.bincount(codes, minlength=len(labels))
    keep = size >= MIN_TARGET_SIZE
    if not keep.any():
        raise ValueError(
            f"every target has fewer than {MIN_TARGET_SIZE} images: a pairwise cosine needs at least 2 "
            "transformed images of one thing"
        )
    cols, shift, proj, dims, unit = _statistics(ref, standardise)

    slot = np.cumsum(keep) - 1  # target code -> row of the accumulator (used targets only)
    sums = torch.zeros((int(keep.sum()), dims), dtype=torch.float64)
    nonzero = np.zeros(len(sums))
    for b in _blocks(n, max(d, dims)):
        z = (f[b] if cols is None or len(cols) == d else f[b][:, cols]).astype(np.float64)
        if shift is not None:
            z -= shift
            z = z * proj if proj.ndim == 1 else z @ proj
        norm = np.sqrt(np.square(z).sum(1))
        live = norm > _ZERO * unit
        v = np.where(live[:, None], z / np.where(live, norm, 1.0)[:, None], 0.0)
        used = keep[codes[b]]
        rows = torch.from_numpy(slot[codes[b][used]])
        sums.index_add_(0, rows, torch.from_numpy(np.ascontiguousarray(v[used])))
        nonzero += np.bincount(
            slot[codes[b][used]], weights=live[used].astype(np.float64), minlength=len(sums)
        )

    m = size[keep].astype(np.float64)
    total = (sums * sums).sum(1).numpy()  # |sum v|^2 = #nonzero + sum over i != j of cos(v_i, v_j)
    per_target = total / m**2 if include_self else (total - nonzero) / (m * (m - 1))
    return CosineResult(
        score=float(per_target.mean()),
        per_target=per_target,
        targets=labels[keep],
        sizes=size[keep],
        targets_used=int(keep.sum()),
        targets_skipped=int((~keep).sum()),
        standardise=standardise,
        include_self=include_self,
        dims=dims,
    )


def cosine_invariance(
    features,
    targets,
    *,
    standardise: str = "standard",
    reference=None,
    include_self: bool = False,
) -> float:
    """Mean over targets of the mean pairwise cosine similarity of standardised features within each target.

    `features` (N, D) numpy array or torch tensor; `targets` one label (any hashable) per row; `standardise`
    "standard" (per feature), "whiten" (Ericsson et al.'s inner product) or "none"; `reference` (M, D)
    features whose statistics are used (default: `features`); `include_self` keeps the n x n diagonal."""
    return cosine_detail(
        features, targets, standardise=standardise, reference=reference, include_self=include_self
    ).score
