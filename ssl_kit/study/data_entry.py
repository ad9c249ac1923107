"""The one parser of data entries: what a grid's `data:` entry names in the data folder a sweep is given.

An entry is

- one of the study's names: `objects`, `scenes`, `scene_crops` (image sets: the world's, or ImageNet-100 and COCO
  2017 in a real-data folder, `ssl_kit.study.data_folder`) or `videos` (the world's videos, or TrackingNet);
- `folder:<path>` (any ImageFolder), `coco:<root>[:<split>]` (split train2017 unless given) or
  `coco_crops:<root>[:<split>]`: an image training set (`ssl_kit.study.train_sets`); `video:<path>`: a video folder;
- `objects:<changes>`, e.g. `objects:views=90; markings=false`: the world's objects changed in the properties
  named (`ssl_kit.world.variation.ObjectsVariant`), rendered by the world the first time it is asked for;
- from Python, a dict of `TrainSet` fields.

A relative path is taken from the data folder; the files are checked later (`check_train_set`, the sweep).
"""

from __future__ import annotations

from pathlib import Path

from ssl_kit.errors import ConfigError
from ssl_kit.study.data_folder import StudyData
from ssl_kit.study.train_sets import KINDS, TrainSet
from ssl_kit.world.build import build_variant
from ssl_kit.world.variation import ObjectsVariant

STUDY_SETS = ("objects", "scenes", "scene_crops")  # image sets by the study's names
VIDEOS = "videos"  # the study's video source
VIDEO = "video"  # `video:<path>`
VARIED = "objects"  # `objects:<changes>`: a variant of the world's objects


def parse_entry(
    entry: str | dict, world: str | Path | None = None, progress: bool = False
) -> TrainSet | Path:
    """The image training set (a `TrainSet`, named by the entry) or the video folder (a `Path`) that `entry` names
    in the data folder `world`; a world variant is rendered first when it is not there (with a progress bar when
    `progress`)."""
    if isinstance(entry, dict):
        unknown = set(entry) - set(TrainSet.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"training set {entry}: unknown field(s) {sorted(unknown)}")
        return TrainSet(**{"name": entry.get("name", entry.get("kind", "?")), **entry})
    if not isinstance(entry, str) or not entry:
        raise ConfigError(f"training set {entry!r}: expected a name or kind:root[:split]")
    if entry in (*STUDY_SETS, VIDEOS):
        if world is None:
            raise ConfigError(f"training set {entry!r} is a world set; give the world folder")
        data = StudyData.open(world, build=False)  # a world, or a real-data folder: its names mean the same
        if entry == VIDEOS:
            return data.videos()
        if entry == "objects":
            return TrainSet(entry, "folder", str(data.objects("train")))
        root, split = data.scenes()
        return TrainSet(entry, "coco" if entry == "scenes" else "coco_crops", str(root), split)
    kind, _, rest = entry.partition(":")
    if kind == VARIED:
        if world is None:
            raise ConfigError(
                f"training set {entry!r} is a variant of the world's objects; give the world folder"
            )
        variant = ObjectsVariant.parse(rest)
        return TrainSet(entry, "folder", str(build_variant(world, variant, progress=progress)))
    if kind not in (*KINDS, VIDEO) or not rest:
        raise ConfigError(
            f"unknown training set {entry!r} (expected one of {', '.join(STUDY_SETS)}, {VIDEOS}, or "
            f"{'|'.join(KINDS)}:<root>[:<split>], {VIDEO}:<path>, {VARIED}:<changes>)"
        )
    if world is not None and not Path(rest).is_absolute():  # the name keeps the path made whole
        rest = str(Path(world) / rest)
        entry = f"{kind}:{rest}"
    if kind == VIDEO:
        return Path(rest)
    root, _, split = rest.partition(":")
    return TrainSet(entry, kind, root, split or ("" if kind == "folder" else "train2017"))
