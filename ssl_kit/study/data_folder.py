"""Where the study reads its data: the embedded synthetic world, or a folder of real datasets.

Every notebook, sweep and CLI takes one data folder. It is either

- a **world** (`python -m ssl_kit world`): its sets `objects/`, `scenes/`, `aloi_view/`, ... are written in the
  layouts of the real datasets they stand in for, and an empty or missing folder is built into one; or
- a **real-data folder** prepared by `data_scripts/` (see its README), holding some of
  `imagenet100/` (or `imagenette/`, `imagenet/`; ImageFolder `train/` and `val/`), `coco/` (COCO 2017),
  `trackingnet/` (or `got10k/train/`), `aloi/`, `got10k/train/` and `pascal3d/`.

The study's names then mean the same thing in both: `objects` is the object-centric set (the world's
objects, or ImageNet-100), `scenes` the scene-centric one (the world's scenes, or COCO 2017 train2017),
`scene_crops` the objects cut out of `scenes`, `videos` the video source, and the invariance protocols read
the world's sets or ALOI, GOT-10k and Pascal3D+. Which one a folder is, is decided by what it holds, never by
the scale: `SCALE=paper` on a world is the synthetic study at GPU size, and smoke tests read a real-layout
folder made from the smoke world.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ssl_kit.errors import ConfigError, DataError
from ssl_kit.invariance.protocols import PAPER_PROTOCOLS, PROTOCOLS, protocol_root
from ssl_kit.video.sources import is_video_source
from ssl_kit.world.build import build_world

# a world holds these sets (pascal3d is left out: the real Pascal3D+ folder has the same name)
WORLD_MARKS = ("objects", "scenes", "aloi_view", "aloi_col", "aloi_ill", "got_occlusion", "videos")
# study name -> where the real dataset it stands for usually lives under a data folder, first found wins
REAL_OBJECTS = ("imagenet100", "imagenette", "imagenet")  # ImageFolder train/ and val/
REAL_SCENES = ("coco",)  # COCO 2017: train2017/ and annotations/instances_train2017.json
REAL_VIDEOS = ("trackingnet", "got10k/train", "GOT-10k/train")
REAL_PROTOCOL_DIRS = ("aloi", "aloi_red2_view", "got10k", "GOT-10k", "pascal3d", "PASCAL3D+_release1.1")
SCRIPTS = {
    "objects": "data_scripts/prepare_imagenet.py (ImageNet-100 from your ImageNet, or --imagenette)",
    "scenes": "data_scripts/prepare_coco.py",
    "videos": "data_scripts/prepare_trackingnet.py (or check_got10k.py, index_videos.py)",
    "occlusion": "data_scripts/check_got10k.py (GOT-10k needs registration)",
    **{
        p: "data_scripts/prepare_aloi.py"
        for p in ("viewpoint", "illumination_direction", "illumination_color")
    },
    **{
        p: "data_scripts/prepare_pascal3d.py"
        for p in ("instance", "instance_viewpoint", "synthetic_occlusion")
    },
}


def is_world(folder: str | Path) -> bool:
    """True for a world (or a folder to build one in: missing or empty); False for a real-data folder.

    Raises ConfigError for a non-empty folder that is neither, naming what was looked for."""
    folder = Path(folder)
    if not folder.exists():
        return True
    if not folder.is_dir():
        raise ConfigError(f"data folder {folder} is a file, not a folder")
    if any((folder / m).is_dir() for m in WORLD_MARKS) or not any(folder.iterdir()):
        return True
    real = (*REAL_OBJECTS, *REAL_SCENES, *REAL_VIDEOS, *REAL_PROTOCOL_DIRS)
    if any((folder / r).is_dir() for r in real if r != "pascal3d"):
        return False
    if (folder / "pascal3d").is_dir():  # the world's set (with its manifest) or the real Pascal3D+
        return (folder / "pascal3d" / "manifest.json").is_file()
    raise ConfigError(
        f"data folder {folder} is neither a world (no {', '.join(m + '/' for m in WORLD_MARKS[:3])} ...) "
        f"nor a real-data folder (none of {', '.join(r + '/' for r in real)}); build a world with "
        "`python -m ssl_kit world --out FOLDER`, or see data_scripts/README.md"
    )


def _first(folder: Path, candidates: tuple[str, ...], check) -> Path | None:
    return next((folder / c for c in candidates if check(folder / c)), None)


def _imagefolder_root(path: Path) -> bool:
    return (path / "train").is_dir() and (path / "val").is_dir()


@dataclass(frozen=True)
class StudyData:
    """The data folder of one study, and what the study's names stand for in it (see the module docstring)."""

    root: Path
    world: bool

    @classmethod
    def open(cls, folder: str | Path, scale: str = "quick", seed: int = 0, build: bool = True) -> StudyData:
        """The study data in `folder`; a world is built (or completed) there first when `build` is set (instant
        when it is complete)."""
        folder = Path(folder)
        world = is_world(folder)
        if world and build:
            build_world(folder, preset=scale, seed=seed)
        return cls(folder, world)

    @property
    def kind(self) -> str:
        return "world" if self.world else "real"

    def _missing(self, name: str, candidates: tuple[str, ...], what: str) -> DataError:
        tried = ", ".join(str(self.root / c) for c in candidates)
        return DataError(
            self.root,
            f"no {what} for the study's `{name}` (looked for {tried}); prepare one with {SCRIPTS[name]}",
        )

    def objects(self, split: str = "train") -> Path:
        """The object-centric ImageFolder split (`train` or `val`): the world's objects, or ImageNet-100."""
        if split not in ("train", "val"):
            raise ConfigError(f"objects split {split!r}: expected 'train' or 'val'")
        if self.world:
            return self.root / "objects" / split
        found = _first(self.root, REAL_OBJECTS, _imagefolder_root)
        if found is None:
            raise self._missing("objects", REAL_OBJECTS, "ImageFolder with train/ and val/")
        return found / split

    def scenes(self) -> tuple[Path, str]:
        """The scene-centric COCO-layout root and its training split."""
        if self.world:
            return self.root / "scenes", "train2017"
        found = _first(
            self.root, REAL_SCENES, lambda p: (p / "annotations/instances_train2017.json").is_file()
        )
        if found is None:
            raise self._missing(
                "scenes", REAL_SCENES, "COCO 2017 folder (annotations/instances_train2017.json)"
            )
        return found, "train2017"

    def videos(self) -> Path:
        """The video source: the world's videos, TrackingNet, GOT-10k or a folder of video files."""
        if self.world:
            return self.root / "videos"

        found = _first(self.root, REAL_VIDEOS, is_video_source)
        if found is None:
            raise self._missing("videos", REAL_VIDEOS, "video source")
        return found

    def protocol_root(self, name: str) -> Path:
        """Where invariance protocol `name` reads its dataset (a world set, or ALOI, GOT-10k, Pascal3D+)."""

        found = protocol_root(name, self.root)
        if found == self.root and not self.world:  # protocol_root falls back to the folder itself
            key = "instance" if name == "synthetic_occlusion" else name
            raise self._missing(name, PROTOCOLS[key][2], "dataset")
        return found

    def inventory(self) -> dict[str, str | None]:
        """What the study would read for each of its names (None: not there), without raising."""

        out: dict[str, str | None] = {}
        getters = {
            "objects (train)": lambda: self.objects("train"),
            "objects (val)": lambda: self.objects("val"),
            "scenes": lambda: self.scenes()[0],
            "videos": self.videos,
        }
        getters.update({f"protocol {p}": (lambda p=p: self.protocol_root(p)) for p in PAPER_PROTOCOLS})
        for name, get in getters.items():
            try:
                path = get()
                out[name] = str(path) if Path(path).exists() else None
            except (ConfigError, DataError):
                out[name] = None
        return out
