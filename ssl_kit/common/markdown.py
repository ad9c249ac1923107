"""One Markdown table cell, the same way in every table the kit writes (summaries, docs pages, the fidelity card)."""

from __future__ import annotations


def cell(value) -> str:
    """A value as one Markdown table cell: floats to 4 significant digits, "—" for None, pipes escaped."""
    if isinstance(value, float):
        value = f"{value:.4g}"
    return "—" if value is None else str(value).replace("|", "\\|").replace("\n", " ")
