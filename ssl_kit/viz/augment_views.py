"""Show what a policy does: rows of (original | view 1 | view 2) for a few images."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ssl_kit.augment.pipeline import apply_params, sample_params, to_unit_float
from ssl_kit.augment.policy import PolicyLike, get_policy

GUTTER = 2  # white pixels between tiles


def _as_nchw_uint8(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(N, H, W, 3) numpy (the kit's loaders) or (N, 3, H, W) tensor -> (N, 3, H, W) uint8 tensor."""
    if isinstance(images, np.ndarray):
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(f"expected a uint8 array (N, H, W, 3), got {images.dtype} {images.shape}")
        return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    return images


def view_pairs_grid(
    images_uint8: np.ndarray | torch.Tensor,
    policy: PolicyLike,
    out_size: int = 64,
    n: int = 8,
    seed: int = 0,
) -> np.ndarray:
    """A uint8 RGB image of n rows x (original | view 1 | view 2), un-normalised, for display.

    Args:
        images_uint8: (N, H, W, 3) uint8 array or (N, 3, H, W) uint8 tensor; the first n are used.
        policy: policy or name.
        out_size: tile side; the original is resized (bilinear, antialiased) to it.
        seed: seeds the CPU generator of the two views.

    Returns:
        (rows * out + (rows - 1) * 2, 3 * out + 4, 3) uint8, tiles separated by 2 px white gutters.
    """
    policy = get_policy(policy)
    x = to_unit_float(_as_nchw_uint8(images_uint8)[:n].cpu())
    rows, _, h, w = x.shape
    gen = torch.Generator().manual_seed(seed)
    views = [apply_params(x, sample_params(rows, h, w, policy, out_size, gen), policy, out_size, False)]
    views.append(apply_params(x, sample_params(rows, h, w, policy, out_size, gen), policy, out_size, False))
    orig = F.interpolate(x, size=(out_size, out_size), mode="bilinear", align_corners=False, antialias=True)
    tiles = [
        t.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy() for t in [orig, *views]
    ]
    step = out_size + GUTTER
    out = np.full((rows * step - GUTTER, 3 * step - GUTTER, 3), 255, dtype=np.uint8)
    for r in range(rows):
        for c, t in enumerate(tiles):
            out[r * step : r * step + out_size, c * step : c * step + out_size] = t[r]
    return out


def plot_view_pairs(
    images_uint8: np.ndarray | torch.Tensor,
    policy: PolicyLike,
    out_size: int = 64,
    n: int = 8,
    seed: int = 0,
    ax=None,
):
    """The `view_pairs_grid` as a matplotlib figure with column titles; returns the figure."""
    import matplotlib.pyplot as plt  # deferred: pyplot selects a backend on import; only this figure needs it

    policy = get_policy(policy)
    grid = view_pairs_grid(images_uint8, policy, out_size=out_size, n=n, seed=seed)
    if ax is None:
        rows = grid.shape[0] / (out_size + GUTTER)
        fig, ax = plt.subplots(figsize=(4.5, 1.5 * rows + 0.5))
    else:
        fig = ax.figure
    ax.imshow(grid)
    ax.set_xticks(
        [out_size / 2 + c * (out_size + GUTTER) for c in range(3)], ["original", "view 1", "view 2"]
    )
    ax.set_yticks([])
    ax.tick_params(length=0)
    ax.xaxis.tick_top()
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(f"policy: {policy.name}", fontsize=10)
    return fig
