"""Verdicts on the paper's findings: checks against hand-made rows, and the summary's findings table."""

from __future__ import annotations

import json

import pytest

from ssl_kit.study.findings import check, finding, group_values
from ssl_kit.study.reproduce import NotebookRun, write_summary


def _rows(values: dict[str, list[float]], metric: str = "occlusion", K: int | None = 25) -> list[dict]:
    return [{"variant": g, "seed": s, "metric": metric, "K": K, "value": v}
            for g, vs in values.items() for s, v in enumerate(vs)]  # fmt: skip


def test_check_compares_means_against_the_seed_spread():
    rows = _rows({"a": [10.0, 12.0, 14.0], "b": [5.0, 6.0, 7.0]})
    c = check(rows, "variant", "a", "b", "occlusion")
    assert (c.a_mean, c.b_mean, c.difference, c.seeds) == (12.0, 6.0, 6.0, 3)
    assert c.spread == pytest.approx((8 / 3) ** 0.5) and c.holds
    close = check(_rows({"a": [10.0, 14.0], "b": [9.0, 13.0]}), "variant", "a", "b", "occlusion")
    assert close.difference == 1.0 and close.spread == 2.0 and not close.holds  # within the spread
    one = check(_rows({"a": [1.0], "b": [0.5]}), "variant", "a", "b", "occlusion")
    assert one.spread is None and one.holds and "1 seed" in one.text()
    assert check(rows, "variant", "a", "missing", "occlusion") is None


def test_rows_of_both_shapes_and_K():
    sweep = _rows({"a": [1.0]}, "knn_acc", K=None) + _rows({"a": [50.0]}, "viewpoint", K=10)
    assert group_values(sweep, "variant", "a", "knn_acc") == [1.0]
    assert group_values(sweep, "variant", "a", "viewpoint", K=25) == []
    assert group_values(sweep, "variant", "a", "viewpoint", K=10) == [50.0]
    table = [{"model": "mocov2", "invariance": "occlusion", "K": 25, "score": 60.0}]
    assert group_values(table, "model", "mocov2", "occlusion") == [60.0]


def test_verdicts():
    up = check(_rows({"a": [2.0], "b": [1.0]}), "variant", "a", "b", "occlusion")
    down = check(_rows({"a": [1.0], "b": [2.0]}), "variant", "a", "b", "occlusion")
    assert finding(3, [up, up]).verdict == "reproduced"
    assert finding(3, [up, down, None]).verdict == "partly reproduced"
    assert finding(3, [down]).verdict == "not reproduced"
    assert finding(3, [None]).verdict == "not measured"
    rec = finding(4, [down], note="(why)").record()
    assert rec["claim"].startswith("Temporal positives") and rec["checks"][0]["holds"] is False
    json.dumps(rec)  # JSON-ready


def test_summary_puts_the_findings_first(tmp_path):
    up = check(_rows({"mocov2": [2.0], "no_crop": [1.0]}), "variant", "mocov2", "no_crop", "occlusion")
    (tmp_path / "02_x.json").write_text(json.dumps({"a": 1, "findings": [finding(3, [up]).record()]}))
    text = write_summary(tmp_path / "summary.md", "smoke", [NotebookRun("02_x", "ok", 1.0)], {}).read_text()
    assert text.index("## The paper's findings") < text.index("## Notebooks")
    assert "| 3 |" in text and "**reproduced**" in text and "✓ mocov2 2 vs no_crop 1" in text
    assert text.count("findings") == 1  # the record's own list is not rendered again in its section
