"""Data is known by what is on disk: an image of a world set replaced by hand makes other data (the same
sweep then trains and scores anew), the same files copied with their times are the same data, the world command
says a set changed since it was built, and a protocol's cached features are keyed by its files too."""

from __future__ import annotations

import os
import shutil

import pytest

from ssl_kit.data.identity import data_identity, index_fingerprint
from ssl_kit.invariance.protocols import build_protocol, protocol_root
from ssl_kit.world.build import build_world


@pytest.fixture()
def world(smoke_world, tmp_path):
    copy = tmp_path / "world"
    shutil.copytree(smoke_world, copy)  # copy2: sizes and times kept
    return copy


def _replace_one_image(folder):
    image = next(p for p in sorted(folder.rglob("*")) if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    data = image.read_bytes()
    image.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # the same size, other bytes, a new time
    st = image.stat()
    os.utime(image, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    return image


def test_an_edited_world_set_is_other_data_and_a_copy_is_the_same(smoke_world, world):
    train = world / "objects" / "train"
    assert data_identity(train) == data_identity(smoke_world / "objects" / "train")  # copied with its times
    before = data_identity(train)
    _replace_one_image(train)
    assert data_identity(train) != before
    with pytest.warns(UserWarning, match="its files changed since it was built"):
        build_world(world, preset="smoke", seed=0, sets=["objects"], progress=False)


def test_a_protocols_fingerprint_follows_its_files(world):
    protocol = build_protocol("viewpoint", protocol_root("viewpoint", world))
    before = protocol.fingerprint()
    _replace_one_image(protocol_root("viewpoint", world))
    assert build_protocol("viewpoint", protocol_root("viewpoint", world)).fingerprint() != before


def test_the_index_fingerprint_skips_hidden_entries_and_named_top_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(b"12")
    base = index_fingerprint(tmp_path)
    (tmp_path / ".lock").write_text("{}")
    (tmp_path / "manifest.json").write_text("{}")
    assert index_fingerprint(tmp_path, frozenset({"manifest.json"})) == base
    assert index_fingerprint(tmp_path) != base
