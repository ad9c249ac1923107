"""A sweep's tidy rows (`ssl_kit.study.sweep`) as the tables and figures the notebooks show: mean ± std over seeds per
group, and one panel per invariance with the random-init network drawn as a reference line."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ssl_kit.findings.checks import RANDOM_INIT, labelled, learned_text
from ssl_kit.viz.invariance import LABELS, paper_order

DOWNSTREAM = {"knn_acc": "kNN accuracy", "linear_acc": "linear probe accuracy"}
LEARNED = "beats random init"  # summary_table's column: does a network beat random init on both probes?


def sweep_frame(rows: list[dict]) -> pd.DataFrame:
    """The successful rows as a DataFrame (failed cells have no metric and are left out)."""
    df = pd.DataFrame([r for r in rows if r.get("status", "ok") == "ok" and r.get("metric")])
    if df.empty:
        raise ValueError("no successful cell in these rows")
    df["K"] = df["K"].map(
        lambda k: None if k in ("", None) or (isinstance(k, float) and np.isnan(k)) else int(k)
    )
    return df


def metric_order(metrics) -> list[str]:
    down = [m for m in DOWNSTREAM if m in set(metrics)]
    return down + paper_order([m for m in set(metrics) if m not in DOWNSTREAM])


def summary_table(
    rows: list[dict], by: str = "variant", K: int = 25, order: Sequence[str] | None = None, digits: int = 3
) -> pd.DataFrame:
    """One row per value of `by`, one column per metric (invariances at top-`K`): "mean ± std (n seeds)".

    Downstream accuracies are fractions; invariance scores are the paper's percentages. With the random-init
    network among the rows, a last column (`LEARNED`) says whether each network beats it on both probes by more
    than the spread over seeds ("yes", or "no: " and the probes it does not beat it on). The random-init
    network's rows are the group "random init" whatever `by` (`labelled`)."""
    rows = labelled(rows, by)
    df = sweep_frame(rows)
    df = df[df["K"].isna() | (df["K"] == K)]
    stats = df.groupby([by, "metric"])["value"].agg(["mean", "std", "count"]).reset_index()

    def cell(r) -> str:
        d = digits if r["metric"] in DOWNSTREAM else 1
        spread = f" ± {r['std']:.{d}f}" if r["count"] > 1 else ""
        return f"{r['mean']:.{d}f}{spread}"

    stats["text"] = stats.apply(cell, axis=1)
    table = stats.pivot(index=by, columns="metric", values="text")
    table = table[metric_order(table.columns)]
    table.columns = [DOWNSTREAM.get(c, LABELS.get(c, c)) for c in table.columns]
    groups = list(order) if order is not None else list(dict.fromkeys(df[by]))
    table = table.reindex([g for g in groups if g in table.index])
    if RANDOM_INIT in table.index:
        table[LEARNED] = ["" if g == RANDOM_INIT else learned_text(rows, by, g) for g in table.index]
    return table


def mean_values(rows: list[dict], by: str = "variant", K: int = 25) -> pd.DataFrame:
    """Numeric means and standard deviations: columns (by, metric, mean, std, n)."""
    df = sweep_frame(rows)
    df = df[df["K"].isna() | (df["K"] == K)]
    out = df.groupby([by, "metric"])["value"].agg(["mean", "std", "count"]).reset_index()
    return out.rename(columns={"count": "n"})


def plot_by(
    rows: list[dict],
    by: str = "policy",
    K: int = 25,
    order: Sequence[str] | None = None,
    reference: str = "random init",
    title: str | None = None,
    metrics: Sequence[str] | None = None,
):
    """One panel per metric: a point per group (mean over seeds, bars = std), the `reference` group (the
    random-init network) as a dashed line. Returns the figure."""
    df = sweep_frame(rows)
    df = df[df["K"].isna() | (df["K"] == K)]
    metrics = list(metrics) if metrics is not None else metric_order(df["metric"].unique())
    groups = [g for g in (order or dict.fromkeys(df[by])) if g != reference and g in set(df[by])]
    cols = min(4, len(metrics))
    nrows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.6 * cols, 3.2 * nrows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        sub = df[(df["metric"] == metric) & df[by].isin(groups)]
        sns.pointplot(
            data=sub,
            x=by,
            y="value",
            order=groups,
            errorbar="sd",
            linestyle="none",
            capsize=0.2,
            ax=ax,
            color="C0",
        )
        ref = df[(df["metric"] == metric) & (df[by] == reference)]["value"]
        if len(ref):
            ax.axhline(ref.mean(), color="0.4", linestyle="--", linewidth=1, label=reference)
            ax.legend(loc="best", fontsize=7)
        ax.set_title(
            DOWNSTREAM.get(metric, LABELS.get(metric, metric))
            + ("" if metric in DOWNSTREAM else f" (top-{K})")
        )
        ax.set_xticks(range(len(groups)), groups, rotation=40, ha="right", fontsize=8)
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
