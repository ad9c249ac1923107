"""Stream a labelled image folder too large to hold in memory, each view cropped from the original image.

The in-memory path (`ssl_kit.data.memory`) decodes a set once into uint8 at `image_size` and crops on the device:
right for the world and the quick scale, wrong for ImageNet at the paper's scale (ImageNet-100 at 224 px is about
19 GB resident, ImageNet-1k about 190 GB), and it squashes each photo to 224 x 224 before cropping, so a crop of 8%
of the area upsamples a 60 px patch where the paper's pipeline crops the original photo.

Streaming reads the files of each step in `DataLoader` workers (pinned memory on CUDA, prefetch): for every image
of the step, each view's RandomResizedCrop box is drawn on the *original* size (torchvision's sampling,
`ssl_kit.augment.geometry.sample_crop_boxes`), a JPEG is decoded in PIL's draft mode at the smallest 1/2, 1/4 or
1/8 scale at which every box keeps at least DRAFT_MARGIN x `crop_size` pixels a side, and each box is resized to
`crop_size` (PIL's antialiased bilinear, as torchvision's per-image pipeline). With that margin a draft-decoded
view differs from a fully decoded one by about as much as JPEG's own encoding error (`tests/batches/test_stream.py`). The rest of the policy (flip,
colour, grayscale, blur) is applied batched on the device by the kit's augmentation, as for video pairs: a
batch is (B, views, 3, crop, crop) and the method takes its views from it.

Randomness: a step's batch is `step_plan`'s (the same indices as the in-memory path) and an image's crop boxes
are drawn from a generator seeded by (seed, step, the image's index in the folder), so they depend neither on the
worker nor on the rank that reads it, and `--resume` continues exactly. The choice between memory and streaming
is `choose_input`: automatic from the set's size at `image_size` and a memory budget, or forced by `--input`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ssl_kit.augment import get_policy
from ssl_kit.augment.geometry import sample_crop_boxes
from ssl_kit.augment.policy import AugmentPolicy
from ssl_kit.batches.plan import step_plan, step_seed
from ssl_kit.batches.source import Steps, StreamedSource
from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.data.images import open_rgb
from ssl_kit.data.packed_paths import PackedPaths

# a draft-decoded box keeps at least this many times `crop_size` pixels a side, so that the final (antialiased)
# resize, not the DCT's scaling, does most of the shrinking (docs/benchmarks.md gives the error with 1 and 2)
DRAFT_MARGIN = 2


def sample_seed(seed: int, step: int, index: int) -> int:
    """The seed of image `index`'s crop boxes at `step` of a run seeded with `seed` (rank-independent)."""
    return (step_seed(seed, step) * 1_000_033 + index * 7_927) % (2**63 - 1)


def view_boxes(
    width: int, height: int, policy: AugmentPolicy, views: int, generator: torch.Generator
) -> list[tuple[int, int, int, int]]:
    """Each view's crop box (x, y, w, h) on an image of the given original size: the policy's
    RandomResizedCrop, or the whole image when the policy does not crop."""
    if not policy.crop:
        return [(0, 0, width, height)] * views
    drawn = [
        sample_crop_boxes(1, height, width, policy.crop_scale, policy.crop_ratio, generator)[0]
        for _ in range(views)
    ]
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h in drawn]


def crop_array(
    image: np.ndarray, policy: AugmentPolicy, size: int, views: int, generator: torch.Generator
) -> np.ndarray:
    """`views` crops of a decoded (H, W, 3) uint8 image (a video frame), each box drawn on its full size
    and resized to `size` as `crop_views` does: uint8 (views, size, size, 3)."""
    img = Image.fromarray(image)
    out = np.empty((views, size, size, 3), dtype=np.uint8)
    for v, (x, y, w, h) in enumerate(view_boxes(img.width, img.height, policy, views, generator)):
        out[v] = np.asarray(img.resize((size, size), Image.Resampling.BILINEAR, box=(x, y, x + w, y + h)))
    return out


def crop_views(
    path: str | Path,
    policy: AugmentPolicy,
    size: int,
    views: int,
    generator: torch.Generator,
    draft: bool = True,
) -> np.ndarray:
    """`views` crops of one image file, each box drawn on the original size and resized to `size`: uint8
    (views, size, size, 3). Without the policy's crop each view is the whole image resized."""
    boxes: list[tuple[int, int, int, int]] = []
    original: list[tuple[int, int]] = []

    def plan(width: int, height: int) -> tuple[int, int] | None:
        original.append((width, height))
        boxes.extend(view_boxes(width, height, policy, views, generator))
        scale = max(
            DRAFT_MARGIN * size / min(w, h) for _, _, w, h in boxes
        )  # smallest box: 2 x size px a side
        return (math.ceil(width * scale), math.ceil(height * scale)) if draft and scale < 1 else None

    img = open_rgb(path, plan)
    if not original:  # not a JPEG: `plan` was not asked, the image is at its original size
        plan(*img.size)
    (w0, h0) = original[0]
    sx, sy = img.width / w0, img.height / h0
    out = np.empty((views, size, size, 3), dtype=np.uint8)
    for v, (x, y, w, h) in enumerate(boxes[:views]):
        region = (x * sx, y * sy, (x + w) * sx, (y + h) * sy)
        out[v] = np.asarray(img.resize((size, size), Image.Resampling.BILINEAR, box=region), dtype=np.uint8)
    return out


@dataclass
class StepViews(torch.utils.data.Dataset):
    """Item i: the views of this rank's share of step `start + i` (uint8 (b, views, 3, size, size)), its
    labels and its indices into the folder."""

    paths: Sequence[Path]
    labels: torch.Tensor
    seed: int
    batch_size: int
    rank: int
    world_size: int
    start: int
    last: int
    policy: AugmentPolicy
    size: int
    views: int
    draft: bool = True

    def __len__(self) -> int:
        return max(0, self.last - self.start)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        step = self.start + i
        plan = step_plan(self.seed, step, len(self.paths), self.batch_size, self.rank, self.world_size)
        fspath = self.paths.fspath if isinstance(self.paths, PackedPaths) else self.paths.__getitem__
        crops = [
            crop_views(
                fspath(k),
                self.policy,
                self.size,
                self.views,
                torch.Generator().manual_seed(sample_seed(self.seed, step, k)),
                self.draft,
            )
            for k in plan.indices.tolist()
        ]
        images = torch.from_numpy(np.stack(crops)).permute(0, 1, 4, 2, 3).contiguous()
        return images, self.labels[plan.indices], plan.indices


@dataclass
class StreamedImages(StreamedSource):
    """A labelled image folder read file by file as training goes (see the module doc)."""

    root: Path
    paths: Sequence[Path]
    labels: torch.Tensor
    classes: list[str]
    workers: int

    @classmethod
    def open(cls, root: str | Path, workers: int | None = None) -> StreamedImages:
        index = read_imagefolder(
            root, packed=True
        )  # shared by forked workers, not copied (data/packed_paths.py)
        if workers is None:
            workers = max(1, min(8, (os.cpu_count() or 2) // 2))
        return cls(Path(root), index.paths, torch.from_numpy(index.labels), list(index.classes), workers)

    @property
    def n(self) -> int:
        return len(self.paths)

    def step_dataset(self, steps: Steps) -> StepViews:
        return StepViews(
            self.paths,
            self.labels,
            steps.seed,
            steps.batch_size,
            steps.rank,
            steps.world_size,
            steps.start,
            steps.last,
            get_policy(steps.policy),
            steps.size,
            steps.views,
        )
