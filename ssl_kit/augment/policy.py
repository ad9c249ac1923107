"""Augmentation policies as data: one frozen dataclass, a table of named policies, and ablations.

A policy says *what* to randomise and how much; `ssl_kit.augment.pipeline.augment` applies it batched on
the device. Every named policy follows the original per-image torchvision pipeline of its method:

- "mocov1": facebookresearch/moco `main_moco.py` (aug_plus off): RandomResizedCrop(scale=(0.2, 1)),
  RandomGrayscale(0.2), ColorJitter(0.4, 0.4, 0.4, 0.4) always applied, RandomHorizontalFlip. Note the
  grayscale comes *before* the jitter there (`gray_before_jitter=True`).
- "mocov2": same file, aug_plus on: RandomResizedCrop(scale=(0.2, 1)), RandomApply(ColorJitter(0.4, 0.4,
  0.4, 0.1), p=0.8), RandomGrayscale(0.2), RandomApply(GaussianBlur(sigma in [0.1, 2]), p=0.5), flip.
- "pirl": VISSL `configs/config/pretrain/pirl/pirl_jigsaw_4node_resnet.yaml` (the image branch):
  RandomResizedCrop(224) with torchvision's default scale (0.08, 1), ColorJitter(0.4, 0.4, 0.4, 0.2)
  always applied, RandomGrayscale(0.2), RandomHorizontalFlip. VISSL also applies `ImgPilRandomPhotometric`
  (posterize, sharpness, solarize, autocontrast with p=0.66); it is *not* reproduced here.
- "simclr": SimCLR v1 (Chen et al. 2020, appendix A): RandomResizedCrop(scale=(0.08, 1)), flip,
  RandomApply(ColorJitter(0.8, 0.8, 0.8, 0.2), p=0.8), RandomGrayscale(0.2), GaussianBlur(sigma in
  [0.1, 2], p=0.5). SimCLR's blur kernel spans 10% of the image; here it is truncated at 3 sigma.
- "supervised": the ImageNet training recipe: RandomResizedCrop(scale=(0.08, 1)), flip.
- "none": resize the whole image to the output size; nothing random.

Ablations, all relative to "mocov2" (change one thing, keep the rest): "no_crop" (resize the whole image,
everything else kept), "crop_only" (crop + flip, no colour, no blur), "crop_0.08" / "crop_0.2" /
"crop_0.5" / "crop_0.8" (crop scale (s, 1)), "no_jitter", "no_grayscale", "no_blur", "no_flip".

Units: `blur_sigma` is given in pixels *at a 224 px output*, as in the papers, and scaled by
`out_size / 224` when applied (`blur_sigma_at(out_size)`), so a 64 px view is blurred as much, relative
to its size, as a 224 px one. Colour ops act on images in [0, 1]; `mean`/`std` normalise the result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ssl_kit.common.imagenet import IMAGENET_MEAN, IMAGENET_STD
from ssl_kit.errors import ConfigError

REFERENCE_SIZE = 224  # the output size at which `blur_sigma` is given


@dataclass(frozen=True)
class AugmentPolicy:
    """One augmentation policy. Probabilities are per sample; ranges are (low, high) inclusive.

    Attributes:
        name: a label saved with the run (`get_policy` fills it with the registry name).
        crop: RandomResizedCrop when True; when False the whole image is resized to the output size.
        crop_scale: crop area as a fraction of the image area, sampled uniformly (torchvision's `scale`).
        crop_ratio: crop aspect ratio w/h, sampled log-uniformly (torchvision's `ratio`).
        flip_p: probability of a horizontal flip.
        jitter_p: probability that ColorJitter is applied to a sample at all.
        brightness, contrast, saturation: factors drawn uniformly in [max(0, 1 - x), 1 + x].
        hue: hue shift drawn uniformly in [-hue, hue] (in turns, at most 0.5).
        grayscale_p: probability of converting to 3-channel grayscale (ITU-R 601-2 luma).
        gray_before_jitter: MoCo v1 applies RandomGrayscale before ColorJitter; the others after.
        blur_p: probability of a Gaussian blur.
        blur_sigma: blur sigma range in pixels at a 224 px output, scaled by out_size / 224.
        mean, std: per-channel normalisation of the [0, 1] image.
    """

    name: str
    crop: bool = True
    crop_scale: tuple[float, float] = (0.2, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter_p: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0
    grayscale_p: float = 0.0
    gray_before_jitter: bool = False
    blur_p: float = 0.0
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"AugmentPolicy.name: expected a non-empty string, got {self.name!r}")
        for f in ("crop_scale", "crop_ratio", "blur_sigma", "mean", "std"):  # lists from yaml -> tuples
            object.__setattr__(self, f, tuple(float(v) for v in getattr(self, f)))
        _check_range(self, "crop_scale", 0.0, 1.0, open_low=True)
        _check_range(self, "crop_ratio", 0.0, float("inf"), open_low=True)
        _check_range(self, "blur_sigma", 0.0, float("inf"), open_low=True)
        for f in ("flip_p", "jitter_p", "grayscale_p", "blur_p"):
            _check_value(self, f, 0.0, 1.0)
        for f in ("brightness", "contrast", "saturation"):
            _check_value(self, f, 0.0, float("inf"))
        _check_value(self, "hue", 0.0, 0.5)
        for f in ("mean", "std"):
            if len(getattr(self, f)) != 3:
                raise ConfigError(f"AugmentPolicy.{f}: expected 3 values (R, G, B), got {getattr(self, f)}")
        if min(self.std) <= 0:
            raise ConfigError(f"AugmentPolicy.std: expected positive values, got {self.std}")

    def blur_sigma_at(self, out_size: int) -> tuple[float, float]:
        """The blur sigma range in pixels of an `out_size` output (given at 224 px, scaled linearly)."""
        s = out_size / REFERENCE_SIZE
        return (self.blur_sigma[0] * s, self.blur_sigma[1] * s)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists) for `config.yaml`; `get_policy(**d)` or `from_dict` reads it."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AugmentPolicy:
        """Inverse of `to_dict`; unknown keys raise ConfigError."""
        _check_fields(d)
        if "name" not in d:
            raise ConfigError("AugmentPolicy: field 'name' is missing")
        return cls(**dict(d))


PolicyLike = str | AugmentPolicy  # what `augment` and friends accept: a registered name or a policy


def _check_value(p: AugmentPolicy, field: str, lo: float, hi: float) -> None:
    v = getattr(p, field)
    if not isinstance(v, int | float) or not lo <= v <= hi:
        raise ConfigError(f"AugmentPolicy.{field}: expected a number in [{lo}, {hi}], got {v!r}")


def _check_range(p: AugmentPolicy, field: str, lo: float, hi: float, open_low: bool = False) -> None:
    v = getattr(p, field)
    ok = len(v) == 2 and v[0] <= v[1] and (v[0] > lo if open_low else v[0] >= lo) and v[1] <= hi
    if not ok:
        left = "(" if open_low else "["
        raise ConfigError(
            f"AugmentPolicy.{field}: expected (low, high) with low <= high inside {left}{lo}, {hi}], got {v}"
        )


def _field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(AugmentPolicy)]


def _check_fields(d: Mapping[str, Any]) -> None:
    unknown = sorted(set(d) - set(_field_names()))
    if unknown:
        raise ConfigError(
            f"AugmentPolicy: unknown field(s) {', '.join(map(repr, unknown))}; "
            f"valid fields: {', '.join(_field_names())}"
        )


_MOCOV2 = dict(
    crop_scale=(0.2, 1.0),
    flip_p=0.5,
    jitter_p=0.8,
    brightness=0.4,
    contrast=0.4,
    saturation=0.4,
    hue=0.1,
    grayscale_p=0.2,
    blur_p=0.5,
    blur_sigma=(0.1, 2.0),
)


def _ablation(**changes: Any) -> dict[str, Any]:
    return {**_MOCOV2, **changes}


_POLICIES: dict[str, dict[str, Any]] = {
    "mocov1": dict(
        crop_scale=(0.2, 1.0),
        jitter_p=1.0,
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.4,
        grayscale_p=0.2,
        gray_before_jitter=True,
    ),
    "mocov2": dict(_MOCOV2),
    "pirl": dict(
        crop_scale=(0.08, 1.0),
        jitter_p=1.0,
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.2,
        grayscale_p=0.2,
    ),
    "simclr": dict(
        crop_scale=(0.08, 1.0),
        jitter_p=0.8,
        brightness=0.8,
        contrast=0.8,
        saturation=0.8,
        hue=0.2,
        grayscale_p=0.2,
        blur_p=0.5,
        blur_sigma=(0.1, 2.0),
    ),
    "supervised": dict(crop_scale=(0.08, 1.0)),
    "none": dict(crop=False, flip_p=0.0),
    # ablations of mocov2
    "no_crop": _ablation(crop=False),
    "crop_only": dict(crop_scale=(0.2, 1.0), flip_p=0.5),
    **{f"crop_{s}": _ablation(crop_scale=(s, 1.0)) for s in (0.08, 0.2, 0.5, 0.8)},
    "no_jitter": _ablation(jitter_p=0.0),
    "no_grayscale": _ablation(grayscale_p=0.0),
    "no_blur": _ablation(blur_p=0.0),
    "no_flip": _ablation(flip_p=0.0),
}


def list_policies() -> list[str]:
    """Names accepted by `get_policy`: the methods' policies first, then the mocov2 ablations."""
    return list(_POLICIES)


def get_policy(name: str | AugmentPolicy, **overrides: Any) -> AugmentPolicy:
    """The named policy, with any field replaced by `overrides` (e.g. `get_policy("mocov2", blur_p=0)`).

    An `AugmentPolicy` passes through (overrides still apply). Unknown names or fields raise ConfigError
    listing the valid ones.
    """
    _check_fields(overrides)
    if isinstance(name, AugmentPolicy):
        return dataclasses.replace(name, **overrides) if overrides else name
    if name not in _POLICIES:
        raise ConfigError(f"unknown augmentation policy {name!r}; valid policies: {', '.join(_POLICIES)}")
    return AugmentPolicy(**{"name": name, **_POLICIES[name], **overrides})
