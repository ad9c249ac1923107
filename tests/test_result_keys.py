"""What a cached result is keyed by (`ssl_kit.common.keys`, `ssl_kit.data.identity`, `ssl_kit.runs.run_keys.run_key`):
the same data and config give the same key wherever they lie; another world, scale or setting another key; and a
run folder trained on other data is never reused. Records name their study, and a summary renders only its own."""

from __future__ import annotations

import json
import shutil

import pytest

from ssl_kit.common.keys import RESULT_FORMAT, digest, result_key
from ssl_kit.data.identity import data_identity, index_fingerprint
from ssl_kit.errors import ConfigError
from ssl_kit.runs.config import TrainConfig
from ssl_kit.runs.run_keys import keyed_out, run_key
from ssl_kit.study.summary import NotebookRun, write_summary
from ssl_kit.training.reuse import ensure_run
from ssl_kit.world.build import build_set


def test_a_digest_is_canonical_and_the_format_is_in_every_result_key():
    assert digest({"a": 1, "b": [2, 3]}) == digest({"b": [2, 3], "a": 1}) != digest({"a": 1, "b": [3, 2]})
    assert len(digest({})) == 12 and result_key(x=1) == digest({"format": RESULT_FORMAT, "x": 1})


def test_a_world_set_is_its_config_hash_and_a_folder_its_files(smoke_world, tmp_path):
    objects = smoke_world / "objects" / "train"
    assert data_identity(objects) == data_identity(objects)  # stable
    assert data_identity(objects) != data_identity(smoke_world / "objects" / "val")  # the sub-folder counts
    other = tmp_path / "other"
    build_set("objects", other, "smoke", seed=1, progress=False)
    assert data_identity(other / "objects" / "train") != data_identity(objects)  # another seed, other data
    copy = tmp_path / "copy"
    shutil.copytree(objects, copy / "train")  # no manifest: a plain folder, by its index
    moved = tmp_path / "moved"
    shutil.copytree(copy, moved)
    assert data_identity(copy / "train") == data_identity(moved / "train")  # the same files elsewhere
    before = index_fingerprint(copy)
    next((copy / "train").iterdir()).joinpath("extra.png").write_bytes(b"x")
    assert index_fingerprint(copy) != before and data_identity(copy / "train") != data_identity(
        moved / "train"
    )


def test_a_run_key_is_the_training_not_where_it_is_written(smoke_world, tmp_path):
    cfg = TrainConfig(method="mocov2", scale="smoke", data=str(smoke_world / "objects/train"), out="a")
    same = TrainConfig(
        method="mocov2", scale="smoke", data=str(smoke_world / "objects/train"), out="b", device="cpu"
    )
    assert run_key(cfg) == run_key(same)
    assert run_key(cfg) != run_key(TrainConfig(**{**cfg.__dict__, "scale": "quick"}))
    assert run_key(cfg) != run_key(TrainConfig(**{**cfg.__dict__, "seed": 1}))
    assert run_key(cfg) != run_key(TrainConfig(**{**cfg.__dict__, "data": str(smoke_world / "objects/val")}))
    out = keyed_out(tmp_path / "runs", "moco", cfg).out
    assert out == str(tmp_path / "runs" / f"moco-{run_key(cfg)}")


# run keys of configs on a world set (its identity is its manifest's hash, wherever it lies): kept reference runs
# and sweeps are found by their key, so a change to how a config is keyed must not change these
KEPT_KEYS = {
    "mocov2": ({}, "08e99ab5dba1"),
    "simclr": ({"method": "simclr"}, "8ec9a4d78966"),
    "pirl": ({"method": "pirl"}, "f52a1cb786e1"),
    "supervised": ({"method": "supervised"}, "7128042e87ff"),
    "fti": ({"method": "fti"}, "39461a11c49c"),
    "region_tracker": ({"method": "region_tracker"}, "b503300da37d"),
    "smoke": ({"scale": "smoke"}, "2514a216a6a3"),
    "paper": ({"scale": "paper"}, "33851ea231b2"),
    "learned stem": ({"whiten_stem": False}, "1d0a26937a61"),
    "fields keyed when set": ({"progressive_from": 16, "bn_lr_scale": 2.0, "eval_encoder": "key"}, "e873ecaa520e"),
    "monitors' data": ({"knn_data": "objects/val", "invariance_data": ".", "invariance_every": 5}, "84174ee7fe53"),
    "not keyed": ({"out": "elsewhere", "device": "cpu", "region_cache": "cache", "max_steps": 3}, "0beebd895661"),
}  # fmt: skip


@pytest.mark.parametrize("case", KEPT_KEYS)
def test_run_keys_stay_those_of_the_kept_runs(case, tmp_path):
    world = tmp_path / "world"
    world.mkdir()
    (world / "manifest.json").write_text(json.dumps({"config_hash": "pinned"}))
    fields, key = KEPT_KEYS[case]
    folders = {k: str(world / v) for k, v in fields.items() if k in ("knn_data", "invariance_data")}
    cfg = TrainConfig(**{"method": "mocov2", "data": str(world / "objects/train"), **fields, **folders})
    assert run_key(cfg) == key


def test_a_run_folder_trained_on_other_data_is_refused(smoke_world, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(smoke_world / "objects" / "train", data)
    cfg = TrainConfig(
        method="supervised",
        scale="smoke",
        data=str(data),
        out=str(tmp_path / "run"),
        max_steps=1,
        batch_size=8,
    )
    run = ensure_run(cfg, progress=False)
    assert ensure_run(cfg, progress=False) == run  # the same data: reused
    next(data.iterdir()).joinpath("more.png").write_bytes(
        (smoke_world / "objects/manifest.json").read_bytes()
    )
    with pytest.raises(ConfigError, match="holds a run trained on data of identity .* it is not this run"):
        ensure_run(cfg, progress=False)


def test_a_summary_renders_only_the_records_of_its_study(tmp_path):
    study = {"scale": "smoke", "seed": 0, "data": "world", "data_identity": "aaa", "format": RESULT_FORMAT}
    other = {**study, "scale": "quick", "data_identity": "bbb"}
    (tmp_path / "01_a.json").write_text(json.dumps({"provenance": study, "knn": 0.5}))
    (tmp_path / "02_b.json").write_text(json.dumps({"provenance": other, "knn": 0.9}))
    (tmp_path / "03_c.json").write_text(json.dumps({"knn": 0.7}))  # written before records named their study
    runs = [NotebookRun(n, "ok", 1.0) for n in ("01_a", "02_b", "03_c")]
    text = write_summary(tmp_path / "summary.md", "smoke", runs, {}, study).read_text()
    assert "- **study**: smoke scale, seed 0, world aaa" in text and "**knn**: 0.5" in text
    assert "0.9" not in text and "0.7" not in text
    assert "`02_b.json`: measured on quick scale, seed 0, world bbb" in text
    assert "`03_c.json`: measured on an unrecorded study" in text
