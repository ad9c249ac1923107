"""ALOI (Amsterdam Library of Object Images): one folder per object, one file per factor value.

    <root>/png2/<obj>/<obj>_r<deg>.png     kind "view": viewing angle, deg 0, 5, ..., 355
    <root>/png2/<obj>/<obj>_i<t>.png       kind "col":  illumination colour temperature index, e.g. 110..250
    <root>/png2/<obj>/<obj>_l<l>c<c>.png   kind "ill":  light direction l (1..8), camera c (1..3)

`obj` is the object number (1..N, no zero padding) and must match its folder. `root` may be the folder that
contains `png2/` or `png2/` itself (the other ALOI resolutions `png/`, `png4/`, `png8/` are accepted when
there is no `png2/`). Any numbers are parsed, not only the canonical ones. Hidden entries and
`manifest.json` are ignored; any other stray file or folder is an error, as is a duplicate factor value.
Entries are sorted by object number, then by factor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_kit.data.manifest import MANIFEST, check_complete
from ssl_kit.errors import DataError

KINDS = ("view", "col", "ill")
_PATTERNS = {
    "view": re.compile(r"^(\d+)_r(\d+)\.png$", re.IGNORECASE),
    "col": re.compile(r"^(\d+)_i(\d+)\.png$", re.IGNORECASE),
    "ill": re.compile(r"^(\d+)_l(\d+)c(\d+)\.png$", re.IGNORECASE),
}
_EXAMPLES = {"view": "<obj>_r<deg>.png", "col": "<obj>_i<t>.png", "ill": "<obj>_l<l>c<c>.png"}
_IMAGE_DIRS = ("png2", "png", "png4", "png8")


@dataclass
class AloiIndex:
    """All images of one ALOI kind, sorted by (object, factor)."""

    root: Path  # the png2/ folder
    kind: str
    paths: list[Path]
    objects: np.ndarray  # (N,) int64 object numbers
    factors: np.ndarray  # view/col: (N,) int64; ill: (N, 2) int64 (l, c) pairs

    def __len__(self) -> int:
        return len(self.paths)


def _ignored(path: Path) -> bool:
    return path.name.startswith(".") or path.name == MANIFEST


def aloi_image_dir(root: str | Path) -> Path:
    """The folder holding the numbered object folders: `root/png2` (or png/png4/png8), or `root` itself."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "folder is missing", "an ALOI folder containing png2/<obj>/ folders")
    if root.name in _IMAGE_DIRS:
        return root
    for name in _IMAGE_DIRS:
        if (root / name).is_dir():
            return root / name
    raise DataError(
        root, "no png2/ folder inside", "an ALOI folder containing png2/<obj>/ folders, or png2/ itself"
    )


def _object_dirs(base: Path) -> list[tuple[int, Path]]:
    dirs: list[tuple[int, Path]] = []
    for p in base.iterdir():
        if _ignored(p):
            continue
        if not (p.is_dir() and p.name.isdigit()):
            raise DataError(p, "unexpected entry in the ALOI image folder", "only numbered object folders")
        dirs.append((int(p.name), p))
    if not dirs:
        raise DataError(base, "folder holds no object folders", "numbered object folders 1/, 2/, ...")
    return sorted(dirs)


def _match_kind(name: str) -> str | None:
    for kind, pattern in _PATTERNS.items():
        if pattern.match(name):
            return kind
    return None


def detect_aloi_kind(root: str | Path) -> str:
    """Guess "view", "col" or "ill" from the first image file name of the first object folder."""
    base = aloi_image_dir(root)
    for _, folder in _object_dirs(base):
        for p in sorted(folder.iterdir()):
            if _ignored(p):
                continue
            kind = _match_kind(p.name)
            if kind is None:
                raise DataError(p, "file name matches no ALOI kind", " or ".join(_EXAMPLES.values()))
            return kind
    raise DataError(
        base, "object folders hold no image files", "files like " + " or ".join(_EXAMPLES.values())
    )


def _read_object(obj: int, folder: Path, kind: str) -> list[tuple[tuple[int, ...], Path]]:
    pattern = _PATTERNS[kind]
    entries: dict[tuple[int, ...], Path] = {}
    for p in folder.iterdir():
        if _ignored(p):
            continue
        m = pattern.match(p.name) if p.is_file() else None
        if m is None:
            raise DataError(p, f"unexpected entry for ALOI kind {kind!r}", f"files named {_EXAMPLES[kind]}")
        if int(m.group(1)) != obj:
            raise DataError(p, f"object number {int(m.group(1))} does not match its folder", f"object {obj}")
        factor = tuple(int(g) for g in m.groups()[1:])
        if factor in entries:
            raise DataError(
                p, f"duplicate factor value {factor} (also {entries[factor].name})", "one file per value"
            )
        entries[factor] = p
    if not entries:
        raise DataError(folder, "object folder holds no images", f"files named {_EXAMPLES[kind]}")
    return sorted(entries.items())


def read_aloi(root: str | Path, kind: str | None = None) -> AloiIndex:
    """Index an ALOI set of one kind ("view", "col" or "ill"; None -> `detect_aloi_kind`)."""
    check_complete(root)
    base = aloi_image_dir(root)
    if kind is None:
        kind = detect_aloi_kind(base)
    if kind not in KINDS:
        raise ValueError(f"unknown ALOI kind {kind!r}; expected one of {KINDS}")
    paths: list[Path] = []
    objects: list[int] = []
    factors: list[tuple[int, ...]] = []
    for obj, folder in _object_dirs(base):
        for factor, path in _read_object(obj, folder, kind):
            paths.append(path)
            objects.append(obj)
            factors.append(factor)
    f = np.asarray(factors, dtype=np.int64)
    return AloiIndex(
        root=base,
        kind=kind,
        paths=paths,
        objects=np.asarray(objects, dtype=np.int64),
        factors=f if kind == "ill" else f[:, 0],
    )
