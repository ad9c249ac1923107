"""ImageFolder layout: one sub-folder per class.

    root/
        <class_a>/<file>.jpg
        <class_a>/<file>.png
        <class_b>/...

Image extensions: .jpg .jpeg .png .bmp .webp (any letter case, e.g. ImageNet's .JPEG). Classes are the
sub-folder names sorted as strings (label = position in that list); a class's images are those of its folder
and of its sub-folders, in torchvision's `ImageFolder` order. Hidden entries (starting with "."), files
directly in `root` (e.g. manifest.json) and non-image files inside class folders are ignored; a link whose
target is gone is kept, and fails when read like any unreadable image. Used for the world's `objects/train`,
`objects/val` and ImageNet `train/`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_kit.data.manifest import check_complete
from ssl_kit.data.packed_paths import PackedPaths
from ssl_kit.errors import DataError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


@dataclass
class ImageFolderIndex:
    """The files of an ImageFolder tree, in a deterministic order."""

    root: Path
    classes: list[str]
    paths: Sequence[Path]  # a list, or `PackedPaths` (read_imagefolder(packed=True))
    labels: np.ndarray  # (N,) int64, index into `classes`

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}


def is_image_file(path: Path) -> bool:
    """Whether `path` has an image extension and is not hidden."""
    return _is_image_name(path.name)


def _is_image_name(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _class_images(root: Path, name: str) -> list[str]:
    """The image files of class folder `root/name` and of its sub-folders, relative to `root`, in torchvision's
    `ImageFolder` order (folders as `os.walk` visits them, following links, sorted by path; files sorted by name
    in each). A link whose target is gone is listed like any file: reading it fails as an unreadable image does.
    Text, not `Path`s: an index of a million files is built without a million objects."""
    files: list[str] = []
    top = os.path.join(root, name)
    for folder, _, names in sorted(os.walk(top, followlinks=True)):
        inner = os.path.relpath(folder, top)
        if inner != "." and any(part.startswith(".") for part in inner.split(os.sep)):
            continue  # a hidden folder, skipped like a hidden file
        prefix = name if inner == "." else os.path.join(name, inner)
        files += [os.path.join(prefix, n) for n in sorted(names) if _is_image_name(n)]
    if not files:
        raise DataError(
            root / name,
            "class folder holds no image files",
            f"at least one file with extension {', '.join(sorted(IMAGE_EXTENSIONS))}",
        )
    return files


def read_imagefolder(root: str | Path, packed: bool = False) -> ImageFolderIndex:
    """Index an ImageFolder tree `root/<class>/<image>` (see the module docstring for the rules). `packed`: the
    paths as `PackedPaths`, each class packed as it is listed (for folders of millions of files)."""
    root = Path(root)
    check_complete(root)
    if not root.is_dir():
        raise DataError(root, "folder is missing", "an ImageFolder root holding one sub-folder per class")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(root, "folder holds no class sub-folders", "one sub-folder of images per class")
    paths: list = []
    counts: list[int] = []
    for name in classes:
        files = _class_images(root, name)
        paths.append(PackedPaths.from_relative(root, files) if packed else [root / f for f in files])
        counts.append(len(files))
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), counts)
    joined = PackedPaths.concat(root, paths) if packed else [p for files in paths for p in files]
    return ImageFolderIndex(root=root, classes=classes, paths=joined, labels=labels)
