"""Kept sweeps and the recipes page's tables rendered from them: known answers on hand-made rows, and a real
smoke sweep kept and rendered."""

from __future__ import annotations

import json

import pytest

from ssl_kit.errors import ConfigError
from ssl_kit.findings.checks import RANDOM_INIT
from ssl_kit.pages.kept_sweeps import KEPT, keep_sweep, kept, render_bf16, render_levers
from ssl_kit.study.grid import parse_grid
from ssl_kit.study.sweep import run_sweep

RECORD = {"date": "2026-12-04T18:00:00+00:00", "machine": {"cpu": "Test CPU", "torch": "2.x"}}


def _rows(values: dict[str, dict[str, list[float]]]) -> list[dict]:
    rows = []
    for variant, metrics in values.items():
        ri = variant == RANDOM_INIT
        for metric, vs in metrics.items():
            for seed, v in enumerate(vs):
                rows.append(
                    {
                        "sweep": "g",
                        "cell": f"{'random_init' if ri else variant}-s{seed}",
                        "variant": variant,
                        "data": "-" if ri else "objects",
                        "method": RANDOM_INIT if ri else "mocov2",
                        "policy": "-" if ri else "mocov2",
                        "seed": seed,
                        "status": "ok",
                        "metric": metric,
                        "K": None if metric.endswith("_acc") else 25,
                        "value": v,
                        "error": "",
                    }
                )
    return rows


def _cells(steps: dict[str, int]) -> dict:
    return {f"{v}-s{s}": {"steps": n, "train_seconds": 1.0} for v, n in steps.items() for s in range(3)}


def test_the_lever_table_bolds_only_gains_beyond_the_spread():
    rows = _rows(
        {
            "base": {"knn_acc": [0.40, 0.42, 0.41], "linear_acc": [0.47, 0.48, 0.46]},
            "whitened_stem": {"knn_acc": [0.54, 0.55, 0.53], "linear_acc": [0.60, 0.61, 0.59]},
            "bn_lr_x10": {"knn_acc": [0.41, 0.43, 0.40], "linear_acc": [0.47, 0.48, 0.47]},
            RANDOM_INIT: {"knn_acc": [0.36, 0.37, 0.35], "linear_acc": [0.49, 0.50, 0.48]},
        }
    )
    record = {**RECORD, "cells": _cells({"base": 444, "whitened_stem": 500, "bn_lr_x10": 444})}
    table = render_levers((rows, record), None).splitlines()
    assert table[0].startswith("*Test CPU, torch 2.x;")
    body = {line.split(" | ")[0][2:]: line for line in table if line.startswith("| ") and "---" not in line}
    assert (
        body["whitened_stem"]
        == "| whitened_stem | 500 | 0.540 ± 0.008 | 0.600 ± 0.008 | **+0.130** | **+0.130** |"
    )
    assert "| bn_lr_x10 | 444 | 0.413 ± 0.012 | 0.473 ± 0.005 | +0.003 | +0.003 |" in body["bn_lr_x10"]
    assert body["random init (the same network, learned stem)"].endswith(
        "| 0.360 ± 0.008 | 0.490 ± 0.008 |  |  |"
    )


def test_the_bf16_table_counts_scores_within_the_spread_of_fp32():
    fp32 = {"knn_acc": [0.40, 0.42, 0.41], "linear_acc": [0.47, 0.48, 0.46], "occlusion": [50.0, 52.0, 51.0]}
    rows = _rows(
        {
            "mocov2_fp32": fp32,
            "mocov2_bf16": {
                "knn_acc": [0.41, 0.42, 0.40],
                "linear_acc": [0.40, 0.41, 0.39],
                "occlusion": [51.0, 50.0, 52.0],
            },
            RANDOM_INIT: fp32,
        }
    )
    record = {**RECORD, "cells": _cells({"mocov2_fp32": 444, "mocov2_bf16": 444})}
    table = render_bf16((rows, record))
    line = next(x for x in table.splitlines() if "bf16, same steps" in x)
    assert line.endswith("| 2 of 3 (outside: linear probe) |")
    assert "| MoCo v2, the paper's augmentation | fp32 | 444 | 0.410 ± 0.008 |" in table


@pytest.mark.slow
def test_a_smoke_sweep_is_kept_and_rendered(smoke_world, tmp_path):
    raw = {
        "name": "recipe_levers_3",
        "scale": "smoke",
        "seeds": [0],
        "variants": {"base": {}, "bn_lr_x10": {"bn_lr_scale": 10.0}},
        "config": {"steps": 2, "batch_size": 8, "queue_size": 16},
        "evaluate": {"protocols": [], "linear": False},
    }
    result = run_sweep(parse_grid(raw), tmp_path / "sweeps", smoke_world, progress=False)
    with pytest.raises(ConfigError, match="no results.csv"):
        keep_sweep(tmp_path / "nothing", tmp_path)
    keep_sweep(result.csv.parent, tmp_path)
    rows, record = kept("recipe_levers_3", tmp_path)
    assert (tmp_path / KEPT / "recipe_levers_3.csv").is_file()
    assert record["cells"]["bn_lr_x10-s0"]["steps"] == 2 and record["machine"]["cpu"]
    assert json.loads((tmp_path / KEPT / "recipe_levers_3.json").read_text())["sweep"] == "recipe_levers_3"
    assert "| bn_lr_x10 | 2 |" in render_levers((rows, record), None)
    assert kept("bf16", tmp_path) is None


def scores(knn, occlusion, viewpoint):
    return {"knn_acc": knn, "linear_acc": knn, "occlusion": occlusion, "viewpoint": viewpoint}


def test_the_budget_rerun_table_and_its_verdicts():
    rows = _rows(
        {
            "mocov2_x1": scores([0.50, 0.52, 0.51], [55.0, 56.0, 57.0], [30.0, 31.0, 32.0]),
            "no_crop_x1": scores([0.55, 0.56, 0.57], [50.0, 51.0, 50.0], [33.0, 34.0, 35.0]),
            "supervised_x1": scores([0.30, 0.31, 0.32], [50.0, 51.0, 52.0], [40.0, 41.0, 42.0]),
            RANDOM_INIT: scores([0.40, 0.41, 0.42], [40.0, 40.0, 40.0], [40.0, 40.0, 40.0]),
        }
    )
    record = {**RECORD, "cells": _cells({"mocov2_x1": 450, "no_crop_x1": 450, "supervised_x1": 450})}
    from ssl_kit.pages.kept_sweeps import render_budget_rerun

    text = render_budget_rerun((rows, record))
    assert "| mocov2 x1 | 450 | 0.510 ± 0.008 | 0.510 ± 0.008 | 56.0 ± 0.8 | 31.0 ± 0.8 |" in text
    assert text.count("| yes |") == 2 and "| supervised x1 | 450 |" in text and "| no: kNN, linear |" in text
    finding_3 = next(line for line in text.splitlines() if line.startswith("| 3 |"))
    assert finding_3 == "| 3 | reproduced |"  # 56 against 50.3, beyond the spread
    finding_1 = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    assert "rests on networks that do not beat random init: supervised (kNN, linear" in finding_1


def test_the_budget_cells_of_another_machine_are_set_beside_the_reference_runs_verdicts():
    from ssl_kit.pages.kept_sweeps import render_budget_rerun

    rows = _rows(
        {
            "mocov2_x1": scores([0.50, 0.51, 0.52], [55.0, 56.0, 57.0], [30.0, 31.0, 32.0]),
            "no_crop_x1": scores([0.55, 0.56, 0.57], [50.0, 51.0, 50.0], [33.0, 34.0, 35.0]),
            "supervised_x1": scores([0.30, 0.31, 0.32], [50.0, 51.0, 52.0], [40.0, 41.0, 42.0]),
            RANDOM_INIT: scores([0.40, 0.41, 0.42], [40.0, 40.0, 40.0], [40.0, 40.0, 40.0]),
        }
    )
    record = {**RECORD, "cells": _cells({"mocov2_x1": 450, "no_crop_x1": 450, "supervised_x1": 450})}
    text = render_budget_rerun((rows, record), {"3": {"x1": "reproduced"}, "1": {"x4": "reversed"}})
    assert "| 3 | x1 | reproduced | reproduced | yes |" in text
    assert next(line for line in text.splitlines() if line.startswith("| 1 | x1 |")).endswith("| — | — |")
