"""What a data folder holds, as one short hash: the part of a cached result's key that says which data.

- A world set (or a folder inside one): the set's `manifest.json` config hash (preset, seed, world version)
  and the sub-folder, so a world rebuilt with another seed or version is other data at the same path.
- A training set the kit wrote from another set (`.done`, `ssl_kit.study.train_sets`): that record, which holds
  the identity of its source.
- Anything else (a real dataset): a fingerprint of its index (`index_fingerprint`: every file's path relative to
  the folder, its size and its modification time, hidden entries left out), so files edited, added or removed
  make other data, while the same files copied with their times (`cp -a`, `rsync -a`) stay the same data.
- A single file (an annotation file, a video): its name, size and modification time.

A set the kit writes (a world set, a training set) keeps the fingerprint of its files as written in a hidden
`.files` beside them (`stamp_files`). While the files are those, the set's identity is the one above, the same
for every build of the same world on any machine; once a file is edited, added or removed by hand, the set's
identity adds the fingerprint of what is there now (`edited`), so every run and score on it is made anew.
The fingerprint costs one `stat` a file (`benchmarks/bench_identity.py`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ssl_kit.common.keys import ContentHash, digest
from ssl_kit.data.manifest import MANIFEST

MATERIALIZED = ".done"  # the record a kit-written training set ends with (ssl_kit.study.train_sets)
STAMP = ".files"  # a kit-written set's fingerprint of its files as written
_UP = 3  # parents searched for a world set's manifest (objects/train/<class> is 2 below `objects`)


def world_set_root(path: str | Path) -> Path | None:
    """The world set `path` is or lies inside (the folder of its manifest), else None."""
    path = Path(path).resolve()
    for folder in [path, *path.parents][: _UP + 1]:
        if (folder / MANIFEST).is_file():
            return folder
    return None


def world_set_hash(path: str | Path) -> tuple[str, str] | None:
    """(config hash, path relative to the set) when `path` is a world set or lies inside one, else None."""
    root = world_set_root(path)
    if root is None:
        return None
    try:
        found = json.loads((root / MANIFEST).read_text()).get("config_hash")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    return (str(found), Path(path).resolve().relative_to(root).as_posix()) if found else None


def stamp_files(root: str | Path) -> None:
    """Record the fingerprint of the set's files as they are now (`root/.files`): what `edited` compares with."""
    (Path(root) / STAMP).write_text(
        json.dumps({"files": index_fingerprint(root, frozenset({MANIFEST}))}) + "\n"
    )


def edited(root: str | Path) -> str | None:
    """The fingerprint of a kit-written set's files when they are no longer those it was written with; None when
    they are, or when the set records none (written by an older kit)."""
    try:
        written = json.loads((Path(root) / STAMP).read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    now = index_fingerprint(root, frozenset({MANIFEST}))
    return now if written and now != written else None


def index_fingerprint(folder: str | Path, skip: frozenset[str] = frozenset()) -> str:
    """A hash of every file under `folder` (relative path, size and modification time; hidden entries and the
    top-level names in `skip` left out), in a fixed order."""
    root = os.fspath(folder)
    h = ContentHash()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        lines = []
        for name in sorted(f for f in filenames if not f.startswith(".")):
            if not prefix and name in skip:
                continue
            try:
                st = os.stat(os.path.join(dirpath, name))
                stamp = f"{st.st_size}\t{st.st_mtime_ns}"
            except OSError:  # a dangling link: its name is still part of the index
                stamp = "-1"
            lines.append(f"{prefix}{name}\t{stamp}\n")
        h.update("".join(lines))
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
        changed = edited(world_set_root(path))
        return digest({"world_set": world[0], "sub": world[1], **({"edited": changed} if changed else {})})
    if (path / MATERIALIZED).is_file():
        changed = edited(path)
        return digest(
            {"written_set": (path / MATERIALIZED).read_text(), **({"edited": changed} if changed else {})}
        )
    if not path.exists():
        return digest({"missing": str(path.resolve())})
    return digest({"index": index_fingerprint(path)})
