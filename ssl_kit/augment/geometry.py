"""Batched RandomResizedCrop + horizontal flip: one `grid_sample` per batch, torchvision's sampling.

Crop boxes are drawn exactly as `torchvision.transforms.RandomResizedCrop.get_params` draws them, but for
the whole batch at once: each sample gets 10 candidates (area fraction uniform in `scale`, aspect ratio
log-uniform in `ratio`, w and h rounded half-to-even like Python's `round`); the first candidate that
fits the image wins, with its top-left corner uniform over the valid positions; a sample with no fitting
candidate gets torchvision's central-crop fallback. All draws come from an explicit CPU
`torch.Generator`, so a seed fixes the boxes whatever the device.

Boxes are integer pixels `(x, y, w, h)` of the *input* image (x = column, y = row of the top-left
corner), exactly what the trainer cropped, so later analyses (crop/object overlap) can reuse them.

The resample is crop-then-bilinear-resize (align_corners=False) of the box, done for all samples and the
flip in one `torch.nn.functional.grid_sample`. The sampling grid is the per-sample affine map `crop_theta`
(as `affine_grid` would build it) with source positions clamped to the box's pixel centres, so pixels
next to the box never leak in: the result equals cropping the box and calling
`interpolate(mode="bilinear", antialias=False)`. Unlike PIL/torchvision's default resize there is no
antialiasing when a large crop is shrunk (documented difference; views upsampled from small crops, the
common case in the kit's small worlds, are unaffected).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

N_TRIES = 10  # torchvision's number of attempts before the central-crop fallback


def sample_crop_boxes(
    n: int,
    height: int,
    width: int,
    scale: tuple[float, float],
    ratio: tuple[float, float],
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw `n` RandomResizedCrop boxes for a `height` x `width` image, like torchvision's `get_params`.

    Returns:
        (n, 4) int64 CPU tensor of (x, y, w, h) in input pixels.
    """
    area = float(height * width)
    u_area = torch.rand(n, N_TRIES, generator=generator, dtype=torch.float64)
    u_ratio = torch.rand(n, N_TRIES, generator=generator, dtype=torch.float64)
    u_y = torch.rand(n, generator=generator, dtype=torch.float64)
    u_x = torch.rand(n, generator=generator, dtype=torch.float64)

    target = area * (scale[0] + (scale[1] - scale[0]) * u_area)
    lo, hi = math.log(ratio[0]), math.log(ratio[1])
    aspect = torch.exp(lo + (hi - lo) * u_ratio)
    w = torch.round(torch.sqrt(target * aspect))  # round half to even, as Python's round()
    h = torch.round(torch.sqrt(target / aspect))
    valid = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = valid.to(torch.int8).argmax(dim=1)  # index of the first valid candidate (0 if none)
    found = valid.any(dim=1)
    w = w.gather(1, first[:, None]).squeeze(1)
    h = h.gather(1, first[:, None]).squeeze(1)

    # torchvision's fallback: the largest central crop whose ratio lies inside `ratio`
    in_ratio = width / height
    if in_ratio < min(ratio):
        fw, fh = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        fw, fh = int(round(height * max(ratio))), height
    else:
        fw, fh = width, height
    w = torch.where(found, w, torch.full_like(w, fw)).long()
    h = torch.where(found, h, torch.full_like(h, fh)).long()

    # top-left corner uniform over the valid positions (torch.randint(0, n_pos) with a float draw)
    y = torch.minimum((u_y * (height - h + 1)).floor().long(), height - h)
    x = torch.minimum((u_x * (width - w + 1)).floor().long(), width - w)
    y = torch.where(found, y, (height - h) // 2)
    x = torch.where(found, x, (width - w) // 2)
    return torch.stack([x, y, w, h], dim=1)


def full_boxes(n: int, height: int, width: int) -> Tensor:
    """Boxes covering the whole image: (n, 4) int64 of (0, 0, width, height)."""
    return torch.tensor([[0, 0, width, height]], dtype=torch.long).repeat(n, 1)


def sample_flips(n: int, p: float, generator: torch.Generator | None = None) -> Tensor:
    """(n,) bool CPU tensor: True where the sample is mirrored left-right (probability `p`)."""
    return torch.rand(n, generator=generator) < p


def crop_theta(boxes: Tensor, flips: Tensor, height: int, width: int) -> Tensor:
    """Per-sample affine `theta` (n, 2, 3) mapping output to input coordinates (align_corners=False).

    Output x_out in [-1, 1] (edge to edge) lands at x_in = sx * x_out + tx with sx = w / W (negated
    when flipped) and tx = (2 x + w) / W - 1; rows likewise. `affine_grid(theta, ...)` gives the same
    grid as `crop_grid` except for the clamping to the box.
    """
    b = boxes.to(torch.float64)
    theta = torch.zeros(len(boxes), 2, 3, dtype=torch.float64)
    sign = 1.0 - 2.0 * flips.to(torch.float64)
    theta[:, 0, 0] = sign * b[:, 2] / width
    theta[:, 0, 2] = (2 * b[:, 0] + b[:, 2]) / width - 1
    theta[:, 1, 1] = b[:, 3] / height
    theta[:, 1, 2] = (2 * b[:, 1] + b[:, 3]) / height - 1
    return theta.float()


def _axis(start: Tensor, length: Tensor, size: int, out: int) -> Tensor:
    """Normalised source coordinates (n, out) of bilinear resize of [start, start + length) to `out`.

    Pixel-centre positions follow `interpolate(align_corners=False)`: src = (k + 0.5) * length / out - 0.5,
    clamped to the box's first and last pixel centres, then mapped to grid_sample's [-1, 1].
    """
    k = torch.arange(out, dtype=torch.float64) + 0.5
    length = length.to(torch.float64)[:, None]
    start = start.to(torch.float64)[:, None]
    src = (k[None, :] * length / out - 0.5).clamp(min=0.0)
    src = torch.minimum(src, length - 1) + start
    return ((2 * src + 1) / size - 1).float()


def crop_grid(
    boxes: Tensor,
    flips: Tensor,
    height: int,
    width: int,
    out_size: int,
    device: torch.device | str | None = None,
) -> Tensor:
    """The `grid_sample` grid (n, out, out, 2) that resizes each box to `out_size` and applies flips.

    The per-axis coordinates (n, out) are computed on the CPU in float64 and only they are moved to
    `device`; the full grid is expanded there (no 100 MB host-to-device copies at 224 px).
    """
    boxes, flips = boxes.cpu(), flips.cpu()
    gx = _axis(boxes[:, 0], boxes[:, 2], width, out_size)
    gy = _axis(boxes[:, 1], boxes[:, 3], height, out_size)
    gx = torch.where(flips[:, None], gx.flip(1), gx)  # mirror: same coordinates, reversed
    gx, gy = gx.to(device), gy.to(device)
    n = len(boxes)
    return torch.stack(
        [gx[:, None, :].expand(n, out_size, out_size), gy[:, :, None].expand(n, out_size, out_size)], dim=-1
    )


def resized_crop(images: Tensor, boxes: Tensor, flips: Tensor, out_size: int) -> Tensor:
    """Crop every image at its box, resize to `out_size` (bilinear) and flip where asked, in one call.

    Args:
        images: (n, C, H, W) float tensor on any device.
        boxes: (n, 4) int64 (x, y, w, h) in input pixels (CPU or device).
        flips: (n,) bool.
        out_size: side of the square output.
    """
    n, _, height, width = images.shape
    grid = crop_grid(boxes, flips, height, width, out_size, images.device).to(images.dtype)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
