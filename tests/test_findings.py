"""Verdicts on the paper's findings: checks against hand-made rows, and the summary's findings table."""

from __future__ import annotations

import json

import pytest

from ssl_kit.study.findings import (
    RANDOM_INIT,
    check,
    finding,
    finding_1,
    finding_2,
    finding_3,
    finding_4,
    group_values,
    label,
    labelled,
)
from ssl_kit.study.notebook import SMOKE_BANNER
from ssl_kit.study.reproduce import NotebookRun, write_summary
from ssl_kit.study.sweep import RANDOM_INIT as SWEEP_RANDOM_INIT


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
    assert text.index(SMOKE_BANNER) < text.index(
        "## The paper's findings"
    )  # at smoke scale, before any number
    other = write_summary(tmp_path / "quick.md", "quick", [NotebookRun("02_x", "ok", 1.0)], {}).read_text()
    assert SMOKE_BANNER not in other


# --- the four findings as functions of tidy rows: a case that holds, one that does not, one with a group missing


def _invariance_rows(scores: dict[str, dict[str, float]], K: int = 25) -> list[dict]:
    """Notebook 01's rows (`measure_table`): {model: {invariance: score}}, with a K=10 row that must be ignored."""
    rows = []
    for model, by_inv in scores.items():
        for inv, s in by_inv.items():
            rows += [{"model": model, "invariance": inv, "K": K, "score": s},
                     {"model": model, "invariance": inv, "K": 10, "score": -s}]  # fmt: skip
    return rows


PAPER_1 = {
    "occlusion": (60.0, 50.0),
    "viewpoint": (30.0, 40.0),
    "illumination_direction": (30.0, 40.0),
    "illumination_color": (30.0, 40.0),
    "instance": (30.0, 40.0),
}  # (mocov2, supervised), the paper's way


def _finding_1_rows(table: dict[str, tuple[float, float]], random_init: float = 99.0) -> list[dict]:
    return _invariance_rows({
        "mocov2": {inv: m for inv, (m, s) in table.items()},
        "supervised": {inv: s for inv, (m, s) in table.items()},
        "random init": {inv: random_init for inv in table},  # above both: not part of any check
    })  # fmt: skip


def test_finding_1():
    held = finding_1(_finding_1_rows(PAPER_1))
    assert held.verdict == "reproduced" and len(held.checks) == 5
    assert [(c.a, c.b, c.metric) for c in held.checks] == [
        ("mocov2", "supervised", "occlusion"), ("supervised", "mocov2", "viewpoint"),
        ("supervised", "mocov2", "illumination_direction"), ("supervised", "mocov2", "illumination_color"),
        ("supervised", "mocov2", "instance")]  # fmt: skip
    assert held.checks[0].a_mean == 60.0 and held.checks[0].spread is None  # top-25, one seed
    flipped = finding_1(_finding_1_rows({inv: (s, m) for inv, (m, s) in PAPER_1.items()}))
    assert flipped.verdict == "not reproduced"
    partly = finding_1(_finding_1_rows({**PAPER_1, "viewpoint": (45.0, 40.0)}))
    assert partly.verdict == "partly reproduced" and sum(c.holds for c in partly.checks) == 4
    # a missing group: no occlusion protocol measured, then no supervised model at all
    no_occ = finding_1(_finding_1_rows({k: v for k, v in PAPER_1.items() if k != "occlusion"}))
    assert "occlusion" not in [c.metric for c in no_occ.checks] and len(no_occ.checks) == 4
    assert no_occ.verdict == "reproduced"  # the four checks present all hold
    only_moco = [r for r in _finding_1_rows(PAPER_1) if r["model"] != "supervised"]
    assert finding_1(only_moco).verdict == "not measured" and not finding_1(only_moco).checks
    # kNN numbers only annotate: the same checks and verdict
    knn = finding_1(_finding_1_rows(PAPER_1), knn={"mocov2": 0.449, "random init": 0.358})
    assert knn.verdict == "reproduced" and len(knn.checks) == 5
    assert knn.note == "(kNN accuracy: mocov2 0.449, random init 0.358)" and held.note == ""
    json.dumps(knn.record())


def _sweep_rows(
    by: str, values: dict[str, dict[str, list[float]]], K: int | None = 25, **labels
) -> list[dict]:
    """Sweep rows (`run_sweep`): {group: {metric: [value per seed]}}; the group "random init" as a sweep writes
    it (method and variant "random init", data and policy "-")."""
    rows = []
    for group, metrics in values.items():
        for metric, vs in metrics.items():
            k = None if metric.endswith("_acc") else K
            for seed, v in enumerate(vs):
                if group == "random init":
                    cell = {"variant": "random init", "data": "-", "method": "random init", "policy": "-"}
                else:
                    cell = {"variant": "mocov2", "data": "objects", "method": "mocov2", "policy": "mocov2",
                            **labels, by: group}  # fmt: skip
                rows.append({"sweep": "g", "cell": f"{group}-s{seed}", **cell, "seed": seed, "status": "ok",
                             "metric": metric, "K": k, "value": v, "error": ""})  # fmt: skip
    return rows


def test_finding_2():
    def rows(objects, scenes, crops, policy="crop_0.8"):
        sets = {"objects": objects, "scenes": scenes, "scene_crops": crops}
        return _sweep_rows("data", {d: {"linear_acc": v, "knn_acc": [0.0] * len(v)} for d, v in sets.items()
                                    if v is not None}, policy=policy)  # fmt: skip

    held = finding_2(rows([0.53, 0.55, 0.51], [0.45, 0.46, 0.44], [0.50, 0.52, 0.51]))
    assert held.verdict == "reproduced" and [(c.a, c.b) for c in held.checks] == [
        ("objects", "scenes"), ("scene_crops", "scenes")]  # fmt: skip
    assert held.checks[0].seeds == 3 and held.checks[0].metric == "linear_acc"
    assert held.note == "(augmentation crop_0.8)"
    # crops no better than scenes (as at quick scale): partly; within the spread: not
    partly = finding_2(rows([0.53, 0.55, 0.51], [0.45, 0.46, 0.44], [0.43, 0.45, 0.41]))
    assert partly.verdict == "partly reproduced" and [c.holds for c in partly.checks] == [True, False]
    assert finding_2(rows([0.46, 0.50], [0.45, 0.49], [0.44, 0.50])).verdict == "not reproduced"
    # a missing group: no scene crops in the grid
    missing = finding_2(rows([0.53, 0.55], [0.45, 0.46], None), same_object={"objects": 0.68, "scenes": 0.21})
    assert [c.a for c in missing.checks] == ["objects"] and missing.verdict == "reproduced"
    assert missing.note == "(augmentation crop_0.8; positive pairs showing the same object: " \
                           "{'objects': 0.68, 'scenes': 0.21})"  # fmt: skip
    # two policies: compared within one (the first trained one by default), never across
    both = rows([0.6], [0.4], [0.5], "crop_0.8") + rows([0.3], [0.35], [0.2], "mocov2")
    assert finding_2(both).verdict == "reproduced" and finding_2(both).checks[0].a_mean == 0.6
    other = finding_2(both, policy="mocov2")
    assert other.verdict == "not reproduced" and other.checks[0].b_mean == 0.35
    assert finding_2(both, policy="no_such_policy").verdict == "not measured"
    assert finding_2([]).verdict == "not measured" and finding_2([]).note == ""


def test_finding_3():
    def rows(mocov2, no_crop):
        return _sweep_rows("policy", {"mocov2": {"occlusion": mocov2}, "no_crop": {"occlusion": no_crop},
                                      "random init": {"occlusion": [44.0, 45.0, 43.0]}})  # fmt: skip

    held = finding_3(rows([55.0, 56.0, 54.0], [49.0, 50.0, 48.0]))
    assert held.verdict == "reproduced" and held.checks[0].what == "mocov2 > no_crop on occlusion"
    # the quick-scale case: ahead by less than the seeds' spread
    assert finding_3(rows([54.1, 48.5, 53.0], [50.1, 49.5, 50.7])).verdict == "not reproduced"
    # a missing group: a `policies` subset without no_crop
    missing = [r for r in rows([55.0], [49.0]) if r["policy"] != "no_crop"]
    assert finding_3(missing).checks == [] and finding_3(missing).verdict == "not measured"
    # K=10 rows and failed cells (no metric) are ignored
    extra = [{**r, "K": 10, "value": 0.0} for r in rows([55.0], [49.0])]
    extra.append(
        {"policy": "mocov2", "method": "mocov2", "status": "failed", "metric": "", "K": "", "value": ""}
    )
    assert finding_3(rows([55.0], [49.0]) + extra).checks[0].a_mean == 55.0


def test_finding_4():
    def rows(fti, rt_flow, base=(40.0, 41.0, 39.0)):
        groups = {"mocov2_frames": base, "fti": fti, "rt_flow": rt_flow}
        return _sweep_rows("variant", {g: {"viewpoint": list(v)} for g, v in groups.items() if v is not None})

    held = finding_4(rows([45.0, 46.0, 44.0], [44.0, 45.0, 46.0]))
    assert held.verdict == "reproduced" and [c.a for c in held.checks] == ["fti", "rt_flow"]
    assert all(c.b == "mocov2_frames" and c.metric == "viewpoint" for c in held.checks)
    quick = finding_4(rows([39.9, 41.2, 38.6], [35.7, 33.6, 37.8], (40.2, 41.2, 39.2)))  # as at quick scale
    assert quick.verdict == "not reproduced"
    assert finding_4(rows([45.0, 46.0, 44.0], [35.0, 36.0, 34.0])).verdict == "partly reproduced"
    # a missing group: the Region Tracker not in `variants`
    missing = finding_4(rows([45.0, 46.0, 44.0], None))
    assert [c.a for c in missing.checks] == ["fti"] and missing.verdict == "reproduced"
    assert finding_4(rows([45.0], [44.0], None)).verdict == "not measured"  # no baseline


def test_random_init_rows_are_one_group_whatever_the_field():
    rows = _sweep_rows(
        "policy", {"mocov2": {"knn_acc": [0.40, 0.42]}, "random init": {"knn_acc": [0.36, 0.37]}}
    )
    assert RANDOM_INIT == SWEEP_RANDOM_INIT  # the label the sweep gives the random-init network
    for by in ("policy", "data", "variant"):
        assert group_values(rows, by, "random init", "knn_acc", K=None) == [0.36, 0.37]
    assert (
        label(rows[-1], "policy") == "random init"
        and label(rows[0], ("data", "policy")) == "objects (mocov2)"
    )
    tidy = labelled(rows, ("data", "policy"), into="set")
    assert [r["set"] for r in tidy] == ["objects (mocov2)"] * 2 + ["random init"] * 2
    assert [r["policy"] for r in labelled(rows, "policy")] == ["mocov2"] * 2 + ["random init"] * 2
    assert rows[-1]["policy"] == "-"  # labelled copies, the rows stay as they were
    # `where` keeps the matching cells and the random-init network (every cell's baseline)
    c = check(rows, "policy", "mocov2", "random init", "knn_acc", K=None, where={"policy": "mocov2"})
    assert c.holds and c.seeds == 2
    assert check(rows, "policy", "mocov2", "random init", "knn_acc", K=None, where={"policy": "x"}) is None


def test_the_finding_functions_make_the_checks_the_notebooks_made_by_hand():
    """Before `finding_1` .. `finding_4`, notebooks 01-04 built each finding with `check` and `finding` on rows
    they relabelled themselves; the functions give the same checks on the rows the notebooks have."""
    inv = _finding_1_rows({**PAPER_1, "viewpoint": (45.0, 40.0)})
    by_hand = finding(1, [check(inv, "model", "mocov2", "supervised", "occlusion"),
                          *(check(inv, "model", "supervised", "mocov2", m)
                            for m in ("viewpoint", "illumination_direction", "illumination_color", "instance"))])  # fmt: skip
    assert finding_1(inv).record() == by_hand.record()

    sets = {
        "objects": [0.53, 0.51],
        "scenes": [0.45, 0.47],
        "scene_crops": [0.43, 0.42],
        "random init": [0.5, 0.48],
    }
    sweep = _sweep_rows("data", {d: {"linear_acc": v} for d, v in sets.items()}, policy="crop_0.8")
    relabelled = [
        {**r, "set": "random init" if r["data"] == "-" else r["data"]} for r in sweep
    ]  # notebook 03
    same = {"objects": 0.68}
    by_hand = finding(2, [check(relabelled, "set", "objects", "scenes", "linear_acc"),
                          check(relabelled, "set", "scene_crops", "scenes", "linear_acc")],
                      note=f"(augmentation crop_0.8; positive pairs showing the same object: {same})")  # fmt: skip
    assert finding_2(sweep, "crop_0.8", same).record() == by_hand.record()
    assert finding_2(relabelled, "crop_0.8", same).record() == by_hand.record()

    sweep = _sweep_rows(
        "policy", {"mocov2": {"occlusion": [52.0, 51.0]}, "no_crop": {"occlusion": [50.0, 50.5]}}
    )
    relabelled = [
        {**r, "policy": "random init" if r["policy"] == "-" else r["policy"]} for r in sweep
    ]  # nb 02
    by_hand = finding(3, [check(relabelled, "policy", "mocov2", "no_crop", "occlusion")])
    assert finding_3(sweep).record() == by_hand.record() == finding_3(relabelled).record()

    sweep = _sweep_rows("variant", {"mocov2_frames": {"viewpoint": [40.0, 41.0]}, "fti": {"viewpoint": [39.0, 42.0]},
                                    "rt_flow": {"viewpoint": [36.0, 35.0]}})  # fmt: skip
    by_hand = finding(4, [check(sweep, "variant", "fti", "mocov2_frames", "viewpoint"),
                          check(sweep, "variant", "rt_flow", "mocov2_frames", "viewpoint")])  # fmt: skip
    assert finding_4(sweep).record() == by_hand.record()
