"""The paper's Table 1 as a table and a figure (invariance scores per model, for K = 10 and K = 25), the same
models under the second measure beside it, and the scores layer by layer."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ssl_kit.invariance.protocols import PAPER_PROTOCOLS

LABELS = {
    "occlusion": "Occlusion",
    "viewpoint": "Viewpoint",
    "illumination_direction": "Illumination dir.",
    "illumination_color": "Illumination colour",
    "instance": "Instance",
    "instance_viewpoint": "Instance + viewpoint",
    "synthetic_occlusion": "Synthetic occlusion",
}


def paper_order(values: Sequence[str]) -> list[str]:
    known = [p for p in (*PAPER_PROTOCOLS, "synthetic_occlusion") if p in set(values)]
    return known + sorted(set(values) - set(known))


def invariance_table(rows: list[dict], models: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows (model, metric, K, value; `measure_table`) -> a table: one row per invariance, columns (K, model); the
    mean over the rows of a model (its seeds) where it has several."""
    df = pd.DataFrame(rows)
    models = list(models) if models is not None else list(dict.fromkeys(df["model"]))
    table = df.pivot_table(index="metric", columns=["K", "model"], values="value", aggfunc="mean")
    table = table.reindex(index=paper_order(df["metric"].unique()))
    table = table.reindex(columns=pd.MultiIndex.from_product([sorted(df["K"].unique()), models]))
    table.index = [LABELS.get(i, i) for i in table.index]
    table.columns.names = ["top-K neurons", "model"]
    return table.round(2)


def plot_invariances(rows: list[dict], models: Sequence[str] | None = None, title: str | None = None):
    """Grouped bars: one panel per K, invariances along x, one bar per model (the mean over its rows, ± one
    standard deviation where it has several: its seeds). Returns the figure."""
    df = pd.DataFrame(rows)
    models = list(models) if models is not None else list(dict.fromkeys(df["model"]))
    order = paper_order(df["metric"].unique())
    ks = sorted(df["K"].unique())
    fig, axes = plt.subplots(1, len(ks), figsize=(6.5 * len(ks), 3.8), sharey=True, squeeze=False)
    for ax, k in zip(axes[0], ks, strict=True):
        sub = df[df["K"] == k]
        sns.barplot(
            data=sub, x="metric", y="value", hue="model", order=order, hue_order=models, errorbar="sd", ax=ax
        )
        ax.set_title(f"top-{k} neurons")
        ax.set_xticks(range(len(order)), [LABELS.get(o, o) for o in order], rotation=30, ha="right")
        ax.set_xlabel("")
        ax.set_ylabel("invariance score")
        if ax is not axes[0][-1] and ax.get_legend() is not None:
            ax.get_legend().remove()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def both_measures(
    rows: list[dict], cosine_rows: list[dict], K: int = 25, models: Sequence[str] | None = None
):
    """One table: a row per invariance; for each model its firing-rate score (top-K) and its cosine invariance;
    and whether the two measures order the models the same way on that invariance."""
    fr = pd.DataFrame(rows)
    fr = fr[fr["K"] == K].pivot_table(index="metric", columns="model", values="value", aggfunc="first")
    cos = pd.DataFrame(cosine_rows).pivot_table(
        index="metric", columns="model", values="value", aggfunc="first"
    )
    models = list(models) if models is not None else list(dict.fromkeys(pd.DataFrame(rows)["model"]))
    order = [i for i in paper_order(fr.index) if i in cos.index]
    table = pd.concat(
        {f"firing rate, top-{K}": fr.loc[order, models].round(2), "cosine": cos.loc[order, models].round(3)},
        axis=1,
    )
    same = [list(fr.loc[i, models].rank()) == list(cos.loc[i, models].rank()) for i in order]
    table[("agree", "same order of models")] = same
    table.index = [LABELS.get(i, i) for i in order]
    return table


def plot_layer_scores(layer_rows: list[dict], models: Sequence[str] | None = None, title: str | None = None):
    """One panel per invariance: the score (top-K) at each layer, a line per model. Returns the figure."""
    df = pd.DataFrame(layer_rows)
    models = list(models) if models is not None else list(dict.fromkeys(df["model"]))
    order = paper_order(df["metric"].unique())
    layers = list(dict.fromkeys(df["layer"]))
    cols = min(3, len(order))
    rows_n = -(-len(order) // cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(4.2 * cols, 3.0 * rows_n), squeeze=False, sharex=True)
    for ax, inv in zip(axes.ravel(), order, strict=False):
        sub = df[df["metric"] == inv]
        for m in models:
            line = sub[sub["model"] == m].set_index("layer").reindex(layers)
            ax.plot(range(len(layers)), line["value"], marker="o", ms=4, lw=1.3, label=m)
        ax.set_title(LABELS.get(inv, inv), fontsize=10)
        ax.set_xticks(
            range(len(layers)), ["layer4 = pool5" if x == "avgpool" else x for x in layers], rotation=30
        )
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(order) :]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7)
    k = df["K"].iloc[0] if "K" in df else 25
    fig.suptitle(title or f"Invariance by layer (top-{k} neurons)")
    fig.tight_layout()
    return fig
