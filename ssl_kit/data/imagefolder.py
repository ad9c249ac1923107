"""ImageFolder layout: one sub-folder per class.

    root/
        <class_a>/<file>.jpg
        <class_a>/<file>.png
        <class_b>/...

Image extensions: .jpg .jpeg .png .bmp .webp (any letter case, e.g. ImageNet's .JPEG). Classes are the
sub-folder names sorted as strings (label = position in that list), files are sorted by name inside each
class. Hidden entries (starting with "."), files directly in `root` (e.g. manifest.json) and non-image files
inside class folders are ignored. Used for the world's `objects/train`, `objects/val` and ImageNet `train/`.
"""

from __future__ import annotations

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
    return not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS


def _class_images(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if is_image_file(p) and p.is_file())
    if not files:
        raise DataError(
            folder,
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
        files = _class_images(root / name)
        paths.append(PackedPaths.pack(root, files) if packed else files)
        counts.append(len(files))
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), counts)
    joined = PackedPaths.concat(root, paths) if packed else [p for files in paths for p in files]
    return ImageFolderIndex(root=root, classes=classes, paths=joined, labels=labels)
