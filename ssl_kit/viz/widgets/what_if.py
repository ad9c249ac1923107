"""What-if explorer: pick a network, one factor and its levels, see what each level trains on, press run, then
see which invariance moved.

    explorer = WhatIfExplorer("data/world/quick", "results/quick/sweeps", factor="jitter_strength")
    explorer.widget          # display it; explorer.run() is the run button

Before running, `previews` shows each level's training images: views drawn with the level's policy (an
augmentation factor, exactly as the trainer draws them) or the world's images of one instance rendered with the
level's property (a world factor). Running calls `ssl_kit.study.what_if_sweep.what_if` (progress bars in the widget;
cached cells are read back, so asking again is instant) and shows its answer: paired bars per invariance, one
sentence per level (the invariance that moved most, with its spread and what the paper predicts), the change of
kNN and linear-probe accuracy, the nearest neighbours of one query under the baseline and under a level side by
side, and on request (`layer_map`) the change layer by layer.
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import numpy as np
import torch
from PIL import Image

from ssl_kit.augment import changed_policy
from ssl_kit.augment.pipeline import apply_params, sample_params, to_unit_float
from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.study.factors import AUGMENT, FACTORS, get_factor
from ssl_kit.study.what_if_sweep import NETWORKS, WORDS, WhatIf, level_label, what_if
from ssl_kit.viz.what_if_plots import layer_change, plot_layer_change, plot_what_if
from ssl_kit.viz.widgets.common import figure_png, guarded, png_bytes
from ssl_kit.viz.widgets.neighbours import NeighbourBrowser
from ssl_kit.world.info import world_info
from ssl_kit.world.presets import get_preset
from ssl_kit.world.render import render
from ssl_kit.world.scene import pack
from ssl_kit.world.sets_static import objects_variant_plan
from ssl_kit.world.variation import ObjectsVariant

__all__ = ["WhatIfExplorer", "level_previews"]
TILE = 64  # preview pixels per image


def _strip(images: torch.Tensor) -> np.ndarray:
    """(n, 3, H, W) floats in [0, 1] -> one (H, n * (W + 2) - 2, 3) uint8 row with white gutters."""
    tiles = images.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    n, h, w, _ = tiles.shape
    row = np.full((h, n * (w + 2) - 2, 3), 255, np.uint8)
    for i, t in enumerate(tiles):
        row[:, i * (w + 2) : i * (w + 2) + w] = t
    return row


def level_previews(
    factor: str, levels, network: str, world: str | Path, n: int = 6, seed: int = 0
) -> dict[str, np.ndarray]:
    """Level label -> one row of `n` images it trains on: one view of each of `n` world objects drawn with the
    level's policy (an augmentation factor), or `n` views of one instance rendered with the level's property (a
    world factor)."""
    spec, out = get_factor(factor), {}
    policy = NETWORKS[network]["policy"]
    if spec.kind == AUGMENT:
        index = read_imagefolder(Path(world) / "objects" / "train")
        picks = [int(np.flatnonzero(index.labels == c)[0]) for c in np.unique(index.labels)][
            :n
        ]  # one a class
        images = [np.asarray(Image.open(index.paths[i]).convert("RGB").resize((TILE, TILE))) for i in picks]
        x = to_unit_float(torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous())
        for level in levels:
            p = changed_policy(policy, spec.cell_change(level, policy).get("augment"))
            gen = torch.Generator().manual_seed(seed)
            views = apply_params(x, sample_params(len(x), TILE, TILE, p, TILE, gen), p, TILE, False)
            out[level_label(spec, level)] = _strip(views)
        return out
    info = world_info(world)
    if info is None:
        raise ValueError(f"{world}: no world to render previews from")
    preset = get_preset(info.preset)
    for level in levels:
        plan = objects_variant_plan(preset, info.seed, ObjectsVariant(**{spec.name: level}))
        frames = [f for f in plan.frames if f.meta["category"] == "car"][:n]  # one instance's views
        with torch.no_grad():
            images = render(pack([f.make_scene() for f in frames]), TILE).image
        out[level_label(spec, level)] = _strip(images)
    return out


class WhatIfExplorer:
    """Controls: `network_dropdown`, `factor_dropdown`, `levels_select`, `seeds_slider`, `run_button`,
    `layer_button`. State: `previews` (level label -> uint8 row), `answer` (the last `WhatIf`), `sentences`,
    `figure_png` (the paired bars), `neighbours` (a `NeighbourBrowser`), `layer_rows`, `error`."""

    def __init__(
        self,
        world: str | Path,
        out: str | Path,
        scale: str = "quick",
        *,
        network: str = "mocov2",
        factor: str = "jitter_strength",
        levels=None,
        n_seeds: int = 1,
        seed: int = 0,
        jobs: int | None = None,
        preview_images: int = 6,
    ):
        self.world, self.out, self.scale, self.seed, self.jobs = Path(world), Path(out), scale, seed, jobs
        self.n, self.error, self.answer, self.neighbours, self.layer_rows = (
            preview_images,
            None,
            None,
            None,
            None,
        )
        self.previews: dict[str, np.ndarray] = {}
        self._syncing = False
        self.sentences: list[str] = []
        self.figure_png = b""
        self.network_dropdown = widgets.Dropdown(options=list(NETWORKS), value=network, description="network")
        self.factor_dropdown = widgets.Dropdown(options=list(FACTORS), value=factor, description="factor")
        self.levels_select = widgets.SelectMultiple(description="levels", rows=4)
        self.seeds_slider = widgets.IntSlider(n_seeds, min=1, max=3, description="seeds")
        self.run_button = widgets.Button(description="run", icon="play", button_style="primary")
        self.layer_button = widgets.Button(description="layer map", icon="th", disabled=True)
        self.about, self.status, self.result_text = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.preview_box, self.result_box = widgets.VBox(), widgets.VBox()
        self.picture, self.layer_picture = widgets.Image(format="png"), widgets.Image(format="png")
        self.output = widgets.Output()  # the sweep's progress bars
        self._set_levels(levels)
        self.factor_dropdown.observe(lambda _: self._set_levels(None), "value")
        self.network_dropdown.observe(lambda _: self.preview(), "value")
        self.levels_select.observe(lambda _: None if self._syncing else self.preview(), "value")
        self.run_button.on_click(lambda _b: self.run())
        self.layer_button.on_click(lambda _b: self.layer_map())
        controls = widgets.HBox(
            [widgets.VBox([self.network_dropdown, self.factor_dropdown, self.seeds_slider]), self.levels_select,
             widgets.VBox([self.run_button, self.layer_button])]
        )  # fmt: skip
        self.widget = widgets.VBox(
            [controls, self.about, self.preview_box, self.output, self.status, self.result_box]
        )

    @property
    def factor(self):
        return get_factor(self.factor_dropdown.value)

    def _set_levels(self, levels) -> None:
        spec = self.factor
        options = list(dict.fromkeys([*spec.levels, *(levels or [])]))
        chosen = list(levels or [lv for lv in spec.levels if lv != spec.baseline_level][:2])
        self._syncing = True  # one preview for the new factor, not one per control set
        try:
            self.levels_select.options = [(level_label(spec, lv).split("=", 1)[1], lv) for lv in options]
            self.levels_select.value = tuple(chosen)
        finally:
            self._syncing = False
        self.about.value = (
            f"<b>{spec.name}</b>: {spec.about}.<br><i>What the paper predicts:</i> {spec.predicts}."
        )
        self.preview()

    @guarded
    def preview(self) -> None:
        """Show the images each chosen level trains on (a row per level)."""
        levels = list(self.levels_select.value)
        self.previews = level_previews(
            self.factor.name, levels, self.network_dropdown.value, self.world, self.n
        )
        rows = []
        for label, row in self.previews.items():
            pic = widgets.Image(value=png_bytes(row), format="png")
            rows.append(widgets.HBox([widgets.HTML(f"<div style='width:130px'>{label}</div>"), pic]))
        self.preview_box.children = rows

    @guarded
    def run(self) -> WhatIf:
        """Train (or read back) every level and its baseline with the chosen seeds, then show the answer."""
        levels = list(self.levels_select.value)
        seeds = list(range(self.seed, self.seed + self.seeds_slider.value))
        with self.output:
            answer = what_if(self.factor.name, levels, self.network_dropdown.value, seeds=seeds, scale=self.scale,
                             world=self.world, out=self.out, progress=True, jobs=self.jobs)  # fmt: skip
        self.show(answer)
        return answer

    def show(self, answer: WhatIf) -> None:
        """Show a `WhatIf`: the paired bars, a sentence per level, the accuracies' change, neighbours."""
        self.answer = answer
        self.figure_png = figure_png(plot_what_if(answer))
        self.picture.value = self.figure_png
        self.sentences = list(answer.sentences().values())
        accuracy = []
        for label in dict.fromkeys(answer.levels):
            for metric in ("knn_acc", "linear_acc"):
                row = next((r for r in answer.rows if r["level"] == label and r["metric"] == metric), None)
                if row and row["change"] != "":
                    spread = f" ± {row['change_sd']:.3f}" if row["seeds"] > 1 else ""
                    accuracy.append(f"{label}: {WORDS[metric]} {row['change']:+.3f}{spread}")
        self.result_text.value = "<br>".join(
            [
                *(f"<p>{s}</p>" for s in self.sentences),
                "<b>accuracy, change from the baseline</b>: " + "; ".join(accuracy),
            ]
        )
        first = next(
            (
                lv
                for lv in answer.levels
                if any(r["level"] == lv and r["role"] == "level" for r in answer.rows)
            ),
            None,
        )
        children = [self.picture, self.result_text]
        if first is not None:
            seed = answer.seeds[0]
            self.neighbours = NeighbourBrowser.from_folder(
                self.world / "objects" / "val", {"baseline": answer.run("baseline", seed), first: answer.run(first, seed)},
                compare=first, cache_dir=self.out / "features", k=6,
            )  # fmt: skip
            children += [
                widgets.HTML(f"<b>nearest neighbours: baseline and {first}, seed {seed}</b>"),
                self.neighbours.widget,
            ]
            self.layer_button.disabled = False
        self.result_box.children = [*children, self.layer_picture]

    @guarded
    def layer_map(self) -> list[dict]:
        """The change of the first changed level from the baseline, layer by layer (first seed)."""
        answer = self.answer
        first = next(
            lv for lv in answer.levels if any(r["level"] == lv and r["role"] == "level" for r in answer.rows)
        )
        self.layer_rows = layer_change(answer, first, self.world, cache_dir=self.out / "features")
        self.layer_picture.value = figure_png(plot_layer_change(self.layer_rows, first))
        return self.layer_rows
