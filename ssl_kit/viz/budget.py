"""The budget curve (notebook 06, `ssl_kit/study/grids/budget.yaml`) drawn: each model's scores, and each check of
the paper's findings (`ssl_kit.findings.by_budget`), against the training budget.

Everything here is a pure function of a sweep's tidy rows (`ssl_kit.study.sweep`). A cell's model and budget
are read from its variant's name, `<model>_x<budget>` ("mocov2_x4": MoCo v2 at 4 times the quick budget); the
random-init network's rows (method "random init") are the reference at every budget. Invariances are taken at
top-`K` neurons; downstream accuracies have no K.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ssl_kit.findings.by_budget import BUDGET_MARK, budget_label, budget_rows, split_variant
from ssl_kit.findings.checks import RANDOM_INIT, REVERSED, WITHIN, learned_text
from ssl_kit.viz.invariance import LABELS
from ssl_kit.viz.sweep_plots import DOWNSTREAM, LEARNED, metric_order, sweep_frame


def budget_frame(rows: list[dict], K: int = 25) -> pd.DataFrame:
    """The successful rows with a budget in their variant's name, and the random-init network's, as a
    DataFrame with `model` and `budget` columns (random init: model "random init", budget NaN); invariances at
    top-`K` only."""
    df = sweep_frame(rows)
    df = df[df["K"].isna() | (df["K"] == K)]
    parsed = [
        None if m == RANDOM_INIT else split_variant(v)
        for m, v in zip(df["method"], df["variant"], strict=True)
    ]
    keep = [m == RANDOM_INIT or p is not None for m, p in zip(df["method"], parsed, strict=True)]
    df = df[keep].copy()
    parsed = [p for p, k in zip(parsed, keep, strict=True) if k]
    df["model"] = [RANDOM_INIT if p is None else p[0] for p in parsed]
    df["budget"] = [np.nan if p is None else p[1] for p in parsed]
    if df["budget"].isna().all():
        raise ValueError(f"no variant named <model>{BUDGET_MARK}<budget> in these rows")
    return df


def budget_stats(rows: list[dict], K: int = 25) -> pd.DataFrame:
    """Mean, standard deviation (NaN with one seed) and number of seeds `n` per (model, budget, metric); the
    random-init network once per metric, with budget NaN."""
    df = budget_frame(rows, K)
    df["budget"] = df["budget"].fillna(-1.0)  # groupby drops NaN keys
    stats = df.groupby(["model", "budget", "metric"], sort=False)["value"].agg(["mean", "std", "count"])
    stats = stats.reset_index().rename(columns={"count": "n"})
    stats["budget"] = stats["budget"].where(stats["budget"] >= 0)
    return stats


def _models(df: pd.DataFrame, models: Sequence[str] | None) -> list[str]:
    trained = list(dict.fromkeys(m for m in df["model"] if m != RANDOM_INIT))
    return [m for m in models if m in trained] if models is not None else trained


def _text(mean: float, std: float, n: int, digits: int) -> str:
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if n > 1 else "")


def budget_table(
    rows: list[dict], K: int = 25, models: Sequence[str] | None = None, digits: int = 3
) -> pd.DataFrame:
    """One row per (model, budget), in budget order, the random-init network last; a column with the number
    of seeds, then one per metric: "mean ± std" over seeds. Downstream accuracies are fractions; invariance
    scores are the paper's percentages (one decimal). The last column (`LEARNED`) says whether each model beats
    the random-init network on both probes at its budget by more than the spread over seeds."""
    stats = budget_stats(rows, K)
    stats = stats[stats["model"].isin([*_models(stats, models), RANDOM_INIT])]
    stats["text"] = [
        _text(m, s, n, digits if metric in DOWNSTREAM else 1)
        for m, s, n, metric in zip(stats["mean"], stats["std"], stats["n"], stats["metric"], strict=True)
    ]
    stats["label"] = ["-" if np.isnan(b) else budget_label(b) for b in stats["budget"]]
    table = stats.pivot(index=["model", "label"], columns="metric", values="text")
    table = table[metric_order(table.columns)]
    table.columns = [DOWNSTREAM.get(c, LABELS.get(c, c)) for c in table.columns]
    table.insert(0, "seeds", stats.groupby(["model", "label"])["n"].max().reindex(table.index).astype(int))
    order = []
    for model in [*_models(stats, models), RANDOM_INIT]:
        sub = stats[stats["model"] == model].sort_values("budget")
        order += [(model, label) for label in dict.fromkeys(sub["label"])]
    table = table.reindex(pd.MultiIndex.from_tuples(order))
    table.index.names = ["model", "budget"]
    budgets = dict(zip(stats["label"], stats["budget"], strict=True))
    table[LEARNED] = [
        "" if model == RANDOM_INIT else learned_text(budget_rows(rows, budgets[label]), "model", model)
        for model, label in table.index
    ]
    return table


def _budget_axis(ax, budgets: Sequence[float]) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(budgets), [budget_label(b) for b in budgets])
    ax.minorticks_off()
    ax.set_xlabel("budget (x the quick one)")


def _finish(fig, axes, used: int, title: str | None):
    """Hide the panels past the `used` ones, put the legend on the first, title and lay out the figure."""
    for ax in list(axes.flat)[used:]:
        ax.axis("off")
    axes.flat[0].legend(loc="best", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_budget_curves(
    rows: list[dict],
    K: int = 25,
    metrics: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    title: str | None = None,
):
    """One panel per metric, score against budget (log scale): per model a line through the means over seeds,
    a band of ± one standard deviation where there are several seeds, and each seed as a dot; the random-init
    network as a dashed line in a grey band (± its std). Returns the figure."""
    df = budget_frame(rows, K)
    stats = budget_stats(rows, K)
    metrics = list(metrics) if metrics is not None else metric_order(df["metric"].unique())
    models = _models(df, models)
    budgets = sorted(df["budget"].dropna().unique())
    cols = min(4, len(metrics))
    nrows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.6 * cols, 3.2 * nrows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        ref = stats[(stats["model"] == RANDOM_INIT) & (stats["metric"] == metric)]
        if len(ref):
            mean, std = float(ref["mean"].iloc[0]), float(np.nan_to_num(ref["std"].iloc[0]))
            ax.axhspan(mean - std, mean + std, color="0.85", zorder=0)
            ax.axhline(mean, color="0.4", linestyle="--", linewidth=1, label=RANDOM_INIT)
        for i, model in enumerate(models):
            color = f"C{i}"
            s = stats[(stats["model"] == model) & (stats["metric"] == metric)].sort_values("budget")
            if s.empty:
                continue
            ax.plot(s["budget"], s["mean"], marker="o", color=color, label=model)
            spread = s[s["n"] > 1]
            low, high = spread["mean"] - spread["std"], spread["mean"] + spread["std"]
            ax.fill_between(spread["budget"], low, high, color=color, alpha=0.2, linewidth=0)
            seeds = df[(df["model"] == model) & (df["metric"] == metric)]
            ax.scatter(seeds["budget"], seeds["value"], s=9, color=color, alpha=0.5)
        _budget_axis(ax, budgets)
        ax.set_title(
            DOWNSTREAM.get(metric, LABELS.get(metric, metric))
            + ("" if metric in DOWNSTREAM else f" (top-{K})")
        )
    return _finish(fig, axes, len(metrics), title)


def plot_findings_by_budget(checks: pd.DataFrame, title: str | None = None):
    """One panel per check (`findings_by_budget`): the difference of its two means against budget, bars of
    ± the spread over seeds (none with one seed), a filled dot where the check holds (the paper's way beyond the
    spread), a cross where it is reversed (the other way beyond it) and an open dot where it is within the spread
    (or, one seed, points the other way); zero dashed. Returns the figure."""
    if checks.empty:
        raise ValueError("no check in these rows (are both models of each check there?)")
    names = list(dict.fromkeys(zip(checks["finding"], checks["check"], strict=True)))
    budgets = sorted(checks["budget"].unique())
    cols = min(3, len(names))
    nrows = -(-len(names) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.8 * cols, 3.0 * nrows), squeeze=False)
    for ax, (number, what) in zip(axes.flat, names, strict=False):
        s = checks[(checks["finding"] == number) & (checks["check"] == what)].sort_values("budget")
        color = f"C{number}"
        ax.axhline(0, color="0.4", linestyle="--", linewidth=1)
        ax.plot(s["budget"], s["difference"], color=color)
        ax.errorbar(
            s["budget"], s["difference"], yerr=s["spread"].fillna(0), fmt="none", ecolor=color, capsize=3
        )
        held, reversed_ = s[s["holds"].astype(bool)], s[s["outcome"] == REVERSED]
        rest = s[~s["holds"].astype(bool) & (s["outcome"] != REVERSED)]
        ax.scatter(held["budget"], held["difference"], color=color, zorder=3, label="holds")
        ax.scatter(
            reversed_["budget"], reversed_["difference"], color=color, marker="x", zorder=3, label=REVERSED
        )
        ax.scatter(
            rest["budget"], rest["difference"], facecolors="white", edgecolors=color, zorder=3, label=WITHIN
        )
        _budget_axis(ax, budgets)
        a, b, metric = s["a"].iloc[0], s["b"].iloc[0], s["metric"].iloc[0]
        ax.set_title(
            f"finding {number}: {a} − {b}\n{DOWNSTREAM.get(metric, LABELS.get(metric, metric))}", fontsize=9
        )
    return _finish(fig, axes, len(names), title)
