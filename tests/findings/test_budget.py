"""The budget curve (issue 15; notebook 06): the `budget` grid (three models at x1/4 .. x16 the quick
budget, each a complete schedule; three seeds up to x4, one at x16), the grid format's per-variant `max_seeds`
and `scale_config` it relies on, `make reproduce` leaving notebook 06 to `make study`, and the figures and
tables of `ssl_kit.viz.budget` on hand-made sweep rows."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ssl_kit.errors import ConfigError  # noqa: E402
from ssl_kit.findings.by_budget import (  # noqa: E402
    BUDGET_CHECKS,
    budget_label,
    budget_rows,
    findings_by_budget,
    split_variant,
    verdict_table,
)
from ssl_kit.findings.checks import RANDOM_INIT  # noqa: E402
from ssl_kit.runs.config import resolve  # noqa: E402
from ssl_kit.study.grid import cell_config, load_grid, parse_grid  # noqa: E402
from ssl_kit.study.reproduce import NOTEBOOKS, STUDY_ONLY, find_notebooks  # noqa: E402
from ssl_kit.viz.budget import budget_table, plot_budget_curves, plot_findings_by_budget  # noqa: E402

MODELS = {"supervised": ("supervised", "supervised"), "mocov2": ("mocov2", "mocov2"),
          "no_crop": ("mocov2", "no_crop")}  # fmt: skip
BUDGETS = {0.25: (112, 1), 1: (450, 2), 4: (1800, 4), 16: (7200, 8)}  # budget: (quick steps, smoke steps)


# --- the grid --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", ["smoke", "quick"])
def test_budget_grid_crosses_models_and_budgets_with_seeds_per_budget(scale):
    grid = load_grid("budget", scale=scale)
    assert grid.name == "budget" and grid.seeds == [0, 1, 2]
    assert grid.evaluate.protocols and grid.evaluate.top_k == (10, 25) and grid.evaluate.random_init
    assert grid.evaluate.downstream == "objects" and grid.evaluate.linear
    by_variant = {}
    for cell in grid.cells:
        by_variant.setdefault(cell.variant, []).append(cell)
    assert len(by_variant) == len(MODELS) * len(BUDGETS) and len(grid.cells) == 3 * 3 * 3 + 3
    for variant, cells in by_variant.items():
        model, budget = split_variant(variant)
        assert (cells[0].method, cells[0].policy) == MODELS[model]
        assert [c.seed for c in cells] == ([0] if budget == 16 else [0, 1, 2])
        quick_steps, smoke_steps = BUDGETS[budget]
        cfg = resolve(cell_config(grid, cells[0], "data", "out", "cache"))
        assert cfg.steps == (quick_steps if scale == "quick" else smoke_steps)
        assert cfg.max_steps is None  # a complete cosine schedule at every budget, not an early stop
        assert cfg.batch_size == (128 if scale == "quick" else 8)
        assert cfg.method == cells[0].method and cfg.policy == cells[0].policy


def test_budget_grid_x16_runs_the_first_of_the_seeds_given():
    grid = load_grid("budget", scale="smoke", seeds=[5, 6])
    seeds = {}
    for cell in grid.cells:
        seeds.setdefault(cell.variant, []).append(cell.seed)
    assert seeds["mocov2_x16"] == [5] and seeds["mocov2_x4"] == [5, 6]
    assert [c.name for c in grid.cells[:2]] == ["supervised_x0.25-s5", "supervised_x1-s5"]


def _grid(**fields) -> dict:
    return {"name": "g", "scale": "smoke", "seeds": [0, 1, 2], "evaluate": {"protocols": []}, **fields}


def test_variant_max_seeds_and_scale_config():
    raw = _grid(
        config={"steps": 3},
        variants={
            "short": {"steps": 10},
            "long": {"steps": 100, "max_seeds": 2, "scale_config": {"smoke": {"steps": 4, "lr": 0.1}}},
        },
    )
    grid = parse_grid(raw)
    assert [c.name for c in grid.cells] == ["short-s0", "long-s0", "short-s1", "long-s1", "short-s2"]
    long = grid.cells[1]
    assert dict(long.overrides) == {"steps": 4, "lr": 0.1}  # the variant's smoke fields win at smoke
    assert dict(parse_grid(raw, scale="quick").cells[1].overrides) == {"steps": 100}
    assert grid.seeds == [0, 1, 2]  # the random-init baseline still runs every seed


@pytest.mark.parametrize(
    "variant, message",
    [
        ({"max_seeds": 0}, "`max_seeds` must be a positive whole number"),
        ({"max_seeds": "1"}, "`max_seeds` must be a positive whole number"),
        ({"max_seeds": True}, "`max_seeds` must be a positive whole number"),
        ({"scale_config": {"huge": {"steps": 1}}}, "`scale_config` must map a scale"),
        (
            {"scale_config": {"smoke": {"stepz": 1}}},
            r"scale_config.smoke: unknown TrainConfig field\(s\) \['stepz'\]",
        ),
        ({"scale_config": {"smoke": {"seed": 1}}}, r"sets \['seed'\], which the grid itself sets"),
        ({"scale_config": {"smoke": {"policy": "no_cropp"}}}, "unknown augmentation policy 'no_cropp'"),
        ({"scale_config": {"smoke": 3}}, "scale_config.smoke: expected a mapping"),
    ],
)
def test_bad_variant_max_seeds_and_scale_config_are_named(variant, message):
    with pytest.raises(ConfigError, match=message):
        parse_grid(_grid(variants={"v": variant}))


# --- make reproduce leaves notebook 06 to make study -----------------------------------------------------


def test_find_notebooks_leaves_study_only_notebooks_to_the_whole_study(tmp_path):
    for name in ("00_a", "06_budget_curve", "07_b", "helper"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    assert [p.stem for p in find_notebooks(tmp_path)] == ["00_a", "07_b"]
    assert [p.stem for p in find_notebooks(tmp_path, all_notebooks=True)] == [
        "00_a",
        "06_budget_curve",
        "07_b",
    ]
    repo = [p.stem for p in find_notebooks(NOTEBOOKS, all_notebooks=True)]
    assert set(STUDY_ONLY) <= set(repo)  # the study-only notebooks are in the repository ...
    assert not set(STUDY_ONLY) & {p.stem for p in find_notebooks(NOTEBOOKS)}  # ... and `reproduce` skips them


def test_reproduce_flag_and_make_study():
    from ssl_kit.cli import build_parser

    argv = ["reproduce", "--scale", "smoke"]
    assert build_parser(argv).parse_args(argv).all_notebooks is False
    assert build_parser(argv + ["--all-notebooks"]).parse_args(argv + ["--all-notebooks"]).all_notebooks
    makefile = (NOTEBOOKS.parent / "Makefile").read_text()
    study = makefile.split("\nstudy:")[1].split("\n\n")[0]
    reproduce = makefile.split("\nreproduce:")[1].split("\n\n")[0]
    assert "--all-notebooks" in study and "--all-notebooks" not in reproduce
    assert "$(LAUNCH)" in study and "$(LAUNCH)" in reproduce  # make study LAUNCHER=slurm LAUNCH_FLAGS=...


# --- the figures and tables, on hand-made rows -----------------------------------------------------------

METRICS = ("knn_acc", "linear_acc", "occlusion", "viewpoint", "illumination_direction", "illumination_color",
           "instance", "instance_viewpoint")  # fmt: skip
# a model's invariance score: its base, plus 2 points per doubling of the budget for mocov2 only, so
# supervised's viewpoint lead over mocov2 (42 against 36) shrinks with the budget and flips past x4
BASE = {"supervised": 42.0, "mocov2": 36.0, "no_crop": 34.0}


def _rows(models=tuple(MODELS), budgets=tuple(BUDGETS)) -> list[dict]:
    rng = np.random.default_rng(0)
    out = []

    def add(variant, method, policy, seed, metric, value):
        ks = [""] if metric in ("knn_acc", "linear_acc") else [10, 25]
        for k in ks:
            out.append(
                {
                    "sweep": "budget",
                    "cell": f"{variant}-s{seed}",
                    "variant": variant,
                    "data": "objects",
                    "method": method,
                    "policy": policy,
                    "seed": seed,
                    "status": "ok",
                    "metric": metric,
                    "K": k,
                    "value": value,
                    "error": "",
                }
            )

    for model in models:
        method, policy = MODELS[model]
        for budget in budgets:
            for seed in [0] if budget == 16 else [0, 1, 2]:
                for metric in METRICS:
                    gain = 2 * math.log2(budget) if model == "mocov2" else 0.0
                    value = BASE[model] + gain + rng.normal(0, 0.3)
                    add(
                        f"{model}_x{budget:g}",
                        method,
                        policy,
                        seed,
                        metric,
                        value / (100 if "acc" in metric else 1),
                    )
    for seed in (0, 1, 2):
        for metric in METRICS:
            add(RANDOM_INIT, RANDOM_INIT, "-", seed, metric, 30.0 / 100 if "acc" in metric else 40.0)
    out.append(
        {
            "sweep": "budget",
            "cell": "mocov2_x16-s1",
            "variant": "mocov2_x16",
            "data": "objects",
            "method": "mocov2",
            "policy": "mocov2",
            "seed": 1,
            "status": "failed",
            "metric": "",
            "K": "",
            "value": "",
            "error": "boom",
        }
    )
    return out


def test_split_variant_and_budget_label():
    assert split_variant("mocov2_x4") == ("mocov2", 4.0)
    assert split_variant("no_crop_x0.25") == ("no_crop", 0.25)
    assert split_variant("supervised_x16") == ("supervised", 16.0)
    for name in (RANDOM_INIT, "mocov2", "mocov2_xl", "_x4", "mocov2_x0", "mocov2_x-1"):
        assert split_variant(name) is None
    assert [budget_label(b) for b in (0.25, 1, 4, 16)] == ["x1/4", "x1", "x4", "x16"]


def test_budget_table_rows_per_model_and_budget():
    table = budget_table(_rows())
    assert list(table.index) == [(m, b) for m in MODELS for b in ("x1/4", "x1", "x4", "x16")] + [
        (RANDOM_INIT, "-")
    ]
    assert list(table["seeds"]) == [3, 3, 3, 1] * 3 + [3]
    assert list(table.columns[:3]) == ["seeds", "kNN accuracy", "linear probe accuracy"]
    assert (
        "±" in table.loc[("mocov2", "x1"), "Viewpoint"]
        and "±" not in table.loc[("mocov2", "x16"), "Viewpoint"]
    )
    only = budget_table(_rows(), models=["mocov2"])
    assert list(only.index) == [("mocov2", b) for b in ("x1/4", "x1", "x4", "x16")] + [(RANDOM_INIT, "-")]
    # every model above random init's 0.30 on both probes, which leaves its own cell empty
    assert (
        set(table["beats random init"]) == {"yes", ""}
        and table.loc[(RANDOM_INIT, "-"), "beats random init"] == ""
    )
    above = [
        {**r, "value": 0.35} if r["method"] == RANDOM_INIT and r["metric"].endswith("_acc") else r
        for r in _rows()
    ]
    marked = budget_table(above)["beats random init"]
    assert marked[("mocov2", "x1/4")] == "no: kNN, linear" and marked[("mocov2", "x4")] == "yes"


def test_plot_budget_curves_one_panel_per_metric_one_line_per_model():
    fig = plot_budget_curves(_rows(), title="t")
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(visible) == len(METRICS)
    for ax in visible:
        assert len(ax.lines) == len(MODELS) + 1  # a line per model and random init's
        assert ax.get_xscale() == "log"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["x1/4", "x1", "x4", "x16"]
    plt.close(fig)
    fig = plot_budget_curves(_rows(models=("mocov2",)), metrics=["occlusion", "knn_acc"])
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    plt.close(fig)


def test_findings_by_budget_checks_each_budget_and_sees_a_flip():
    rows = _rows()
    at_one = budget_rows(rows, 1.0)
    assert {r["model"] for r in at_one} == {*MODELS, RANDOM_INIT}
    assert all(r["variant"].endswith("_x1") for r in at_one if r["model"] != RANDOM_INIT)
    checks = findings_by_budget(rows)
    assert len(checks) == len(BUDGET_CHECKS) * len(BUDGETS)
    assert set(checks["finding"]) == {1, 3}
    view = checks[checks["check"] == "supervised > mocov2 on viewpoint"].set_index("budget")
    assert view.loc[0.25, "holds"] and view.loc[1, "holds"]  # 42 against 32 and 36
    assert not view.loc[16, "holds"] and view.loc[16, "difference"] < 0  # 42 against 44: flipped
    assert view.loc[16, "seeds"] == 1 and np.isnan(view.loc[16, "spread"])
    assert view.loc[1, "seeds"] == 3 and view.loc[1, "spread"] > 0
    crop = checks[checks["finding"] == 3].set_index("budget")
    assert list(crop["holds"]) == [False, True, True, True]  # 32, then 36 and up, against 34: it appears
    verdicts = verdict_table(checks)
    assert list(verdicts.columns) == ["x1/4", "x1", "x4", "x16"] and list(verdicts.index) == [1, 3]
    assert verdicts.loc[3, "x1/4"] == "reversed" and verdicts.loc[3, "x1"] == "reproduced"
    # a random init above the trained models' probes (0.35 against mocov2's 0.32, no_crop's 0.34 at x1/4)
    above = [
        {**r, "value": 0.35} if r["method"] == RANDOM_INIT and r["metric"].endswith("_acc") else r
        for r in rows
    ]
    marked = verdict_table(findings_by_budget(above))
    assert marked.loc[3, "x1/4"] == (
        "reversed (rests on networks that do not beat random init: mocov2 (kNN, linear not above random "
        "init); no_crop (kNN, linear not above random init))"
    )
    # at x4 mocov2 (0.40) is above it, no_crop (0.34) still not
    assert marked.loc[3, "x4"] == (
        "reproduced (rests on networks that do not beat random init: no_crop (kNN, linear not above random init))"
    )
    fig = plot_findings_by_budget(checks)
    assert len([ax for ax in fig.axes if ax.axison]) == len(BUDGET_CHECKS)
    plt.close(fig)


def test_findings_by_budget_leaves_out_checks_without_their_models():
    checks = findings_by_budget(_rows(models=("mocov2", "no_crop")))
    assert set(checks["finding"]) == {3} and len(checks) == len(BUDGETS)
    assert findings_by_budget(_rows(models=("mocov2",))).empty
