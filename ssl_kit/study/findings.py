"""The paper's four findings (DESIGN.md), each checked against measured numbers with a plain verdict.

A *check* compares two groups on one metric: the difference of their means over seeds, the larger of their
standard deviations over seeds (the "spread"), and whether the difference points the paper's way by more
than that spread. With a single seed there is no spread, and a check only says which way the difference
points. A finding is *reproduced* when every one of its checks holds, *partly reproduced* when some do, and
*not reproduced* when none does. The notebooks build the findings; `ssl_kit.study.reproduce` puts them at the top
of `results/summary.md`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

CLAIMS = {
    1: "Contrastive models (MoCo) trained with aggressive crops are more occlusion-invariant than a supervised "
    "model, and less viewpoint-, illumination- and instance-invariant.",
    2: "Object-centric training data beats scene-centric data of the same size; object crops cut from the "
    "scenes recover much of the gap.",
    3: "Invariances follow the augmentations: without the random crop, occlusion invariance falls.",
    4: "Temporal positives from video (Frame Temporal Invariance, Region Tracker) give more viewpoint "
    "invariance than MoCo v2 on the same frames.",
}


@dataclass
class Check:
    what: str  # "a > b on metric"
    a: str
    b: str
    metric: str
    a_mean: float
    b_mean: float
    spread: float | None  # None with one seed
    seeds: int

    @property
    def difference(self) -> float:
        return self.a_mean - self.b_mean

    @property
    def holds(self) -> bool:
        return self.difference > (self.spread or 0.0)

    def text(self) -> str:
        spread = f", spread {self.spread:.3g}" if self.spread is not None else ", 1 seed"
        return f"{self.a} {self.a_mean:.3g} vs {self.b} {self.b_mean:.3g} ({self.metric}{spread})"


@dataclass
class Finding:
    number: int
    checks: list[Check] = field(default_factory=list)
    note: str = ""

    @property
    def verdict(self) -> str:
        held = sum(c.holds for c in self.checks)
        if not self.checks:
            return "not measured"
        return "reproduced" if held == len(self.checks) else "partly reproduced" if held else "not reproduced"

    def record(self) -> dict:
        """A JSON-ready summary (what the notebooks write and `reproduce` renders)."""
        return {
            "finding": self.number,
            "claim": CLAIMS[self.number],
            "verdict": self.verdict,
            "checks": [
                {**asdict(c), "difference": c.difference, "holds": c.holds, "text": c.text()}
                for c in self.checks
            ],
            "note": self.note,
        }


def group_values(rows: Iterable[dict], by: str, group: str, metric: str, K: int | None = 25) -> list[float]:
    """The values of `metric` (at top-`K` for invariances) over seeds for rows whose `by` field is `group`.

    Accepts sweep rows (metric, K, value) and invariance rows (model, invariance, K, score)."""
    out = []
    for r in rows:
        name = r.get("metric", r.get("invariance"))
        value = r.get("value", r.get("score"))
        k = r.get("K")
        if r.get(by) != group or name != metric or value in (None, ""):
            continue
        if k not in (None, "") and K is not None and int(k) != K:
            continue
        out.append(float(value))
    return out


def check(rows: Iterable[dict], by: str, a: str, b: str, metric: str, K: int = 25) -> Check | None:
    """Is group `a` above group `b` on `metric` (mean over seeds), by more than the spread over seeds?"""
    rows = list(rows)
    va, vb = group_values(rows, by, a, metric, K), group_values(rows, by, b, metric, K)
    if not va or not vb:
        return None
    seeds = min(len(va), len(vb))
    spread = float(max(np.std(va), np.std(vb))) if seeds > 1 else None
    return Check(
        f"{a} > {b} on {metric}", a, b, metric, float(np.mean(va)), float(np.mean(vb)), spread, seeds
    )


def finding(number: int, checks: Iterable[Check | None], note: str = "") -> Finding:
    return Finding(number, [c for c in checks if c is not None], note)
