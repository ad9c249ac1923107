"""Apply an augmentation policy to a batch of uint8 images, on the images' device.

    views = augment(images_uint8, "mocov2", out_size=64, generator=g)      # (B, 3, 64, 64) float32
    q, k = step_views(images_uint8, "mocov2", 64, 2, generator=g)         # a positive pair: what a step draws

Order of operations (that of the original per-image pipelines; crop and flip commute with the colour
ops): uint8 -> float in [0, 1] (once) -> RandomResizedCrop + flip (one grid_sample) -> ColorJitter and
RandomGrayscale (MoCo v1: grayscale first) -> Gaussian blur -> normalise with the policy's mean/std.

Randomness: every draw comes from `generator`, a CPU `torch.Generator` (None = torch's global CPU
generator, seeded by `torch.manual_seed`). Draws are made on the CPU, in a fixed order and always in full
(crop candidates, flips, jitter coins/factors/orders, grayscale coins, blur coins/sigmas), whatever the
policy switches off: so a seed gives the same output on every device, and two policies that differ in one
switch (an ablation) see the same crops, colours and blurs for everything else. The drawn parameters are
returned as a dict of CPU tensors when `return_params=True`:

    boxes (B, 4) int64 (x, y, w, h) in input pixels   flips (B,) bool
    jitter (B,) bool       jitter_factors (B, 4) float (brightness, contrast, saturation, hue shift)
    jitter_order (B, 4) int64 (op ids 0..3 in that order, applied first to last)
    gray (B,) bool         blur (B,) bool        blur_sigma (B,) float, in output pixels

Flags are the effective ones (e.g. `flips` is all False for a policy with flip_p=0).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ssl_kit.augment.blur import blur_radius, random_blur, sample_blur_params
from ssl_kit.augment.color import ColorParams, apply_color, sample_color_params
from ssl_kit.augment.geometry import full_boxes, resized_crop, sample_crop_boxes, sample_flips
from ssl_kit.augment.policy import PolicyLike, get_policy

Params = dict[str, Tensor]


def _check_images(images: Tensor) -> None:
    if not torch.is_tensor(images) or images.dtype != torch.uint8:
        got = images.dtype if torch.is_tensor(images) else type(images).__name__
        raise TypeError(f"augment: expected a uint8 tensor (B, 3, H, W), got {got}")
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"augment: expected images of shape (B, 3, H, W), got {tuple(images.shape)}")


def _check_generator(generator: torch.Generator | None) -> None:
    if generator is not None and generator.device.type != "cpu":
        raise ValueError(f"augment: the generator must live on the CPU, got one on {generator.device}")


def sample_params(
    n: int,
    height: int,
    width: int,
    policy: PolicyLike,
    out_size: int,
    generator: torch.Generator | None = None,
) -> Params:
    """Draw all random parameters of `n` views of `height` x `width` images (CPU tensors, see module doc)."""
    policy = get_policy(policy)
    _check_generator(generator)
    boxes = sample_crop_boxes(n, height, width, policy.crop_scale, policy.crop_ratio, generator)
    if not policy.crop:
        boxes = full_boxes(n, height, width)
    flips = sample_flips(n, policy.flip_p, generator)
    color = sample_color_params(
        n,
        policy.jitter_p,
        policy.brightness,
        policy.contrast,
        policy.saturation,
        policy.hue,
        policy.grayscale_p,
        generator,
    )
    blur, sigma = sample_blur_params(n, policy.blur_p, policy.blur_sigma_at(out_size), generator)
    return {
        "boxes": boxes,
        "flips": flips,
        "jitter": color.jitter,
        "jitter_factors": color.factors,
        "jitter_order": color.order,
        "gray": color.gray,
        "blur": blur,
        "blur_sigma": sigma,
    }


def normalize(x: Tensor, policy: PolicyLike, inplace: bool = False) -> Tensor:
    """(x - mean) / std per channel, for x (B, 3, H, W) in [0, 1]."""
    policy = get_policy(policy)
    mean = torch.tensor(policy.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(policy.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return x.sub_(mean).div_(std) if inplace else (x - mean) / std


def denormalize(x: Tensor, policy: PolicyLike) -> Tensor:
    """Inverse of `normalize`: back to [0, 1] (not clamped)."""
    policy = get_policy(policy)
    mean = torch.tensor(policy.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(policy.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return x * std + mean


def apply_params(
    x: Tensor, params: Params, policy: PolicyLike, out_size: int, normalise: bool = True
) -> Tensor:
    """Apply drawn `params` to float images x (B, 3, H, W) in [0, 1]; returns (B, 3, out, out) on x's device.

    With `normalise=False` the result stays in [0, 1] (for display).
    """
    policy = get_policy(policy)
    x = resized_crop(x, params["boxes"], params["flips"], out_size)
    color = ColorParams(params["jitter"], params["jitter_factors"], params["jitter_order"], params["gray"])
    x = apply_color(x, color, gray_before_jitter=policy.gray_before_jitter, inplace=True)
    x = random_blur(
        x, params["blur"], params["blur_sigma"], blur_radius(policy.blur_sigma_at(out_size)[1]), inplace=True
    )
    return normalize(x, policy, inplace=True) if normalise else x  # x is ours (grid_sample's output)


def to_unit_float(images: Tensor) -> Tensor:
    """uint8 (B, 3, H, W) -> float32 in [0, 1] on the same device (checks dtype and shape)."""
    _check_images(images)
    return images.to(torch.float32).div_(255.0)


def augment(
    images: Tensor,
    policy: PolicyLike,
    out_size: int,
    generator: torch.Generator | None = None,
    return_params: bool = False,
) -> Tensor | tuple[Tensor, Params]:
    """One augmented, normalised view per image.

    Args:
        images: uint8 (B, 3, H, W) on any device.
        policy: an AugmentPolicy or a registered name (see `list_policies()`).
        out_size: side of the square output views.
        generator: CPU torch.Generator for all draws (None: torch's global generator).
        return_params: also return the drawn parameters (dict of CPU tensors, see module doc).

    Returns:
        float32 (B, 3, out_size, out_size) on images.device, or (views, params).
    """
    policy = get_policy(policy)
    x = to_unit_float(images)
    params = sample_params(len(x), x.shape[2], x.shape[3], policy, out_size, generator)
    out = apply_params(x, params, policy, out_size)
    return (out, params) if return_params else out


def step_views(
    images: Tensor, policy: PolicyLike, out_size: int, n_views: int, generator: torch.Generator | None = None
) -> list[Tensor]:
    """The views a training step draws, in one batched `augment` call: `n_views` tensors (B, 3, S, S), each
    normalised and channels-last.

    `images` (B, 3, H, W): each image is viewed `n_views` times; (B, V, 3, H, W): one view of each of the V
    members given (two frames of a video, one region tracked in time, crops a streaming worker cut from the
    original image). Draws are view-major (every image's first view, then every image's second), so view 0
    of every image comes first from `generator`, as `augment` on the images stacked view after view.
    """
    if images.ndim == 4:
        images = images.unsqueeze(1).expand(-1, n_views, -1, -1, -1)
    flat = images.transpose(0, 1).flatten(0, 1)  # (V * B, 3, H, W), view-major
    out = augment(flat, policy, out_size, generator=generator)
    return list(out.contiguous(memory_format=torch.channels_last).chunk(images.shape[1]))
