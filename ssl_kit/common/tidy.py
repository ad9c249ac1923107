"""Tidy rows on disk: one CSV writer and one reader for every table of scores the kit writes.

A tidy row is one number and what it is of, in one schema for sweeps, the measure and the cosine measure: the
columns naming what was measured (a sweep's cell and labels, a model, a layer), then `metric` (a protocol's name,
or "knn_acc", "linear_acc"), `K` (the paper's top-K neurons; empty where a metric has none) and `value`. Tables
are written by `write_rows` (atomically, columns in the order given, floats in full precision) and read back by
`read_rows`, the number columns (`NUMBERS`) as numbers and an empty cell as None, old column names (`RENAMED`)
in the schema's.
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
        r.update({new: r.pop(old) for old, new in RENAMED.items() if old in r})
        for name, kind in NUMBERS.items():
            if name in r:
                r[name] = (
                    kind(float(r[name]) if kind is int else r[name]) if r[name] not in ("", None) else None
                )
    return rows
