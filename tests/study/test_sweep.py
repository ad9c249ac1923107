"""The sweep runner: grids are checked before anything runs, cells are named and crossed as written, a sweep
resumes (finished cells are not redone), a failed cell is recorded and the others still run."""

from __future__ import annotations

import json

import pytest

from ssl_kit.common.tidy import read_rows
from ssl_kit.errors import ConfigError
from ssl_kit.runs.config import resolve
from ssl_kit.study.grid import GRIDS, cell_config, load_grid, parse_grid
from ssl_kit.study.sweep import RANDOM_INIT, cell_runs, run_sweep


def _grid(**fields) -> dict:
    return {"name": "g", "scale": "smoke", "seeds": [0], "evaluate": {"protocols": []}, **fields}


def test_cells_cross_the_axes_seed_major():
    grid = parse_grid(_grid(policy=["mocov2", "no_crop"], data=["objects", "scenes"], seeds=[0, 1]))
    assert len(grid.cells) == 8
    assert [c.name for c in grid.cells[:4]] == [
        "objects-mocov2-s0",
        "objects-no_crop-s0",
        "scenes-mocov2-s0",
        "scenes-no_crop-s0",
    ]
    assert {c.seed for c in grid.cells[4:]} == {1}


def test_variants_override_and_name_cells():
    grid = parse_grid(
        _grid(
            data="videos", variants={"base": {"method": "mocov2"}, "long": {"method": "fti", "delta_min": 8}}
        )
    )
    base, long = grid.cells
    assert (base.name, base.method, base.overrides) == ("base-s0", "mocov2", ())
    assert (long.name, long.method, dict(long.overrides)) == ("long-s0", "fti", {"delta_min": 8})


def test_scale_config_applies_at_its_scale_only():
    raw = _grid(config={"epochs": 3}, scale_config={"quick": {"steps": 600}, "smoke": {"steps": 2}})
    assert parse_grid(raw).config == {"epochs": 3, "steps": 2}
    assert parse_grid(raw, scale="quick").config == {"epochs": 3, "steps": 600}


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"policy": ["mocov2", "no_cropp"]}, "policy entry: unknown augmentation policy 'no_cropp'"),
        ({"method": ["mocov3"]}, "method entry: unknown method 'mocov3'"),
        (
            {"config": {"lr": 0.1, "learning_rate": 1}},
            r"config: unknown TrainConfig field\(s\) \['learning_rate'\]",
        ),
        ({"config": {"policy": "mocov2"}}, "give them as grid axes"),
        ({"variants": {"v": {"delta": 3}}}, "variant 'v': unknown TrainConfig field"),
        ({"evaluate": {"protocols": ["viewpont"]}}, "unknown protocol 'viewpont'"),
        ({"seedz": [1]}, r"unknown field\(s\) \['seedz'\]"),
        ({"scale": "huge"}, "unknown scale 'huge'"),
    ],
)
def test_bad_grid_entries_are_named(fields, message):
    with pytest.raises(ConfigError, match=message):
        parse_grid(_grid(**fields))


def test_study_grids_load_by_name():
    grid = load_grid("video_analysis", scale="smoke", seeds=[3])
    assert grid.name == "video_analysis" and {c.seed for c in grid.cells} == {3}
    assert grid.config["steps"] == 2
    with pytest.raises(ConfigError, match="no such file"):
        load_grid("no_such_grid")


@pytest.mark.parametrize("name", sorted(p.stem for p in GRIDS.glob("*.yaml")))
@pytest.mark.parametrize("scale", ["smoke", "quick", "paper"])
def test_every_study_grid_resolves_at_every_scale(name, scale):
    """Each cell of each of the study's grids is a config the trainer accepts (no field or value errors)."""
    grid = load_grid(name, scale=scale)
    assert grid.cells
    for cell in grid.cells:
        cfg = resolve(cell_config(grid, cell, "data", "out", "cache"))
        assert cfg.scale == scale and cfg.method == cell.method


def test_unknown_training_set_fails_before_anything_runs(smoke_world, tmp_path):
    grid = parse_grid(_grid(data=["objects", "objectz"]))
    with pytest.raises(ConfigError, match="objectz"):
        run_sweep(grid, tmp_path / "sweeps", smoke_world, progress=False)
    assert not (tmp_path / "sweeps").exists()
    video_on_images = parse_grid(_grid(method=["fti"]))
    with pytest.raises(ConfigError, match="fti trains on videos"):
        run_sweep(video_on_images, tmp_path / "sweeps", smoke_world, progress=False)


@pytest.mark.slow
def test_sweep_runs_records_failures_and_resumes(smoke_world, tmp_path, monkeypatch):
    raw = _grid(
        policy=["mocov2", "no_crop"],
        config={"steps": 1, "batch_size": 8, "queue_size": 16},
        variants={"ok": {}, "too_big": {"batch_size": 4096}},
        evaluate={"protocols": ["viewpoint"], "top_k": [10], "linear": False},
    )
    out = tmp_path / "sweeps"
    result = run_sweep(parse_grid(raw), out, smoke_world, progress=False)
    assert set(result.failed) == {"too_big-mocov2-s0", "too_big-no_crop-s0"}
    assert "larger than the dataset" in result.failed["too_big-mocov2-s0"]
    rows = read_rows(result.csv)
    ok = [r for r in rows if r["status"] == "ok"]
    assert {(r["cell"], r["metric"], r["K"]) for r in ok} == {
        (c, m, k)
        for c in ("ok-mocov2-s0", "ok-no_crop-s0", "random_init-s0")
        for m, k in (("knn_acc", None), ("viewpoint", 10))
    }
    assert all(0 <= r["value"] <= 1 for r in ok if r["metric"] == "knn_acc")
    assert [r["method"] for r in ok if r["cell"] == "random_init-s0"][0] == RANDOM_INIT
    run = cell_runs(parse_grid(raw), out, smoke_world)[
        "ok-no_crop-s0"
    ]  # <out>/runs/<method>-s<seed>-<run key>
    assert run.parent == out / "runs" and run.name.startswith("mocov2-s0-")
    assert (run / "checkpoint.pt").is_file() and result.run("ok-no_crop-s0") == run
    (failed,) = (out / "g" / "cells").glob("too_big-mocov2-s0-*.json")  # cells/<cell>-<result key>.json
    assert json.loads(failed.read_text())["status"] == "failed"
    with pytest.raises(ConfigError, match="too_big-mocov2-s0.*larger than the dataset"):
        result.run("too_big-mocov2-s0")

    # a rerun skips the finished cells and retries only the failed ones
    calls = []
    import ssl_kit.study.sweep_cell as sweep_cell

    real = sweep_cell._run_cell
    monkeypatch.setattr(sweep_cell, "_run_cell", lambda ctx, cell: calls.append(cell.name) or real(ctx, cell))
    again = run_sweep(parse_grid(raw), out, smoke_world, progress=False)
    assert sorted(calls) == ["too_big-mocov2-s0", "too_big-no_crop-s0"]
    assert [r for r in read_rows(again.csv) if r["status"] == "ok"] == ok


def test_study_names_read_real_datasets_in_a_real_data_folder(smoke_real_data, tmp_path):
    """Given a real-data folder instead of the world, `objects`, `scenes`, `scene_crops` and `videos` are
    ImageNet-100, COCO 2017 and TrackingNet there, and downstream `objects` is ImageNet-100's train/val."""
    from pathlib import Path

    from ssl_kit.study.data_entry import parse_entry
    from ssl_kit.study.sweep_context import SweepContext

    grid = parse_grid(_grid(data=["objects", "scenes", "scene_crops"], evaluate={"protocols": ["viewpoint"]}))
    ctx = SweepContext(grid, tmp_path, smoke_real_data)
    ctx.check()
    assert ctx.downstream() == (smoke_real_data / "imagenet100/train", smoke_real_data / "imagenet100/val")
    assert ctx.protocols()["viewpoint"].root == smoke_real_data / "aloi/aloi_red2_view"
    folders = {name: Path(ctx.data(name)) for name in ("objects", "scenes", "scene_crops")}
    assert all((f / ".done").is_file() for f in folders.values())
    assert parse_entry("objects", smoke_real_data).root == str(smoke_real_data / "imagenet100/train")
    crops = parse_entry("scene_crops", smoke_real_data)
    assert (crops.kind, crops.root, crops.split) == ("coco_crops", str(smoke_real_data / "coco"), "train2017")
    assert parse_entry("videos", smoke_real_data) == smoke_real_data / "trackingnet"


@pytest.mark.slow
def test_study_mocov2_is_the_augmentation_sweeps_crop_cell_trained_once(smoke_world, tmp_path, monkeypatch):
    import ssl_kit.study.sweep as sweep
    import ssl_kit.study.sweep_cell as sweep_cell

    calls = []
    real = sweep_cell._run_cell
    monkeypatch.setattr(sweep_cell, "_run_cell", lambda ctx, cell: calls.append(cell.name) or real(ctx, cell))
    run = sweep.study_mocov2(tmp_path, smoke_world, "smoke", seed=0, progress=False)
    assert run.parent == tmp_path / "sweeps" / "runs"
    assert run.name.startswith("mocov2-s0-") and calls == ["crop_0.8-s0"]
    assert sweep.study_mocov2(tmp_path, smoke_world, "smoke", seed=0, progress=False) == run
    assert calls == ["crop_0.8-s0"]  # the second reader finds it done
    grid = load_grid("augmentation_ablations", scale="smoke", seeds=[0])
    cell = next(c for c in grid.cells if c.policy == "crop_0.8")
    assert cell.name == "crop_0.8-s0" and cell.method == "mocov2"


@pytest.mark.slow
def test_random_init_of_a_whitened_grid_has_the_whitened_stem(smoke_world, tmp_path):
    """The random-init twin of networks trained with a whitened stem is untrained but for that stem: its own
    result key and feature-cache key, and other scores than the plain random init's."""
    common = dict(
        config={"steps": 1, "batch_size": 8, "queue_size": 16}, evaluate={"protocols": [], "linear": False}
    )
    plain = run_sweep(parse_grid(_grid(name="plain", **common)), tmp_path / "s", smoke_world, progress=False)
    whitened_grid = _grid(name="white", **{**common, "config": {**common["config"], "whiten_stem": True}})
    white = run_sweep(parse_grid(whitened_grid), tmp_path / "s", smoke_world, progress=False)

    def knn(result):
        return {r["cell"]: r["value"] for r in read_rows(result.csv) if r["metric"] == "knn_acc"}

    assert knn(plain)["random_init-s0"] != knn(white)["random_init-s0"]
    (cell,) = (tmp_path / "s" / "white" / "cells").glob("random_init-s0-*.json")
    (plain_cell,) = (tmp_path / "s" / "plain" / "cells").glob("random_init-s0-*.json")
    assert cell.name != plain_cell.name


@pytest.mark.slow
def test_two_grids_share_a_training_and_its_scores(smoke_world, tmp_path, monkeypatch):
    """A cell of another grid that trains the same config on the same data, scored the same way, is trained and
    scored once: the second grid reads the first's run folder and result, under its own labels."""
    import ssl_kit.study.sweep_cell as sweep_cell

    calls = []
    real = sweep_cell._run_cell
    monkeypatch.setattr(sweep_cell, "_run_cell", lambda ctx, cell: calls.append(cell.name) or real(ctx, cell))
    evaluate = {"protocols": ["viewpoint"], "top_k": [10], "linear": False, "random_init": False}
    first = parse_grid(_grid(name="first", policy=["no_crop"], evaluate=evaluate))
    second = parse_grid(_grid(name="second", variants={"plain": {"policy": "no_crop"}, "crop": {"policy": "crop_0.8"}},
                              evaluate=evaluate))  # fmt: skip
    a = run_sweep(first, tmp_path, smoke_world, progress=False)
    b = run_sweep(second, tmp_path, smoke_world, progress=False)
    assert calls == ["mocov2-s0", "crop-s0"]  # the second grid's "plain" cell is the first's only cell
    assert b.run("plain-s0") == a.run("mocov2-s0")
    scores = {(r["metric"], r["K"]): r["value"] for r in a.rows}
    assert {(r["metric"], r["K"]): r["value"] for r in b.rows if r["cell"] == "plain-s0"} == scores
    assert {r["variant"] for r in read_rows(b.csv)} == {"plain", "crop"}  # under the second grid's labels
