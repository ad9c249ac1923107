"""Invariance inspector: watch a class's most invariant neurons fire (or not) as one target is transformed.

    inspector = InvarianceInspector({"mocov2": run, "random init": baseline}, data="data/world/quick",
                                    protocol="viewpoint", cache_dir="results/features")
    inspector.widget

Pick a model, a protocol and a target (one object, one video); the slider walks through the target's images
in the order of the transformation (`ordering.target_order`). For the target's class, the top-K neurons of
`invariance_detail` (most invariant first) are shown as bars of their activation on the current image, each
against its firing threshold `up` (a neuron fires when activation > up, the measure's local rule), and as a
heatmap over all the target's images. The measure's per-target sign also counts a neuron that stays *below*
its threshold `down` on a target (whichever side holds more of the target's images): the "up / down" heatmap
(+1 above `up`, -1 below `down`) and `counted_side` show which side the measure counted.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from ssl_kit.errors import DataError
from ssl_kit.invariance.feature_cache import protocol_features
from ssl_kit.invariance.measure import InvarianceResult, invariance_detail
from ssl_kit.invariance.protocols import PROTOCOLS, ProtocolSet, build_protocol, protocol_root
from ssl_kit.invariance.scoring import BY_LAYER
from ssl_kit.viz.widgets.common import guarded, png_bytes
from ssl_kit.viz.widgets.firing_plots import MODES, bars_png, draw_heatmap
from ssl_kit.viz.widgets.models import DEFAULT_LAYER, ModelBank
from ssl_kit.viz.widgets.ordering import TargetOrder, target_options, target_order


def available_protocols(data: str | Path) -> list[str]:
    """The protocols whose dataset is found under `data` (a world folder or a data/ layout)."""
    data = Path(data)
    names = [n for n in (*PROTOCOLS, "synthetic_occlusion") if protocol_root(n, data) != data]
    if not names:
        raise DataError(
            data,
            "holds none of the invariance protocols' datasets",
            "a world folder (aloi_view/, got_occlusion/, pascal3d/, ...) or a data/ folder",
        )
    return names


class InvarianceInspector:
    """Controls: `model_dropdown`, `protocol_dropdown`, `target_dropdown`, `k_dropdown`, `slider` (position in
    the target), `mode_buttons` (heatmap: fired / up / down / activation / activation - up).

    State after each update: `protocol`, `features` (N, D), `result` (InvarianceResult), `order` (TargetOrder),
    `image_index` (into the protocol), `neurons` (top-K of the target's class), `activations`, `thresholds`
    (`up` of those neurons) and `fired` at the current image; `activation_matrix` and `fired_matrix`
    (K x images of the target, in order), `below_matrix` (< `down_thresholds`), `counted_side` (K,): +1 / -1,
    the side the measure counted on this target (0: neither, the target is left out for that neuron);
    `heatmap_values` (what the heatmap draws); `error`.
    """

    def __init__(
        self,
        models,
        data: str | Path | None = None,
        protocols=None,
        *,
        protocol: str | None = None,
        layer: str = DEFAULT_LAYER,
        top_k: Sequence[int] = (10, 25),
        cache_dir: str | Path | None = None,
        display_size: int = 128,
        batch_size: int = 64,
    ):
        self.models = models if isinstance(models, ModelBank) else ModelBank(models)
        self.data = Path(data) if data is not None else None
        self._protocols: dict[str, ProtocolSet | None] = self._protocol_table(protocols)
        self.layer, self.top_k = layer, tuple(sorted({int(k) for k in top_k}))
        self.cache_dir, self.display_size, self.batch_size = cache_dir, display_size, batch_size
        self._features: dict[tuple[str, str, str], np.ndarray] = {}
        self._results: dict[tuple[str, str, str], InvarianceResult] = {}
        self.computed: list[
            tuple[str, str, str]
        ] = []  # (model, protocol, layer) whose features were computed
        self._heat = None  # (key, Heatmap) of the last heatmap drawn
        self.error: BaseException | None = None
        self._syncing = False

        names = list(self._protocols)
        if protocol is None:
            protocol = "viewpoint" if "viewpoint" in names else names[0]
        if protocol not in names:
            raise KeyError(f"protocol {protocol!r} is not available; available: {', '.join(names)}")
        self.model_dropdown = widgets.Dropdown(options=self.models.names, description="model")
        self.protocol_dropdown = widgets.Dropdown(options=names, value=protocol, description="invariance")
        self.target_dropdown = widgets.Dropdown(description="target", layout=widgets.Layout(width="360px"))
        self.k_dropdown = widgets.Dropdown(options=self.top_k, value=self.top_k[0], description="top K")
        self.layer_dropdown = widgets.Dropdown(
            options=list(dict.fromkeys([*BY_LAYER, layer])), value=layer, description="layer"
        )
        self.slider = widgets.IntSlider(0, min=0, max=0, description="image", continuous_update=True)
        self.play = widgets.Play(interval=250, min=0, max=0)
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.mode_buttons = widgets.ToggleButtons(options=MODES, value="fired", description="heatmap")
        self.image = widgets.Image(format="png", width=display_size, height=display_size)
        self.image_label, self.summary, self.status = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.bars = widgets.Image(format="png")
        self.heatmap = widgets.Image(format="png")
        self._new_protocol()
        for w, handler in (
            (self.protocol_dropdown, self._on_protocol),
            (self.target_dropdown, self._on_target),
            (self.model_dropdown, self._on_change),
            (self.k_dropdown, self._on_change),
            (self.layer_dropdown, self._on_layer),
            (self.slider, self._on_change),
            (self.mode_buttons, self._on_change),
        ):
            w.observe(handler, "value")
        picture = widgets.VBox([self.image, self.image_label])
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [self.model_dropdown, self.protocol_dropdown, self.k_dropdown, self.layer_dropdown]
                ),
                widgets.HBox([self.target_dropdown, self.play, self.slider]),
                self.status,
                self.summary,
                widgets.HBox([picture, self.bars]),
                self.mode_buttons,
                self.heatmap,
            ]
        )

    def _protocol_table(self, protocols) -> dict[str, ProtocolSet | None]:
        if protocols is None:
            if self.data is None:
                raise ValueError("give `data` (a world or data/ folder) or `protocols`")
            return dict.fromkeys(available_protocols(self.data))
        if isinstance(protocols, ProtocolSet):
            protocols = [protocols]
        if isinstance(protocols, Mapping):
            return dict(protocols)
        table: dict[str, ProtocolSet | None] = {}
        for p in protocols:
            if isinstance(p, ProtocolSet):
                table[p.name] = p
            else:
                if self.data is None:
                    raise ValueError(f"protocol {p!r} given by name: also give `data` to build it from")
                table[str(p)] = None
        if not table:
            raise ValueError("no protocols given")
        return table

    # --- data (no widgets involved) ---
    def protocol_set(self, name: str) -> ProtocolSet:
        if self._protocols[name] is None:
            self._protocols[name] = build_protocol(name, protocol_root(name, self.data))
        return self._protocols[name]

    def features_of(self, model: str, protocol: str) -> np.ndarray:
        """float32 (N, D) features of every image of `protocol` (in-memory cache; on disk with `cache_dir`)."""
        key = (model, protocol, self.layer)
        if key not in self._features:
            m, p = self.models[model], self.protocol_set(protocol)
            cache = self.cache_dir if m.key else None
            self._features[key] = protocol_features(
                m.model,
                p,
                self.layer,
                size=m.input_size or p.size,
                batch_size=self.batch_size,
                cache_dir=cache,
                model_key=m.key or None,
                progress=False,
            )[self.layer]
            self.computed.append(key)
        return self._features[key]

    def result_of(self, model: str, protocol: str) -> InvarianceResult:
        key = (model, protocol, self.layer)
        if key not in self._results:
            p = self.protocol_set(protocol)
            with warnings.catch_warnings():  # classes without a usable target: shown in the summary instead
                warnings.simplefilter("ignore", UserWarning)
                self._results[key] = invariance_detail(
                    self.features_of(model, protocol), p.targets, p.classes, self.top_k
                )
        return self._results[key]

    # --- widgets ---
    @guarded
    def _on_layer(self, change) -> None:
        self.layer = change["new"]  # features of another layer (each map average-pooled, as the measure's)
        if not self._syncing:
            self._render()

    def _new_protocol(self) -> None:
        self.protocol = self.protocol_set(self.protocol_dropdown.value)
        options = target_options(self.protocol)
        self._syncing = True
        try:
            self.target_dropdown.options = options
            self.target_dropdown.value = options[0][1]
        finally:
            self._syncing = False
        self._new_target()

    def _new_target(self) -> None:
        self.order: TargetOrder = target_order(self.protocol, self.target_dropdown.value)
        self._syncing = True
        try:
            self.slider.max = self.play.max = len(self.order.indices) - 1
            self.slider.value = min(self.slider.value, self.slider.max)
        finally:
            self._syncing = False
        self._render()

    @guarded
    def _on_protocol(self, change) -> None:
        self._new_protocol()

    @guarded
    def _on_target(self, change) -> None:
        if not self._syncing:
            self._new_target()

    @guarded
    def _on_change(self, change) -> None:
        if not self._syncing:
            self._render()

    def select(self, protocol: str | None = None, target=None, position: int | None = None) -> None:
        """Set any of protocol, target and position (as a user would, through the controls)."""
        if protocol is not None:
            self.protocol_dropdown.value = protocol
        if target is not None:
            self.target_dropdown.value = target
        if position is not None:
            self.slider.value = int(position)

    def _render(self) -> None:
        model, name, k = self.model_dropdown.value, self.protocol_dropdown.value, self.k_dropdown.value
        self.features, self.result = self.features_of(model, name), self.result_of(model, name)
        idx, pos = self.order.indices, self.slider.value
        self.position, self.image_index = pos, int(idx[pos])
        cls = self.protocol.classes[idx[0]]
        self.class_row = int(np.flatnonzero(self.result.classes == cls)[0])
        self.neurons = self.result.top_neurons[k][self.class_row]
        self.thresholds = self.result.up[self.neurons]
        self.activation_matrix = self.features[np.ix_(idx, self.neurons)].T  # (K, images of the target)
        self.fired_matrix = self.activation_matrix > self.thresholds[:, None]
        self.down_thresholds = self.result.down[self.neurons]
        self.below_matrix = self.activation_matrix < self.down_thresholds[:, None]
        n_up, n_down = self.fired_matrix.sum(1), self.below_matrix.sum(1)  # the measure counts the larger
        self.counted_side = np.where(n_up >= n_down, 1, -1) * (np.maximum(n_up, n_down) > 0)
        self.activations = self.activation_matrix[:, pos]
        self.fired = self.fired_matrix[:, pos]
        mode = self.mode_buttons.value
        self.heatmap_values = {
            "fired": self.fired_matrix.astype(np.float64),
            "activation": self.activation_matrix,
            "up / down": self.fired_matrix.astype(np.float64) - self.below_matrix,
            "activation - up": self.activation_matrix - self.thresholds[:, None],
        }[mode]
        self.image.value = png_bytes(
            self.protocol.load(self.image_index, self.image_index + 1)[0], self.display_size
        )
        self.image_label.value = (
            f"<b>{self.order.labels[pos]}</b><br>image {pos + 1}/{len(idx)} "
            f"(#{self.image_index}, ordered by {self.order.by})"
        )
        self.summary.value = self._summary(model, name, k, cls)
        title = f"{self.order.labels[pos]}: {int(self.fired.sum())}/{len(self.neurons)} neurons fire"
        self.bars.value = bars_png(
            self.neurons, self.activations, self.thresholds, self.down_thresholds, self.fired, title
        )
        self.heatmap.value = self._heatmap_png(mode)

    def _summary(self, model: str, name: str, k: int, cls) -> str:
        r = self.result
        missing = int((r.targets_per_class == 0).sum())
        note = f" ({missing} classes have no target of 3+ images and score 0)" if missing else ""
        down = int((self.counted_side < 0).sum())
        return (
            f"<b>{model}</b> on <b>{name}</b>: score (top {k}) {r.scores[k]:.1f}{note}. Class {cls}: its top-{k} "
            f"neurons fire (above <code>up</code>) on {self.fired_matrix.mean():.0%} of this target's images "
            f"and stay below <code>down</code> on {self.below_matrix.mean():.0%}; the measure counts {down} of "
            f"them by the 'down' side here. Global firing rate: {r.global_rate[self.neurons].mean():.0%} "
            "on average."
        )

    def _heatmap_png(self, mode: str) -> bytes:
        """Drawn once per (model, protocol, target, K, mode); moving the slider only moves the red frame."""
        key = (
            self.model_dropdown.value,
            self.protocol.name,
            self.target_dropdown.value,
            len(self.neurons),
            mode,
        )
        if self._heat is None or self._heat[0] != key:
            title = f"{mode} across the target ({self.order.by}); red: current image"
            self._heat = (
                key,
                draw_heatmap(self.heatmap_values, mode, self.neurons, self.order.labels, title),
            )
        return self._heat[1].framed(self.position)
