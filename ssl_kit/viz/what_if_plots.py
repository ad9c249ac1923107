"""A what-if answer (`ssl_kit.study.what_if_sweep.WhatIf`) drawn: paired bars per invariance, and a map of what
changed layer by layer.

`plot_what_if(answer)`: for each of the six invariances, the baseline's bar and each level's (mean over seeds,
± one standard deviation), random init as a dashed line and the study's other network as a dot, with each
level's paired change written above its bar. `layer_change(answer, label, world)` measures the baseline and a
level layer by layer (the paper's measure on each ResNet stage's pooled features, top-25, one seed: the first)
and `plot_layer_change` draws the differences as a map (layers x invariances)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ssl_kit.findings.checks import RANDOM_INIT
from ssl_kit.invariance.protocols import PAPER_PROTOCOLS, build_protocol, protocol_root
from ssl_kit.invariance.scoring import BY_LAYER, layer_table, load_model
from ssl_kit.viz.invariance import LABELS
from ssl_kit.viz.widgets.common import figure

__all__ = ["plot_what_if", "layer_change", "plot_layer_change"]
COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860")  # baseline first


def _value(answer, label: str, metric: str, measure: str) -> dict | None:
    return next(
        (r for r in answer.rows if r["level"] == label and r["metric"] == metric and r["measure"] == measure),
        None,
    )


def plot_what_if(answer, measure: str = "top-25") -> Figure:
    """Paired bars per invariance: the baseline and each level (mean ± sd over seeds), random init dashed, the
    other network a dot; each level's change from the baseline (paired by seed) above its bar."""
    levels = [
        lv for lv in answer.levels if (_value(answer, lv, "occlusion", measure) or {}).get("role") == "level"
    ]
    bars = ["baseline", *dict.fromkeys(levels)]  # a level that is the baseline's own is the baseline's bar
    others = [r["level"] for r in answer.rows if r["role"] == "reference" and r["level"] != RANDOM_INIT]
    other = others[0] if others else None
    fig = figure(11, 3.8)
    ax = fig.add_subplot()
    width = 0.8 / len(bars)
    for i, metric in enumerate(PAPER_PROTOCOLS):
        for j, label in enumerate(bars):
            row = _value(answer, label, metric, measure)
            if row is None:
                continue
            x = i - 0.4 + width * (j + 0.5)
            ax.bar(x, row["mean"], width, yerr=row["sd"] or None, color=COLOURS[j % len(COLOURS)], capsize=2,
                   label=label if i == 0 else None)  # fmt: skip
            if row["change"] != "":
                spread = f"±{row['change_sd']:.1f}" if row["seeds"] > 1 else ""
                ax.annotate(f"{row['change']:+.1f}{spread}", (x, row["mean"] + (row["sd"] or 0)), ha="center",
                            va="bottom", fontsize=7, rotation=90, xytext=(0, 4), textcoords="offset points")  # fmt: skip
        rand = _value(answer, RANDOM_INIT, metric, measure)
        if rand is not None:
            ax.hlines(rand["mean"], i - 0.45, i + 0.45, colors="grey", linestyles="dashed",
                      label="random init" if i == 0 else None)  # fmt: skip
        ref = _value(answer, other, metric, measure) if other else None
        if ref is not None:
            ax.plot(i, ref["mean"], "ko", markersize=4, label=other if i == 0 else None)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.18)  # room for the changes written above the bars
    ax.set_xticks(range(len(PAPER_PROTOCOLS)), [LABELS[p] for p in PAPER_PROTOCOLS], rotation=20, ha="right")
    ax.set_ylabel(f"invariance ({measure})")
    seeds = f"{len(answer.seeds)} seed{'s' * (len(answer.seeds) > 1)}"
    ax.set_title(
        f"{answer.network}: what if {answer.factor.name} changes ({seeds}; change from the baseline above each bar)"
    )
    ax.legend(fontsize=8, ncols=min(len(bars) + 2, 6), loc="upper center", bbox_to_anchor=(0.5, -0.28))
    return fig


def layer_change(answer, label: str, world: str | Path, cache_dir: str | Path | None = None) -> list[dict]:
    """Rows (layer, metric, baseline, level, change) of the paper's measure (top-25) on each ResNet stage of
    the baseline and of level `label`, trained with the first seed."""
    seed = answer.seeds[0]
    models = [
        load_model(answer.run("baseline", seed), name="baseline"),
        load_model(answer.run(label, seed), name=label),
    ]
    protocols = [build_protocol(p, protocol_root(p, world)) for p in PAPER_PROTOCOLS]
    rows = layer_table(models, protocols, BY_LAYER, top_k=25, cache_dir=cache_dir)
    by = {(r["model"], r["layer"], r["metric"]): r["value"] for r in rows}
    return [
        {"layer": layer, "metric": metric, "baseline": by[("baseline", layer, metric)],
         "level": by[(label, layer, metric)], "change": by[(label, layer, metric)] - by[("baseline", layer, metric)]}
        for layer in BY_LAYER
        for metric in PAPER_PROTOCOLS
    ]  # fmt: skip


def plot_layer_change(rows: list[dict], label: str) -> Figure:
    """The `layer_change` rows as a map: layers down, invariances across, the change in each cell."""
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    grid = np.array([[next(r["change"] for r in rows if r["layer"] == lay and r["metric"] == m)
                      for m in PAPER_PROTOCOLS] for lay in layers])  # fmt: skip
    fig = figure(7.5, 3.2)
    ax = fig.add_subplot()
    bound = max(float(np.abs(grid).max()), 1e-6)
    image = ax.imshow(grid, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, f"{v:+.1f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(PAPER_PROTOCOLS)), [LABELS[p] for p in PAPER_PROTOCOLS], rotation=20, ha="right")
    ax.set_yticks(range(len(layers)), ["pool5" if lay == "avgpool" else lay for lay in layers])
    ax.set_title(f"{label} minus baseline, layer by layer (top-25, first seed)")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig
