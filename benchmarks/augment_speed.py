"""Augmentation speed: batched MoCo v2 views on the device vs lightly's per-image MoCo v2 transform.

Both sides make two views of every image and are counted in output views per second (the dict's
`*_images_per_s` keys are views/s):
- batched: `ssl_kit.augment.step_views(images, "mocov2", out_size, 2)` on uint8 (B, 3, H, W) tensors, in
  batches of `batch_size`;
- lightly: `lightly.transforms.MoCoV2Transform(input_size=out_size)` called on each PIL image (it returns
  two views), the usual Dataset.__getitem__ path, in this one process (no DataLoader workers).
Both start from decoded images in memory, in their natural format. lightly is a `bench` extra
(`pip install lightly`), never a core dependency. Differences in the work done: lightly blurs with PIL
at sigma in [0.1, 2] px whatever the size, ssl_kit scales sigma by out_size / 224; lightly's resize
antialiases, ssl_kit's grid_sample does not.

    python benchmarks/augment_speed.py   # prints one JSON object (torch on 1 thread, see `threads`)
"""

from __future__ import annotations

import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ssl_kit.augment import get_policy, step_views


def smooth_images(n: int, size: int, seed: int = 0) -> np.ndarray:
    """(n, size, size, 3) uint8 images of smooth random colour blobs (more image-like than white noise)."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 6, 6, generator=g)
    img = F.interpolate(low, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    img = img + 0.05 * torch.rand(n, 3, size, size, generator=g)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _best_rate(fn, views: int, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return views / best


def augment_speed(
    n_images: int = 512,
    in_size: int = 64,
    out_size: int = 64,
    device: str = "cpu",
    batch_size: int = 256,
    repeats: int = 3,
    images: np.ndarray | None = None,
    image_root: str | None = None,
    threads: int | None = 1,
) -> dict:
    """Views per second of batched ssl_kit MoCo v2 vs lightly's per-image MoCoV2Transform.

    Args:
        images: (N, H, W, 3) uint8 to use instead of the default smooth random images (repeated up to
            n_images when fewer).
        image_root: an ImageFolder (e.g. a smoke world's `objects/train`) to load `images` from, resized
            to in_size.
        threads: torch intra-op threads for the run (None: leave torch's setting). Default 1: a per-core
            comparison, since lightly's per-image path runs on one core per DataLoader worker. On a
            shared, loaded CPU, several OpenMP threads can be far slower than one (threads wait at every
            op's barrier for a descheduled sibling), so measure both.

    Returns:
        {"batched_images_per_s", "lightly_images_per_s", "augment_speedup", ...}: rates count output
        views (two per image on both sides); best of `repeats` timed runs after a warm-up.
    """
    from lightly.transforms import MoCoV2Transform

    if image_root is not None:
        from ssl_kit.data import load_images, read_imagefolder

        images, _ = load_images(read_imagefolder(image_root).paths[:n_images], size=in_size)
    if images is None:
        arr = smooth_images(n_images, in_size)
    else:
        arr = np.resize(np.asarray(images), (n_images, *np.asarray(images).shape[1:]))  # repeat if few
    saved_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    dev = torch.device(device)
    tensors = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).contiguous().to(dev)
    pil = [Image.fromarray(a) for a in arr]
    policy = get_policy("mocov2")
    gen = torch.Generator().manual_seed(0)

    def batched() -> None:
        for s in range(0, len(tensors), batch_size):
            v1, v2 = step_views(tensors[s : s + batch_size], policy, out_size, 2, gen)
        if dev.type == "cuda":
            torch.cuda.synchronize()

    transform = MoCoV2Transform(input_size=out_size)

    def lightly() -> None:
        for im in pil:
            transform(im)

    views = 2 * len(arr)
    try:
        with torch.no_grad():
            b = _best_rate(batched, views, repeats)
            lt = _best_rate(lightly, views, repeats)
        used_threads = torch.get_num_threads()
    finally:
        torch.set_num_threads(saved_threads)
    return {
        "batched_images_per_s": round(b, 1),
        "lightly_images_per_s": round(lt, 1),
        "augment_speedup": round(b / lt, 2),
        "views_counted": "two views per image on both sides; rates are output views per second",
        "n_images": len(arr),
        "in_size": in_size,
        "out_size": out_size,
        "device": device,
        "batch_size": batch_size,
        "torch_threads": used_threads,
        "images": "smooth random" if images is None else (image_root or "given"),
    }


if __name__ == "__main__":
    print(json.dumps(augment_speed()))
