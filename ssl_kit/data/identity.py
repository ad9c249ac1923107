"""What a data folder holds, as one short hash: the part of a cached result's key that says which data.

- A world set (or a folder inside one): the set's `manifest.json` config hash (preset, seed, world version)
  and the sub-folder, so a world rebuilt with another seed or version is other data at the same path.
- A training set the kit wrote from another set (`.done`, `ssl_kit.study.train_sets`): that record, which holds
  the identity of its source.
- Anything else (a real dataset): a fingerprint of its index, every file's path relative to the folder and
  its size (hidden entries left out), so the same files read from another place are the same data.
- A single file (an annotation file, a video): its name, size and modification time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ssl_kit.common.keys import ContentHash, digest
from ssl_kit.data.manifest import MANIFEST

MATERIALIZED = ".done"  # the record a kit-written training set ends with (ssl_kit.study.train_sets)
_UP = 3  # parents searched for a world set's manifest (objects/train/<class> is 2 below `objects`)


def world_set_hash(path: str | Path) -> tuple[str, str] | None:
    """(config hash, path relative to the set) when `path` is a world set or lies inside one, else None."""
    path = Path(path).resolve()
    for folder in [path, *path.parents][: _UP + 1]:
        manifest = folder / MANIFEST
        if manifest.is_file():
            try:
                found = json.loads(manifest.read_text()).get("config_hash")
            except (OSError, json.JSONDecodeError, AttributeError):
                return None
            return (str(found), path.relative_to(folder).as_posix()) if found else None
    return None


def index_fingerprint(folder: str | Path) -> str:
    """A hash of every file under `folder` (relative path and size, hidden entries left out), in a fixed order."""
    root = Path(folder)
    h = ContentHash()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(f for f in filenames if not f.startswith(".")):
            path = Path(dirpath) / name
            try:
                size = path.stat().st_size
            except OSError:  # a dangling link: its name is still part of the index
                size = -1
            h.update(f"{path.relative_to(root).as_posix()}\t{size}\n")
    return h.hexdigest(16)


def data_identity(path: str | Path) -> str:
    """The identity of the data at `path` (see the module docstring); the same for the same data wherever it
    lies, another for other data at the same path."""
    path = Path(path)
    if path.is_file():
        st = path.stat()
        return digest({"file": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    world = world_set_hash(path)
    if world is not None:
        return digest({"world_set": world[0], "sub": world[1]})
    if (path / MATERIALIZED).is_file():
        return digest({"written_set": (path / MATERIALIZED).read_text()})
    if not path.exists():
        return digest({"missing": str(path.resolve())})
    return digest({"index": index_fingerprint(path)})
