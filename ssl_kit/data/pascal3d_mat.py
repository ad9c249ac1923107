"""Pascal3D+ release 1.1 `.mat` annotations, read into the same `Pascal3DRecord` as the JSON form.

    Annotations/<cls>_<source>/<name>.mat holds one MATLAB struct `record`:
        record.filename                     "<name>.JPEG"
        record.size.width/.height/.depth    image size in pixels
        record.objects(i).class             "car", ... (the pascal subsets also list other VOC classes)
        record.objects(i).bbox              [x1 y1 x2 y2], 1-based inclusive pixel corners (Pascal VOC)
        record.objects(i).truncated/.occluded/.difficult   0/1
        record.objects(i).viewpoint         struct with azimuth_coarse, elevation_coarse, azimuth,
                                            elevation, distance (and theta, px, py, focal, ...),
                                            or [] for an object without a viewpoint annotation

What was checked, and against what (public code that reads the released files; no .mat file could be opened
here, so the tests use files written by `scipy.io.savemat` in this structure):
- the field names above: the PASCAL3D+ toolbox's own MATLAB scripts (`anno.record.objects`,
  `obj.viewpoint.azimuth/elevation/distance/theta`, `obj.truncated/occluded/difficult`, `record.imgsize`),
  the evaluation code released with the paper (`record.objects(k).viewpoint.azimuth_coarse`,
  `.elevation_coarse`, `.bbox`), and a Python reader's field list (`record.size.width/height/depth`).
- objects with an empty viewpoint exist: the toolbox and ViewpointsAndKeypoints skip them with
  `~isempty(record.objects(k).viewpoint)`; other Python readers skip `not obj['viewpoint']`.
Not checked: whether every object with a viewpoint also has the fine `azimuth`/`elevation` (some readers
fall back to the coarse fields, some skip objects whose `distance` is 0); here the fine value is used when
present, else the coarse one, exactly as for the JSON form (the coarse angles are kept too).

Conventions shared with the JSON form (see `pascal3d.py`): `bbox` is passed through unchanged, so it stays in
the files' 1-based inclusive pixel corners for both formats (the synthetic world writes the same convention);
a viewpoint given as `[]` becomes `None` (the reader skips that object and keeps the others' positions);
a viewpoint field that is itself empty is left out, so the coarse value can stand in for a missing fine one;
`truncated`, `occluded` and `difficult` are copied as booleans when the file has them.

scipy is imported on first use, so importing `ssl_kit.data` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ssl_kit.data.pascal3d_record import Pascal3DRecord
from ssl_kit.errors import DataError

MAT_EXPECTED = (
    "a MATLAB struct `record` with filename, size.width/height and objects(i).class/bbox/viewpoint "
    "(Pascal3D+ release 1.1)"
)
FLAGS = ("truncated", "occluded", "difficult")
VIEWPOINT_FIELDS = ("azimuth_coarse", "elevation_coarse", "azimuth", "elevation", "distance", "theta")


def _is_empty(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.size == 0


def _field(path: Path, struct: Any, name: str, where: str) -> Any:
    """`struct.<name>`, or a DataError naming the file, the struct and the missing field."""
    fields = getattr(struct, "_fieldnames", None)
    if fields is None:
        raise DataError(path, f"{where} is not a struct ({type(struct).__name__})", MAT_EXPECTED)
    if name not in fields:
        raise DataError(path, f"{where} has no {name!r} field (fields: {', '.join(fields)})", MAT_EXPECTED)
    return getattr(struct, name)


def _scalar(path: Path, value: Any, where: str) -> float:
    try:
        arr = np.asarray(value, dtype=np.float64)
        if arr.size != 1:
            raise ValueError(f"{arr.size} values")
        return float(arr.reshape(()))
    except (TypeError, ValueError) as e:
        raise DataError(path, f"{where} is not a number: {value!r}", "a single number") from e


def _string(path: Path, value: Any, where: str) -> str:
    if _is_empty(value):
        return ""
    if isinstance(value, str):
        return value
    raise DataError(path, f"{where} is not a string: {value!r}", "a MATLAB char array")


def _viewpoint(path: Path, value: Any, where: str) -> dict[str, float] | None:
    if _is_empty(value):
        return None
    fields = getattr(value, "_fieldnames", None)
    if fields is None:
        raise DataError(path, f"{where} is neither a struct nor []: {value!r}", "a viewpoint struct or []")
    out = {}
    for name in fields:
        v = getattr(value, name)
        if name in VIEWPOINT_FIELDS and not _is_empty(v):
            out[name] = _scalar(path, v, f"{where}.{name}")
    return out


def _object(path: Path, obj: Any, i: int) -> dict[str, Any]:
    where = f"record.objects({i + 1})"  # MATLAB's 1-based index, as a MATLAB user would look it up
    box = _field(path, obj, "bbox", where)
    try:
        bbox = np.asarray(box, dtype=np.float64).ravel().tolist()
    except (TypeError, ValueError) as e:
        raise DataError(path, f"{where}.bbox is not numeric: {box!r}", "[x1 y1 x2 y2]") from e
    out: dict[str, Any] = {
        "class": _string(path, _field(path, obj, "class", where), f"{where}.class"),
        "bbox": bbox,
    }
    if "viewpoint" in obj._fieldnames:  # absent -> the reader reports "object i has no viewpoint"
        out["viewpoint"] = _viewpoint(path, obj.viewpoint, f"{where}.viewpoint")
    for flag in FLAGS:
        if flag in obj._fieldnames and not _is_empty(getattr(obj, flag)):
            out[flag] = bool(_scalar(path, getattr(obj, flag), f"{where}.{flag}"))
    return out


def _load(path: Path) -> dict[str, Any]:
    from scipy.io import loadmat  # deferred: scipy.io only for .mat files, so ssl_kit.data stays light
    from scipy.io.matlab import MatReadError

    try:
        return loadmat(path, squeeze_me=True, struct_as_record=False)
    except (OSError, ValueError, TypeError, NotImplementedError, MatReadError) as e:
        raise DataError(path, f"cannot read MATLAB file ({type(e).__name__}: {e})", MAT_EXPECTED) from e


def load_mat_record(path: Path) -> Pascal3DRecord:
    """Parse one Pascal3D+ `.mat` annotation file (see the module docstring for the structure)."""
    path = Path(path)
    data = _load(path)
    if "record" not in data:
        names = ", ".join(k for k in data if not k.startswith("__")) or "none"
        raise DataError(path, f"no 'record' variable (variables: {names})", MAT_EXPECTED)
    rec = data["record"]
    size = _field(path, rec, "size", "record")
    objects = _field(path, rec, "objects", "record")
    if _is_empty(objects):
        items: list[Any] = []
    elif isinstance(objects, np.ndarray):
        items = list(objects.ravel())
    else:
        items = [objects]  # squeeze_me turns a one-object struct array into the struct itself
    return Pascal3DRecord(
        filename=_string(path, _field(path, rec, "filename", "record"), "record.filename"),
        width=int(_scalar(path, _field(path, size, "width", "record.size"), "record.size.width")),
        height=int(_scalar(path, _field(path, size, "height", "record.size"), "record.size.height")),
        objects=[_object(path, obj, i) for i, obj in enumerate(items)],
        path=path,
    )
