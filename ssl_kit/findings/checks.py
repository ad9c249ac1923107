"""A finding's checks as a function of tidy result rows, and the verdict they carry (the paper's four claims:
`CLAIMS`; each finding's checks: `ssl_kit.findings.paper`).

A *check* compares two groups on one metric: each group's mean and standard deviation over seeds (sample
standard deviation, as the tables beside it show), the difference of the means, and the *spread*: the larger of
the two standard deviations. A check is decided by its spread (`Check.outcome`):

- "holds": the difference points the paper's way by more than the spread;
- "reversed": it points the other way by more than the spread;
- "within the spread": neither; the seeds do not decide it.

A check's seeds are its smaller group's; with a single seed there is no spread, and a check only gives a
direction ("points the paper's way", "points the other way"). Each finding knows the checks it expects (`n`);
one whose groups are not in the rows is kept as a *missing* check (`Missing`), shown as "not measured".

A finding's verdict (`Finding.verdict`, the one function every table, page and notebook takes its words from)
says only what its checks carry. It is judged by its fewest seeds:

- every check measured, 2 seeds or more: "reproduced" (every check holds), "reversed" (every check reversed),
  "partly reproduced: 2 of 5 checks hold, 1 reversed, 2 within the spread (3 seeds)", or "not reproduced: 0 of 5
  checks hold, ..." (none holds);
- every check measured, 1 seed: "points the paper's way (1 seed: a direction, not a verdict)" when every check
  points that way, else "k of n checks point the paper's way (1 seed: ...)"; never "reproduced";
- a check missing: "m of n checks measured: " and the measured checks' tally (`tally`); never "reproduced".

Rows are tidy rows (`ssl_kit.common.tidy`: metric, K, value), from either table `group_values` reads:

- invariance rows, as `ssl_kit.invariance.scoring.measure_table` writes them: (model, metric, K, value);
- sweep rows, as `ssl_kit.study.sweep.run_sweep` writes them: (variant, data, method, policy, seed, metric, K,
  value), one row per seed; the random-init network's rows have method and variant "random init" and data
  and policy "-", and count as the group "random init" whichever field groups them (`label`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ssl_kit.invariance.protocols import PAPER_PROTOCOLS

RANDOM_INIT = "random init"  # the random-init network's name in sweep rows (method, variant) and notebook 01

CLAIMS = {
    1: "Contrastive models (MoCo) trained with aggressive crops are more occlusion-invariant than a supervised "
    "model, and less viewpoint-, illumination- and instance-invariant.",
    2: "Object-centric training data beats scene-centric data of the same size; object crops cut from the "
    "scenes recover much of the gap.",
    3: "Invariances follow the augmentations: without the random crop, occlusion invariance falls.",
    4: "Temporal positives from video (Frame Temporal Invariance, Region Tracker) give more viewpoint "
    "invariance than MoCo v2 on the same frames.",
}


HOLDS, REVERSED, WITHIN = "holds", "reversed", "within the spread"  # a check decided by its spread
PAPERS_WAY, OTHER_WAY = "points the paper's way", "points the other way"  # one seed: a direction
ONE_SEED = "1 seed: a direction, not a verdict"


@dataclass
class Check:
    what: str  # "a > b on metric"
    a: str
    b: str
    metric: str
    a_mean: float
    b_mean: float
    a_spread: float | None  # standard deviation over seeds; None with one seed
    b_spread: float | None
    seeds: int  # the smaller group's

    @property
    def difference(self) -> float:
        return self.a_mean - self.b_mean

    @property
    def spread(self) -> float | None:
        """The larger of the two groups' standard deviations over seeds; None with one seed."""
        spreads = [s for s in (self.a_spread, self.b_spread) if s is not None]
        return max(spreads) if spreads and self.seeds > 1 else None

    @property
    def outcome(self) -> str:
        """The check decided: "holds", "reversed" or "within the spread"; with one seed "points the paper's way"
        or "points the other way" (a tie points the other way: the paper's claim is a strict difference)."""
        if self.spread is None:
            return PAPERS_WAY if self.difference > 0 else OTHER_WAY
        if self.difference > self.spread:
            return HOLDS
        return REVERSED if self.difference < -self.spread else WITHIN

    @property
    def holds(self) -> bool:
        """The paper's way beyond the spread (with one seed: the paper's way)."""
        return self.outcome in (HOLDS, PAPERS_WAY)

    def text(self) -> str:
        """ "holds: a 52.6 ± 1.2 vs b 41.9 ± 0.8 (occlusion, 3 seeds)": the outcome, each side's mean ± spread."""
        a, b = f"{self.a} {self.a_mean:.3g}", f"{self.b} {self.b_mean:.3g}"
        if self.spread is None:
            return f"{self.outcome}: {a} vs {b} ({self.metric}, 1 seed)"
        a, b = f"{a} ± {self.a_spread:.2g}", f"{b} ± {self.b_spread:.2g}"
        return f"{self.outcome}: {a} vs {b} ({self.metric}, {self.seeds} seeds)"


@dataclass
class Missing:
    """An expected check that could not be computed: `absent` names the group(s) with no value in the rows."""

    what: str  # "a > b on metric"
    a: str
    b: str
    metric: str
    absent: list[str]

    def text(self) -> str:
        return f"{self.a} vs {self.b} on {self.metric}: not measured (no {' or '.join(self.absent)} values)"


def tally(checks: Sequence[Check], total: int | None = None) -> str:
    """The measured checks' outcomes in words: "2 hold, 1 reversed, 2 within the spread (3 seeds)", or with one
    seed "3 point the paper's way (1 seed: a direction, not a verdict)"; `total` starts it "2 of 5 checks"."""
    held, seeds = sum(c.holds for c in checks), min((c.seeds for c in checks), default=1)
    head = f"{held} of {total} check{'s' * (total != 1)}" if total else str(held)
    if seeds == 1:
        return f"{head} {'points' if held == 1 else 'point'} the paper's way ({ONE_SEED})"
    others = "".join(f", {k} {o}" for o in (REVERSED, WITHIN) if (k := sum(c.outcome == o for c in checks)))
    return f"{head} {'holds' if held == 1 else 'hold'}{others} ({seeds} seeds)"


@dataclass
class Finding:
    number: int
    checks: list[Check] = field(default_factory=list)  # the measured checks
    note: str = ""
    missing: list[Missing] = field(default_factory=list)  # the expected checks that could not be measured
    # the compared networks that do not beat random init on both probes, each with why (`not_learned`)
    untrained: list[str] = field(default_factory=list)

    @property
    def expected(self) -> int:
        """n: the checks the finding makes, measured or not."""
        return len(self.checks) + len(self.missing)

    @property
    def seeds(self) -> int | None:
        """The fewest seeds of a measured check (what the finding is judged by); None when none was measured."""
        return min((c.seeds for c in self.checks), default=None)

    @property
    def verdict(self) -> str:
        """The finding in words, from its checks (module docstring): the words of every findings table."""
        n, measured, held = self.expected, len(self.checks), sum(c.holds for c in self.checks)
        if not n:
            return "not measured"
        if self.missing:
            out = f"{measured} of {n} checks measured"
            return f"{out}: {tally(self.checks)}" if measured else out
        if self.seeds == 1:
            return f"{PAPERS_WAY} ({ONE_SEED})" if held == n else tally(self.checks, n)
        if held == n:
            return "reproduced"
        if all(c.outcome == REVERSED for c in self.checks):
            return "reversed"
        return f"{'partly reproduced' if held else 'not reproduced'}: {tally(self.checks, n)}"

    @property
    def claim(self) -> str:
        return CLAIMS[self.number]

    def record(self) -> dict:
        """A JSON-ready summary (what the notebooks write and `reproduce` renders)."""
        return {
            "finding": self.number,
            "claim": CLAIMS[self.number],
            "verdict": self.verdict,
            "seeds": self.seeds,
            "expected": self.expected,
            "checks": [
                {**asdict(c), "spread": c.spread, "difference": c.difference}
                | {"outcome": c.outcome, "holds": c.holds, "text": c.text()}
                for c in self.checks
            ],
            "missing": [{**asdict(m), "text": m.text()} for m in self.missing],
            "note": self.note,
            "untrained": list(self.untrained),
        }


def verdict_text(record: Mapping) -> str:
    """A finding record's verdict, with a warning when it compares networks that did not learn (`untrained`)."""
    verdict = str(record.get("verdict", ""))
    untrained = record.get("untrained") or []
    if not untrained:
        return verdict
    return f"{verdict} (rests on networks that do not beat random init: {'; '.join(untrained)})"


def is_random_init(row: Mapping) -> bool:
    return row.get("method") == RANDOM_INIT


def label(row: Mapping, by: str | Sequence[str]) -> str | None:
    """The group of `row` under `by`: the value of that field, or with several fields the first and the others
    in brackets ("objects (crop_0.8)"). The random-init network's sweep rows are "random init" whatever `by`
    (a sweep leaves their data and policy "-")."""
    if is_random_init(row):
        return RANDOM_INIT
    if isinstance(by, str):
        return row.get(by)
    first, *rest = (str(row.get(f)) for f in by)
    return f"{first} ({', '.join(rest)})" if rest else first


def labelled(rows: Iterable[dict], by: str | Sequence[str], into: str | None = None) -> list[dict]:
    """Copies of `rows` with their group (`label`) in the field `into` (default: `by`, or its first field), for
    the tables and figures that group by one field and draw "random init" as the reference."""
    into = into or (by if isinstance(by, str) else by[0])
    return [{**r, into: label(r, by)} for r in rows]


def _selected(row: Mapping, where: Mapping | None) -> bool:
    """Does a row pass the filter `where` (field -> value)? The random-init network's rows always do: it is
    the one baseline of every cell of a sweep, with no data or policy of its own."""
    return not where or is_random_init(row) or all(row.get(k) == v for k, v in where.items())


def group_values(
    rows: Iterable[dict], by: str, group: str, metric: str, K: int | None = 25, where: Mapping | None = None
) -> list[float]:
    """The values of `metric` (at top-`K` for invariances) over seeds for rows whose group under `by` is `group`.

    Reads the tidy rows of sweeps and of the measure (`ssl_kit.common.tidy`: metric, K, value; an invariance row
    with an empty K, the cosine measure's, counts only with `K=None`); a random-init
    sweep row is in the group "random init" whatever `by` (`label`). `where` (field -> value) keeps only the
    rows that match it, and the random-init network's."""
    out = []
    for r in rows:
        name, value, k = r.get("metric"), r.get("value"), r.get("K")
        if label(r, by) != group or name != metric or value in (None, "") or not _selected(r, where):
            continue
        if K is not None and (int(k) != K if k not in (None, "") else name in PAPER_PROTOCOLS):
            continue  # another top-K, or an invariance without one: the cosine measure's (`evaluate.cosine`)
        out.append(float(value))
    return out


def check(
    rows: Iterable[dict], by: str, a: str, b: str, metric: str, K: int = 25, *, where: Mapping | None = None
) -> Check | None:
    """Is group `a` above group `b` on `metric` (mean over seeds), by more than the spread over seeds? None when
    either group has no value in the rows (`expect` keeps it as a missing check instead)."""
    found = expect(rows, by, a, b, metric, K, where=where)
    return found if isinstance(found, Check) else None


def expect(
    rows: Iterable[dict], by: str, a: str, b: str, metric: str, K: int = 25, *, where: Mapping | None = None
) -> Check | Missing:
    """`check`, for a check a finding expects: a `Missing` one, naming the absent group(s), when it cannot be
    computed from the rows."""
    rows = list(rows)
    va, vb = group_values(rows, by, a, metric, K, where), group_values(rows, by, b, metric, K, where)
    what = f"{a} > {b} on {metric}"
    if not va or not vb:
        return Missing(what, a, b, metric, [g for g, v in ((a, va), (b, vb)) if not v])
    seeds = min(len(va), len(vb))
    sa, sb = (float(np.std(v, ddof=1)) if len(v) > 1 else None for v in (va, vb))
    return Check(what, a, b, metric, float(np.mean(va)), float(np.mean(vb)), sa, sb, seeds)


def finding(
    number: int, checks: Iterable[Check | Missing | None], note: str = "", untrained: Iterable[str] = ()
) -> Finding:
    """A finding from its checks: measured ones (`Check`) and expected ones that could not be (`Missing`); a None
    (what `check` gives for absent groups) is left out, and so does not count among the n expected.
    `untrained`: the compared networks that did not learn (`not_learned`)."""
    checks = list(checks)
    return Finding(
        number,
        [c for c in checks if isinstance(c, Check)],
        note,
        [c for c in checks if isinstance(c, Missing)],
        list(untrained),
    )


PROBES = {
    "knn_acc": "kNN",
    "linear_acc": "linear",
}  # the downstream probes a network must beat random init on


def probes_below_random_init(
    rows: Iterable[dict], by: str, group: str, where: Mapping | None = None
) -> list[str] | None:
    """The probes (`PROBES`) on which `group` does not beat the random-init network of the same rows by more than
    the spread over seeds (with one seed: is not above it); None when neither probe has both in the rows."""
    rows = list(rows)
    made = [
        (name, check(rows, by, group, RANDOM_INIT, metric, where=where)) for metric, name in PROBES.items()
    ]
    made = [(name, c) for name, c in made if c is not None]
    if not made:
        return None
    return [name for name, c in made if not c.holds]


def learned_text(rows: Iterable[dict], by: str, group: str) -> str:
    """ "yes" when `group` beats random init on both probes beyond the spread, "no: " and the probes it does not,
    "—" when the rows have no probe for both (`probes_below_random_init`)."""
    below = probes_below_random_init(rows, by, group)
    return "—" if below is None else "no: " + ", ".join(below) if below else "yes"


def compared(checks: Iterable[Check | Missing | None]) -> list[str]:
    """The groups `checks` compare, in order (a None check left out)."""
    return [g for c in checks if c for g in (c.a, c.b)]


def not_learned(
    rows: Iterable[dict], by: str, groups: Iterable[str], where: Mapping | None = None
) -> list[str]:
    """Of `groups`, those that do not beat random init on both probes (`probes_below_random_init`), each as
    "<group> (<probes> not above random init)": a finding compared on such networks compares untrained features."""
    rows = list(rows)
    out = []
    for group in dict.fromkeys(groups):
        if group == RANDOM_INIT:
            continue
        below = probes_below_random_init(rows, by, group, where)
        if below:
            out.append(f"{group} ({', '.join(below)} not above random init)")
    return out
