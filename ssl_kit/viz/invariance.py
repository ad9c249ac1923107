"""The paper's Table 1 as a table and a figure: invariance scores per model, for K = 10 and K = 25."""

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


def _order(values: Sequence[str]) -> list[str]:
    known = [p for p in (*PAPER_PROTOCOLS, "synthetic_occlusion") if p in set(values)]
    return known + sorted(set(values) - set(known))


def invariance_table(rows: list[dict], models: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows (model, invariance, K, score) -> a table: one row per invariance, columns (K, model)."""
    df = pd.DataFrame(rows)
    models = list(models) if models is not None else list(dict.fromkeys(df["model"]))
    table = df.pivot_table(index="invariance", columns=["K", "model"], values="score", aggfunc="first")
    table = table.reindex(index=_order(df["invariance"].unique()))
    table = table.reindex(columns=pd.MultiIndex.from_product([sorted(df["K"].unique()), models]))
    table.index = [LABELS.get(i, i) for i in table.index]
    table.columns.names = ["top-K neurons", "model"]
    return table.round(2)


def plot_invariances(rows: list[dict], models: Sequence[str] | None = None, title: str | None = None):
    """Grouped bars: one panel per K, invariances along x, one bar per model. Returns the figure."""
    df = pd.DataFrame(rows)
    models = list(models) if models is not None else list(dict.fromkeys(df["model"]))
    order = _order(df["invariance"].unique())
    ks = sorted(df["K"].unique())
    fig, axes = plt.subplots(1, len(ks), figsize=(6.5 * len(ks), 3.8), sharey=True, squeeze=False)
    for ax, k in zip(axes[0], ks, strict=True):
        sub = df[df["K"] == k]
        sns.barplot(data=sub, x="invariance", y="score", hue="model", order=order, hue_order=models, ax=ax)
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
