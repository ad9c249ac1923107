"""Augmentation policies as data, applied batched on the device to uint8 images.

    from ssl_kit.augment import get_policy, step_views
    g = torch.Generator().manual_seed(0)
    v1, v2 = step_views(images_uint8, get_policy("mocov2"), 64, 2, generator=g)

See `policy` for the named policies and their sources, `pipeline` for the order of operations and how the
randomness is drawn.
"""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    **dict.fromkeys(("changed_policy", "format_changes", "parse_changes"), "changes"),
    **dict.fromkeys(("gaussian_blur", "gaussian_kernels", "random_blur", "sample_blur_params"), "blur"),
    **dict.fromkeys(("ColorParams", "adjust_brightness", "adjust_contrast", "adjust_hue", "adjust_saturation",
                     "apply_color", "color_jitter", "random_grayscale", "rgb_to_grayscale",
                     "sample_color_params"), "color"),
    **dict.fromkeys(("crop_grid", "crop_theta", "full_boxes", "resized_crop", "sample_crop_boxes",
                     "sample_flips"), "geometry"),
    **dict.fromkeys(("Params", "apply_params", "augment", "denormalize", "normalize", "sample_params",
                     "step_views", "to_unit_float"), "pipeline"),
    **dict.fromkeys(("IMAGENET_MEAN", "IMAGENET_STD", "AugmentPolicy", "PolicyLike", "get_policy",
                     "list_policies"), "policy"),
}  # fmt: skip
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
