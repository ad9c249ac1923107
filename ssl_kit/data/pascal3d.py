"""Pascal3D+-style viewpoint annotations: the synthetic world's JSON form and the original `.mat` files.

    root/Images/<cls>_<source>/<name>.JPEG
    root/Annotations/<cls>_<source>/<name>.json
        {"record": {"filename": "<name>.JPEG", "size": {"width": W, "height": H},
                    "objects": [{"class": cls, "bbox": [x1, y1, x2, y2],
                                 "viewpoint": {"azimuth_coarse": a, "elevation_coarse": e,
                                               "azimuth": a, "elevation": e, "distance": d}}]}}
    root/Image_sets/<cls>_<source>_train.txt, <cls>_<source>_val.txt   (one name, without extension, per line)

`source` is "imagenet" (or "pascal"). Classes are the `<cls>` of the image-set files of the split. One
`Pascal3DObject` is returned per annotated object. Annotation files are found and parsed through
`ANNOTATION_LOADERS` (suffix -> loader), tried in order: `.json` here, then Pascal3D+ release 1.1 `.mat`
files (`pascal3d_mat.py`, which imports scipy on first use). Both return a `Pascal3DRecord`.

Both formats follow the same conventions. `bbox` is returned as stored: [x1, y1, x2, y2] in 1-based,
inclusive pixel corners, as in Pascal VOC and the original files (the world writes the same); it is read and
checked by `ssl_kit.data.boxes.read_voc`, and `ssl_kit.data.boxes.voc_to_xywh` gives the pixels it covers.
A viewpoint key that is missing is an error; a viewpoint that is present but empty (JSON `null`, MATLAB `[]`)
marks an object annotated without a viewpoint, which is skipped (the others keep their `index` in the
record). The fine `azimuth`/`elevation` are used when present, else `azimuth_coarse`/`elevation_coarse`; the
coarse angles are also kept as they are (None when absent), since the paper bins those. The optional
`truncated`, `occluded` and `difficult` flags are copied to the object so a caller can filter on them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssl_kit.data.boxes import read_voc
from ssl_kit.data.got10k import read_lines
from ssl_kit.data.manifest import check_complete
from ssl_kit.data.pascal3d_mat import load_mat_record
from ssl_kit.data.pascal3d_record import Pascal3DRecord
from ssl_kit.errors import DataError

_JSON_EXPECTED = (
    '{"record": {"filename": ..., "size": {"width": W, "height": H}, "objects": '
    '[{"class": ..., "bbox": [x1, y1, x2, y2], "viewpoint": {"azimuth": a, "elevation": e, ...}}]}}'
)


@dataclass
class Pascal3DObject:
    """One annotated object with its viewpoint (degrees)."""

    image: Path
    cls: str
    bbox: tuple[float, float, float, float]  # x1, y1, x2, y2
    azimuth: float
    elevation: float
    name: str = ""  # image name without extension
    index: int = 0  # position of the object in its annotation record
    distance: float | None = None
    image_size: tuple[int, int] = field(default=(0, 0))  # (width, height)
    truncated: bool = False
    occluded: bool = False
    difficult: bool = False
    azimuth_coarse: float | None = None  # the annotators' coarse angles, when the file has them
    elevation_coarse: float | None = None


def load_json_record(path: Path) -> Pascal3DRecord:
    """Parse one world-style JSON annotation file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rec = data["record"]
        size = rec["size"]
        objects = rec["objects"]
        if not isinstance(objects, list):
            raise TypeError("'objects' is not a list")
        return Pascal3DRecord(
            filename=str(rec["filename"]),
            width=int(size["width"]),
            height=int(size["height"]),
            objects=objects,
            path=path,
        )
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise DataError(path, f"malformed annotation ({type(e).__name__}: {e})", _JSON_EXPECTED) from e


AnnotationLoader = Callable[[Path], Pascal3DRecord]
ANNOTATION_LOADERS: dict[str, AnnotationLoader] = {".json": load_json_record, ".mat": load_mat_record}


def load_annotation(folder: Path, name: str) -> Pascal3DRecord:
    """Load `folder/<name><suffix>` with the first registered loader whose file exists."""
    for suffix, loader in ANNOTATION_LOADERS.items():
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return loader(path)
    suffixes = " or ".join(ANNOTATION_LOADERS)
    raise DataError(
        folder / f"{name}{next(iter(ANNOTATION_LOADERS))}", "annotation file is missing", suffixes
    )


def _number(path: Path, obj: dict, key: str, where: str, default: Any = None) -> Any:
    value = obj.get(key, default) if isinstance(obj, dict) else None
    try:
        out = float(value)
        if not math.isfinite(out):
            raise ValueError
    except (TypeError, ValueError) as e:
        raise DataError(path, f"{where} has a bad {key!r}: {value!r}", "a finite number") from e
    return out


def _objects(record: Pascal3DRecord, image: Path, name: str) -> list[Pascal3DObject]:
    ann_path = record.path
    out = []
    for i, obj in enumerate(record.objects):
        where = f"object {i}"
        if isinstance(obj, dict) and "viewpoint" in obj and obj["viewpoint"] is None:
            continue  # annotated without a viewpoint (JSON null, MATLAB []): not usable, not an error
        bbox = read_voc(ann_path, obj.get("bbox") if isinstance(obj, dict) else None, where)
        vp = obj.get("viewpoint")
        if not isinstance(vp, dict):
            raise DataError(ann_path, f"{where} has no viewpoint", "a viewpoint {azimuth, elevation, ...}")
        azimuth = _number(ann_path, vp, "azimuth", where, vp.get("azimuth_coarse"))
        elevation = _number(ann_path, vp, "elevation", where, vp.get("elevation_coarse"))
        distance = _number(ann_path, vp, "distance", where) if vp.get("distance") is not None else None
        coarse = {
            k: _number(ann_path, vp, k, where) if vp.get(k) is not None else None
            for k in ("azimuth_coarse", "elevation_coarse")
        }
        out.append(
            Pascal3DObject(
                image=image,
                cls=str(obj.get("class", "")),
                bbox=bbox,
                azimuth=azimuth,
                elevation=elevation,
                name=name,
                index=i,
                distance=distance,
                image_size=(record.width, record.height),
                truncated=bool(obj.get("truncated", False)),
                occluded=bool(obj.get("occluded", False)),
                difficult=bool(obj.get("difficult", False)),
                **coarse,
            )
        )
    return out


def pascal3d_classes(root: str | Path, split: str = "train", source: str = "imagenet") -> list[str]:
    """The classes that have an image-set file `Image_sets/<cls>_<source>_<split>.txt`, sorted."""
    sets = Path(root) / "Image_sets"
    if not sets.is_dir():
        raise DataError(sets, "folder is missing", f"Image_sets/<cls>_{source}_{split}.txt files")
    pattern = re.compile(rf"^(.+)_{re.escape(source)}_{re.escape(split)}\.txt$")
    classes = sorted(m.group(1) for p in sets.iterdir() if (m := pattern.match(p.name)))
    if not classes:
        raise DataError(sets, f"no image-set file for split {split!r}", f"files <cls>_{source}_{split}.txt")
    return classes


def read_pascal3d(
    root: str | Path,
    split: str = "train",
    source: str = "imagenet",
    classes: list[str] | None = None,
) -> list[Pascal3DObject]:
    """Every annotated object of the images listed for `split`, class by class (sorted), in list order."""
    root = Path(root)
    check_complete(root)
    if not root.is_dir():
        raise DataError(
            root, "folder is missing", "a Pascal3D+ folder with Images/, Annotations/, Image_sets/"
        )
    classes = sorted(classes) if classes is not None else pascal3d_classes(root, split, source)
    out: list[Pascal3DObject] = []
    for cls in classes:
        sub = f"{cls}_{source}"
        names = read_lines(root / "Image_sets" / f"{sub}_{split}.txt", "one image name per line")
        if not names:
            raise DataError(
                root / "Image_sets" / f"{sub}_{split}.txt", "lists no images", "one name per line"
            )
        for name in names:
            record = load_annotation(root / "Annotations" / sub, name)
            image = root / "Images" / sub / record.filename
            if not image.is_file():
                raise DataError(image, f"image of annotation {sub}/{name} is missing", "an image file")
            out.extend(_objects(record, image, name))
    return out
