"""The six invariance protocols: which images, cropped how, grouped into which targets and classes.

Each builder reads a dataset folder (real, or the world's set in the same layout) and returns a
`ProtocolSet`: image paths, optional boxes, a target and a class per image, and the paper's input size.
How targets are built follows the authors' released feature-extraction scripts (senthilps8/demystifyssl):

- viewpoint / illumination_color / illumination_direction: ALOI `_view` / `_col` / `_ill`; every image of
  one object is one target, and the class is the object (so C = 1000 and p = 95). Whole images, 128 px.
- occlusion: GOT-10k train. Keep a video if its cover levels span at least 4 (max - min >= 4); take one
  random frame per distinct cover level, drawn with numpy's legacy generator seeded 1992, video by video
  in `list.txt` order (the released code's draw order); crop the frame to its box; target = video,
  class = `object_class` of meta_info.ini. 128 px.
- instance: Pascal3D+ (ImageNet part, train and val lists, class by class, first object of each image),
  cropped to the box; azimuth bin (az mod 180) // 30 and elevation bin (el mod 90) // 30 of the coarse
  angles; target = one class in one (azimuth, elevation) bin; class = category. 224 px.
- instance_viewpoint: same images; within a class, target k holds the k-th image of each azimuth bin.
- synthetic_occlusion (an extra for any set with boxes): each object is a target whose images hide a set
  fraction of its box behind a random noise rectangle (`occluded_version`).

The released Pascal3D+ script also adds PASCAL VOC images from a list of its own (`<cls>_pascal.txt`, image
and object index), which is not part of the dataset release; the kit uses the ImageNet part only.
"""

from __future__ import annotations

import io
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ssl_kit.common.atomic import atomic_write_bytes
from ssl_kit.common.keys import cache_key, content_hash
from ssl_kit.data.aloi import read_aloi
from ssl_kit.data.boxes import voc_to_xywh
from ssl_kit.data.got10k import read_got10k
from ssl_kit.data.images import crop_box, read_image, resize_image
from ssl_kit.data.manifest import read_manifest
from ssl_kit.data.pascal3d import pascal3d_classes, read_pascal3d
from ssl_kit.errors import ConfigError, DataError

GOT_SEED = 1992
MIN_COVER_SPAN = 4
OCCLUSION_FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
_WORKERS = min(4, os.cpu_count() or 1)
# A protocol whose decoded images fit in this many bytes at the asked size is decoded once and kept: a sweep
# scores every cell on the same images, and decoding was half of a quick cell's invariance measurement.
MEMO_BYTES = 512 * 2**20
IMAGES_VERSION = 1  # of the decoded images kept on disk (`ProtocolSet.load(cache_dir=...)`)


@dataclass
class ProtocolSet:
    """(images, targets, classes) for one invariance; images are loaded lazily, batch by batch."""

    name: str
    root: Path
    paths: list[Path]
    targets: np.ndarray  # (N,) target label per image
    classes: np.ndarray  # (N,) class label per image
    size: int  # the paper's input size (square)
    boxes: np.ndarray | None = None  # (N, 4) x, y, w, h in pixels; None -> whole images
    occlusion: np.ndarray | None = None  # (N,) fraction of the box hidden (synthetic_occlusion)
    seed: int = 0
    info: dict = field(default_factory=dict)  # per-image extras: cover levels, angle bins, ...
    _decoded: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # size -> all images

    def __len__(self) -> int:
        return len(self.paths)

    def load(
        self,
        start: int,
        stop: int,
        size: int | None = None,
        memo: bool = True,
        cache_dir: str | Path | None = None,
    ) -> torch.Tensor:
        """Images start..stop-1 as a uint8 (B, 3, size, size) tensor: cropped, resized, occluded as specified.

        Files are decoded in a few threads (PIL releases the GIL while decoding). When the whole set fits in
        `MEMO_BYTES` at this size (and `memo`), it is decoded on the first call and later calls are slices of
        it; `memo=False` decodes just these images (a few images of a large set, read once). With `cache_dir`
        the whole decoded set is also kept there (`images-<key>.npy`, keyed by the protocol's `fingerprint` and
        the size), so another process (a sweep's helper, the next notebook) reads it instead of decoding."""
        size = size or self.size
        if memo and len(self) * 3 * size * size <= MEMO_BYTES:
            if size not in self._decoded:
                self._decoded[size] = self._decode_all(size, cache_dir)
            return self._decoded[size][start:stop].clone()
        return self._decode(start, stop, size)

    def _decode_all(self, size: int, cache_dir: str | Path | None) -> torch.Tensor:
        if cache_dir is None:
            return self._decode(0, len(self), size)
        key = cache_key("protocol images", version=IMAGES_VERSION, protocol=self.fingerprint(), size=size)
        path = Path(cache_dir) / f"images-{self.name}-{key}.npy"
        if path.is_file():
            return torch.from_numpy(np.load(path, allow_pickle=False))
        images = self._decode(0, len(self), size)
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.save(buf, images.numpy(), allow_pickle=False)
        atomic_write_bytes(path, buf.getvalue())
        return images

    def _decode(self, start: int, stop: int, size: int) -> torch.Tensor:
        out = np.empty((stop - start, size, size, 3), dtype=np.uint8)

        def one(i: int) -> None:
            image = read_image(self.paths[i])
            if self.boxes is not None:
                image = crop_box(image, self.boxes[i], size)
            else:
                image = resize_image(image, size)
            if self.occlusion is not None and self.occlusion[i] > 0:
                image = occluded_version(image, float(self.occlusion[i]), self.seed * 1_000_003 + i)
            out[i - start] = image

        with ThreadPoolExecutor(_WORKERS) as pool:
            list(pool.map(one, range(start, stop)))
        return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()

    def fingerprint(self) -> str:
        """A key for caches: what was read (manifest hash, and each file with its size and modification time, so an
        image replaced by hand is other data) and how targets were built."""
        manifest = read_manifest(self.root) or {}
        head = json.dumps([self.name, str(self.root.resolve()), manifest.get("config_hash"), self.seed])
        arrays = [a for a in (self.targets, self.classes, self.boxes, self.occlusion) if a is not None]
        return content_hash(head, "\n".join(_stamped(p) for p in self.paths), *arrays, chars=16)

    def summary(self) -> str:
        sizes = np.unique(self.targets, return_counts=True)[1]
        return (
            f"{self.name}: {len(self)} images, {len(sizes)} targets ({sizes.min()}-{sizes.max()} images each), "
            f"{len(np.unique(self.classes))} classes, {self.size} px, from {self.root}"
        )


def _stamped(path) -> str:
    """A file's path, size and modification time (its path alone when it cannot be read)."""
    try:
        st = os.stat(path)
    except OSError:
        return str(path)
    return f"{path}\t{st.st_size}\t{st.st_mtime_ns}"


def occluded_version(image: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """`image` with a rectangle of uniform noise covering `fraction` of its area at a random place."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    aspect = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    area = fraction * h * w
    oh = int(round(min(h, max(1.0, np.sqrt(area / aspect)))))
    ow = int(round(min(w, max(1.0, area / oh))))
    y, x = int(rng.integers(0, h - oh + 1)), int(rng.integers(0, w - ow + 1))
    out = image.copy()
    out[y : y + oh, x : x + ow] = rng.integers(0, 256, size=(oh, ow, image.shape[2]), dtype=np.uint8)
    return out


def aloi_protocol(root: str | Path, kind: str, size: int = 128) -> ProtocolSet:
    """ALOI `kind` ("view", "col", "ill"): one target (and class) per object."""
    index = read_aloi(root, kind)
    name = {"view": "viewpoint", "col": "illumination_color", "ill": "illumination_direction"}[kind]
    return ProtocolSet(
        name,
        Path(root),
        index.paths,
        index.objects.copy(),
        index.objects.copy(),
        size,
        info={"factor": index.factors},
    )


def got_occlusion_protocol(root: str | Path, size: int = 128, seed: int = GOT_SEED) -> ProtocolSet:
    """GOT-10k videos whose cover level spans >= 4: one random frame per level, cropped to the box."""
    rng = np.random.RandomState(seed)  # the legacy generator: the same frames as the released script
    paths, boxes, targets, classes, covers = [], [], [], [], []
    for seq in read_got10k(root):
        levels = np.unique(seq.cover)
        if levels.max() - levels.min() < MIN_COVER_SPAN:
            continue
        for level in levels:
            frame = int(rng.choice(np.where(seq.cover == level)[0]))
            paths.append(seq.frames[frame])
            boxes.append(seq.boxes[frame])
            targets.append(seq.name)
            classes.append(seq.object_class.replace(" ", "_"))
            covers.append(int(level))
    if not paths:
        raise DataError(
            Path(root),
            f"no video has cover levels spanning >= {MIN_COVER_SPAN}",
            "GOT-10k videos with cover.label going from (nearly) hidden to visible",
        )
    return ProtocolSet(
        "occlusion",
        Path(root),
        paths,
        np.array(targets),
        np.array(classes),
        size,
        boxes=np.array(boxes, dtype=np.float64),
        seed=seed,
        info={"cover": np.array(covers)},
    )


def _pascal3d_objects(root: str | Path):
    """ImageNet-part objects, class by class (sorted), train list then val list, first object per image."""
    objects = []
    for cls in pascal3d_classes(root, "train"):
        for split in ("train", "val"):
            try:
                found = read_pascal3d(root, split, classes=[cls])
            except DataError:
                if split == "val":
                    continue  # a class without a val list
                raise
            objects.extend(o for o in found if o.index == 0)
    if not objects:
        raise DataError(Path(root), "no annotated object with a viewpoint", "Pascal3D+ annotations")
    return objects


def _angle_bins(objects) -> tuple[np.ndarray, np.ndarray]:
    az = np.array([_coarse(o, "azimuth") for o in objects], dtype=np.float64)
    el = np.array([_coarse(o, "elevation") for o in objects], dtype=np.float64)
    return (np.mod(az, 180) // 30).astype(np.int64), (np.mod(el, 90) // 30).astype(np.int64)


def _coarse(obj, which: str) -> float:
    value = getattr(obj, f"{which}_coarse", None)  # the paper bins the coarse angles
    return float(getattr(obj, which) if value is None else value)


def _pascal3d_base(root: str | Path, name: str, size: int):
    objects = _pascal3d_objects(root)
    boxes = np.array([voc_to_xywh(o.bbox) for o in objects])  # the pixels a 1-based inclusive box covers
    classes = np.array([o.cls for o in objects])
    az_bin, el_bin = _angle_bins(objects)
    return objects, boxes, classes, az_bin, el_bin


def pascal3d_instance_protocol(root: str | Path, size: int = 224) -> ProtocolSet:
    """Category instances seen from one viewpoint: target = (class, azimuth bin, elevation bin)."""
    objects, boxes, classes, az_bin, el_bin = _pascal3d_base(root, "instance", size)
    targets = np.array([f"{c}/az{a}/el{e}" for c, a, e in zip(classes, az_bin, el_bin, strict=True)])
    return ProtocolSet(
        "instance",
        Path(root),
        [o.image for o in objects],
        targets,
        classes,
        size,
        boxes=boxes,
        info={"azimuth_bin": az_bin, "elevation_bin": el_bin},
    )


def pascal3d_instance_viewpoint_protocol(root: str | Path, size: int = 224) -> ProtocolSet:
    """Instances across viewpoints: within a class, target k = the k-th image of each azimuth bin."""
    objects, boxes, classes, az_bin, el_bin = _pascal3d_base(root, "instance_viewpoint", size)
    seen: dict[tuple[str, int], int] = {}
    targets = []
    for c, a in zip(classes, az_bin, strict=True):
        k = seen.get((c, a), 0)
        seen[(c, a)] = k + 1
        targets.append(f"{c}/{k}")
    return ProtocolSet(
        "instance_viewpoint",
        Path(root),
        [o.image for o in objects],
        np.array(targets),
        classes,
        size,
        boxes=boxes,
        info={"azimuth_bin": az_bin, "elevation_bin": el_bin},
    )


def synthetic_occlusion_protocol(
    base: ProtocolSet, fractions=OCCLUSION_FRACTIONS, seed: int = GOT_SEED, max_objects: int | None = None
) -> ProtocolSet:
    """Every object of `base` (with its box, if any) becomes a target of len(fractions) occluded copies."""
    if len(fractions) < 3:
        raise ConfigError(f"need at least 3 occlusion fractions per target, got {list(fractions)}")
    if any(not 0 <= f < 1 for f in fractions):
        raise ConfigError(f"occlusion fractions must be in [0, 1), got {list(fractions)}")
    n = len(base) if max_objects is None else min(len(base), max_objects)
    rep = np.repeat(np.arange(n), len(fractions))
    return ProtocolSet(
        "synthetic_occlusion",
        base.root,
        [base.paths[i] for i in rep],
        rep.copy(),
        base.classes[rep],
        base.size,
        boxes=None if base.boxes is None else base.boxes[rep],
        occlusion=np.tile(np.asarray(fractions, dtype=np.float64), n),
        seed=seed,
    )


# protocol name -> (builder, where it lives in a world folder, where it usually lives under data/)
PROTOCOLS = {
    "occlusion": (got_occlusion_protocol, "got_occlusion", ("got10k/train", "GOT-10k/train", "got10k")),
    "viewpoint": (lambda r, **kw: aloi_protocol(r, "view", **kw), "aloi_view", ("aloi/aloi_red2_view", "aloi_red2_view")),
    "illumination_direction": (lambda r, **kw: aloi_protocol(r, "ill", **kw), "aloi_ill", ("aloi/aloi_red2_ill", "aloi_red2_ill")),
    "illumination_color": (lambda r, **kw: aloi_protocol(r, "col", **kw), "aloi_col", ("aloi/aloi_red2_col", "aloi_red2_col")),
    "instance": (pascal3d_instance_protocol, "pascal3d", ("pascal3d", "PASCAL3D+_release1.1")),
    "instance_viewpoint": (pascal3d_instance_viewpoint_protocol, "pascal3d", ("pascal3d", "PASCAL3D+_release1.1")),
}  # fmt: skip
PAPER_PROTOCOLS = tuple(PROTOCOLS)


def build_protocol(name: str, root: str | Path, size: int | None = None) -> ProtocolSet:
    """The protocol `name` read from its dataset folder `root` (`size`: input size; default: the paper's)."""
    if name == "synthetic_occlusion":
        return synthetic_occlusion_protocol(build_protocol("instance", root, size))
    if name not in PROTOCOLS:
        raise ConfigError(
            f"unknown protocol {name!r}; expected one of {', '.join([*PROTOCOLS, 'synthetic_occlusion'])}"
        )
    builder = PROTOCOLS[name][0]
    return builder(Path(root)) if size is None else builder(Path(root), size=size)


def protocol_root(name: str, data: str | Path) -> Path:
    """Where protocol `name`'s dataset is under `data`: the folder itself, a world's set, or a data/ layout."""
    data = Path(data)
    key = "instance" if name == "synthetic_occlusion" else name
    if key not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {name!r}; expected one of {', '.join(PROTOCOLS)}")
    _, world_name, usual = PROTOCOLS[key]
    for candidate in (data / world_name, *(data / u for u in usual)):
        if candidate.is_dir():
            return candidate
    return data
