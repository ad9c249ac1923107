"""docs/what_if.md's finding-1 part, rendered from kept what-if sweeps: the tables per world factor with each
network's viewpoint score and its paired change, finding 1's check at each level, and what moved or flipped."""

from __future__ import annotations

import math

from ssl_kit.common.tidy import write_rows
from ssl_kit.pages.kept_sweeps import KEPT
from ssl_kit.pages.what_if_page import render_finding1, write_figure
from ssl_kit.study.sweep import FIELDS
from ssl_kit.study.what_if_sweep import from_rows

# viewpoint (top-25) by network, level and seed: supervised rises with fewer views, MoCo v2 does not move
VIEWPOINT = {
    "supervised": {"baseline": (30.0, 31.0, 29.0), "views=90": (45.0, 47.0, 46.0)},
    "mocov2": {"baseline": (40.0, 41.0, 39.0), "views=90": (40.5, 41.0, 39.5)},
}


def _rows(network: str) -> list[dict]:
    other = "mocov2" if network == "supervised" else "supervised"
    rows = []
    for variant, values in [*VIEWPOINT[network].items(), (other, VIEWPOINT[other]["baseline"]),
                            ("random init", (42.0, 42.0, 42.0))]:  # fmt: skip
        for seed, value in enumerate(values):
            method = "random init" if variant == "random init" else network
            base = {"sweep": f"what_if-{network}-views", "cell": f"{variant}-s{seed}", "variant": variant,
                    "data": "objects", "method": method, "policy": "-", "seed": seed, "status": "ok", "error": ""}  # fmt: skip
            rows += [{**base, "metric": "viewpoint", "K": 25, "value": value},
                     {**base, "metric": "viewpoint", "K": "", "value": value / 100},  # the cosine measure
                     {**base, "metric": "knn_acc", "K": "", "value": 0.5}]  # fmt: skip
    return rows


def _keep(root):
    for network in VIEWPOINT:
        write_rows(_rows(network), root / KEPT / f"what_if-{network}-views.csv", FIELDS)


def test_kept_rows_are_read_back_as_an_answer(tmp_path):
    answer = from_rows(_rows("supervised"))
    assert (answer.network, answer.factor.name, answer.levels) == ("supervised", "views", ["views=90"])
    row = answer.row("views=90", "viewpoint", "top-25")
    assert (row["mean"], row["change"], row["change_sd"]) == (46.0, 16.0, 1.0)  # 15, 16, 17 paired
    assert math.isclose(
        answer.row("views=90", "viewpoint", "cosine")["mean"], 0.46
    )  # the cosine rows: their own
    assert "raised viewpoint invariance by 16.0 ± 1.0 (top-25, 3 seeds)" in answer.sentence(
        "views=90", "viewpoint"
    )


def test_the_page_says_which_level_turns_the_check_and_what_moved(tmp_path):
    assert "No what-if sweep of a world factor is kept yet" in render_finding1(tmp_path)
    _keep(tmp_path)
    text = render_finding1(tmp_path)
    assert "### views:" in text
    assert "| views=360 | 30.0 | 40.0 | — | — | reversed |" in text  # the baseline's own level, no change
    assert "| views=90 | 46.0 (+16.0 ± 1.0) | 40.3 (+0.3 ± 0.3) |" in text and text.count("| holds |") == 1
    assert "Beyond the spread of its paired changes: views=90 (+16.0 ± 1.0)" in text
    assert "check holds (the paper's way): views=90" in text
    assert write_figure(tmp_path).stat().st_size > 5_000
