"""A labelled image folder as in-memory uint8 tensors: what the trainer and the evaluators consume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ssl_kit.common.memory_budget import check_fits
from ssl_kit.data.imagefolder import ImageFolderIndex, read_imagefolder
from ssl_kit.data.images import load_images


def resident_bytes(n_images: int, image_size: int) -> int:
    """What holding `n_images` at `image_size` takes (uint8, 3 channels)."""
    return n_images * 3 * image_size * image_size


def load_labelled_folder(
    root: str | Path,
    size: int,
    skip_corrupt: bool = False,
    progress: bool = False,
    counts: dict | None = None,
    fix: str = "hold it at a smaller size",
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """(images uint8 (N,3,size,size), labels int64 (N,), class names) of an ImageFolder `root/<class>/*`.

    A folder that cannot fit in the memory available at `size` is refused before any image is read, with the
    estimate and `fix` (`ssl_kit.common.memory_budget.check_fits`).

    `counts`, when given, receives `images` (the files loaded) and `images_skipped` (undecodable files skipped
    with `skip_corrupt`): what a run logs."""
    index = read_imagefolder(root)
    check_fits(
        {f"{len(index)} images at {size} px": resident_bytes(len(index), size)}, f"holding {root}", fix
    )
    return load_index(index, size, skip_corrupt, progress, counts)


def load_index(
    index: ImageFolderIndex,
    size: int,
    skip_corrupt: bool = False,
    progress: bool = False,
    counts: dict | None = None,
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """`load_labelled_folder` of a folder already indexed (and its memory already checked by the caller)."""
    arr, kept = load_images(index.paths, size=size, skip_corrupt=skip_corrupt, progress=progress)
    if counts is not None:
        counts.update(images=len(kept), images_skipped=len(index.paths) - len(kept))
    images = torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2)))
    labels = torch.from_numpy(index.labels[np.asarray(kept, dtype=np.int64)])
    return images, labels, list(index.classes)


def load_sample(root: str | Path, n: int, size: int, seed: int = 0) -> torch.Tensor:
    """`n` images (uint8 (n,3,size,size)) drawn at random (by `seed`) from an ImageFolder, reading only those:
    a few examples from a set too large to hold in memory (ImageNet)."""
    index = read_imagefolder(root)
    pick = torch.randperm(len(index.paths), generator=torch.Generator().manual_seed(seed))[:n].tolist()
    arr, _ = load_images([index.paths[i] for i in pick], size=size)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2)))
