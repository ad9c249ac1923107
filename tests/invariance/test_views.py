"""Invariance by layer, both measures side by side, and the curves of the invariance monitor."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from ssl_kit.invariance.protocols import build_protocol, protocol_root  # noqa: E402
from ssl_kit.invariance.scoring import BY_LAYER, layer_table, load_model, measure_table  # noqa: E402
from ssl_kit.viz.invariance import both_measures, plot_invariances, plot_layer_scores  # noqa: E402
from ssl_kit.viz.invariance_curves import curves_table, plot_invariance_curves, watched_rows  # noqa: E402


def test_layer_table_at_pool5_is_the_measure(smoke_world, smoke_run):
    model = load_model(smoke_run, name="m")
    protocol = build_protocol("viewpoint", protocol_root("viewpoint", smoke_world))
    rows = layer_table([model], [protocol])
    assert [r["layer"] for r in rows] == list(BY_LAYER)
    pool5 = next(r for r in rows if r["layer"] == "avgpool")
    direct = next(r for r in measure_table([model], [protocol], top_k=(25,)) if r["K"] == 25)
    assert pool5["value"] == pytest.approx(direct["value"], abs=1e-9)
    # layer4 average-pooled is pool5 itself, so the list stops at layer3 then pool5
    layer4 = layer_table([model], [protocol], layers=("layer4",))[0]
    assert layer4["value"] == pytest.approx(pool5["value"], abs=1e-6)
    fig = plot_layer_scores(rows)
    assert len([ax for ax in fig.axes if ax.lines]) == 1 and len(fig.axes[0].lines[0].get_xdata()) == 4


def test_both_measures_says_where_the_model_order_agrees():
    rows = [
        {"model": m, "metric": inv, "K": 25, "value": s}
        for inv, scores in {"occlusion": (50, 40), "viewpoint": (20, 30)}.items()
        for m, s in zip(("a", "b"), scores, strict=True)
    ]
    cosine = [
        {"model": m, "metric": inv, "K": None, "value": s}
        for inv, scores in {"occlusion": (0.5, 0.2), "viewpoint": (0.4, 0.1)}.items()
        for m, s in zip(("a", "b"), scores, strict=True)
    ]
    table = both_measures(rows, cosine, K=25, models=["a", "b"])
    agree = table[("agree", "same order of models")]
    assert agree["Occlusion"] and not agree["Viewpoint"]  # a > b on both; on viewpoint the measures disagree
    assert table.loc["Viewpoint", ("firing rate, top-25", "b")] == 30


def test_curves_from_metrics(tmp_path):
    runs = {}
    for name, slope in (("up", 1.0), ("flat", 0.0)):
        run = tmp_path / name
        run.mkdir()
        lines = [{"step": s, "loss": 5 - s / 10} for s in range(0, 21, 5)]
        lines += [
            {
                "step": s,
                "epoch": s / 10,
                "inv_occlusion": 40 + slope * s,
                "inv_viewpoint": 30.0,
                "cos_occlusion": 0.1,
            }
            for s in (0, 10, 20)
        ]
        (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
        runs[name] = run
    df = watched_rows(runs)
    assert len(df) == 2 * 3 * 2 and set(df["metric"]) == {"occlusion", "viewpoint"}
    table = curves_table(runs)
    assert table.loc[("up", 20), "Occlusion"] == 60 and table.loc[("flat", 20), "Occlusion"] == 40
    assert list(table.loc["up"].index) == [0, 10, 20]
    fig = plot_invariance_curves(runs)
    assert [ax.get_title() for ax in fig.axes if ax.lines][:2] == ["Occlusion", "Viewpoint"]
    with pytest.raises(ValueError, match="invariance-every"):
        watched_rows(runs, measure="nothing")


def test_table_1_is_the_mean_over_seeds():
    from ssl_kit.viz.invariance import invariance_table

    rows = [
        {"model": m, "seed": seed, "metric": "occlusion", "K": 25, "value": v}
        for m, values in {"a": (40.0, 44.0), "b": (30.0, 30.0)}.items()
        for seed, v in enumerate(values)
    ]
    table = invariance_table(rows, models=["a", "b"])
    assert table.loc["Occlusion", (25, "a")] == 42.0 and table.loc["Occlusion", (25, "b")] == 30.0
    fig = plot_invariances(rows, models=["a", "b"])
    assert len(fig.axes[0].lines) == 2  # a bar of ± one standard deviation per model
