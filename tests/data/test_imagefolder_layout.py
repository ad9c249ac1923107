"""An image folder is read as torchvision's `ImageFolder` reads it: images in sub-folders of a class belong to
it, in the same order; a link whose target is gone fails like any unreadable image."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torchvision
from PIL import Image

from ssl_kit.data.imagefolder import IMAGE_EXTENSIONS, read_imagefolder
from ssl_kit.data.memory import load_labelled_folder
from ssl_kit.errors import CorruptImageError

FILES = [
    "cat/1.jpg",
    "cat/z.jpg",
    "cat/sub/2.jpg",
    "cat/sub/deeper/3.png",
    "cat/sub2/4.JPEG",
    "cat-b/5.jpg",
    "dog/x/6.jpg",
    "dog/notes.txt",
]


def _folder(root: Path) -> Path:
    for rel in FILES:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".txt"):
            path.write_text("not an image")
        else:
            Image.new("RGB", (6, 5), (len(rel) * 9 % 256, 40, 90)).save(
                path, format="PNG" if rel.endswith("png") else "JPEG"
            )
    return root


def test_nested_class_folders_follow_torchvision(tmp_path):
    root = _folder(tmp_path)
    index = read_imagefolder(root)
    ours = [
        (str(p.relative_to(root)), int(label)) for p, label in zip(index.paths, index.labels, strict=True)
    ]
    theirs = torchvision.datasets.ImageFolder(
        str(root), is_valid_file=lambda p: Path(p).suffix.lower() in IMAGE_EXTENSIONS
    )
    assert ours == [(str(Path(p).relative_to(root)), label) for p, label in theirs.samples]
    assert index.classes == theirs.classes == ["cat", "cat-b", "dog"]
    assert len(ours) == 7  # the images of sub-folders are kept, not silently dropped
    packed = read_imagefolder(root, packed=True)
    assert [str(p) for p in packed.paths] == [str(p) for p in index.paths]


def test_a_hidden_sub_folder_is_skipped_like_a_hidden_file(tmp_path):
    root = _folder(tmp_path)
    hidden = root / "cat" / ".thumbnails" / "7.jpg"
    hidden.parent.mkdir()
    Image.new("RGB", (4, 4)).save(hidden)
    assert hidden not in read_imagefolder(root).paths


def test_a_dangling_link_is_unreadable_like_any_corrupt_file(tmp_path):
    root = _folder(tmp_path)
    link = root / "cat" / "gone.jpg"
    os.symlink(tmp_path / "nowhere.jpg", link)
    assert link in read_imagefolder(root).paths  # listed, not silently skipped
    with pytest.raises(CorruptImageError, match=f"{link}: is a link to .*nowhere.jpg, which does not exist"):
        load_labelled_folder(root, 8)
    with pytest.warns(UserWarning, match="skipped 1 corrupt image file"):
        images, labels, _ = load_labelled_folder(root, 8, skip_corrupt=True)
    assert len(images) == 7
