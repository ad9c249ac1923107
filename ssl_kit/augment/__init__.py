"""Augmentation policies as data, applied batched on the device to uint8 images.

    from ssl_kit.augment import get_policy, two_views
    g = torch.Generator().manual_seed(0)
    v1, v2 = two_views(images_uint8, get_policy("mocov2"), out_size=64, generator=g)

See `policy` for the named policies and their sources, `pipeline` for the order of operations and how the
randomness is drawn.
"""

from __future__ import annotations

from ssl_kit.augment.blur import gaussian_blur, gaussian_kernels, random_blur, sample_blur_params
from ssl_kit.augment.color import (
    ColorParams,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    apply_color,
    color_jitter,
    random_grayscale,
    rgb_to_grayscale,
    sample_color_params,
)
from ssl_kit.augment.geometry import (
    crop_grid,
    crop_theta,
    full_boxes,
    resized_crop,
    sample_crop_boxes,
    sample_flips,
)
from ssl_kit.augment.pipeline import (
    Params,
    apply_params,
    augment,
    denormalize,
    normalize,
    sample_params,
    step_views,
    to_unit_float,
    two_views,
)
from ssl_kit.augment.policy import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    AugmentPolicy,
    PolicyLike,
    get_policy,
    list_policies,
)

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "AugmentPolicy",
    "ColorParams",
    "Params",
    "PolicyLike",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "apply_color",
    "apply_params",
    "augment",
    "color_jitter",
    "crop_grid",
    "crop_theta",
    "denormalize",
    "full_boxes",
    "gaussian_blur",
    "gaussian_kernels",
    "get_policy",
    "list_policies",
    "normalize",
    "random_blur",
    "random_grayscale",
    "resized_crop",
    "rgb_to_grayscale",
    "sample_blur_params",
    "sample_color_params",
    "sample_crop_boxes",
    "sample_flips",
    "sample_params",
    "step_views",
    "to_unit_float",
    "two_views",
]
