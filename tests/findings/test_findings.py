"""Verdicts on the paper's findings: checks against hand-made rows, verdicts that cannot overstate (one seed, a
missing check), and the summary's findings table and seeds line."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from ssl_kit.findings.checks import (
    RANDOM_INIT,
    Missing,
    check,
    expect,
    finding,
    group_values,
    label,
    labelled,
    not_learned,
    probes_below_random_init,
    verdict_text,
)
from ssl_kit.findings.paper import FINDING_1_OTHERS, finding_1, finding_2, finding_3, finding_4
from ssl_kit.study.notebook import SMOKE_BANNER
from ssl_kit.study.reproduce import NotebookRun, write_summary
from ssl_kit.study.sweep import RANDOM_INIT as SWEEP_RANDOM_INIT


def _rows(values: dict[str, list[float]], metric: str = "occlusion", K: int | None = 25) -> list[dict]:
    return [
        {"variant": g, "seed": s, "metric": metric, "K": K, "value": v}
        for g, vs in values.items()
        for s, v in enumerate(vs)
    ]


def test_check_compares_means_against_the_seed_spread():
    rows = _rows({"a": [10.0, 12.0, 14.0], "b": [5.0, 6.0, 7.0]})
    c = check(rows, "variant", "a", "b", "occlusion")
    assert (c.a_mean, c.b_mean, c.difference, c.seeds) == (12.0, 6.0, 6.0, 3)
    # the spread: the larger sample standard deviation over seeds (2.0 against 1.0)
    assert (c.a_spread, c.b_spread, c.spread) == (2.0, 1.0, 2.0) and c.holds and c.outcome == "holds"
    assert c.text() == "holds: a 12 ± 2 vs b 6 ± 1 (occlusion, 3 seeds)"
    close = check(_rows({"a": [10.0, 14.0], "b": [9.0, 13.0]}), "variant", "a", "b", "occlusion")
    assert close.difference == 1.0 and close.spread == pytest.approx(8**0.5) and not close.holds
    assert close.outcome == "within the spread"
    back = check(_rows({"a": [9.0, 13.0], "b": [20.0, 24.0]}), "variant", "a", "b", "occlusion")
    assert back.outcome == "reversed" and not back.holds  # -11 against a spread of 2.8
    one = check(_rows({"a": [1.0], "b": [0.5]}), "variant", "a", "b", "occlusion")
    assert one.spread is None and one.holds and one.outcome == "points the paper's way"
    assert one.text() == "points the paper's way: a 1 vs b 0.5 (occlusion, 1 seed)"
    tie = check(_rows({"a": [1.0], "b": [1.0]}), "variant", "a", "b", "occlusion")
    assert tie.outcome == "points the other way" and not tie.holds  # the paper's claim is a strict difference
    assert check(rows, "variant", "a", "missing", "occlusion") is None
    missing = expect(rows, "variant", "a", "missing", "occlusion")  # what a finding keeps instead of None
    assert isinstance(missing, Missing) and missing.absent == ["missing"]
    assert missing.what == "a > missing on occlusion"
    assert missing.text() == "a vs missing on occlusion: not measured (no missing values)"
    assert expect(rows, "variant", "a", "b", "occlusion") == c
    uneven = check(_rows({"a": [10.0, 12.0, 14.0], "b": [5.0]}), "variant", "a", "b", "occlusion")
    assert uneven.seeds == 1 and uneven.spread is None  # the smaller group's seeds
    assert uneven.outcome == "points the paper's way"  # one seed on one side: a direction only


def test_rows_of_both_shapes_and_K():
    sweep = _rows({"a": [1.0]}, "knn_acc", K=None) + _rows({"a": [50.0]}, "viewpoint", K=10)
    assert group_values(sweep, "variant", "a", "knn_acc") == [1.0]
    assert group_values(sweep, "variant", "a", "viewpoint", K=25) == []
    assert group_values(sweep, "variant", "a", "viewpoint", K=10) == [50.0]
    table = [{"model": "mocov2", "metric": "occlusion", "K": 25, "value": 60.0}]
    assert group_values(table, "model", "mocov2", "occlusion") == [60.0]


UP3 = check(_rows({"a": [10.0, 11.0, 12.0], "b": [5.0, 6.0, 7.0]}), "variant", "a", "b", "occlusion")
DOWN3 = check(_rows({"a": [5.0, 6.0, 7.0], "b": [10.0, 11.0, 12.0]}), "variant", "a", "b", "occlusion")
WITHIN3 = check(_rows({"a": [10.0, 14.0, 12.0], "b": [9.0, 13.0, 11.0]}), "variant", "a", "b", "occlusion")
UP1 = check(_rows({"a": [2.0], "b": [1.0]}), "variant", "a", "b", "occlusion")
DOWN1 = check(_rows({"a": [1.0], "b": [2.0]}), "variant", "a", "b", "occlusion")
GONE = expect(_rows({"a": [2.0]}, "viewpoint"), "variant", "a", "b", "viewpoint")  # no b rows


def test_verdicts_with_seeds_all_measured():
    assert (UP3.seeds, UP3.holds, DOWN3.holds, WITHIN3.holds) == (3, True, False, False)
    assert [c.outcome for c in (UP3, DOWN3, WITHIN3)] == ["holds", "reversed", "within the spread"]
    assert finding(3, [UP3, UP3]).verdict == "reproduced"
    assert finding(3, [DOWN3, DOWN3]).verdict == "reversed"
    mixed = finding(3, [UP3, DOWN3, WITHIN3]).verdict
    assert mixed == "partly reproduced: 1 of 3 checks holds, 1 reversed, 1 within the spread (3 seeds)"
    assert (
        finding(3, [UP3, UP3, WITHIN3]).verdict
        == "partly reproduced: 2 of 3 checks hold, 1 within the spread (3 seeds)"
    )
    assert (
        finding(3, [DOWN3, WITHIN3]).verdict
        == "not reproduced: 0 of 2 checks hold, 1 reversed, 1 within the spread (3 seeds)"
    )
    assert finding(3, [WITHIN3]).verdict == "not reproduced: 0 of 1 check hold, 1 within the spread (3 seeds)"
    assert finding(3, [UP3]).seeds == 3 and finding(3, [None]).verdict == "not measured"  # no expected check


def test_one_seed_gives_a_direction_never_reproduced():
    assert finding(3, [UP1, UP1]).verdict == "points the paper's way (1 seed: a direction, not a verdict)"
    assert (
        finding(3, [UP1, DOWN1, DOWN1]).verdict
        == "1 of 3 checks points the paper's way (1 seed: a direction, not a verdict)"
    )
    assert (
        finding(3, [DOWN1, DOWN1]).verdict
        == "0 of 2 checks point the paper's way (1 seed: a direction, not a verdict)"
    )
    # a finding is judged by its fewest seeds: one 1-seed check makes it a direction
    mixed = finding(3, [UP3, UP1])
    assert mixed.seeds == 1 and mixed.verdict == "points the paper's way (1 seed: a direction, not a verdict)"
    for f in (finding(3, [UP1]), finding(3, [UP1, DOWN1]), mixed):
        assert "reproduced" not in f.verdict and f.record()["seeds"] == 1


def test_a_missing_check_is_shown_and_reports_how_many_were_measured():
    one = finding(4, [UP1, UP1, DOWN1, GONE, GONE])
    assert (
        one.verdict == "3 of 5 checks measured: 2 point the paper's way (1 seed: a direction, not a verdict)"
    )
    assert finding(4, [UP3, GONE]).verdict == "1 of 2 checks measured: 1 holds (3 seeds)"
    assert (
        finding(4, [UP3, UP3, WITHIN3, GONE]).verdict
        == "3 of 4 checks measured: 2 hold, 1 within the spread (3 seeds)"
    )
    assert (
        finding(4, [UP1, GONE]).verdict
        == "1 of 2 checks measured: 1 points the paper's way (1 seed: a direction, not a verdict)"
    )
    none = finding(4, [GONE, GONE])
    assert none.verdict == "0 of 2 checks measured" and none.seeds is None
    for f in (finding(4, [UP3, UP3, GONE]), one, none):
        assert "reproduced" not in f.verdict
    rec = finding(4, [DOWN1, GONE], note="(why)").record()
    assert rec["claim"].startswith("Temporal positives") and rec["checks"][0]["holds"] is False
    assert (rec["seeds"], rec["expected"], len(rec["checks"])) == (1, 2, 1)
    assert rec["missing"] == [
        {
            "what": "a > b on viewpoint",
            "a": "a",
            "b": "b",
            "metric": "viewpoint",
            "absent": ["b"],
            "text": "a vs b on viewpoint: not measured (no b values)",
        }
    ]
    json.dumps(rec)  # JSON-ready


def _summary(tmp_path, records: dict[str, list], scale: str = "quick") -> str:
    for name, found in records.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({"a": 1, "findings": found}))
    runs = [NotebookRun(name, "ok", 1.0) for name in records]
    return write_summary(tmp_path / "summary.md", scale, runs, {"cpus": 2}).read_text()


def test_summary_puts_the_findings_first(tmp_path):
    up = check(_rows({"mocov2": [2.0], "no_crop": [1.0]}), "variant", "mocov2", "no_crop", "occlusion")
    text = _summary(tmp_path, {"02_x": [finding(3, [up]).record()]}, "smoke")
    assert text.index("## The paper's findings") < text.index("## Notebooks")
    assert "| 3 |" in text and "**points the paper's way (1 seed: a direction, not a verdict)**" in text
    assert "points the paper's way: mocov2 2 vs no_crop 1" in text
    assert "**reproduced**" not in text
    assert text.count("findings") == 1  # the record's own list is not rendered again in its section
    assert text.index(SMOKE_BANNER) < text.index(
        "## The paper's findings"
    )  # at smoke scale, before any number
    other = write_summary(tmp_path / "quick.md", "quick", [NotebookRun("02_x", "ok", 1.0)], {}).read_text()
    assert SMOKE_BANNER not in other


def test_summary_header_says_the_seeds_and_the_table_shows_missing_checks(tmp_path):
    """Two records: notebook 01's finding 1 on one seed with a check missing, notebook 04's finding 4 on three
    seeds; the header says how many seeds each has, the table lists the missing check."""
    inv = [r for r in _finding_1_rows(PAPER_1) if r["metric"] != "illumination_color"]
    f1 = finding_1(inv).record()
    video = _sweep_rows(
        "variant",
        {"mocov2_frames": {"viewpoint": [40.0, 41.0, 39.0]}, "fti": {"viewpoint": [45.0, 46.0, 44.0]}},
    )
    f4 = finding_4(video).record()
    text = _summary(tmp_path, {"04_video": [f4], "01_inv": [f1]})
    print(text[: text.index("## Notebooks")])  # the rendered example the report quotes
    header = text[: text.index("## The paper's findings")]
    assert "- **seeds**: finding 1: 1; finding 4: 3\n" in header and "- **cpus**: 2" in header
    rows = {
        line.split(" | ")[0]: line
        for line in text.splitlines()
        if line.startswith("| 1 |") or line.startswith("| 4 |")
    }
    assert (
        "**4 of 5 checks measured: 4 point the paper's way (1 seed: a direction, not a verdict)**"
        in rows["| 1"]
    )
    gone = "— supervised vs mocov2 on illumination_color: not measured (no supervised or mocov2 values)"
    assert gone in rows["| 1"]
    assert "**1 of 2 checks measured: 1 holds (3 seeds)**" in rows["| 4"]
    assert "holds: fti 45 ± 1 vs mocov2_frames 40 ± 1 (viewpoint, 3 seeds)" in rows["| 4"]
    assert "— rt_flow vs mocov2_frames on viewpoint: not measured (no rt_flow values)" in rows["| 4"]
    assert text.index("| 1 |") < text.index("| 4 |")  # in the findings' order, not the records'


def test_summary_reads_records_written_before_seeds_and_missing(tmp_path):
    old = {
        "finding": 3,
        "claim": "c",
        "verdict": "reproduced",
        "note": "",
        "checks": [
            {**asdict(UP3), "difference": 5.0, "holds": True, "text": "a 11 vs b 6 (occlusion, spread 0.816)"}
        ],
    }
    text = _summary(tmp_path, {"02_x": [old]})
    assert "- **seeds**: finding 3: 3" in text and "| 3 | c | **reproduced** | ✓ a 11 vs b 6" in text
    (tmp_path / "none").mkdir()
    nothing = _summary(tmp_path / "none", {"02_y": []})
    assert "**seeds**" not in nothing and "## The paper's findings" not in nothing


# --- the four findings as functions of tidy rows: a case that holds, one that does not, one with a group missing


def _invariance_rows(scores: dict[str, dict[str, float]], K: int = 25) -> list[dict]:
    """Notebook 01's sweep rows (grid `invariances`): {variant: {invariance: score}}, one seed, with a K=10 row
    that must be ignored."""
    rows = []
    for variant, by_inv in scores.items():
        for inv, s in by_inv.items():
            rows += [
                {"variant": variant, "metric": inv, "K": K, "value": s},
                {"variant": variant, "metric": inv, "K": 10, "value": -s},
            ]
    return rows


def _probes(probes: dict[str, dict[str, float]]) -> list[dict]:
    """Probe rows: {metric: {variant: accuracy}}, one seed; the random-init network's as a sweep writes them."""
    return [
        {
            "variant": v,
            "method": "random init" if v == "random init" else "mocov2",
            "metric": m,
            "K": None,
            "value": x,
        }
        for m, by_variant in probes.items()
        for v, x in by_variant.items()
    ]


PAPER_1 = {
    "occlusion": (60.0, 50.0),
    "viewpoint": (30.0, 40.0),
    "illumination_direction": (30.0, 40.0),
    "illumination_color": (30.0, 40.0),
    "instance": (30.0, 40.0),
}  # (mocov2, supervised), the paper's way


def _finding_1_rows(table: dict[str, tuple[float, float]], random_init: float = 99.0) -> list[dict]:
    return _invariance_rows(
        {
            "mocov2": {inv: m for inv, (m, s) in table.items()},
            "supervised": {inv: s for inv, (m, s) in table.items()},
            "random init": {inv: random_init for inv in table},  # above both: not part of any check
        }
    )


def test_finding_1():
    held = finding_1(_finding_1_rows(PAPER_1))
    assert (
        held.verdict == "points the paper's way (1 seed: a direction, not a verdict)"
        and len(held.checks) == 5
        and held.seeds == 1
    )
    assert [(c.a, c.b, c.metric) for c in held.checks] == [
        ("mocov2", "supervised", "occlusion"),
        ("supervised", "mocov2", "viewpoint"),
        ("supervised", "mocov2", "illumination_direction"),
        ("supervised", "mocov2", "illumination_color"),
        ("supervised", "mocov2", "instance"),
    ]
    assert held.checks[0].a_mean == 60.0 and held.checks[0].spread is None  # top-25, one seed
    flipped = finding_1(_finding_1_rows({inv: (s, m) for inv, (m, s) in PAPER_1.items()}))
    assert flipped.verdict == "0 of 5 checks point the paper's way (1 seed: a direction, not a verdict)"
    partly = finding_1(_finding_1_rows({**PAPER_1, "viewpoint": (45.0, 40.0)}))
    assert partly.verdict == "4 of 5 checks point the paper's way (1 seed: a direction, not a verdict)"
    # a missing group: no occlusion protocol measured, then no supervised model at all
    no_occ = finding_1(_finding_1_rows({k: v for k, v in PAPER_1.items() if k != "occlusion"}))
    assert "occlusion" not in [c.metric for c in no_occ.checks] and len(no_occ.checks) == 4
    assert [m.metric for m in no_occ.missing] == ["occlusion"] and no_occ.expected == 5
    assert (
        no_occ.verdict
        == "4 of 5 checks measured: 4 point the paper's way (1 seed: a direction, not a verdict)"
    )
    only_moco = [r for r in _finding_1_rows(PAPER_1) if r["variant"] != "supervised"]
    assert finding_1(only_moco).verdict == "0 of 5 checks measured" and not finding_1(only_moco).checks
    assert {tuple(m.absent) for m in finding_1(only_moco).missing} == {("supervised",)}
    # probe rows enter no check: the same checks and verdict
    probes = _probes({"knn_acc": {"mocov2": 0.449, "supervised": 0.6, "random init": 0.358}})
    knn = finding_1(_finding_1_rows(PAPER_1) + probes)
    assert knn.verdict == held.verdict and len(knn.checks) == 5 and knn.untrained == []
    json.dumps(knn.record())


def test_finding_1_is_checked_on_the_model_named_contrastive():
    """Notebook 01 measures two MoCo v2 runs: the paper's crops, which finding 1 is about, and the kit's gentle
    crops beside it; only `contrastive` enters the checks."""
    paper, gentle = "mocov2 (paper crops)", "mocov2 (crops 0.8-1)"
    rows = _invariance_rows(
        {
            paper: {inv: m for inv, (m, s) in PAPER_1.items()},
            gentle: {inv: s + 1.0 for inv, (m, s) in PAPER_1.items()},  # the other way on every check
            "supervised": {inv: s for inv, (m, s) in PAPER_1.items()},
        }
    )
    f = finding_1(rows, contrastive=paper)
    assert f.verdict == "points the paper's way (1 seed: a direction, not a verdict)" and {
        c.a for c in f.checks
    } == {paper, "supervised"}
    assert (
        f.checks[0].text()
        == "points the paper's way: mocov2 (paper crops) 60 vs supervised 50 (occlusion, 1 seed)"
    )
    assert (
        finding_1(rows, contrastive=gentle).verdict
        == "1 of 5 checks points the paper's way (1 seed: a direction, not a verdict)"
    )
    assert finding_1(rows).verdict == "0 of 5 checks measured"  # no model named "mocov2"


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
                    cell = {
                        "variant": "mocov2",
                        "data": "objects",
                        "method": "mocov2",
                        "policy": "mocov2",
                        **labels,
                        by: group,
                    }
                rows.append(
                    {
                        "sweep": "g",
                        "cell": f"{group}-s{seed}",
                        **cell,
                        "seed": seed,
                        "status": "ok",
                        "metric": metric,
                        "K": k,
                        "value": v,
                        "error": "",
                    }
                )
    return rows


def test_finding_2():
    def rows(objects, scenes, crops, policy="crop_0.8"):
        sets = {"objects": objects, "scenes": scenes, "scene_crops": crops}
        return _sweep_rows(
            "data",
            {d: {"linear_acc": v, "knn_acc": [0.0] * len(v)} for d, v in sets.items() if v is not None},
            policy=policy,
        )

    held = finding_2(rows([0.53, 0.55, 0.51], [0.45, 0.46, 0.44], [0.50, 0.52, 0.51]))
    assert held.verdict == "reproduced" and [(c.a, c.b) for c in held.checks] == [
        ("objects", "scenes"),
        ("scene_crops", "scenes"),
    ]
    assert held.checks[0].seeds == 3 and held.checks[0].metric == "linear_acc"
    assert held.note == "(augmentation crop_0.8)"
    # crops no better than scenes (as at quick scale): partly; within the spread: not
    partly = finding_2(rows([0.53, 0.55, 0.51], [0.45, 0.46, 0.44], [0.43, 0.45, 0.41]))
    assert partly.verdict == "partly reproduced: 1 of 2 checks holds, 1 within the spread (3 seeds)"
    assert [c.holds for c in partly.checks] == [True, False]
    none = finding_2(rows([0.46, 0.50], [0.45, 0.49], [0.44, 0.50]))
    assert none.verdict == "not reproduced: 0 of 2 checks hold, 2 within the spread (2 seeds)"
    # a missing group: no scene crops in the grid
    missing = finding_2(rows([0.53, 0.55], [0.45, 0.46], None), same_object={"objects": 0.68, "scenes": 0.21})
    assert [c.a for c in missing.checks] == ["objects"] and [m.a for m in missing.missing] == ["scene_crops"]
    assert missing.verdict == "1 of 2 checks measured: 1 holds (2 seeds)"
    assert (
        missing.note == "(augmentation crop_0.8; positive pairs showing the same object: "
        "{'objects': 0.68, 'scenes': 0.21})"
    )
    # two policies: compared within one (the first trained one by default), never across
    both = rows([0.6], [0.4], [0.5], "crop_0.8") + rows([0.3], [0.35], [0.2], "mocov2")
    assert finding_2(both).verdict == "points the paper's way (1 seed: a direction, not a verdict)"
    assert finding_2(both).checks[0].a_mean == 0.6
    other = finding_2(both, policy="mocov2")
    assert (
        other.verdict == "0 of 2 checks point the paper's way (1 seed: a direction, not a verdict)"
        and other.checks[0].b_mean == 0.35
    )
    assert finding_2(both, policy="no_such_policy").verdict == "0 of 2 checks measured"
    assert finding_2([]).verdict == "0 of 2 checks measured" and finding_2([]).note == ""


def _finding_3_rows(occlusion: dict[str, list[float]]) -> list[dict]:
    return _sweep_rows(
        "policy",
        {p: {"occlusion": v} for p, v in occlusion.items()}
        | {"random init": {"occlusion": [44.0, 45.0, 43.0]}},
    )


def test_finding_3():
    default = {"mocov2": [55.0, 56.0, 54.0], "crop_0.8": [52.0, 53.0, 52.5], "no_crop": [49.0, 50.0, 48.0]}
    held = finding_3(_finding_3_rows(default))  # notebook 02's default policies: nothing missing
    assert held.verdict == "reproduced" and held.expected == 2 and not held.missing
    assert [c.what for c in held.checks] == [f"{p} > no_crop on occlusion" for p in ("mocov2", "crop_0.8")]
    assert held.note == "(crop scales: mocov2 (0.2, 1), crop_0.8 (0.8, 1); no_crop resizes the whole image)"
    # all nine policies, as at quick scale (README): only crops of (0.08, 1) ahead beyond the spread
    quick = finding_3(
        _finding_3_rows(
            {
                "no_crop": [50.1, 49.5, 50.7],
                "crop_0.8": [49.4, 47.9, 50.9],
                "crop_0.5": [51.1, 49.6, 52.6],
                "mocov2": [54.1, 48.5, 53.0],
                "crop_0.08": [55.1, 52.9, 57.3],
                "no_jitter": [64.0, 62.4, 65.6],
            }
        )
    )
    assert [c.a for c in quick.checks] == ["mocov2", "crop_0.8", "crop_0.5", "crop_0.08"]
    assert [c.holds for c in quick.checks] == [False, False, False, True]
    assert quick.verdict == "partly reproduced: 1 of 4 checks holds, 3 within the spread (3 seeds)"
    # one seed: a direction
    one = finding_3(_finding_3_rows({p: v[:1] for p, v in default.items()}))
    assert one.verdict == "points the paper's way (1 seed: a direction, not a verdict)"
    # missing groups: a `policies` subset without no_crop, or without crop_0.8; a failed crop_0.5 cell
    no_base = [r for r in _finding_3_rows(default) if r["policy"] != "no_crop"]
    assert finding_3(no_base).checks == [] and finding_3(no_base).verdict == "0 of 2 checks measured"
    no_gentle = finding_3(_finding_3_rows({p: v for p, v in default.items() if p != "crop_0.8"}))
    assert no_gentle.verdict == "1 of 2 checks measured: 1 holds (3 seeds)"
    assert [m.text() for m in no_gentle.missing] == [
        "crop_0.8 vs no_crop on occlusion: not measured (no crop_0.8 values)"
    ]
    failed = {
        "policy": "crop_0.5",
        "method": "mocov2",
        "status": "failed",
        "metric": "",
        "K": "",
        "value": "",
    }
    with_failed = finding_3([*_finding_3_rows(default), failed])
    assert with_failed.verdict == "2 of 3 checks measured: 2 hold (3 seeds)"
    assert with_failed.missing[0].a == "crop_0.5"
    # K=10 rows are ignored
    rows = _finding_3_rows({p: v[:1] for p, v in default.items()})
    assert finding_3(rows + [{**r, "K": 10, "value": 0.0} for r in rows]).checks[0].a_mean == 55.0


def test_finding_4():
    def rows(fti, rt_flow, base=(40.0, 41.0, 39.0)):
        groups = {"mocov2_frames": base, "fti": fti, "rt_flow": rt_flow}
        return _sweep_rows("variant", {g: {"viewpoint": list(v)} for g, v in groups.items() if v is not None})

    held = finding_4(rows([45.0, 46.0, 44.0], [44.0, 45.0, 46.0]))
    assert held.verdict == "reproduced" and [c.a for c in held.checks] == ["fti", "rt_flow"]
    assert all(c.b == "mocov2_frames" and c.metric == "viewpoint" for c in held.checks)
    quick = finding_4(rows([39.9, 41.2, 38.6], [35.7, 33.6, 37.8], (40.2, 41.2, 39.2)))  # as at quick scale
    assert quick.verdict == "not reproduced: 0 of 2 checks hold, 1 reversed, 1 within the spread (3 seeds)"
    partly = finding_4(rows([45.0, 46.0, 44.0], [35.0, 36.0, 34.0]))
    assert partly.verdict == "partly reproduced: 1 of 2 checks holds, 1 reversed (3 seeds)"
    # a missing group: the Region Tracker not in `variants`
    missing = finding_4(rows([45.0, 46.0, 44.0], None))
    assert [c.a for c in missing.checks] == ["fti"]
    assert missing.verdict == "1 of 2 checks measured: 1 holds (3 seeds)"
    assert missing.record()["missing"][0]["text"] == (
        "rt_flow vs mocov2_frames on viewpoint: not measured (no rt_flow values)"
    )
    no_base = finding_4(rows([45.0], [44.0], None))
    assert no_base.verdict == "0 of 2 checks measured" and len(no_base.missing) == 2


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
    by_hand = finding(
        1,
        [
            check(inv, "variant", "mocov2", "supervised", "occlusion"),
            *(
                check(inv, "variant", "supervised", "mocov2", m)
                for m in ("viewpoint", "illumination_direction", "illumination_color", "instance")
            ),
        ],
    )
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
    by_hand = finding(
        2,
        [
            check(relabelled, "set", "objects", "scenes", "linear_acc"),
            check(relabelled, "set", "scene_crops", "scenes", "linear_acc"),
        ],
        note=f"(augmentation crop_0.8; positive pairs showing the same object: {same})",
        untrained=[
            f"{s} (linear not above random init)" for s in ("scenes", "scene_crops")
        ],  # 0.46, 0.425 < 0.49
    )
    assert finding_2(sweep, "crop_0.8", same).record() == by_hand.record()
    assert finding_2(relabelled, "crop_0.8", same).record() == by_hand.record()

    sweep = _sweep_rows(
        "policy", {"mocov2": {"occlusion": [52.0, 51.0]}, "no_crop": {"occlusion": [50.0, 50.5]}}
    )
    relabelled = [
        {**r, "policy": "random init" if r["policy"] == "-" else r["policy"]} for r in sweep
    ]  # nb 02
    by_hand = check(relabelled, "policy", "mocov2", "no_crop", "occlusion")
    assert finding_3(sweep).checks[0] == by_hand
    assert finding_3(sweep).record() == finding_3(relabelled).record()
    assert [m.a for m in finding_3(sweep).missing] == ["crop_0.8"]  # the finding now also asks crop_0.8

    sweep = _sweep_rows(
        "variant",
        {
            "mocov2_frames": {"viewpoint": [40.0, 41.0]},
            "fti": {"viewpoint": [39.0, 42.0]},
            "rt_flow": {"viewpoint": [36.0, 35.0]},
        },
    )
    by_hand = finding(
        4,
        [
            check(sweep, "variant", "fti", "mocov2_frames", "viewpoint"),
            check(sweep, "variant", "rt_flow", "mocov2_frames", "viewpoint"),
        ],
    )
    assert finding_4(sweep).record() == by_hand.record()


def test_a_network_that_does_not_beat_random_init_is_named_next_to_the_verdict():
    """The issue's case: a MoCo v2 whose linear probe (0.428) is below the same network untrained (0.517)."""
    values = {
        "objects": {"linear_acc": [0.56, 0.58, 0.57], "knn_acc": [0.50, 0.52, 0.51]},
        "scenes": {"linear_acc": [0.43, 0.42, 0.44], "knn_acc": [0.45, 0.47, 0.46]},
        "scene_crops": {"linear_acc": [0.46, 0.45, 0.47], "knn_acc": [0.30, 0.31, 0.29]},
        "random init": {"linear_acc": [0.517, 0.51, 0.52], "knn_acc": [0.35, 0.36, 0.34]},
    }
    rows = _sweep_rows("data", values, policy="crop_0.8")
    assert probes_below_random_init(rows, "data", "objects") == []
    assert probes_below_random_init(rows, "data", "scenes") == ["linear"]
    assert probes_below_random_init(rows, "data", "no_such_set") is None
    found = finding_2(rows)
    assert found.untrained == [
        "scenes (linear not above random init)",
        "scene_crops (kNN, linear not above random init)",
    ]
    record = found.record()
    assert verdict_text(record) == (
        f"{found.verdict} (rests on networks that do not beat random init: "
        "scenes (linear not above random init); scene_crops (kNN, linear not above random init))"
    )
    assert verdict_text({**record, "untrained": []}) == found.verdict  # and records written before the field
    # within the spread is not beating it: 0.36 +- 0.02 against 0.35 +- 0.01
    close = _sweep_rows(
        "data", {"objects": {"knn_acc": [0.34, 0.36, 0.38]}, "random init": values["random init"]}
    )
    assert not_learned(close, "data", ["objects", "random init"]) == ["objects (kNN not above random init)"]


def test_finding_1_names_an_untrained_model_from_its_probes():
    rows = _finding_1_rows({inv: (50.0, 40.0) for inv in ("occlusion", *FINDING_1_OTHERS)})
    knn = {"knn_acc": {"mocov2": 0.44, "supervised": 0.70, "random init": 0.35}}
    linear = {"linear_acc": {"mocov2": 0.43, "supervised": 0.72, "random init": 0.52}}
    found = finding_1(rows + _probes({**knn, **linear}))
    assert found.untrained == ["mocov2 (linear not above random init)"]
    assert finding_1(rows + _probes(knn)).untrained == []  # kNN alone: above random init


def test_summary_table_says_which_networks_beat_random_init():
    from ssl_kit.viz.sweep_plots import LEARNED, summary_table

    values = {
        "crop_0.8": {"linear_acc": [0.55, 0.56], "knn_acc": [0.50, 0.51]},
        "mocov2": {"linear_acc": [0.45, 0.46], "knn_acc": [0.41, 0.42]},
        "random init": {"linear_acc": [0.50, 0.50], "knn_acc": [0.36, 0.37]},
    }
    table = summary_table(_sweep_rows("policy", values), by="policy")
    assert table[LEARNED].to_dict() == {"crop_0.8": "yes", "mocov2": "no: linear", "random init": ""}
    no_baseline = summary_table(_sweep_rows("policy", {"crop_0.8": values["crop_0.8"]}), by="policy")
    assert LEARNED not in no_baseline.columns
