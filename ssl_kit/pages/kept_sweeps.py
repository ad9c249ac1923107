"""Sweeps kept as records, and the recipes page's tables rendered from them: the numbers are never typed.

`keep_sweep(folder)` (`python -m ssl_kit report --keep-sweep results/quick/sweeps/bf16`) copies a finished
sweep's tidy rows (`results.csv`) to `docs/reference/sweeps/<name>.csv`, and writes `<name>.json` beside it: the
machine that ran it, the date, and each cell's steps and training seconds (read from its run folder).
`render_levers`, `render_final` and `render_bf16` turn the kept sweeps into the tables of docs/recipes.md,
`render_budget_rerun` the budget cells kept from another machine into docs/budget.md, beside the reference run's
verdicts (`kept_sweep_blocks`); every value is a mean ± std over seeds, and a comparison holds only beyond the
larger of the two spreads (`ssl_kit.findings.check`).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.common.names import plain_name
from ssl_kit.common.tidy import read_rows
from ssl_kit.errors import ConfigError
from ssl_kit.findings.by_budget import (
    budget_label,
    budget_rows,
    findings_by_budget,
    split_variant,
    verdict_table,
)
from ssl_kit.findings.checks import RANDOM_INIT, check, group_values, learned_text
from ssl_kit.runs import rundir
from ssl_kit.study.records import DEFAULT_REFERENCE, REFERENCE, references
from ssl_kit.study.reproduce import machine

KEPT = REFERENCE / "sweeps"  # under the repository
RECIPES_PAGE, BUDGET_PAGE = Path("docs") / "recipes.md", Path("docs") / "budget.md"
PROBES = (("knn_acc", "kNN"), ("linear_acc", "linear probe"))
INVARIANCES = (("occlusion", "occlusion"), ("viewpoint", "viewpoint"), ("illumination_direction", "illum. dir."),
               ("illumination_color", "illum. colour"), ("instance", "instance"),
               ("instance_viewpoint", "instance + viewpoint"))  # fmt: skip


def keep_sweep(folder: str | Path, root: Path) -> Path:
    """Keep the finished sweep in `folder` (its `results.csv` and run folders) under `root / KEPT`."""
    folder = Path(folder)
    results = folder / "results.csv"
    if not results.is_file():
        raise ConfigError(f"{folder}: no results.csv (run the sweep to the end first)")
    rows = read_rows(results)
    missing = sorted(
        {"sweep", "cell", "seed", "status", "metric", "K", "value"} - set(rows[0] if rows else {})
    )
    if not rows or missing:
        lacks = f"lacks the columns {', '.join(missing)}" if rows else "holds no rows"
        raise ConfigError(
            f"{results} {lacks}: not the table of a sweep (`python -m ssl_kit sweep` writes one)"
        )
    failed = sorted({r["cell"] for r in rows if r.get("status") != "ok"})
    if failed:
        raise ConfigError(f"{folder}: cells failed ({', '.join(failed)}); rerun the sweep before keeping it")
    names = {r["sweep"] for r in rows}
    if len(names) != 1:
        raise ConfigError(f"{results}: rows of {len(names)} sweeps; a sweep's table names one")
    name = plain_name(names.pop(), f"{results}: the `sweep` column")  # it names the kept files
    out = root / KEPT
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / f"{name}.csv", results.read_text())
    cells = {}
    for path in sorted((folder / "cells").glob("*.json")):
        cell = json.loads(path.read_text())
        run = Path(cell.get("run", ""))
        steps = None
        if run.is_dir():
            steps = max((r["step"] for r in rundir.read_metrics(run) if "step" in r), default=None)
        cells[cell["cell"]] = {"steps": steps, "train_seconds": cell.get("train_seconds")}
    record = {
        "sweep": name,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "cells": cells,
    }
    atomic_write_text(out / f"{name}.json", json.dumps(record, indent=1) + "\n")
    return out / f"{name}.csv"


def kept(name: str, root: Path) -> tuple[list[dict], dict] | None:
    """The rows of the finished cells and the record of kept sweep `name`, or None when it is not kept."""
    csv, meta = root / KEPT / f"{name}.csv", root / KEPT / f"{name}.json"
    if not csv.is_file() or not meta.is_file():
        return None
    return [r for r in read_rows(csv) if r.get("status") == "ok"], json.loads(meta.read_text())


def _stat(rows: list[dict], by: str, group: str, metric: str) -> str:
    """Mean ± std over seeds of `group`'s `metric`: 3 decimals for an accuracy, 1 for an invariance."""
    values, digits = group_values(rows, by, group, metric), 3 if metric.endswith("_acc") else 1
    if not values:
        return "—"
    spread = f" ± {np.std(values):.{digits}f}" if len(values) > 1 else ""
    return f"{np.mean(values):.{digits}f}{spread}"


def _steps(record: dict, variant: str) -> str:
    steps = {c["steps"] for name, c in record["cells"].items() if name.rsplit("-s", 1)[0] == variant}
    return ", ".join(str(s) for s in sorted(s for s in steps if s is not None)) or "—"


def _versus(rows: list[dict], by: str, a: str, b: str, metric: str) -> str:
    """`a` - `b` on `metric`, bold when it exceeds the spread (a real gain), with the spread."""
    c = check(rows, by, a, b, metric)
    if c is None:
        return "—"
    text = f"{c.difference:+.3f}"
    return f"**{text}**" if c.holds else text


def _machine_line(record: dict, command: str) -> str:
    m = record["machine"]
    return f"*{m['cpu']}, torch {m['torch']}; `{command}`, kept {record['date'][:10]}.*"


def render_levers(levers: tuple[list[dict], dict], more: tuple[list[dict], dict] | None) -> str:
    """The lever table: each lever's kNN and linear probe on objects/val (mean ± std over seeds), its steps, and
    its difference from the baseline (bold beyond the spread)."""
    rows, record = levers
    if more is not None:
        rows = [*rows, *more[0]]
        record = {**record, "cells": {**record["cells"], **more[1]["cells"]}}
    seeds = sorted({r["seed"] for r in rows})
    variants = list(dict.fromkeys(r["variant"] for r in rows if r["method"] != RANDOM_INIT))
    out = [
        _machine_line(
            record, "python -m ssl_kit sweep --grid recipe_levers_3` and `--grid recipe_more_images"
        ),
        "",
        f"MoCo v2 with the paper's augmentation, queue 128, fp32; seeds {', '.join(map(str, seeds))}; mean ± std "
        "over seeds on `objects/val`. A difference from the baseline is **bold** where it exceeds the larger of "
        "the two spreads.",
        "",
        "| lever | steps | kNN | linear probe | kNN − baseline | linear − baseline |",
        "|---|---|---|---|---|---|",
    ]
    for v in [*variants, RANDOM_INIT]:
        cells = [_stat(rows, "variant", v, m) for m, _ in PROBES]
        if v in ("base", RANDOM_INIT):
            diffs = ["", ""]
        else:
            diffs = [_versus(rows, "variant", v, "base", m) for m, _ in PROBES]
        name = {
            "base": "baseline: the learned stem",
            RANDOM_INIT: "random init (the same network, learned stem)",
        }.get(v, v)
        steps = "" if v == RANDOM_INIT else _steps(record, v)
        out.append(f"| {name} | {steps} | {' | '.join(cells)} | {' | '.join(diffs)} |")
    return "\n".join(out)


BF16_MODELS = (("mocov2", "MoCo v2, the paper's augmentation"), ("crop_0.8", "MoCo v2, crops of (0.8, 1)"),
               ("supervised", "supervised"))  # fmt: skip
BF16_RUNS = (("fp32", "fp32"), ("bf16", "bf16, same steps"), ("bf16_equal_time", "bf16, fp32's wall time"))


def _within(rows: list[dict], a: str, b: str, metric: str) -> bool | None:
    """Whether `a` and `b` differ on `metric` by no more than the larger of their spreads over seeds."""
    c = check(rows, "variant", a, b, metric)
    return None if c is None else abs(c.difference) <= (c.spread or 0.0)


def render_bf16(kept_bf16: tuple[list[dict], dict]) -> str:
    """bf16 against fp32 per model: probes and invariances (mean ± std over seeds), and for bf16 at equal steps
    how many of the eight scores stay within the seed spread of fp32."""
    rows, record = kept_bf16
    seeds = sorted({r["seed"] for r in rows})
    metrics = (*PROBES, *INVARIANCES)
    out = [
        _machine_line(record, "python -m ssl_kit sweep --grid bf16"),
        "",
        f"Seeds {', '.join(map(str, seeds))}; mean ± std over seeds; accuracies on `objects/val`, invariances at "
        "top-25 (the paper's percentages). *Within spread* (bf16 at fp32's steps): of the eight scores, how many "
        "differ from fp32's by no more than the larger of the two spreads.",
        "",
        "| model | run | steps | " + " | ".join(label for _, label in metrics) + " | within spread of fp32 |",
        "|---|---|---|" + "---|" * len(metrics) + "---|",
    ]
    for model, model_label in BF16_MODELS:
        for run, run_label in BF16_RUNS:
            v = f"{model}_{run}"
            if not group_values(rows, "variant", v, "knn_acc"):
                continue
            cells = [_stat(rows, "variant", v, m) for m, _ in metrics]
            within = ""
            if run == "bf16":  # at equal steps only: more steps are meant to change the scores
                verdicts = [_within(rows, v, f"{model}_fp32", m) for m, _ in metrics]
                outside = [label for (_, label), ok in zip(metrics, verdicts, strict=True) if ok is False]
                measured = sum(ok is not None for ok in verdicts)
                within = f"{measured - len(outside)} of {measured}" + (
                    f" (outside: {', '.join(outside)})" if outside else ""
                )
            row = [model_label, run_label, _steps(record, v), *cells, within]
            out.append("| " + " | ".join(row) + " |")
    ri = [_stat(rows, "variant", RANDOM_INIT, m) for m, _ in metrics]
    out.append("| random init (same network) | | | " + " | ".join(ri) + " | |")
    return "\n".join(out)


def render_budget_rerun(kept_budget: tuple[list[dict], dict], reference: dict | None = None) -> str:
    """Cells of the budget grid kept as a sweep (trained on another machine): each model at each budget (probes,
    invariances, whether it beats random init), then each finding's verdict at each budget (budget.md), beside the
    reference run's verdict at the same budget when `reference` (its `verdicts_by_budget`) is given."""
    rows, record = kept_budget
    seeds = sorted({r["seed"] for r in rows})
    metrics = (*PROBES, *INVARIANCES)
    variants = list(dict.fromkeys(r["variant"] for r in rows if r["method"] != RANDOM_INIT))
    out = [
        _machine_line(record, "python -m ssl_kit sweep --grid budget --variants ..."),
        "",
        f"Seeds {', '.join(map(str, seeds))}; mean ± std over seeds; invariances at top-25. *Beats random init*: "
        "above the same network untrained (with the same whitened stem) on both probes, beyond the spread.",
        "",
        "| model | steps | " + " | ".join(label for _, label in metrics) + " | beats random init |",
        "|---|---|" + "---|" * len(metrics) + "---|",
    ]
    for v in variants:
        model, budget = split_variant(v) or (v, None)
        at = budget_rows(rows, budget) if budget is not None else rows
        learned = learned_text(at, "model", model)
        cells = [_stat(rows, "variant", v, m) for m, _ in metrics]
        label = f"{model} {budget_label(budget)}" if budget is not None else v
        out.append(f"| {label} | {_steps(record, v)} | " + " | ".join(cells) + f" | {learned} |")
    ri = [_stat(rows, "variant", RANDOM_INIT, m) for m, _ in metrics]
    out.append("| random init | | " + " | ".join(ri) + " | |")
    checks = findings_by_budget(rows)
    if checks.empty:
        return "\n".join(out)
    verdicts = verdict_table(checks)
    if reference:
        out += [
            "",
            "| finding | budget | this machine | the reference run | the same verdict |",
            "|---|---|---|---|---|",
        ]
        for number, row in verdicts.iterrows():
            for budget, verdict in row.items():
                theirs = reference.get(str(number), {}).get(budget, "—")
                same = "yes" if theirs == verdict else "no" if theirs != "—" else "—"
                out.append(f"| {number} | {budget} | {verdict} | {theirs} | {same} |")
        return "\n".join(out)
    out += [
        "",
        "| finding | " + " | ".join(verdicts.columns) + " |",
        "|---|" + "---|" * len(verdicts.columns),
    ]
    for number, row in verdicts.iterrows():
        out.append(f"| {number} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(out)


FINAL_POLICIES = (("crop_0.8", "the kit's crops of (0.8, 1)"), ("mocov2", "the paper's MoCo v2 augmentation"))
FINAL_BUDGETS = (("recipe", "the recipe's 12 epochs"), ("equal_time", "the previous recipe's wall time"))


def render_final(kept_final: tuple[list[dict], dict]) -> str:
    """The quick recipe with both policies (grid `recipe_final`): probes at each budget and their gain over the
    same network untrained, bold beyond the spread (recipes.md)."""
    rows, record = kept_final
    seeds = sorted({r["seed"] for r in rows})
    by = ("variant", "policy")
    out = [
        _machine_line(record, "python -m ssl_kit sweep --grid recipe_final"),
        "",
        f"MoCo v2, seeds {', '.join(map(str, seeds))}; mean ± std over seeds on `objects/val`; the gain over random "
        "init (the same network untrained, behind the same whitened stem) is **bold** beyond the spread.",
        "",
        "| augmentation | budget | steps | kNN | linear probe | kNN − random init | linear − random init |",
        "|---|---|---|---|---|---|---|",
    ]
    for policy, policy_label in FINAL_POLICIES:
        for variant, budget_label_ in FINAL_BUDGETS:
            group = f"{variant} ({policy})"
            if not group_values(rows, by, group, "knn_acc"):
                continue
            cells = [_stat(rows, by, group, m) for m, _ in PROBES]
            gains = [_versus(rows, by, group, RANDOM_INIT, m) for m, _ in PROBES]
            steps = _steps(record, f"{variant}-{policy}")
            out.append(
                f"| {policy_label} | {budget_label_} | {steps} | {' | '.join(cells)} | {' | '.join(gains)} |"
            )
    ri = [_stat(rows, by, RANDOM_INIT, m) for m, _ in PROBES]
    out.append(f"| random init (same network) | | | {' | '.join(ri)} | | |")
    return "\n".join(out)


def _reference_by_budget(root: Path) -> dict | None:
    """The main reference run's verdicts at each budget (its notebook 06 record), if it ran notebook 06."""
    refs = references(root / REFERENCE)
    main = next((r for r in refs if r.name == DEFAULT_REFERENCE), None)
    return (main.records.get("06_budget_curve") or {}).get("verdicts_by_budget") if main else None


def kept_sweep_blocks(root: Path) -> list[tuple[Path, str, str]]:
    """(page, marker, body) of every table whose sweep is kept under `root`."""
    out = []
    for page, marker, name, render in (
        (
            RECIPES_PAGE,
            "levers",
            "recipe_levers_3",
            lambda k: render_levers(k, kept("recipe_more_images", root)),
        ),
        (RECIPES_PAGE, "recipe final", "recipe_final", render_final),
        (RECIPES_PAGE, "bf16", "bf16", render_bf16),
        (BUDGET_PAGE, "budget rerun", "budget", lambda k: render_budget_rerun(k, _reference_by_budget(root))),
    ):
        found = kept(name, root)
        if found is not None:
            out.append((page, marker, render(found)))
    return out
