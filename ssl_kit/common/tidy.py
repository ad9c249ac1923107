"""Tidy rows on disk: one CSV writer and one reader for every table of scores the kit writes.

A tidy row is one measured number and what it is of, in one schema: the columns that name what was measured (a
sweep's cell and its labels, the measure's model, a layer), then `metric` (a protocol's name for an invariance,
"knn_acc" or "linear_acc" for a downstream accuracy), `K` (the top-K neurons of the paper's measure; empty where
a metric has none) and `value`. Sweeps, the measure and the cosine measure all write it. Every table is written
by `write_rows` (atomically, columns in the order given, floats in full precision) and read back by `read_rows`,
which turns the known number columns (`NUMBERS`) into numbers and an empty cell into None, so a table reads back
as it was written. Tables written before the schema was one (`invariance` and `score` columns) read back in it
(`RENAMED`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from ssl_kit.common.atomic import atomic_write_bytes

# columns that hold numbers, in any table
NUMBERS = {"seed": int, "K": int, "step": int, "value": float}
# old column -> its name in the schema (the cosine table's old `metric` column held "cosine" and is replaced)
RENAMED = {"invariance": "metric", "score": "value"}


def write_rows(rows: Iterable[dict], path: str | Path, fields: Sequence[str]) -> Path:
    """Write `rows` as CSV with the columns `fields` (in that order; a missing value is an empty cell),
    atomically; returns the path."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue().encode())
    return path


def read_rows(path: str | Path) -> list[dict]:
    """The rows of a CSV `write_rows` wrote, the `NUMBERS` columns as numbers (None where empty)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for old, new in RENAMED.items():
            if old in r:
                r[new] = r.pop(old)
        for name, kind in NUMBERS.items():
            if name in r:
                r[name] = (
                    kind(float(r[name]) if kind is int else r[name]) if r[name] not in ("", None) else None
                )
    return rows
