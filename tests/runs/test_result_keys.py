"""What a cached result is keyed by (`ssl_kit.common.keys`, `ssl_kit.data.identity`, `ssl_kit.runs.run_keys.run_key`):
the same data and config give the same key wherever they lie; another world, scale or setting another key; and a
run folder trained on other data is never reused. Records name their study, and a summary renders only its own."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from ssl_kit.common.keys import RESULT_FORMAT, cache_key, content_hash, digest, result_key
from ssl_kit.data.identity import data_identity, index_fingerprint
from ssl_kit.errors import ConfigError
from ssl_kit.runs.config import TrainConfig
from ssl_kit.runs.run_keys import keyed_out, run_key
from ssl_kit.study.summary import NotebookRun, write_summary
from ssl_kit.training.reuse import ensure_run
from ssl_kit.world.build import build_set, config_hash
from ssl_kit.world.presets import get_preset


def test_a_digest_is_canonical_and_the_format_is_in_every_result_key():
    assert digest({"a": 1, "b": [2, 3]}) == digest({"b": [2, 3], "a": 1}) != digest({"a": 1, "b": [3, 2]})
    assert len(digest({})) == 12 and result_key(x=1) == digest({"format": RESULT_FORMAT, "x": 1})


def test_a_cache_key_is_every_field_and_the_version_in_any_order(tmp_path):
    key = cache_key("features", version=1, model="m", layer="avgpool", size=32)
    assert key == "2803905ec887"  # known answer: caches written with it are found again
    assert key == cache_key("features", size=32, layer="avgpool", version=1, model="m")  # the order is free
    for other in (
        cache_key("features", version=2, model="m", layer="avgpool", size=32),  # another version of the cache
        cache_key("regions", version=1, model="m", layer="avgpool", size=32),  # another cache
        cache_key("features", version=1, model="m", layer="avgpool", size=48),  # any field changed
        cache_key("features", version=1, model="m2", layer="avgpool", size=32),
        cache_key("features", version=1, model="m", layer="avgpool"),  # a field less
        cache_key("features", version=1, model="m", layer="avgpool", size=32, mean=0),  # a field more
    ):
        assert other != key and len(other) == len(key) == 12
    # content, streamed: text, bytes, a file, an array and a tensor of the same bytes hash the same
    abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # SHA-256("abc")
    (tmp_path / "f").write_bytes(b"abc")
    parts = (
        "abc",
        b"abc",
        tmp_path / "f",
        np.frombuffer(b"abc", np.uint8),
        torch.tensor([97, 98, 99]).byte(),
    )
    assert {content_hash(p, chars=64) for p in parts} == {content_hash("a", "bc", chars=64)} == {abc}
    assert content_hash(np.array([1, 2], np.int32)) != content_hash(np.array([1, 3], np.int32))


def test_digests_that_name_runs_and_worlds_keep_their_values():
    """Known answers: run folders, kept results and built worlds are found by these values, so they never change."""
    assert digest({"a": 1, "b": [2, 3]}) == "efbd0040190f"
    assert result_key(config={"method": "mocov2"}) == "d427c4b62799"
    assert config_hash("objects", get_preset("smoke"), 0) == "38cbfe7384ef3a89"


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
    "simclr": ({"method": "simclr"}, "0dc2e4ca84bd"),   # draws 2: both views in one call (8ec9a4d78966 before)
    "pirl": ({"method": "pirl"}, "eacfc1114495"),     # draws 2 (f52a1cb786e1 before)
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


def test_a_methods_draws_version_keys_its_runs_anew(smoke_world, monkeypatch):
    """Raising `MethodSpec.draws` (what a method's steps draw changed) gives its runs new keys; a method at
    version 1 keeps the key it had before the version existed."""
    import dataclasses

    from ssl_kit.common.keys import result_key
    from ssl_kit.methods import registry

    cfg = TrainConfig(method="mocov2", scale="smoke", data=str(smoke_world / "objects" / "train"))
    before = run_key(cfg)
    spec = registry.REGISTRY["mocov2"]
    assert spec.draws == 1 and registry.REGISTRY["simclr"].draws == registry.REGISTRY["pirl"].draws == 2
    monkeypatch.setitem(registry.REGISTRY, "mocov2", dataclasses.replace(spec, draws=2))
    assert run_key(cfg) != before and before != result_key(config={}) and len(before) == len(run_key(cfg))
