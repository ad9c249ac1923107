"""Contact sheets of the world's sets, read back through the same readers the study uses.

`world_contact_sheets(root)` returns one row of images per set (with boxes and labels drawn), so a student
sees what each set holds and, at the same time, that every reader parses it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ssl_kit.data import (
    annotation_mask,
    read_aloi,
    read_coco,
    read_frame_videos,
    read_got10k,
    read_image,
    read_imagefolder,
    read_pascal3d,
)
from ssl_kit.data.boxes import voc_to_xywh

TILE = 96


def _tile(image: np.ndarray, boxes=(), label: str = "", masks=()) -> Image.Image:
    h, w = image.shape[:2]
    img = Image.fromarray(image)
    if len(masks):
        arr = np.asarray(img).astype(np.float32)
        for k, m in enumerate(masks):
            color = np.array(_PALETTE[k % len(_PALETTE)], np.float32)
            arr[m] = 0.55 * arr[m] + 0.45 * color
        img = Image.fromarray(arr.astype(np.uint8))
    img = img.resize((TILE, TILE), Image.NEAREST)
    draw = ImageDraw.Draw(img)
    sx, sy = TILE / w, TILE / h
    for k, (x, y, bw, bh) in enumerate(boxes):
        draw.rectangle(
            [x * sx, y * sy, (x + bw) * sx - 1, (y + bh) * sy - 1], outline=_PALETTE[k % len(_PALETTE)]
        )
    if label:
        draw.rectangle([0, TILE - 11, TILE, TILE], fill=(0, 0, 0))
        draw.text((2, TILE - 11), label[:16], fill=(255, 255, 255))
    return img


_PALETTE = [(255, 60, 60), (60, 220, 60), (80, 120, 255), (255, 220, 0), (255, 0, 255), (0, 230, 230)]


def _row(tiles: list[Image.Image]) -> Image.Image:
    sheet = Image.new("RGB", (TILE * len(tiles), TILE))
    for i, t in enumerate(tiles):
        sheet.paste(t, (i * TILE, 0))
    return sheet


def _spread(n: int, k: int) -> list[int]:
    return sorted({int(i) for i in np.linspace(0, n - 1, min(n, k))})


def objects_sheet(root: Path, k: int) -> Image.Image:
    idx = read_imagefolder(root / "objects" / "train")
    tiles = []
    for c, name in enumerate(idx.classes[:k]):
        first = int(np.flatnonzero(idx.labels == c)[0])
        tiles.append(_tile(read_image(idx.paths[first]), label=name))
    return _row(tiles)


def scenes_sheet(root: Path, k: int) -> Image.Image:
    coco = read_coco(root / "scenes", "train2017")
    tiles = []
    for im in coco.images[:k]:
        anns = coco.annotations[im.id]
        masks = [annotation_mask(a, im.height, im.width) for a in anns]
        tiles.append(_tile(read_image(im.path), [a.bbox for a in anns], f"{len(anns)} objects", masks))
    return _row(tiles)


def aloi_sheet(root: Path, kind: str, k: int) -> Image.Image:
    idx = read_aloi(root / f"aloi_{kind}", kind)
    first = np.flatnonzero(idx.objects == idx.objects.min())
    tiles = []
    for i in _spread(len(first), k):
        j = int(first[i])
        f = idx.factors[j]
        label = {"view": f"r{f}", "col": f"i{f}", "ill": f"l{f[0]}c{f[1]}" if np.ndim(f) else str(f)}[kind]
        tiles.append(_tile(read_image(idx.paths[j]), label=label))
    return _row(tiles)


def got_sheet(root: Path, k: int) -> Image.Image:
    seq = read_got10k(root / "got_occlusion")[0]
    return _row(
        [
            _tile(read_image(seq.frames[i]), [seq.boxes[i]], f"cover {seq.cover[i]}")
            for i in _spread(len(seq), k)
        ]
    )


def pascal3d_sheet(root: Path, k: int) -> Image.Image:
    objs = read_pascal3d(root / "pascal3d", split="train")
    seen, tiles = set(), []
    for o in objs:
        if o.cls in seen or len(tiles) >= k:
            continue
        seen.add(o.cls)
        tiles.append(
            _tile(read_image(o.image), [voc_to_xywh(o.bbox)], f"az {o.azimuth:.0f} el {o.elevation:.0f}")
        )
    return _row(tiles)


def videos_sheet(root: Path, k: int) -> Image.Image:
    video = read_frame_videos(root / "videos")[0]
    tiles = []
    for i in _spread(len(video), k):
        boxes = [t.boxes[i] for t in (video.tracks or []) if not np.isnan(t.boxes[i]).any()]
        tiles.append(_tile(read_image(video.frames[i]), boxes, f"frame {i}"))
    return _row(tiles)


def world_contact_sheets(root: str | Path, per_row: int = 10) -> dict[str, Image.Image]:
    """One contact-sheet row per set found under `root` (a folder built by `python -m ssl_kit world`)."""
    root = Path(root)
    makers = {
        "objects": lambda: objects_sheet(root, per_row),
        "scenes": lambda: scenes_sheet(root, per_row),
        "aloi_view": lambda: aloi_sheet(root, "view", per_row),
        "aloi_col": lambda: aloi_sheet(root, "col", per_row),
        "aloi_ill": lambda: aloi_sheet(root, "ill", per_row),
        "got_occlusion": lambda: got_sheet(root, per_row),
        "pascal3d": lambda: pascal3d_sheet(root, per_row),
        "videos": lambda: videos_sheet(root, per_row),
    }
    return {name: make() for name, make in makers.items() if (root / name).exists()}


def plot_contact_sheets(sheets: dict[str, Image.Image]):
    """A matplotlib figure with one labelled row per set."""
    import matplotlib.pyplot as plt  # deferred: pyplot selects a backend on import; only this figure needs it

    fig, axes = plt.subplots(len(sheets), 1, figsize=(12, 1.35 * len(sheets)), squeeze=False)
    for ax, (name, sheet) in zip(axes[:, 0], sheets.items(), strict=True):
        ax.imshow(sheet)
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
