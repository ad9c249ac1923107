"""The paper's findings checked at each training budget (the budget curve, notebook 06,
`ssl_kit/study/grids/budget.yaml`): pure functions of a sweep's tidy rows (`ssl_kit.study.sweep`).

A cell's model and budget are read from its variant's name, `<model>_x<budget>` ("mocov2_x4": MoCo v2 at 4 times
the quick budget); the random-init network's rows (method "random init") are the reference at every budget.
The figures and tables of these rows are `ssl_kit.viz.budget`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

import numpy as np
import pandas as pd

from ssl_kit.findings.checks import RANDOM_INIT, check, compared, finding, not_learned, verdict_text
from ssl_kit.findings.paper import FINDING_1_OTHERS

BUDGET_MARK = "_x"  # a variant "<model>_x<budget>"
# the checks drawn against the budget, (finding, a, b, metric), each "a above b": finding 1 (MoCo v2 with the
# paper's augmentation against the supervised network) and finding 3 (MoCo v2 against the same without crops)
BUDGET_CHECKS: tuple[tuple[int, str, str, str], ...] = (
    (1, "mocov2", "supervised", "occlusion"),
    *((1, "supervised", "mocov2", inv) for inv in FINDING_1_OTHERS),
    (3, "mocov2", "no_crop", "occlusion"),
)
CHECK_COLUMNS = ("finding", "check", "budget", "a", "b", "metric", "a_mean", "b_mean", "difference", "spread",
                 "seeds", "outcome", "holds", "verdict")  # fmt: skip


def split_variant(variant: str) -> tuple[str, float] | None:
    """("mocov2", 4.0) for the variant "mocov2_x4", ("supervised", 0.25) for "supervised_x0.25"; None for a
    name without a budget (the random-init network's "random init")."""
    model, mark, budget = str(variant).rpartition(BUDGET_MARK)
    if not mark or not model:
        return None
    try:
        value = float(budget)
    except ValueError:
        return None
    return (model, value) if value > 0 and np.isfinite(value) else None


def budget_label(budget: float) -> str:
    """ "x1/4", "x1", "x16": a budget as a multiple of the quick one."""
    return f"x{Fraction(budget).limit_denominator(64)}"


def budget_rows(rows: Iterable[dict], budget: float) -> list[dict]:
    """The rows of the cells trained at `budget`, and the random-init network's, each with its `model` (the
    variant's name before "_x"): what `ssl_kit.findings.checks.check(rows, "model", ...)` and `finding_1`
    read."""
    out = []
    for r in rows:
        if r.get("method") == RANDOM_INIT:
            out.append({**r, "model": RANDOM_INIT})
            continue
        parsed = split_variant(r.get("variant", ""))
        if parsed is not None and parsed[1] == budget:
            out.append({**r, "model": parsed[0]})
    return out


def findings_by_budget(
    rows: Iterable[dict], checks: Sequence[tuple[int, str, str, str]] = BUDGET_CHECKS, K: int = 25
) -> pd.DataFrame:
    """Each check (finding, a, b, metric; default `BUDGET_CHECKS`: findings 1 and 3) at each budget, made by
    `ssl_kit.findings.checks.check` on that budget's rows grouped by model (`budget_rows`): one row per
    (finding, check, budget) with the two means, their difference, the spread over seeds (NaN with one seed),
    the number of seeds, the check's outcome (holds, reversed, within the spread; `Check.outcome`), and the
    finding's verdict at that budget from the checks made there (naming the compared models that do not beat
    random init on both probes there, `verdict_text`). A check whose models are not in the rows is
    left out."""
    rows = list(rows)
    budgets = sorted({p[1] for r in rows if (p := split_variant(r.get("variant", ""))) is not None})
    out = []
    for budget in budgets:
        at = budget_rows(rows, budget)
        made = [(number, check(at, "model", a, b, metric, K)) for number, a, b, metric in checks]
        for number in dict.fromkeys(n for n, _ in made):
            mine = [c for n, c in made if n == number]
            found = finding(number, mine, untrained=not_learned(at, "model", compared(mine)))
            verdict = verdict_text(found.record())
            for c in found.checks:
                spread = np.nan if c.spread is None else c.spread
                values = (
                    number,
                    c.what,
                    budget,
                    c.a,
                    c.b,
                    c.metric,
                    c.a_mean,
                    c.b_mean,
                    c.difference,
                    spread,
                    c.seeds,
                    c.outcome,
                    c.holds,
                    verdict,
                )
                out.append(dict(zip(CHECK_COLUMNS, values, strict=True)))
    return pd.DataFrame(out, columns=list(CHECK_COLUMNS))


def verdict_table(checks: pd.DataFrame) -> pd.DataFrame:
    """`findings_by_budget`'s rows as one row per finding, one column per budget: the finding's verdict."""
    table = checks.pivot_table(index="finding", columns="budget", values="verdict", aggfunc="first")
    table.columns = [budget_label(b) for b in table.columns]
    return table
