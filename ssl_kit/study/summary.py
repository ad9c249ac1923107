"""Records rendered as Markdown: one section per notebook, the whole `summary.md` (its findings table:
`ssl_kit.findings.tables`).

`write_summary` is what `reproduce` writes into its results folder; `render_record` is also what
`ssl_kit.pages.report` renders the committed docs pages from. Only records of one study are rendered
together: `write_summary` leaves out (and lists) every record whose provenance is not the run's own.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

from ssl_kit.common.markdown import cell
from ssl_kit.findings.tables import findings_table, seeds_line
from ssl_kit.study.records import read_record, same_study, study_of

SMOKE_BANNER = "smoke scale: a few images and steps to test the code; the numbers below mean nothing"


@dataclass
class NotebookRun:
    """The outcome of one notebook: `status` is "ok" or "failed"; `error` is the error's last line."""

    name: str
    status: str
    seconds: float
    error: str = ""


def render_record(record: dict, figures_from: Path | None = None, link_prefix: str = "") -> list[str]:
    """Markdown lines for one notebook's record: scalars as bullets, dicts as tables, figures inline (when the
    file is under `figures_from`; linked as `link_prefix` + its path). The provenance and findings are left
    out: the summary renders them once, at the top."""
    lines: list[str] = []
    tables: list[str] = []
    for key, value in record.items():
        if key in ("findings", "provenance"):
            continue
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            cols = list(dict.fromkeys(c for v in value.values() for c in v))
            tables += [
                "",
                f"**{key}**",
                "",
                "| " + " | ".join(["", *cols]) + " |",
                "|---" * (len(cols) + 1) + "|",
            ]
            tables += [
                "| " + " | ".join([cell(k)] + [cell(v.get(c)) for c in cols]) + " |" for k, v in value.items()
            ]
        elif isinstance(value, dict):
            tables += ["", f"**{key}**", "", "| | |", "|---|---|"]
            tables += [f"| {cell(k)} | {cell(v)} |" for k, v in value.items()]
        elif isinstance(value, list):
            tables += ["", f"**{key}**", "", "```json", json.dumps(value), "```"]
        elif (
            isinstance(value, str)
            and value.endswith((".png", ".svg"))
            and figures_from is not None
            and (figures_from / value).exists()
        ):
            tables += ["", f"![{key}]({link_prefix}{value})"]
        else:
            lines.append(f"- **{key}**: {cell(value)}")
    return lines + tables


def _records(results: Path, study: dict | None) -> tuple[dict[str, dict], list[str]]:
    """{file name: record} of the run's study, and a line for each record left out (another study, unreadable)."""
    kept, left = {}, []
    for path in sorted(results.glob("[0-9][0-9]_*.json")):
        record = read_record(path)
        if record is None:
            left.append(f"`{path.name}`: unreadable")
        elif study is not None and not same_study(record.get("provenance") or {}, study):
            there = record.get("provenance")
            left.append(f"`{path.name}`: measured on {study_of(there) if there else 'an unrecorded study'}")
        else:
            kept[path.name] = record
    return kept, left


def write_summary(
    path: Path, scale: str, runs: list[NotebookRun], info: dict, study: dict | None = None
) -> Path:
    """Write `summary.md`: machine, scale (at smoke scale, a line saying the numbers mean nothing), how many seeds
    each finding's numbers have, the paper's findings with verdicts, a table of notebooks, then one section per
    notebook's record. With `study` (a provenance), only records of that study are rendered; the others are
    listed as left out."""
    results = path.parent
    records, left = _records(results, study)
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    out = ["# ssl_kit: reproduction summary", ""]
    if scale == "smoke":
        out += [f"**{SMOKE_BANNER}.**", ""]
    out += [f"- **date**: {now}", f"- **scale**: {scale}"]
    if study is not None:
        out.append(f"- **study**: {study_of(study)}")
    seeds = seeds_line(list(records.values()))
    if seeds:  # one seed gives a direction, not a verdict: say how many each finding's numbers have
        out.append(f"- **seeds**: {seeds}")
    out += [f"- **{k}**: {v}" for k, v in info.items()]
    if left:
        out += ["", "Records left out (not of this run's study): " + "; ".join(left)]
    out += findings_table(list(records.values()))
    out += ["", "## Notebooks", "", "| notebook | status | wall time (s) | error |", "|---|---|---|---|"]
    for r in runs:
        out.append(f"| [{r.name}]({r.name}.ipynb) | {r.status} | {r.seconds:.1f} | {cell(r.error or None)} |")
    for r in runs:
        out += ["", f"## {r.name}", ""]
        mine = {name: rec for name, rec in records.items() if name[:2] == r.name[:2]}
        if r.status != "ok":
            out.append(f"**failed**: `{r.error}` (see `{r.name}.ipynb` for the traceback)")
        elif not mine:
            out.append("(no record written)")
        for name, rec in mine.items():
            out += [f"`{name}`", "", *render_record(rec, results), ""]
    path.write_text("\n".join(out).rstrip() + "\n")
    return path
