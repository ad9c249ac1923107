"""The fidelity card as data and as text: a `Table` per world set, each `Row` a property with the real dataset's
value and source (`ssl_kit.fidelity.real_values`), the world's measured value and the goal where one is set; the
card as a notebook's record, read back, and as Markdown (what `python -m ssl_kit world --card` prints and
`docs/world.md` shows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ssl_kit.common.markdown import cell
from ssl_kit.fidelity.real_values import GOALS, REAL, STANDS_IN_FOR


class Row(NamedTuple):
    property: str
    real: str
    source: str
    world: str  # the world's measured value, as printed
    goal: str = ""  # "" where there is none; else e.g. ">= 0.30: met"
    value: float | None = None  # the headline number of `world`, for a notebook to plot


class Table(NamedTuple):
    name: str  # the world set, e.g. "videos"
    rows: list[Row]  # empty when the set was skipped
    note: str = ""  # why it was skipped


def num(x: float, digits: int = 3) -> str:
    """A measured number as the card writes it ("n/a" when there is none)."""
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"


def spread(values: Sequence[float]) -> str:
    """Mean, median and range of `values`, as the card writes them."""
    v = np.asarray(values, np.float64)
    return f"mean {num(v.mean())}, median {num(float(np.median(v)))} ({num(v.min())}–{num(v.max())})"


def row(set_name: str, key: str, label: str, world: str, value: float | None = None) -> Row:
    """Property `key` of world set `set_name`: its real value and source, the world's, and whether its goal is met."""
    real, source = REAL[set_name][key]
    goal = ""
    if key in GOALS.get(set_name, {}):
        op, target, _ = GOALS[set_name][key]
        goal = f"{op} {target:.2f}"
        if value is not None and np.isfinite(value):
            goal += ": met" if (value >= target if op == ">=" else value <= target) else ": NOT met"
    return Row(label, real, source, world, goal, value)


def card_record(tables: Sequence[Table]) -> dict:
    """The card as plain data for a notebook's record: set -> its rows (or the note of a skipped set)."""
    return {t.name: [r._asdict() for r in t.rows] if t.rows else t.note for t in tables}


def card_from_record(record: dict) -> list[Table]:
    """The tables `card_record` wrote, back as a card (rows of an older record without all fields are filled)."""
    tables = []
    for name, rows in record.items():
        if name not in STANDS_IN_FOR:
            continue
        if isinstance(rows, str):
            tables.append(Table(name, [], rows))
        elif isinstance(rows, list):
            tables.append(
                Table(name, [Row(**{k: r.get(k, "") for k in Row._fields if k != "value"}) for r in rows])
            )
    return tables


def render_markdown(tables: Sequence[Table]) -> str:
    """The card as markdown: a heading and a table per set (a line for a skipped set)."""
    out = []
    for t in tables:
        out.append(f"### {t.name}: {STANDS_IN_FOR[t.name]}\n")
        if not t.rows:
            out.append(f"{t.note}\n")
            continue
        out.append("| property | real dataset | source | world | goal |\n|---|---|---|---|---|")
        out.extend("| " + " | ".join(cell(c) for c in r[:5]) + " |" for r in t.rows)
        out.append("")
    return "\n".join(out)
