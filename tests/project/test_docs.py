"""The README and docs/ as a reader meets them: short, linked, and never stale.

- README.md: at most 250 lines, the two commands first, no history of the work (no issue numbers, no CPU names)
  and nothing a user of the repository does not have (../shared, DESIGN.md).
- Every page rendered from the reference runs (`python -m ssl_kit report`: docs/results.md, the README's findings
  and notebooks tables, the world's fidelity card, the GPU tables) equals what the committed records render.
- Every link in README.md and docs/*.md resolves: a relative link to a file in the repository (and its anchor to
  a heading of that page), never a path outside it; web links are left alone (no network here).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ssl_kit.pages.report import check_pages
from ssl_kit.study.notebook import findings_markdown

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: links reduced to their text, lower case, punctuation dropped, spaces to -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[`*_]", lambda m: "_" if m.group(0) == "_" else "", text).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found, seen = set(), {}
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(page: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", page.read_text()))


def broken_links(page: Path) -> list[str]:
    bad = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):  # https:, mailto: ... (not checked: no network)
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if ROOT.resolve() not in dest.parents and dest != ROOT.resolve():
            bad.append(f"{target}: outside the repository")
        elif not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{target}: no heading #{anchor} in {dest.name}")
    return bad


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_link_resolves_inside_the_repository(page):
    assert not broken_links(page), f"{page.relative_to(ROOT)}: " + "; ".join(broken_links(page))


def test_the_link_check_finds_what_is_broken(tmp_path, monkeypatch):
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    page = tmp_path / "a.md"
    (tmp_path / "b.md").write_text("# The `make` page\n\n## Budget, x16 (one seed)\n")
    page.write_text(
        "[ok](b.md#the-make-page) [ok](b.md#budget-x16-one-seed) [gone](c.md) [up](../x.md) "
        "[anchor](b.md#nope) [web](https://arxiv.org/abs/2007.13916)\n```\n[in code](nowhere.md)\n```\n"
    )
    assert broken_links(page) == [
        "c.md: no such file",
        "../x.md: outside the repository",
        "b.md#nope: no heading #nope in b.md",
    ]


def test_the_readme_is_a_short_guide_with_the_two_commands_first():
    text = (ROOT / "README.md").read_text()
    lines = text.splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines (at most 250)"
    assert "make reproduce" in "\n".join(lines[:6]) and "make test" in "\n".join(lines[:6])
    assert "arxiv.org/abs/2007.13916" in text  # the paper
    for page in PAGES:
        body = page.read_text()
        for forbidden in ("../shared", "DESIGN.md", "DATASETS.md"):
            assert forbidden not in body, f"{page.name} points at {forbidden}, which users do not have"
    history = re.findall(r"\bissue \d+|\bZen \d|\bsession\b|20\d\d-\d\d-\d\d", text)
    assert not history, f"README.md holds history of the work: {history}"


def test_the_committed_pages_are_what_the_reference_records_render():
    stale = check_pages(ROOT)
    assert not stale, f"run `python -m ssl_kit report`: {[str(p.relative_to(ROOT)) for p in stale]} differ"


def test_a_notebooks_closing_cell_renders_its_record_and_the_reference():
    record = {
        "provenance": {"scale": "smoke", "seed": 1, "data": "world", "data_identity": "abc", "format": 1},
        "findings": [
            {
                "finding": 3,
                "claim": "crops buy occlusion invariance",
                "verdict": "points the paper's way (1 seed)",
                "seeds": 1,
                "checks": [{"holds": True, "text": "mocov2 55 vs no_crop 50"}],
            }
        ],
        "summary": {"mocov2": {"kNN accuracy": 0.42}},
    }
    text = findings_markdown("02_augmentation_ablations", record, reference="no-such-reference")
    assert text.startswith("### What this run found") and "smoke scale, seed 1" in text
    assert "| 3 | crops buy occlusion invariance | **points the paper's way (1 seed)** | ✓ mocov2 55" in text
    assert "| mocov2 | 0.42 |" in text and "the numbers below mean nothing" in text
    assert "No reference run is kept" in text


def test_keeping_a_run_takes_its_own_records_and_renders_the_pages(tmp_path, monkeypatch):
    from ssl_kit.pages.report import keep_reference, render_pages
    from ssl_kit.study.place import HOME_ENV

    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    study = {"scale": "quick", "seed": 0, "data": "world", "data_identity": "abc", "format": 1}
    results = tmp_path / "checkout" / "results" / "quick"
    (results / "figures").mkdir(parents=True)
    (results / "figures" / "01_x.png").write_bytes(b"png")
    run = {
        "study": study,
        "date": "2026-01-01T00:00:00",
        "machine": {"cpu": "a CPU"},
        "notebooks": [{"name": "01_x", "status": "ok", "seconds": 120.0}],
    }
    (results / "run.json").write_text(json.dumps(run))
    (results / "summary.md").write_text("# summary\n")
    finding = {
        "finding": 1,
        "claim": "a claim",
        "verdict": "points the paper's way (1 seed)",
        "seeds": 1,
        "checks": [{"holds": True, "text": "a 2 vs b 1"}],
    }
    record = {
        "provenance": {**study, "data_dir": str(tmp_path / "checkout" / "data/world/quick")},
        "findings": [finding],
        "figure": "figures/01_x.png",
    }
    (results / "01_x.json").write_text(json.dumps(record))
    (results / "02_y.json").write_text(
        json.dumps({"provenance": {**study, "scale": "smoke"}})
    )  # not this run's
    kept = keep_reference(results, "quick")
    assert sorted(p.name for p in kept.iterdir()) == ["01_x.json", "figures", "run.json", "summary.md"]
    assert json.loads((kept / "01_x.json").read_text())["provenance"]["data_dir"] == "./data/world/quick"
    (tmp_path / "README.md").write_text(
        "x\n<!-- findings -->\nold\n<!-- /findings -->\n<!-- notebooks -->\n<!-- /notebooks -->\n"
        "<!-- reproduce cost -->\n<!-- /reproduce cost -->\n"
    )
    pages = render_pages(tmp_path)
    readme = pages[tmp_path / "README.md"]
    assert "`make reproduce` took 2 minutes in the [reference run](docs/results.md)" in readme
    assert "| 1 | a claim | points the paper's way (1 seed) | 1 |" in readme and "old" not in readme
    results_page = pages[tmp_path / "docs" / "results.md"]
    assert "## Reference run `quick`" in results_page and "run 2026-01-01 on a CPU" in results_page
    assert "*2.0 minutes in this run.*" in results_page
    assert "![figure](reference/quick/figures/01_x.png)" in results_page


def test_the_readme_takes_the_verdicts_by_budget_from_kept_budget_cells(tmp_path):
    """Without a budget curve in the reference, the README's last column comes from the budget cells kept as a
    sweep (docs/reference/sweeps/budget.csv), naming a verdict that rests on a network that did not learn."""
    from ssl_kit.pages.report import render_readme_findings
    from ssl_kit.study.records import Reference

    finding = {"finding": 3, "claim": "c", "verdict": "reproduced", "seeds": 3, "checks": []}
    ref = Reference("quick", tmp_path, {"study": {}}, {"02_x": {"findings": [finding]}})
    rows = []
    for variant, occlusion, knn in (
        ("mocov2_x1", 56.0, 0.5),
        ("no_crop_x1", 50.0, 0.3),
        ("random init", 40, 0.4),
    ):
        method = "random init" if variant == "random init" else "mocov2"
        for seed, jitter in enumerate((-1.0, 0.0, 1.0)):
            for metric, value in (("occlusion", occlusion + jitter), ("knn_acc", knn + jitter / 100)):
                rows.append(
                    {"variant": variant, "method": method, "seed": seed, "status": "ok", "metric": metric,
                     "K": 25 if metric == "occlusion" else None, "value": value}
                )  # fmt: skip
    text = render_readme_findings(ref, (rows, {}))
    assert "at each training budget ([budget](docs/budget.md#with-todays-quick-recipe))" in text
    assert (
        "| 3 | c | reproduced | 3 | x1: reproduced (rests on networks that do not beat random init: no_crop (kNN "
        "not above random init)) |" in text
    )


def test_the_notebook_map_links_a_notebook_the_reference_left_out_to_the_run_that_has_it(tmp_path):
    from ssl_kit.pages.report import render_notebook_map
    from ssl_kit.study.records import Reference

    for name in ("quick", "older"):
        (tmp_path / name).mkdir()
    (tmp_path / "quick" / "01_measuring_invariances.ipynb").write_text("{}")
    (tmp_path / "older" / "06_budget_curve.ipynb").write_text("{}")
    main = Reference(
        "quick", tmp_path / "quick", {"notebooks": [{"name": "01_measuring_invariances", "seconds": 30}]}, {}
    )
    older = Reference(
        "older", tmp_path / "older", {"notebooks": [{"name": "06_budget_curve", "seconds": 3600}]}, {}
    )
    lines = render_notebook_map(main, [older]).splitlines()
    row = {line.split("]")[0][3:]: line for line in lines if line.startswith("| [")}
    assert "([run](docs/reference/quick/01_measuring_invariances.ipynb))" in row["01_measuring_invariances"]
    assert row["01_measuring_invariances"].endswith("| under 1 |")
    assert "([run in `older`](docs/reference/older/06_budget_curve.ipynb))" in row["06_budget_curve"]
    assert row["06_budget_curve"].endswith("| 60 |") and row["07_invariance_over_training"].endswith("| — |")


# a verdict's words: the finding's (partly, not reproduced; k of n checks) or words of a verdict said of a finding
VERDICT = re.compile(
    r"partly reproduced|not reproduced|\d+ of \d+ checks|points the paper's way"
    r"|(?i:finding \d)[^.\n]*\b(?:reproduced|reversed|within the spread)\b"
)


def _verdicts(table: str, bold: bool) -> dict[str, str]:
    """{finding: verdict} of a findings table (README: the third column; results.md: the bold third column)."""
    out = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 2 and cells[0].isdigit():
            out[cells[0]] = cells[2].strip("*") if bold else cells[2]
    return out


def test_no_two_pages_state_a_different_verdict_for_one_finding():
    """The README's findings table and the main reference run's on results.md give every finding the same words
    (both rendered from its records by one function); the other pages state no finding's verdict, except
    budget.md's table of verdicts at each budget (another question: a finding against the training budget) and a
    page's record section of an earlier recipe (`## Record: ...`), which is labelled as such."""
    readme = (ROOT / "README.md").read_text().split("<!-- findings -->")[1].split("<!-- /findings -->")[0]
    results = (ROOT / "docs/results.md").read_text()
    main = results.split("### The paper's findings")[1].split("\n### ")[0]
    ours, theirs = _verdicts(readme, bold=False), _verdicts(main, bold=True)
    assert ours and ours == theirs
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name in ("results.md", "budget.md"):
            continue
        before_record = re.split(r"^## Record", page.read_text(), flags=re.M)[0]
        stated = [m.group(0) for m in VERDICT.finditer(before_record)]
        assert not stated, f"{page.name} states a finding's verdict outside its record section: {stated}"
