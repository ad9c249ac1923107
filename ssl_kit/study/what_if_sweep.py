"""What if? Change one thing a network trains with, and see which invariance moves, with the seed spread.

`what_if("jitter_strength", [0, 2])` trains the study's MoCo v2 network (or `network="supervised"`) once per
level of one factor (`ssl_kit.study.factors`: an augmentation knob of its policy, or a property of the world's
objects it trains on) and seed, and scores every network as the study does: kNN and a linear probe on objects, the
six invariances by the paper's measure (top-10 and top-25) and by the cosine measure. Each level trains beside the
baseline with the same seed, which fixes the initial weights and the order of the data, so a level and its
baseline differ only in the factor and in the random draws it changes; a level's change is the mean over seeds of
its difference from the baseline of the same seed, with the spread (sample standard deviation) of those
differences. The answer is a `WhatIf`: a tidy table (`rows`), a sentence per level and invariance (`sentence`),
and the run folders (`run`) for neighbours and layer maps. Reference rows: random init, and the study's other
network (supervised for MoCo v2, and the other way round).

Everything is one sweep (`ssl_kit.study.sweep`) named `what_if-<network>-<factor>` in the study's sweep folder:
cells are keyed and cached like every cell, so asking again is instant, the baseline and reference networks are
notebook 01's own runs (trained once, shared), and a world variant is rendered once.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ssl_kit.errors import ConfigError
from ssl_kit.findings.checks import ONE_SEED, RANDOM_INIT
from ssl_kit.invariance.protocols import PAPER_PROTOCOLS
from ssl_kit.study.factors import Factor, baseline_level, get_factor
from ssl_kit.study.grid import parse_grid
from ssl_kit.study.reproduce import default_jobs
from ssl_kit.study.sweep import SweepResult, run_sweep

# the study's two networks, as notebook 01's grid (invariances.yaml) trains them: their runs are shared
NETWORKS = {
    "mocov2": {"method": "mocov2", "policy": "mocov2"},
    "supervised": {"method": "supervised", "policy": "supervised"},
}
BASELINE = "baseline"
MEASURES = {10: "top-10", 25: "top-25"}  # K -> measure; no K: "cosine"; accuracies: "accuracy"
WORDS = {
    "occlusion": "occlusion",
    "viewpoint": "viewpoint",
    "illumination_direction": "illumination-direction",
    "illumination_color": "illumination-colour",
    "instance": "instance",
    "instance_viewpoint": "instance + viewpoint",
    "knn_acc": "kNN accuracy",
    "linear_acc": "linear-probe accuracy",
}
FIELDS = ("factor", "network", "level", "role", "metric", "measure", "seeds", "mean", "sd", "change",
          "change_sd")  # fmt: skip

__all__ = ["what_if", "WhatIf", "NETWORKS", "level_label", "what_if_grid"]


def level_label(factor: Factor, level) -> str:
    """A level as the table and the cell names write it: `views=90`, `preset=dorsal`, `markings=false`."""
    if isinstance(level, bool):
        text = "true" if level else "false"
    elif isinstance(level, float | int):
        text = f"{float(level):g}"
    else:
        text = str(level)
    return f"{factor.name}={text}"


def _measure(metric: str, k) -> str:
    """A row's measure: an invariance's top-K, or the cosine measure (no K: empty, or None as a CSV reads it);
    a probe's accuracy."""
    if metric not in PAPER_PROTOCOLS:
        return "accuracy"
    return "cosine" if k in (None, "") else MEASURES.get(int(k), f"top-{k}")


def what_if_grid(
    factor: Factor, levels: Sequence, network: str, seeds: Sequence[int], scale: str
) -> tuple[dict, dict[str, str]]:
    """The sweep's grid (a raw mapping, checked by `parse_grid`) and each label's variant: the baseline, one
    variant per level that changes something, the other network as a reference."""
    if network not in NETWORKS:
        raise ConfigError(f"what-if network {network!r}: one of {', '.join(NETWORKS)}")
    base = NETWORKS[network]
    variants, labels = {BASELINE: dict(base)}, {}
    for level in levels:
        change = factor.cell_change(level, base["policy"])
        label = level_label(factor, level)
        labels[label] = label if change else BASELINE
        if change:
            variants[label] = {**base, **change}
    for other, spec in NETWORKS.items():
        if other != network:
            variants[other] = dict(spec)
            labels[other] = other
    raw = {
        "name": f"what_if-{network}-{factor.name}",
        "about": f"what if: {factor.name} for {network}",
        "scale": scale,
        "seeds": list(seeds),
        "data": ["objects"],
        "variants": variants,
        "evaluate": {
            "downstream": "objects",
            "linear": True,
            "protocols": "all",
            "top_k": [10, 25],
            "random_init": True,
            "cosine": True,
        },  # fmt: skip
    }
    return raw, labels


@dataclass
class WhatIf:
    """The answer to one what-if question (the module doc says how it is measured)."""

    factor: Factor
    network: str
    baseline_level: object
    levels: list[str]  # level labels, in the order asked
    seeds: list[int]
    rows: list[dict]  # the table: one row per (level or reference, metric, measure)
    sweep: SweepResult | None  # None: read from a kept sweep's rows (`from_rows`), no run folders
    cells: dict[tuple[str, int], str] = field(default_factory=dict)  # (label, seed) -> sweep cell

    def row(self, label: str, metric: str, measure: str = "top-25") -> dict:
        for r in self.rows:
            if r["level"] == label and r["metric"] == metric and r["measure"] == measure:
                return r
        raise ConfigError(f"what-if: no row for {label} {metric} ({measure})")

    def sentence(self, label: str, metric: str, measure: str = "top-25") -> str:
        """One sentence: how the level moved the metric, with its spread and seeds, and what the paper predicts."""
        r = self.row(label, metric, measure)
        words = WORDS.get(metric, metric) + (" invariance" if metric in PAPER_PROTOCOLS else "")
        if r["role"] != "level":
            return f"{label} is the baseline: nothing changed."
        digits = 3 if measure in ("accuracy", "cosine") else 1
        size = f"{abs(r['change']):.{digits}f}"
        seeds = f"{r['seeds']} seed{'s' * (r['seeds'] > 1)}"
        baseline = (
            level_label(self.factor, self.baseline_level)
            if self.baseline_level is not None
            else "the baseline"
        )
        if r["seeds"] < 2:
            verb = "raised" if r["change"] > 0 else "lowered"
            said = f"{label} (against {baseline}) {verb} {words} by {size} ({measure}; {ONE_SEED})"
        elif abs(r["change"]) > r["change_sd"]:
            verb = "raised" if r["change"] > 0 else "lowered"
            said = f"{label} (against {baseline}) {verb} {words} by {size} ± {r['change_sd']:.{digits}f} ({measure}, {seeds})"
        else:
            said = (
                f"{label} (against {baseline}) moved {words} by {r['change']:+.{digits}f} ± "
                f"{r['change_sd']:.{digits}f}, within the spread ({measure}, {seeds})"
            )
        return f"{said}. What the paper predicts for {self.factor.name}: {self.factor.predicts}."

    def moved(self, label: str, measure: str = "top-25") -> list[dict]:
        """The six invariances' rows of a level, the one that moved most beyond its spread first."""
        rows = [r for r in self.rows if r["level"] == label and r["measure"] == measure]
        rows = [r for r in rows if r["metric"] in PAPER_PROTOCOLS and r["change"] != ""]
        return sorted(rows, key=lambda r: -abs(r["change"]) / max(r["change_sd"] or 0.0, 1e-9))

    def summary(self, measure: str = "top-25") -> dict[str, dict]:
        """Label -> {column: "mean (change ± spread)"}: the baseline, each level that changed something, the
        references; the accuracies and the six invariances by `measure`. What a record keeps and a page renders."""
        roles = {r["level"]: r["role"] for r in self.rows}
        labels = [BASELINE, *dict.fromkeys(lv for lv in self.levels if roles.get(lv) == "level")]
        labels += [lv for lv in dict.fromkeys(r["level"] for r in self.rows) if roles[lv] == "reference"]
        out = {}
        for label in labels:
            rows = {
                r["metric"]: r
                for r in self.rows
                if r["level"] == label and r["measure"] in (measure, "accuracy")
            }
            entry: dict = {"seeds": max((r["seeds"] for r in rows.values()), default=0)}
            for metric in ("knn_acc", "linear_acc", *PAPER_PROTOCOLS):
                r = rows.get(metric)
                if r is None:
                    continue
                digits = 3 if metric.endswith("_acc") else 1
                text = f"{r['mean']:.{digits}f}"
                if r["change"] != "":
                    spread = f" ± {r['change_sd']:.{digits}f}" if r["seeds"] > 1 else ""
                    text += f" ({r['change']:+.{digits}f}{spread})"
                entry[WORDS[metric]] = text
            out[label] = entry
        return out

    def sentences(self, measure: str = "top-25") -> dict[str, str]:
        """Level -> the sentence of the invariance it moved most (relative to its spread)."""
        said = {}
        for label in dict.fromkeys(self.levels):
            moved = self.moved(label, measure)
            if moved:
                said[label] = self.sentence(label, moved[0]["metric"], measure)
        return said

    def run(self, label: str, seed: int) -> Path:
        """The run folder of a level (or `baseline`, or the reference network) at `seed`."""
        if self.sweep is None:
            raise ConfigError(f"what-if {self.factor.name}: read from kept rows, it has no run folders")
        return self.sweep.run(self.cells[(label, seed)])


def _summaries(values: dict[str, dict[int, float]], baseline: dict[int, float]) -> tuple:
    """(seeds, mean, sd, change, change_sd) of one label's values by seed, against the baseline's by seed."""
    seeds = sorted(values)
    xs = [values[s] for s in seeds]
    mean = statistics.fmean(xs)
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    paired = [values[s] - baseline[s] for s in seeds if s in baseline]
    if not paired:
        return len(xs), mean, sd, "", ""
    change = statistics.fmean(paired)
    return len(xs), mean, sd, change, statistics.stdev(paired) if len(paired) > 1 else 0.0


def _table(factor: Factor, network: str, sweep_rows: list[dict], labels: dict[str, str]) -> list[dict]:
    """The tidy table: per label (the baseline, each level, the reference network, random init), metric and
    measure, its mean and spread over seeds and its paired change from the baseline."""
    by: dict[tuple[str, str, str], dict[int, float]] = {}
    for r in sweep_rows:
        if r["status"] != "ok":
            continue
        variant = RANDOM_INIT if r["method"] == RANDOM_INIT else r["variant"]
        by.setdefault((variant, r["metric"], _measure(r["metric"], r["K"])), {})[int(r["seed"])] = float(
            r["value"]
        )
    order = [BASELINE, *dict.fromkeys(v for v in labels.values() if v != BASELINE), RANDOM_INIT]
    roles = {BASELINE: "baseline", RANDOM_INIT: "reference", **{o: "reference" for o in NETWORKS}}
    rows = []
    for variant in order:
        for (v, metric, measure), values in by.items():
            if v != variant:
                continue
            base = {} if variant == BASELINE else by.get((BASELINE, metric, measure), {})
            n, mean, sd, change, change_sd = _summaries(values, base)
            rows.append({"factor": factor.name, "network": network, "level": variant,
                         "role": roles.get(variant, "level"), "metric": metric, "measure": measure, "seeds": n,
                         "mean": mean, "sd": sd, "change": change, "change_sd": change_sd})  # fmt: skip
    return rows


def what_if(
    factor: str,
    levels: Sequence | None = None,
    network: str = "mocov2",
    seeds: Sequence[int] | None = None,
    n_seeds: int = 3,
    seed: int = 0,
    scale: str = "quick",
    world: str | Path = "data/world/quick",
    out: str | Path = "results/quick/sweeps",
    progress: bool = True,
    jobs: int | None = None,
    launch=None,
) -> WhatIf:
    """Train `network` at each level of `factor` (default: the factor's own levels) and at its baseline with each
    seed (`seeds`, or `n_seeds` seeds from `seed`), score them all, and return the `WhatIf`; cached cells are
    read, not trained again (see the module doc). `jobs`: cells trained side by side (default: `default_jobs`,
    two on a CPU with two cores or more, one at smoke scale). `launch`: where the cells run
    (`ssl_kit.study.launch.options.LaunchOptions`; default: this machine)."""
    spec = get_factor(factor)
    levels = list(spec.levels if levels is None else levels)
    if not levels:
        raise ConfigError(f"what-if {factor}: give at least one level")
    seeds = list(seeds) if seeds is not None else list(range(seed, seed + n_seeds))
    raw, labels = what_if_grid(spec, levels, network, seeds, scale)
    grid = parse_grid(raw, f"what-if {factor}", scale, seeds)
    if jobs is None and (launch is None or launch.launcher == "local"):
        jobs = default_jobs(scale)  # two cells side by side on a CPU (not at smoke scale)
    sweep = run_sweep(grid, out, world, progress=progress, jobs=jobs, launch=launch)
    cells = {(c.variant, c.seed): c.name for c in grid.cells}
    cells.update({(label, s): cells[(variant, s)] for label, variant in labels.items() for s in seeds})
    base_level = baseline_level(spec, NETWORKS[network]["policy"])
    level_labels = [level_label(spec, lv) for lv in levels]
    rows = _table(spec, network, sweep.rows, labels)
    # a level that is the baseline's own is the baseline's rows, under the level's label too
    for label in level_labels:
        if labels[label] == BASELINE:
            rows += [{**r, "level": label} for r in rows if r["level"] == BASELINE]
    return WhatIf(spec, network, base_level, level_labels, seeds, rows, sweep, cells)


def level_value(factor: Factor, label: str):
    """The level a label (`views=90`) names, of the type of the factor's levels."""
    text = label.split("=", 1)[1]
    kind = type(factor.levels[0])
    if kind is bool:
        return text == "true"
    return float(text) if kind is float else text


def from_rows(sweep_rows: list[dict]) -> WhatIf:
    """The `WhatIf` a what-if sweep's rows hold (its `results.csv`, or a kept copy: `report --keep-sweep`): the
    table, summary and sentences, without run folders. The sweep's name says its network and factor."""
    names = {r["sweep"] for r in sweep_rows}
    if len(names) != 1 or not next(iter(names)).startswith("what_if-"):
        raise ConfigError(f"not the rows of one what-if sweep (sweeps: {sorted(names)})")
    _, network, factor = next(iter(names)).split("-", 2)
    spec = get_factor(factor)
    variants = {r["variant"] for r in sweep_rows if r["method"] != RANDOM_INIT}
    levels = sorted((v for v in variants if v.startswith(f"{factor}=")), key=lambda v: _order(spec, v))
    labels = {**{lv: lv for lv in levels}, **{o: o for o in NETWORKS if o in variants and o != network}}
    seeds = sorted({int(r["seed"]) for r in sweep_rows})
    rows = _table(spec, network, sweep_rows, labels)
    return WhatIf(spec, network, baseline_level(spec, NETWORKS[network]["policy"]), levels, seeds, rows, None)


def _order(factor: Factor, label: str) -> tuple:
    value = level_value(factor, label)
    return (factor.levels.index(value), 0) if value in factor.levels else (len(factor.levels), value)
