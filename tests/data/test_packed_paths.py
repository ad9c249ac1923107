"""Packed paths give back the paths they were made from, and an ImageFolder read packed is the one read as a
list: same paths, same labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.data.packed_paths import PackedPaths


def test_pack_round_trip(tmp_path):
    paths = [tmp_path / "a" / "x.jpg", tmp_path / "b" / "é ü.JPEG", tmp_path / "b" / "long_name_" / "z.png"]
    packed = PackedPaths.pack(tmp_path, paths)
    assert len(packed) == 3 and list(packed) == paths
    assert [packed[i] for i in range(3)] == paths and packed[-1] == paths[-1]
    assert list(packed[1:]) == paths[1:]
    assert packed.nbytes == 3 * max(len(str(p.relative_to(tmp_path)).encode()) for p in paths)
    both = PackedPaths.concat(tmp_path, [packed[:1], packed[1:]])
    assert list(both) == paths
    assert len(PackedPaths.pack(tmp_path, [])) == 0
    with pytest.raises(ValueError):
        PackedPaths.pack(tmp_path / "a", paths)  # not under the root
    with pytest.raises(ValueError):
        PackedPaths(tmp_path, np.array([1, 2]))


def test_packed_imagefolder_is_the_listed_one(tmp_path):
    for cls, n in (("cat", 3), ("dog", 1), ("emu", 2)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            Image.new("RGB", (4, 4)).save(tmp_path / cls / f"{i}.png")
    listed, packed = read_imagefolder(tmp_path), read_imagefolder(tmp_path, packed=True)
    assert isinstance(packed.paths, PackedPaths) and isinstance(listed.paths, list)
    assert list(packed.paths) == listed.paths and len(packed) == 6
    np.testing.assert_array_equal(packed.labels, listed.labels)
    np.testing.assert_array_equal(listed.labels, [0, 0, 0, 1, 2, 2])
    assert all(isinstance(p, Path) and p.is_file() for p in packed.paths)
