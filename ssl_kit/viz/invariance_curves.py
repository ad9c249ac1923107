"""Invariances watched during training: the monitor's scores (`inv_<protocol>` rows of metrics.jsonl, written
with `--invariance-every`) against the training step, one panel per protocol, one line per run, with the
loss and the kNN accuracy where logged; and a table of the scores at chosen steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ssl_kit.invariance.protocols import PAPER_PROTOCOLS
from ssl_kit.runs import rundir
from ssl_kit.viz.invariance import LABELS
from ssl_kit.viz.widgets.curves import curve

PREFIX = {"inv": "firing-rate score (top-25)", "cos": "cosine similarity"}


def watched_rows(runs: Mapping[str, str | Path], measure: str = "inv") -> pd.DataFrame:
    """Tidy rows (run, step, metric, value) of every monitor row of each run folder (name -> folder)."""
    out = []
    for name, folder in runs.items():
        for r in rundir.read_metrics(folder):
            for key, value in r.items():
                if key.startswith(f"{measure}_") and isinstance(value, int | float):
                    out.append(
                        {
                            "run": name,
                            "step": r["step"],
                            "metric": key[len(measure) + 1 :],
                            "value": float(value),
                        }
                    )
    if not out:
        raise ValueError(f"no {measure}_<protocol> rows in these runs: train them with --invariance-every N")
    return pd.DataFrame(out)


def plot_invariance_curves(
    runs: Mapping[str, str | Path],
    measure: str = "inv",
    title: str | None = None,
    extra: Sequence[str] = ("loss", "knn_acc"),
):
    """One panel per protocol (score against step, a line per run), then one per `extra` metric logged."""
    df = watched_rows(runs, measure)
    protocols = [p for p in PAPER_PROTOCOLS if p in set(df["metric"])]
    rows = {name: rundir.read_metrics(folder) for name, folder in runs.items()}
    extras = [m for m in extra if any(len(curve(rs, m)[0]) for rs in rows.values())]
    panels = len(protocols) + len(extras)
    cols = min(4, panels)
    fig, axes = plt.subplots(
        -(-panels // cols), cols, figsize=(3.6 * cols, 2.8 * -(-panels // cols)), squeeze=False
    )
    flat = list(axes.ravel())
    for ax, p in zip(flat, protocols, strict=False):
        for name in runs:
            sub = df[(df["run"] == name) & (df["metric"] == p)].sort_values("step")
            ax.plot(sub["step"], sub["value"], marker="o", ms=3, lw=1.2, label=name)
        ax.set_title(LABELS.get(p, p), fontsize=10)
    for ax, m in zip(flat[len(protocols) :], extras, strict=False):
        for name in runs:
            xs, ys = curve(rows[name], m)
            ax.plot(xs, ys, lw=1.2, label=name)
        ax.set_title(m, fontsize=10)
    for ax in flat[:panels]:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in flat[panels:]:
        ax.axis("off")
    flat[0].legend(fontsize=7)
    fig.suptitle(title or f"invariance during training ({PREFIX.get(measure, measure)})")
    fig.tight_layout()
    return fig


def curves_table(runs: Mapping[str, str | Path], steps: Sequence[int] | None = None, measure: str = "inv"):
    """Scores at `steps` (default: the first, the middle and the last monitored step of each run): one row per
    (run, step), one column per protocol."""
    df = watched_rows(runs, measure)
    if steps is None:
        picked = []
        for _, sub in df.groupby("run", sort=False):
            s = sorted(sub["step"].unique())
            picked.append(sub[sub["step"].isin({s[0], s[len(s) // 2], s[-1]})])
        df = pd.concat(picked)
    else:
        df = df[df["step"].isin(set(steps))]
    table = df.pivot_table(
        index=["run", "step"], columns="metric", values="value", aggfunc="first", sort=False
    )
    table = table[[p for p in PAPER_PROTOCOLS if p in table.columns]]
    table.columns = [LABELS.get(c, c) for c in table.columns]
    return table.round(1 if measure == "inv" else 3)
