"""What if? A factor's level becomes the change a cell carries; the what-if sweep trains each level beside its
baseline with the same seeds, its table holds paired changes with their spread, and asking again trains nothing."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from ssl_kit.augment import parse_changes
from ssl_kit.errors import ConfigError
from ssl_kit.findings.checks import RANDOM_INIT
from ssl_kit.study import what_if_sweep as wi
from ssl_kit.study.factors import FACTORS, baseline_level, get_factor
from ssl_kit.study.grid import parse_grid
from ssl_kit.study.what_if_sweep import BASELINE, _summaries, level_label, what_if, what_if_grid
from ssl_kit.world.variation import ObjectsVariant, variant_folder


def test_augmentation_levels_change_the_baselines_policy_and_its_own_level_changes_nothing():
    jitter = get_factor("jitter_strength")
    assert jitter.cell_change(1.0, "mocov2") == {}
    off = parse_changes(jitter.cell_change(0, "mocov2")["augment"])
    assert off == {"brightness": 0.0, "contrast": 0.0, "saturation": 0.0, "hue": 0.0}
    assert parse_changes(get_factor("crop_scale").cell_change(0.8, "mocov2")["augment"]) == {
        "crop_scale": (0.8, 1.0)
    }
    assert get_factor("crop_scale").cell_change(0.2, "mocov2") == {}  # MoCo v2's own crops
    assert parse_changes(get_factor("preset").cell_change("dorsal", "mocov2")["augment"]) == {
        "crop": False,
        "flip_p": 0.0,
    }
    assert baseline_level(get_factor("crop_scale"), "mocov2") == 0.2
    assert baseline_level(get_factor("blur_p"), "supervised") == 0.0
    with pytest.raises(ConfigError, match="unknown what-if factor"):
        get_factor("rotation")


def test_world_levels_train_on_the_world_changed_in_that_property():
    assert get_factor("views").cell_change(90, "mocov2") == {"data": "objects:views=90"}
    assert get_factor("views").cell_change(360, "mocov2") == {}
    assert get_factor("markings").cell_change(False, "supervised") == {"data": "objects:markings=false"}
    world = [f for f in FACTORS.values() if f.kind == "world"]
    assert len(world) >= 5 and sum(len(f.levels) >= 3 for f in world) >= 5


def test_the_grid_holds_the_baseline_each_level_and_the_other_network():
    raw, labels = what_if_grid(get_factor("views"), [90, 360], "supervised", [0, 1], "smoke")
    grid = parse_grid(raw, "test")
    assert {c.variant for c in grid.cells} == {BASELINE, "views=90", "mocov2"}
    assert labels == {"views=90": "views=90", "views=360": BASELINE, "mocov2": "mocov2"}
    assert grid.evaluate.cosine and grid.evaluate.random_init and grid.name == "what_if-supervised-views"
    assert level_label(get_factor("markings"), False) == "markings=false"


def test_a_change_is_paired_by_seed():
    n, mean, sd, change, change_sd = _summaries({0: 50.0, 1: 44.0, 2: 47.0}, {0: 40.0, 1: 36.0, 2: 38.0})
    assert (n, mean, change) == (3, 47.0, 9.0)
    assert math.isclose(sd, 3.0) and math.isclose(change_sd, 1.0)  # differences 10, 8, 9
    assert _summaries({0: 1.0}, {})[3:] == ("", "")


@pytest.fixture(scope="module")
def asked(smoke_world, tmp_path_factory):
    """One what-if question at smoke scale (blur_p 1 for MoCo v2, two seeds): its folder and its answer."""
    out = tmp_path_factory.mktemp("what_if") / "sweeps"
    return out, what_if(
        "blur_p", [1.0], seeds=[0, 1], scale="smoke", world=smoke_world, out=out, progress=False
    )


@pytest.mark.slow
def test_a_what_if_trains_each_level_beside_its_baseline_and_answers_again_from_its_cache(
    smoke_world, asked, monkeypatch
):
    out, answer = asked
    levels = {r["level"] for r in answer.rows}
    assert levels == {BASELINE, "blur_p=1", "supervised", RANDOM_INIT}
    row = answer.row("blur_p=1", "occlusion", "top-25")
    base = answer.row(BASELINE, "occlusion", "top-25")
    assert row["seeds"] == 2 and row["role"] == "level" and base["role"] == "baseline"
    assert math.isclose(row["change"], row["mean"] - base["mean"], abs_tol=1e-9)
    assert {r["measure"] for r in answer.rows} == {"top-10", "top-25", "cosine", "accuracy"}
    assert "blur_p=1 (against blur_p=0.5)" in answer.sentence("blur_p=1", "occlusion")
    assert "What the paper predicts for blur_p" in answer.sentence("blur_p=1", "occlusion")
    assert answer.run("blur_p=1", 1).name.startswith("mocov2-s1-")
    assert len(answer.moved("blur_p=1")) == 6
    # asked again: every cell is read back, none trained
    monkeypatch.setattr("ssl_kit.study.sweep_cell.ensure_run", lambda *a, **k: pytest.fail("trained again"))
    again = what_if("blur_p", [1.0], seeds=[0, 1], scale="smoke", world=smoke_world, out=out, progress=False)
    assert again.rows == answer.rows


@pytest.mark.slow
def test_a_world_level_trains_on_its_rendered_variant(smoke_world, tmp_path):
    answer = what_if(
        "lights", [0.0], network="supervised", seeds=[0], scale="smoke", world=smoke_world,
        out=tmp_path / "sweeps", progress=False,
    )  # fmt: skip
    data = Path(yaml.safe_load((answer.run("lights=0", 0) / "config.yaml").read_text())["data"])
    image = next(data.rglob("*.JPEG")).resolve()  # the set links the images the world rendered for the level
    assert image.is_relative_to(variant_folder(smoke_world, ObjectsVariant(lights=0.0)))
    assert answer.row("lights=0", "knn_acc", "accuracy")["seeds"] == 1
    assert "1 seed: a direction" in answer.sentence("lights=0", "viewpoint")
    assert wi.NETWORKS["supervised"]["policy"] == "supervised"


@pytest.mark.slow
def test_the_command_prints_the_table_and_writes_the_csv(smoke_world, asked, tmp_path, capsys):
    from ssl_kit.cli import main
    from ssl_kit.common.tidy import read_rows

    csv = (
        tmp_path / "what_if.csv"
    )  # the fixture's question asked again from the command line: read from cache
    argv = ["what-if", "--factor", "blur_p", "--levels", "1", "--seeds", "0", "1", "--world", str(smoke_world),
            "--scale", "smoke", "--out", str(asked[0]), "--csv", str(csv), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "blur_p=1" in out and "baseline" in out and "What the paper predicts for blur_p" in out
    rows = read_rows(csv)
    assert {r["level"] for r in rows} >= {"baseline", "blur_p=1"}
