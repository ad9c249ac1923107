"""Augmentation explorer: turn a policy's knobs and see fresh positive pairs of a few images.

    explorer = AugmentExplorer.from_folder("data/world/quick/objects/train", n=4, size=32)
    explorer.widget

Start from a named policy (`ssl_kit.augment.list_policies`), then change the crop (on/off, smallest crop
area), colour jitter (probability and strength), grayscale, blur and flip probabilities. Views are drawn
exactly as the trainer draws them (`sample_params` + `apply_params`, one seeded CPU generator), shown before
normalisation. Knob changes keep the seed, so only the changed knob moves (the pipeline always draws every
parameter, whatever is switched off); "resample" draws new views.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F

from ssl_kit.augment.pipeline import apply_params, sample_params, to_unit_float
from ssl_kit.augment.policy import AugmentPolicy, get_policy, list_policies
from ssl_kit.data.memory import load_labelled_folder
from ssl_kit.viz.augment_views import GUTTER
from ssl_kit.viz.widgets.common import as_nchw_uint8, guarded, png_bytes, to_hwc_uint8


def jitter_overrides(base: AugmentPolicy, strength: float) -> dict:
    """Brightness, contrast and saturation = `strength`; hue scaled by the same factor (policies without
    jitter: hue = strength / 4, the MoCo v2 and SimCLR ratio), capped at 0.5."""
    hue = base.hue * strength / base.brightness if base.brightness > 0 else strength / 4
    return dict(brightness=strength, contrast=strength, saturation=strength, hue=min(0.5, hue))


class AugmentExplorer:
    """Controls: `policy_dropdown`, `crop_checkbox`, `crop_min`, `jitter_p`, `jitter_strength`, `grayscale_p`,
    `blur_p`, `flip_p`, `resample_button`.

    State after each update: `policy` (the AugmentPolicy the knobs describe), `seed`, `originals` (n, 3, out, out)
    and `views` (view 1, view 2), float tensors in [0, 1] before normalisation, `params` (the drawn parameters
    of both views), `grid` (the uint8 picture shown), `error`.
    """

    def __init__(
        self,
        images,
        policy: str | AugmentPolicy = "mocov2",
        *,
        out_size: int | None = None,
        n: int = 4,
        seed: int = 0,
        tile: int = 96,
    ):
        images = as_nchw_uint8(images)
        self.x = to_unit_float(images[:n].cpu())
        self.out_size = out_size or int(images.shape[-1])
        self.seed, self.tile, self.error = seed, tile, None
        self._syncing = False
        base = get_policy(policy)
        names = list_policies() if base.name in list_policies() else [base.name, *list_policies()]
        self._custom = {base.name: base} if base.name not in list_policies() else {}
        slider = dict(
            min=0.0, max=1.0, step=0.05, continuous_update=False, style={"description_width": "110px"}
        )
        self.policy_dropdown = widgets.Dropdown(options=names, value=base.name, description="start from")
        self.crop_checkbox = widgets.Checkbox(True, description="random crop", indent=False)
        self.crop_min = widgets.FloatSlider(0.2, **{**slider, "min": 0.05}, description="crop scale min")
        self.jitter_p = widgets.FloatSlider(0.0, **slider, description="jitter p")
        self.jitter_strength = widgets.FloatSlider(
            0.0, **{**slider, "max": 1.6}, description="jitter strength"
        )
        self.grayscale_p = widgets.FloatSlider(0.0, **slider, description="grayscale p")
        self.blur_p = widgets.FloatSlider(0.0, **slider, description="blur p")
        self.flip_p = widgets.FloatSlider(0.0, **slider, description="flip p")
        self.resample_button = widgets.Button(description="resample", icon="refresh")
        self.picture = widgets.Image(format="png")
        self.description, self.status = widgets.HTML(), widgets.HTML()
        self.knobs = [
            self.crop_checkbox,
            self.crop_min,
            self.jitter_p,
            self.jitter_strength,
            self.grayscale_p,
            self.blur_p,
            self.flip_p,
        ]
        self._load_policy(base.name)
        self._render()
        self.policy_dropdown.observe(self._on_policy, "value")
        for knob in self.knobs:
            knob.observe(self._on_knob, "value")
        self.resample_button.on_click(lambda _b: self.resample())
        knobs = widgets.VBox([self.policy_dropdown, *self.knobs, self.resample_button])
        self.widget = widgets.VBox(
            [widgets.HBox([knobs, widgets.VBox([self.picture, self.description])]), self.status]
        )

    @classmethod
    def from_folder(
        cls, folder: str | Path, n: int = 4, size: int = 64, seed: int = 0, **kwargs
    ) -> AugmentExplorer:
        """`n` images of an ImageFolder (one per class while classes last, picked with `seed`), loaded at `size`."""
        images, labels, _ = load_labelled_folder(folder, size)
        rng = np.random.default_rng(seed)
        by_class = [rng.permutation(np.flatnonzero(labels.numpy() == c)) for c in np.unique(labels.numpy())]
        longest = max(len(ix) for ix in by_class)
        picks = [int(ix[j]) for j in range(longest) for ix in by_class if j < len(ix)][:n]  # round robin
        return cls(images[picks], seed=seed, **kwargs)

    def _base(self, name: str) -> AugmentPolicy:
        return self._custom.get(name) or get_policy(name)

    def _load_policy(self, name: str) -> None:
        """Set every knob to the policy's values (one update afterwards, not one per knob)."""
        p = self._base(name)
        self._syncing = True
        try:
            self.crop_checkbox.value = p.crop
            self.crop_min.value = p.crop_scale[0]
            self.jitter_p.value, self.jitter_strength.value = p.jitter_p, p.brightness
            self.grayscale_p.value, self.blur_p.value, self.flip_p.value = p.grayscale_p, p.blur_p, p.flip_p
        finally:
            self._syncing = False

    @property
    def policy(self) -> AugmentPolicy:
        """The policy the knobs describe: the chosen policy with every knob's value."""
        base = self._base(self.policy_dropdown.value)
        changes = dict(
            crop=self.crop_checkbox.value,
            flip_p=self.flip_p.value,
            jitter_p=self.jitter_p.value,
            grayscale_p=self.grayscale_p.value,
            blur_p=self.blur_p.value,
        )
        low = float(self.crop_min.value)
        if not np.isclose(low, base.crop_scale[0]):
            changes["crop_scale"] = (min(low, base.crop_scale[1]), base.crop_scale[1])
        if not np.isclose(self.jitter_strength.value, base.brightness):
            changes.update(jitter_overrides(base, float(self.jitter_strength.value)))
        changed = {k: v for k, v in changes.items() if getattr(base, k) != v}
        name = base.name if not changed else f"{base.name} (changed: {', '.join(changed)})"
        return dataclasses.replace(base, **changed, name=name)  # validated by AugmentPolicy

    def resample(self) -> None:
        """Draw new views (the next seed), same knobs."""
        self.seed += 1
        self._update()

    @guarded
    def _on_policy(self, change) -> None:
        self._load_policy(change["new"])
        self._render()

    @guarded
    def _on_knob(self, change) -> None:
        if not self._syncing:
            self._render()

    @guarded
    def _update(self) -> None:
        self._render()

    def _render(self) -> None:
        policy, out = self.policy, self.out_size
        n, _, h, w = self.x.shape
        gen = torch.Generator().manual_seed(self.seed)
        self.params = (sample_params(n, h, w, policy, out, gen), sample_params(n, h, w, policy, out, gen))
        self.views = tuple(apply_params(self.x, p, policy, out, normalise=False) for p in self.params)
        self.originals = F.interpolate(
            self.x, size=(out, out), mode="bilinear", align_corners=False, antialias=True
        )
        self.grid = self._grid()
        self.picture.value = png_bytes(self.grid)
        self.description.value = (
            f"<b>{policy.name}</b>, seed {self.seed}: crop {policy.crop_scale if policy.crop else 'off'}, "
            f"jitter p={policy.jitter_p:g} (b/c/s {policy.brightness:g}, hue {policy.hue:g}), "
            f"grayscale p={policy.grayscale_p:g}, blur p={policy.blur_p:g}, flip p={policy.flip_p:g}<br>"
            "columns: original | view 1 | view 2 (a positive pair)"
        )

    def _grid(self) -> np.ndarray:
        """rows of (original | view 1 | view 2), each tile `tile` px (nearest), 2 px white gutters."""
        tiles = [self.originals, *self.views]
        step = self.tile + GUTTER
        rows = len(self.x)
        grid = np.full((rows * step - GUTTER, 3 * step - GUTTER, 3), 255, dtype=np.uint8)
        for r in range(rows):
            for c, t in enumerate(tiles):
                tile = torch.from_numpy(to_hwc_uint8(t[r])).permute(2, 0, 1)[None].float()
                tile = F.interpolate(tile, size=(self.tile, self.tile), mode="nearest")[0]
                grid[r * step : r * step + self.tile, c * step : c * step + self.tile] = tile.permute(
                    1, 2, 0
                ).byte()
        return grid
