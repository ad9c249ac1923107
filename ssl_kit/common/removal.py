"""The one way the kit deletes a file or a folder: `remove_inside(path, folder)`.

Each caller names the folder it owns where it deletes (a run folder, a world set, a results folder, a cache),
and a `path` that does not lie strictly inside that folder is refused with `RemovalRefused`, after resolving `..`
and links on the way (the entry itself is not followed: a link is removed as a link). A path built from a name a
user typed therefore cannot reach out of the folder, whatever the name. `tests/project/test_removal_sites.py`
pins every call: no other module of the kit calls `shutil.rmtree`, `unlink`, `rmdir` or `os.remove`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ssl_kit.errors import SSLKitError


class RemovalRefused(SSLKitError):
    """A deletion outside the folder its caller owns (a bug, or a path built from a hostile name)."""


def inside(path: str | Path, folder: str | Path) -> bool:
    """Whether `path` (its parent resolved, the entry itself not followed) lies strictly inside `folder`."""
    path = Path(path)
    entry = path.parent.resolve() / path.name
    owner = Path(folder).resolve()
    return entry != owner and owner in entry.parents and path.name not in ("", ".", "..")


def remove_inside(path: str | Path, folder: str | Path, missing_ok: bool = True) -> None:
    """Delete the file, link or folder `path`, which must lie inside `folder` (else `RemovalRefused`)."""
    path = Path(path)
    if not inside(path, folder):
        raise RemovalRefused(
            f"refusing to delete {path}: it is not inside {folder}, the folder this step owns"
        )
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=missing_ok)
    elif path.is_dir():
        shutil.rmtree(path)
    elif not missing_ok:
        raise FileNotFoundError(path)
