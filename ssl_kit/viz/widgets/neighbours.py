"""Nearest-neighbour browser: which images does a model's layer put closest to a query image?

    run = study_mocov2("results/quick", "data/world/quick", "quick")  # the study's MoCo v2 run folder
    browser = NeighbourBrowser.from_folder("data/world/quick/objects/val", {"mocov2": run,
                                           "random init": random_init_model(load_model(run))}, compare="random init")
    browser.widget          # display it; browser.current / browser.compared hold what is shown

Features come from the kit's one feature cache (`ssl_kit.invariance.feature_cache.image_features`) at the
chosen layer (maps average-pooled), at the model's own input size; neighbours rank the other images by cosine
similarity. Each (model, layer) is extracted once per browser (and, with `cache_dir`, once per weights and
images on disk: another browser on the same images reads them back).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import torch

from ssl_kit.data.memory import load_labelled_folder
from ssl_kit.invariance.feature_cache import image_features
from ssl_kit.viz.widgets.common import caption, guarded, image_widget
from ssl_kit.viz.widgets.models import DEFAULT_LAYER, ModelBank, choosable_layers, default_layer


@dataclass
class Neighbours:
    """The k nearest images of one query under one (model, layer), most similar first."""

    model: str
    layer: str
    query: int
    indices: np.ndarray  # (k,) image indices, the query excluded
    similarities: np.ndarray  # (k,) cosine similarities, float64
    same_label: np.ndarray  # (k,) bool: the neighbour has the query's label

    @property
    def agreement(self) -> float:
        return float(self.same_label.mean()) if len(self.same_label) else 0.0


def unit_rows(features: np.ndarray) -> np.ndarray:
    f = np.asarray(features, dtype=np.float64)
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)


def cosine_neighbours(unit: np.ndarray, query: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, similarities) of the k rows of `unit` (unit-norm features) closest to row `query`, itself excluded."""
    sims = unit @ unit[query]
    order = np.argsort(-sims, kind="stable")
    order = order[order != query][:k]
    return order, sims[order]


class NeighbourBrowser:
    """Pick a model, a layer and a query image; see its top-k neighbours (optionally two models side by side).

    Inspect: `current` and `compared` (`Neighbours` or None), `features(model, layer)`, `computed` (every
    extraction made, in order), `error` (the last error shown, or None). Controls: `model_dropdown`,
    `layer_dropdown`, `query_slider`, `k_slider`, `compare_checkbox`, `compare_dropdown`, `page_slider`,
    `thumb_buttons` (click one to make it the query).
    """

    def __init__(
        self,
        images,
        labels,
        models,
        class_names=None,
        *,
        layer: str = DEFAULT_LAYER,
        k: int = 8,
        compare: str | None = None,
        cache_dir: str | Path | None = None,
        thumbs_per_page: int = 12,
        tile: int = 72,
        batch_size: int = 256,
    ):
        self.images = torch.as_tensor(images)
        if self.images.dtype != torch.uint8 or self.images.ndim != 4 or self.images.shape[1] != 3:
            raise ValueError(
                f"images must be uint8 (N, 3, H, W), got {self.images.dtype} {tuple(self.images.shape)}"
            )
        n = len(self.images)
        if n < 2:
            raise ValueError(f"a neighbour browser needs at least 2 images, got {n}")
        self.labels = np.asarray(labels).reshape(-1)
        if len(self.labels) != n:
            raise ValueError(f"labels: expected one per image ({n}), got {len(self.labels)}")
        self.class_names = list(class_names) if class_names is not None else None
        self.models = models if isinstance(models, ModelBank) else ModelBank(models)
        if compare is not None and compare not in self.models.names:
            raise KeyError(f"compare: no model named {compare!r}; models: {', '.join(self.models.names)}")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.batch_size, self.tile, self.per_page = batch_size, tile, thumbs_per_page
        self._features: dict[tuple[str, str], np.ndarray] = {}
        self._unit: dict[tuple[str, str], np.ndarray] = {}
        self.computed: list[tuple[str, str]] = []
        self.current: Neighbours | None = None
        self.compared: Neighbours | None = None
        self.error: BaseException | None = None
        self._syncing = False

        names = self.models.names
        self.model_dropdown = widgets.Dropdown(options=names, value=names[0], description="model")
        self.layer_dropdown = widgets.Dropdown(options=[layer], value=layer, description="layer")
        self.query_slider = widgets.IntSlider(
            0, min=0, max=n - 1, description="query", continuous_update=False
        )
        self.k_slider = widgets.IntSlider(min(k, n - 1), min=1, max=min(32, n - 1), description="k")
        self.compare_checkbox = widgets.Checkbox(
            compare is not None, description="side by side", indent=False
        )
        self.compare_dropdown = widgets.Dropdown(
            options=names, value=compare or names[-1], description="with"
        )
        pages = (n + thumbs_per_page - 1) // thumbs_per_page
        self.page_slider = widgets.IntSlider(0, min=0, max=pages - 1, description="page")
        self.thumb_buttons: list[widgets.Button] = []
        self.thumbs = widgets.GridBox(layout=widgets.Layout(grid_template_columns=f"repeat(6, {tile + 8}px)"))
        self.results_box = widgets.VBox()
        self.status = widgets.HTML()
        self._update_layers(prefer=layer)
        self._show_page()
        self._render()
        for w in (
            self.layer_dropdown,
            self.query_slider,
            self.k_slider,
            self.compare_checkbox,
            self.compare_dropdown,
        ):
            w.observe(self._on_change, "value")
        self.model_dropdown.observe(self._on_model, "value")
        self.page_slider.observe(lambda _: self._show_page(), "value")
        controls = widgets.VBox(
            [
                widgets.HBox([self.model_dropdown, self.layer_dropdown]),
                widgets.HBox([self.query_slider, self.k_slider]),
                widgets.HBox([self.compare_checkbox, self.compare_dropdown]),
            ]
        )
        thumbs = widgets.VBox([widgets.HTML("<b>pick a query</b>"), self.page_slider, self.thumbs])
        self.widget = widgets.VBox([controls, self.status, self.results_box, thumbs])

    @classmethod
    def from_folder(cls, folder: str | Path, models, size: int | None = None, **kwargs) -> NeighbourBrowser:
        """Browse an ImageFolder (`<folder>/<class>/*`), loaded at `size` (default: the first model's input size)."""
        bank = models if isinstance(models, ModelBank) else ModelBank(models)
        size = size or bank[bank.names[0]].input_size or 64
        images, labels, classes = load_labelled_folder(folder, size)
        return cls(images, labels.numpy(), bank, classes, **kwargs)

    # --- features and neighbours (no widgets involved) ---
    def features(self, model: str, layer: str) -> np.ndarray:
        """float32 (N, D) features of every image at `layer` of `model` (computed once, then cached)."""
        key = (model, layer)
        if key not in self._features:
            m, done = self.models[model], []
            feats = image_features(
                m.model,
                self.images,
                layer,
                size=m.input_size,
                batch_size=self.batch_size,
                cache_dir=self.cache_dir if m.key else None,
                model_key=m.key or None,
                computed=done,
            )[layer]
            if done:
                self.computed.append(key)
            self._features[key] = feats
            self._unit[key] = unit_rows(feats)
        return self._features[key]

    def neighbours(self, model: str, layer: str, query: int, k: int) -> Neighbours:
        if not 0 <= query < len(self.images):
            raise IndexError(f"query {query} is outside the {len(self.images)} images")
        self.features(model, layer)
        idx, sims = cosine_neighbours(self._unit[(model, layer)], query, k)
        return Neighbours(model, layer, query, idx, sims, self.labels[idx] == self.labels[query])

    def label_agreement(self, model: str, layer: str | None = None, k: int | None = None) -> float:
        """Mean over every query of the fraction of its k neighbours sharing its label (a kNN-like readout)."""
        layer, k = layer or self.layer_dropdown.value, k or self.k_slider.value
        self.features(model, layer)
        sims = self._unit[(model, layer)] @ self._unit[(model, layer)].T
        np.fill_diagonal(sims, -np.inf)
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        return float((self.labels[top] == self.labels[:, None]).mean())

    # --- widgets ---
    def label_name(self, i: int) -> str:
        label = self.labels[i]
        return self.class_names[int(label)] if self.class_names is not None else str(label)

    def _update_layers(self, prefer: str) -> None:
        names = choosable_layers(self.models[self.model_dropdown.value].model)
        self._syncing = True
        try:
            self.layer_dropdown.options = names
            self.layer_dropdown.value = prefer if prefer in names else default_layer(names)
        finally:
            self._syncing = False

    @guarded
    def _on_model(self, change) -> None:
        self._update_layers(prefer=self.layer_dropdown.value)
        self._render()

    @guarded
    def _on_change(self, change) -> None:
        if self._syncing:
            return
        if change["owner"] is self.query_slider:
            self._syncing = True
            try:
                self.page_slider.value = self.query_slider.value // self.per_page
            finally:
                self._syncing = False
        self._render()

    def set_query(self, index: int) -> None:
        self.query_slider.value = int(index)

    def _show_page(self) -> None:
        start = self.page_slider.value * self.per_page
        cells, self.thumb_buttons = [], []
        for i in range(start, min(start + self.per_page, len(self.images))):
            button = widgets.Button(
                description=f"#{i} {self.label_name(i)}"[:14],
                tooltip=f"query #{i}",
                layout=widgets.Layout(width=f"{self.tile + 4}px"),
            )
            button.on_click(lambda _b, i=i: self.set_query(i))
            self.thumb_buttons.append(button)
            cells.append(widgets.VBox([image_widget(self.images[i], self.tile), button]))
        self.thumbs.children = cells

    def _render(self) -> None:
        q, k, layer = self.query_slider.value, self.k_slider.value, self.layer_dropdown.value
        self.current = self.neighbours(self.model_dropdown.value, layer, q, k)
        self.compared = None
        if self.compare_checkbox.value:
            self.compared = self.neighbours(self.compare_dropdown.value, layer, q, k)
        self.results_box.children = [self._row(r) for r in (self.current, self.compared) if r is not None]

    def _row(self, result: Neighbours) -> widgets.Widget:
        q = result.query
        label = caption(f"<b>query #{q}</b><br>{self.label_name(q)}")
        box = widgets.Layout(border="2px solid #333", padding="2px")
        query = widgets.VBox([image_widget(self.images[q], self.tile), label], layout=box)
        tiles = [query]
        for i, s, same in zip(result.indices, result.similarities, result.same_label, strict=True):
            mark, color = ("✓", "#080") if same else ("✗", "#b00")
            text = f"#{i} {self.label_name(int(i))}<br>cos {s:.3f} {mark}"
            tiles.append(widgets.VBox([image_widget(self.images[int(i)], self.tile), caption(text, color)]))
        title = (
            f"<b>{result.model}</b> · {result.layer} · {int(result.same_label.sum())}/{len(result.same_label)} "
            "neighbours share the query's label"
        )
        return widgets.VBox(
            [widgets.HTML(title), widgets.HBox(tiles, layout=widgets.Layout(flex_flow="row wrap"))]
        )
