"""Training-curve viewer: loss, instance accuracy and kNN accuracy of several runs, from their metrics.jsonl.

    viewer = CurvesViewer("results/quick/sweeps/runs")   # or a run folder, a glob, a list
    viewer.widget

A run folder is any folder holding `metrics.jsonl` (`ssl_kit.runs.rundir`); a folder of runs is searched one level
down. "reload" re-reads the files, so a run still training can be watched.
"""

from __future__ import annotations

import glob
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from ssl_kit.errors import DataError
from ssl_kit.runs import rundir
from ssl_kit.viz.widgets.common import figure, figure_png, guarded

DEFAULT_METRICS = ("loss", "instance_acc", "knn_acc")
_NOT_METRICS = {"step", "epoch", "final", "error"}  # and data_* (what the data loader counted, once)


def find_runs(runs: str | Path | Sequence[str | Path]) -> dict[str, Path]:
    """name -> run folder, for a run folder, a folder of runs, a glob pattern, or a list of any of these.

    A path that does not exist is an error; a folder without runs is an error when nothing else holds one
    (else it is skipped with a warning: a sweep that has not written a run yet)."""
    items = [runs] if isinstance(runs, str | Path) else list(runs)
    found: list[Path] = []
    empty: list[DataError] = []
    for item in items:
        paths = [Path(p) for p in sorted(glob.glob(str(item)))] if glob.has_magic(str(item)) else [Path(item)]
        if not paths:
            empty.append(
                DataError(Path(item), "glob pattern matches nothing", f"run folders holding {rundir.METRICS}")
            )
        for path in paths:
            if not path.is_dir():
                raise DataError(
                    path,
                    "run folder is missing",
                    f"a run folder holding {rundir.METRICS}, or a folder of runs",
                )
            if (path / rundir.METRICS).is_file():
                found.append(path)
                continue
            children = sorted(p for p in path.iterdir() if (p / rundir.METRICS).is_file())
            if not children and not glob.has_magic(str(item)):
                empty.append(
                    DataError(
                        path,
                        f"holds no {rundir.METRICS}, and no sub-folder does",
                        "a run folder written by `ssl_kit train`, or a folder of such runs",
                    )
                )
            found.extend(children)
    if not found:
        raise empty[0] if empty else DataError(Path(str(items[0])), "no run folders given", "run folders")
    for e in empty:
        warnings.warn(f"skipped: {e}", stacklevel=2)
    found = list(dict.fromkeys(p.resolve() for p in found))
    names = [p.name for p in found]
    if len(set(names)) < len(names):  # same folder name under different parents: add the parent
        names = [f"{p.parent.name}/{p.name}" for p in found]
    return dict(zip(names, found, strict=True))


def curve(rows: list[dict], metric: str, x: str = "step") -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of every row that holds a finite number for both `x` and `metric`, in file order."""
    pts = [(r[x], r[metric]) for r in rows if _number(r.get(x)) and _number(r.get(metric))]
    if not pts:
        return np.zeros(0), np.zeros(0)
    xs, ys = zip(*pts, strict=True)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


class CurvesViewer:
    """Controls: `runs_select`, `metrics_select` (SelectMultiple), `x_dropdown` (step / epoch), `reload_button`.

    State: `runs` (name -> folder), `rows` (name -> metrics rows), `curves` (metric -> run -> (x, y)) of what is
    drawn, `error`.
    """

    def __init__(self, runs, metrics: Sequence[str] = DEFAULT_METRICS, x: str = "step"):
        self.runs = find_runs(runs)
        self.error: BaseException | None = None
        self.rows: dict[str, list[dict]] = {}
        self._read()
        available = self.available_metrics()
        chosen = [m for m in metrics if m in available] or available[:1]
        names = list(self.runs)
        self.runs_select = widgets.SelectMultiple(
            options=names, value=names, description="runs", rows=min(8, len(names))
        )
        self.metrics_select = widgets.SelectMultiple(
            options=available, value=chosen, description="metrics", rows=min(8, len(available))
        )
        self.x_dropdown = widgets.Dropdown(options=["step", "epoch"], value=x, description="x axis")
        self.reload_button = widgets.Button(description="reload", icon="refresh")
        self.picture, self.status = widgets.Image(format="png"), widgets.HTML()
        self._render()
        for w in (self.runs_select, self.metrics_select, self.x_dropdown):
            w.observe(self._on_change, "value")
        self.reload_button.on_click(lambda _b: self.reload())
        controls = widgets.HBox(
            [self.runs_select, self.metrics_select, widgets.VBox([self.x_dropdown, self.reload_button])]
        )
        self.widget = widgets.VBox([controls, self.status, self.picture])

    def _read(self) -> None:
        self.rows = {name: rundir.read_metrics(path) for name, path in self.runs.items()}

    def available_metrics(self) -> list[str]:
        """Numeric fields found in any run, the usual three first."""
        seen = dict.fromkeys(
            k
            for rows in self.rows.values()
            for r in rows
            for k, v in r.items()
            if k not in _NOT_METRICS and not k.startswith("data_") and _number(v)
        )
        return [m for m in DEFAULT_METRICS if m in seen] + sorted(m for m in seen if m not in DEFAULT_METRICS)

    @guarded
    def reload(self) -> None:
        self._read()
        available = self.available_metrics()
        if list(self.metrics_select.options) != available:
            keep = [m for m in self.metrics_select.value if m in available]
            self.metrics_select.options = available
            self.metrics_select.value = keep
        self._render()

    @guarded
    def _on_change(self, change) -> None:
        self._render()

    def _render(self) -> None:
        metrics, runs, x = (
            list(self.metrics_select.value),
            list(self.runs_select.value),
            self.x_dropdown.value,
        )
        self.curves = {m: {r: curve(self.rows[r], m, x) for r in runs} for m in metrics}
        cols = max(1, len(metrics))
        fig = figure(4.0 * cols, 3.0)
        for j, m in enumerate(metrics):
            ax = fig.add_subplot(1, cols, j + 1)
            for r in runs:
                xs, ys = self.curves[m][r]
                if len(xs):
                    ax.plot(xs, ys, marker="o" if len(xs) < 5 else None, ms=4, lw=1.2, label=r)
            ax.set_title(m, fontsize=10)
            ax.set_xlabel(x)
            ax.grid(alpha=0.3)
            if not any(len(self.curves[m][r][0]) for r in runs):
                ax.text(
                    0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes, color="gray"
                )
        if metrics and runs:
            fig.axes[0].legend(fontsize=7)
        self.picture.value = figure_png(fig)
