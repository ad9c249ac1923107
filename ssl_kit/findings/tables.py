"""The findings' records (`Finding.record()`) as Markdown: the findings table of a run's `summary.md`, of the
docs pages and of a notebook's closing cell, and each finding's seeds in one line."""

from __future__ import annotations

from ssl_kit.common.markdown import cell
from ssl_kit.findings.checks import verdict_text

HEADER = ("| finding | claim | verdict | measured (mean over seeds) |", "|---|---|---|---|")


def findings_of(records: list[dict]) -> list[dict]:
    """Every finding record (`Finding.record()`) the records hold, in the findings' order."""
    found = [f for r in records for f in (r.get("findings") or []) if isinstance(f, dict)]
    return sorted(found, key=lambda f: f["finding"])


def finding_seeds(finding: dict) -> int | None:
    """The fewest seeds of a finding's measured checks."""
    if "seeds" in finding:
        return finding["seeds"]
    return min((c["seeds"] for c in finding.get("checks", []) if c.get("seeds")), default=None)


def seeds_line(records: list[dict]) -> str:
    """ "finding 1: 1; finding 2: 3; ..." ("none" where no check of a finding was measured); "" without any."""
    return "; ".join(f"finding {f['finding']}: {finding_seeds(f) or 'none'}" for f in findings_of(records))


def check_texts(finding: dict) -> str:
    """A finding's checks in one line: each measured one's outcome and numbers (a record from before checks had
    an outcome: ✓ or ✗), — for each missing one."""
    checks = [
        c["text"] if "outcome" in c else ("✓ " if c["holds"] else "✗ ") + c["text"]
        for c in finding.get("checks", [])
    ]
    checks += ["— " + m["text"] for m in finding.get("missing", [])]
    note = f" {finding['note']}" if finding.get("note") else ""
    return ("; ".join(checks) or "—") + note


def findings_table(records: list[dict], heading: str = "## The paper's findings") -> list[str]:
    """Markdown lines: one row per finding the records checked, in order, under `heading` when one is given (no
    finding: no lines)."""
    found = findings_of(records)
    rows = [
        f"| {f['finding']} | {cell(f['claim'])} | **{verdict_text(f)}** | {cell(check_texts(f))} |"
        for f in found
    ]
    return [*(["", heading, ""] if heading else []), *HEADER, *rows] if found else []
