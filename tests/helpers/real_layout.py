"""A real-data folder made of a world's sets: the layouts `data_scripts/` writes, each dataset a link."""

from __future__ import annotations

from pathlib import Path

# a real-data folder laid out as data_scripts/ writes it, each dataset a link to the smoke world's stand-in
REAL_LAYOUT = {
    "imagenet100/train": "objects/train",
    "imagenet100/val": "objects/val",
    "coco": "scenes",
    "trackingnet": "videos",
    "aloi/aloi_red2_view": "aloi_view",
    "aloi/aloi_red2_col": "aloi_col",
    "aloi/aloi_red2_ill": "aloi_ill",
    "got10k/train": "got_occlusion",
    "pascal3d": "pascal3d",
}


def real_layout(world: Path, root: Path) -> Path:
    """`root` made a real-data folder (`REAL_LAYOUT`) of links to `world`'s sets."""
    for real, world_set in REAL_LAYOUT.items():
        (root / real).parent.mkdir(parents=True, exist_ok=True)
        (root / real).symlink_to(world / world_set, target_is_directory=True)
    return root
