"""World presets: how many images of each set, at what size. `smoke` for tests, `quick` for a CPU study,
`paper` for a GPU."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ssl_kit.errors import ConfigError

SETS = ("objects", "scenes", "aloi_view", "aloi_col", "aloi_ill", "got_occlusion", "pascal3d", "videos")
# built only when named (`world --sets objects_more`): no notebook of the study needs them
EXTRA_SETS = ("objects_more",)


@dataclass(frozen=True)
class WorldPreset:
    name: str
    size: int  # objects, ALOI, GOT and Pascal3D images (square, pixels)
    scene_size: int  # scenes and videos
    train_instances: int  # per category, objects/train
    val_instances: int  # per category, objects/val
    views: int  # images per instance in objects/
    scenes_train: int
    scenes_val: int
    aloi_objects: int
    got_videos: int
    got_frames: int
    pascal_per_category: int
    video_clips: int
    video_frames: int
    jpeg_quality: int = 95

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS = {
    # smoke: 20 Pascal3D images a category, so that every seed's world has instance targets (a class in one
    # viewpoint bin) of the 3 images the measure needs (with 6, seed 1 had none)
    "smoke": WorldPreset("smoke", 32, 48, 2, 1, 3, 12, 4, 3, 3, 16, 20, 3, 12),
    "quick": WorldPreset("quick", 64, 96, 40, 10, 12, 2000, 400, 100, 100, 40, 150, 200, 24),
    "paper": WorldPreset("paper", 128, 192, 200, 50, 20, 20000, 4000, 500, 500, 60, 1000, 2000, 48),
}


def get_preset(name: str) -> WorldPreset:
    if name not in PRESETS:
        raise ConfigError(f"unknown world preset {name!r} (expected one of {', '.join(PRESETS)})")
    return PRESETS[name]
