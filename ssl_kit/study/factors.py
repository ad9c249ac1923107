"""What a what-if question may change: one augmentation knob of the baseline's policy, or one property of the
world's objects it trains on. A `Factor` names the knob, says what it does in plain words, turns a level into the
change a training cell carries (`cell_change`) and says what the paper (or, where it says nothing, the work it
builds on) predicts for it. `FACTORS` is the table; `ssl_kit.study.what_if_sweep` trains and scores the levels.

Augmentation factors change the baseline's policy (`ssl_kit.augment.policy`) through the run's `augment` knob;
world factors train on the world's objects changed in one property (`ssl_kit.world.variation`), rendered once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ssl_kit.augment import AugmentPolicy, format_changes, get_policy
from ssl_kit.errors import ConfigError
from ssl_kit.world.variation import ObjectsVariant

AUGMENT, WORLD = "augment", "world"
BASELINE_LEVEL = "as trained"  # a level that leaves the baseline as it is


@dataclass(frozen=True)
class Factor:
    """One knob a what-if question turns. `levels` are its default dose-response levels; `baseline_level` is the
    level the study's networks train with (None: it depends on the policy, as for augmentation knobs)."""

    name: str
    kind: str  # AUGMENT or WORLD
    about: str
    predicts: str
    levels: tuple
    to_change: Callable = field(
        repr=False
    )  # (level, policy) -> policy field changes, or a world variant field
    baseline_level: object = None

    def policy_changes(self, level, policy: AugmentPolicy) -> dict:
        """The policy field changes a level of an augmentation factor makes to `policy` ({}: none)."""
        changes = self.to_change(level, policy)
        return {k: v for k, v in changes.items() if getattr(policy, k) != v}

    def cell_change(self, level, policy: str) -> dict:
        """What a training cell at `level` carries, against the baseline trained with `policy`: `augment` (the
        policy's changed fields, as text) or `data` (the world's objects changed in this property); {} when the
        level is the baseline's own."""
        if self.kind == AUGMENT:
            text = format_changes(self.policy_changes(level, get_policy(policy)))
            return {"augment": text} if text else {}
        variant = ObjectsVariant(**{self.name: level})
        return {"data": f"objects:{variant.text()}"} if variant.changes() else {}


def _scaled_jitter(level, policy: AugmentPolicy) -> dict:
    """Colour jitter `level` times as strong as the policy's (hue at most half a turn)."""
    level = float(level)
    return {
        "brightness": policy.brightness * level,
        "contrast": policy.contrast * level,
        "saturation": policy.saturation * level,
        "hue": min(policy.hue * level, 0.5),
    }


# Ericsson et al.'s split of MoCo v2's augmentation: spatial only ("ventral") or appearance only ("dorsal")
_PRESETS = {
    BASELINE_LEVEL: {},
    "ventral": {"jitter_p": 0.0, "grayscale_p": 0.0, "blur_p": 0.0},
    "dorsal": {"crop": False, "flip_p": 0.0},
}


def _preset(level, policy: AugmentPolicy) -> dict:
    if level not in _PRESETS:
        raise ConfigError(f"factor preset: unknown level {level!r} (levels: {', '.join(_PRESETS)})")
    return _PRESETS[level]


def _one(field_name: str, convert: Callable = float) -> Callable:
    return lambda level, policy: {field_name: convert(level)}


FACTORS: dict[str, Factor] = {
    f.name: f
    for f in (
        Factor(
            "crop_scale", AUGMENT,
            "the smallest crop, as a share of the image's area (crops are drawn between it and the whole image)",
            "finding 3: aggressive crops (a small share) make a contrastive network occlusion-invariant; gentler "
            "crops, less so",
            (0.08, 0.2, 0.5, 0.8),
            lambda level, policy: {"crop": True, "crop_scale": (float(level), 1.0)},
        ),
        Factor(
            "jitter_strength", AUGMENT,
            "colour jitter (brightness, contrast, saturation, hue) as a multiple of the policy's own",
            "an augmentation buys the invariance it simulates (the paper, section 4): colour jitter, invariance "
            "to the illumination's colour",
            (0.0, 0.5, 1.0, 2.0),
            _scaled_jitter,
            1.0,
        ),
        Factor(
            "jitter_p", AUGMENT, "the share of views whose colours are jittered",
            "as for jitter_strength: invariance to the illumination's colour rises with it",
            (0.0, 0.4, 0.8, 1.0), _one("jitter_p"),
        ),
        Factor(
            "grayscale_p", AUGMENT, "the share of views turned grey",
            "grey views hide colour: invariance to the illumination's colour rises with it",
            (0.0, 0.2, 0.5), _one("grayscale_p"),
        ),
        Factor(
            "blur_p", AUGMENT, "the share of views blurred",
            "no protocol of the six simulates blur: the paper predicts no invariance follows it",
            (0.0, 0.5, 1.0), _one("blur_p"),
        ),
        Factor(
            "flip_p", AUGMENT, "the share of views mirrored left to right",
            "a mirror image is a viewpoint seen from the other side: a little viewpoint invariance at most",
            (0.0, 0.5, 1.0), _one("flip_p"),
        ),
        Factor(
            "preset", AUGMENT,
            "the policy as trained, its spatial half only (crop and flip: 'ventral') or its appearance half only "
            "(colour, grey, blur: 'dorsal'), after Ericsson et al.'s split",
            "spatial augmentations buy occlusion invariance and appearance augmentations illumination invariance "
            "(the paper's finding 3 and section 4; Ericsson et al.)",
            tuple(_PRESETS), _preset, BASELINE_LEVEL,
        ),
        Factor(
            "views", WORLD, "the arc of azimuth, in degrees, from which each training instance is seen",
            "the paper credits labels that tie an object's views together for a supervised network's viewpoint "
            "invariance: fewer views of each instance, less of it",
            (30.0, 90.0, 180.0, 360.0), None, 360.0,
        ),
        Factor(
            "lights", WORLD, "how much the light varies across the training images (1: the world's, 0: one light)",
            "as for views, with illumination: fewer lights, less illumination invariance for a supervised network",
            (0.0, 0.5, 1.0), None, 1.0,
        ),
        Factor(
            "labels", WORLD,
            "the classes a supervised network learns: the 10 categories, 40 subcategories or every instance",
            "ImageNet's 1,000 fine classes against the world's 10: finer labels ask a supervised network to tell "
            "instances apart, which rewards instance invariance and may cost viewpoint invariance",
            ("category", "subcategory", "instance"), None, "category",
        ),
        Factor(
            "markings", WORLD, "one-sided markings that make each object look different from each side",
            "without them an object looks alike from every side: viewpoint invariance comes more easily",
            (True, False), None, True,
        ),
        Factor(
            "background", WORLD, "the backdrop: the world's texture, one plain colour, or clutter of other objects",
            "clutter makes the images scene-like (finding 2): a contrastive network's positives then share "
            "background more than object",
            ("textured", "plain", "cluttered"), None, "textured",
        ),
        Factor(
            "occluders", WORLD, "the share of training images with a block in front of the object",
            "occluded training images give the occlusion invariance the paper credits to crops (finding 3)",
            (0.0, 0.5, 1.0), None, 0.0,
        ),
    )
}  # fmt: skip


def get_factor(name: str) -> Factor:
    if name not in FACTORS:
        raise ConfigError(f"unknown what-if factor {name!r} (factors: {', '.join(FACTORS)})")
    return FACTORS[name]


def baseline_level(factor: Factor, policy: str):
    """The level the baseline trained with `policy` has: an augmentation knob's value in that policy, or the
    world's own property."""
    if factor.baseline_level is not None or factor.kind == WORLD:
        return factor.baseline_level
    p = get_policy(policy)
    return {"crop_scale": p.crop_scale[0] if p.crop else None}.get(factor.name, getattr(p, factor.name, None))
