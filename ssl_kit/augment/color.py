"""Batched colour augmentations with per-sample factors: ColorJitter and RandomGrayscale.

Images are float (B, 3, H, W) in [0, 1]. Each op matches `torchvision.transforms.v2.functional` on float
images (blend-and-clamp formulas, ITU-R 601-2 luma 0.2989 R + 0.587 G + 0.114 B, hue through HSV) to float
rounding, but takes one factor per sample. Written for CPU speed: few full-image passes, no boolean
`where` over whole images, work restricted to the samples that need it.

ColorJitter is drawn like torchvision's `ColorJitter.get_params`, per sample: a random order of the four
ops (a uniform permutation), brightness/contrast/saturation factors uniform in [max(0, 1 - x), 1 + x] and a
hue shift uniform in [-h, h]. The batch is processed in 4 rounds; in round r every sample applies the r-th
op of its own permutation (brightness, contrast and saturation are one blend `f * x + (1 - f) * other`
whose `other` is 0, the mean luma or the luma; hue runs on the samples whose round-r op is hue). Samples
whose jitter coin came up tails get factor 1, which leaves them exactly unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

LUMA = (0.2989, 0.587, 0.114)  # ITU-R 601-2 weights as torchvision rounds them
BRIGHTNESS, CONTRAST, SATURATION, HUE = range(4)  # op ids in `ColorParams.order`


@dataclass(frozen=True)
class ColorParams:
    """Per-sample colour draws (CPU tensors, B = batch size).

    jitter: (B,) bool, ColorJitter applied; factors: (B, 4) float (brightness, contrast, saturation,
    hue shift); order: (B, 4) int64, a permutation of op ids per sample; gray: (B,) bool, grayscale.
    """

    jitter: Tensor
    factors: Tensor
    order: Tensor
    gray: Tensor


def sample_color_params(
    n: int,
    jitter_p: float,
    brightness: float,
    contrast: float,
    saturation: float,
    hue: float,
    grayscale_p: float,
    generator: torch.Generator | None = None,
) -> ColorParams:
    """Draw jitter coins, factors, op orders and grayscale coins for `n` samples (always the same draws,
    whatever the strengths, so changing one strength keeps every other draw)."""
    jitter = torch.rand(n, generator=generator) < jitter_p
    u = torch.rand(n, 4, generator=generator)
    lo = torch.tensor([max(0.0, 1 - brightness), max(0.0, 1 - contrast), max(0.0, 1 - saturation), -hue])
    hi = torch.tensor([1 + brightness, 1 + contrast, 1 + saturation, hue])
    factors = lo + (hi - lo) * u
    order = torch.rand(n, 4, generator=generator).argsort(dim=1)  # uniform random permutations
    gray = torch.rand(n, generator=generator) < grayscale_p
    return ColorParams(jitter=jitter, factors=factors, order=order, gray=gray)


def _per_sample(f: Tensor | float, x: Tensor) -> Tensor:
    """A scalar or (B,) factor as a 0-d or (B, 1, 1, 1) tensor on x's device."""
    f = torch.as_tensor(f, dtype=x.dtype, device=x.device)
    return f.reshape(-1, 1, 1, 1) if f.ndim else f


def rgb_to_grayscale(x: Tensor) -> Tensor:
    """Luma (B, 1, H, W) of RGB images (B, 3, H, W)."""
    r, g, b = x.unbind(dim=-3)
    return r.mul(LUMA[0]).add_(g, alpha=LUMA[1]).add_(b, alpha=LUMA[2]).unsqueeze(-3)


def blend(x: Tensor, other: Tensor | float, ratio: Tensor | float, inplace: bool = False) -> Tensor:
    """`ratio * x + (1 - ratio) * other` clamped to [0, 1] (torchvision's `_blend`), as one `lerp`.

    Computed as x + (1 - ratio) * (other - x), which returns x exactly where ratio == 1, so a factor of 1
    leaves a sample untouched.
    """
    weight = 1.0 - _per_sample(ratio, x)
    other = torch.as_tensor(other, dtype=x.dtype, device=x.device)
    out = x.lerp_(other, weight) if inplace else torch.lerp(x, other, weight)
    return out.clamp_(0.0, 1.0)


def adjust_brightness(x: Tensor, factor: Tensor | float) -> Tensor:
    """Blend with black."""
    return blend(x, 0.0, factor)


def adjust_contrast(x: Tensor, factor: Tensor | float) -> Tensor:
    """Blend with the image's mean luma."""
    return blend(x, rgb_to_grayscale(x).mean(dim=(-3, -2, -1), keepdim=True), factor)


def adjust_saturation(x: Tensor, factor: Tensor | float) -> Tensor:
    """Blend with the image's luma."""
    return blend(x, rgb_to_grayscale(x), factor)


def adjust_hue(x: Tensor, shift: Tensor | float) -> Tensor:
    """Rotate the hue of RGB images in [0, 1] by `shift` turns (in [-0.5, 0.5]), per sample.

    HSV without materialising it: max v, min m and chroma c = v - m are kept; the hue h (in sextants
    0..6, taken from the channel holding the max, R before G before B, as torchvision/PIL) is shifted and
    wrapped to [0, 6); each channel is rebuilt from its circular distance to the channel's own hue
    (R 0, G 2, B 4): m + c * clamp(||h - centre| - 3| - 1, 0, 1), which is HSV->RGB's
    v - c * clamp(min(k, 4 - k), 0, 1) written without `mod`. Grey pixels stay grey.

    Only fast elementwise ops (no `where`/`remainder`, which are slow on CPU): selections are `lerp`s
    with 0/1 weights, which are exact.
    """
    dt = x.dtype
    r, g, b = x.unbind(dim=-3)
    v = x.amax(dim=-3)
    m = x.amin(dim=-3)
    c = v - m
    inv = c.clamp_min(1e-12).reciprocal_()  # grey pixels: every numerator below is 0 as well
    hue = torch.lerp((r - g).add_(c, alpha=4.0), (b - r).add_(c, alpha=2.0), torch.eq(v, g).to(dt))
    hue = torch.lerp(hue, g - b, torch.eq(v, r).to(dt)).mul_(inv)
    if torch.is_tensor(shift):
        hue.add_(_per_sample(shift, x).squeeze(-3), alpha=6.0)
    else:
        hue.add_(6.0 * shift)
    hue.sub_(torch.floor(hue * (1.0 / 6.0)), alpha=6.0)  # wrap to [0, 6)
    centre = torch.tensor([0.0, 2.0, 4.0], dtype=dt, device=x.device).view(3, 1, 1)
    out = hue.unsqueeze(-3) - centre
    out.abs_().sub_(3.0).abs_().sub_(1.0).clamp_(0.0, 1.0)
    return out.mul_(c.unsqueeze(-3)).add_(m.unsqueeze(-3))


def color_jitter(x: Tensor, factors: Tensor, order: Tensor, apply: Tensor, inplace: bool = False) -> Tensor:
    """ColorJitter with per-sample factors (B, 4) and op orders (B, 4), only where `apply` (B,) is True.

    `factors`, `order` and `apply` should be CPU tensors (as drawn): the masks are computed there, so
    on CUDA the loop never waits for the device. With `inplace=False` x is left untouched.
    """
    dev, dt = x.device, x.dtype
    factors, order, apply = factors.cpu(), order.cpu(), apply.cpu()
    if not bool(apply.any()):
        return x
    if not inplace:
        x = x.clone()
    for rnd in range(4):
        op = order[:, rnd]
        f = factors.gather(1, op[:, None]).squeeze(1)
        is_blend = apply & (op != HUE)
        if bool(is_blend.any()):
            is_sat, is_con = apply & (op == SATURATION), apply & (op == CONTRAST)
            if bool((is_sat | is_con).any()):
                gray = rgb_to_grayscale(x)
                mean = gray.mean(dim=(-3, -2, -1), keepdim=True)
                other = gray.mul_(_per_sample(is_sat.to(dt), x)).add_(mean * _per_sample(is_con.to(dt), x))
            else:
                other = torch.zeros((), dtype=dt, device=dev)
            ratio = torch.where(is_blend, f, torch.ones_like(f))  # ratio 1 leaves a sample unchanged
            blend(x, other, ratio.to(dt), inplace=True)
        is_hue = apply & (op == HUE) & (f != 0)
        if bool(is_hue.any()):
            idx = is_hue.nonzero().squeeze(1)
            shifted = adjust_hue(x.index_select(0, idx.to(dev)), f[idx].to(dt))
            x.index_copy_(0, idx.to(dev), shifted)
    return x


def random_grayscale(x: Tensor, gray: Tensor, inplace: bool = False) -> Tensor:
    """Replace samples where `gray` (B,) is True by their 3-channel luma."""
    gray = gray.cpu()
    if not bool(gray.any()):
        return x
    idx = gray.nonzero().squeeze(1).to(x.device)
    luma = rgb_to_grayscale(x.index_select(0, idx)).expand(-1, 3, -1, -1)
    return x.index_copy_(0, idx, luma) if inplace else x.index_copy(0, idx, luma)


def apply_color(
    x: Tensor, params: ColorParams, gray_before_jitter: bool = False, inplace: bool = False
) -> Tensor:
    """ColorJitter then RandomGrayscale (or the reverse, MoCo v1's order) with the drawn params."""
    if not inplace and bool(params.jitter.any() | params.gray.any()):
        x = x.clone()
    if gray_before_jitter:
        x = random_grayscale(x, params.gray, inplace=True)
    x = color_jitter(x, params.factors, params.order, params.jitter, inplace=True)
    if not gray_before_jitter:
        x = random_grayscale(x, params.gray, inplace=True)
    return x
