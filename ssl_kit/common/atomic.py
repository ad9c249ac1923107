"""Atomic file writes: a temporary file in the same folder, flushed, then renamed over the target.

A crash or an error while writing leaves the previous file (or no file) in place, never half a file; a disk
that fills meanwhile is one `DiskFullError` naming the file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ssl_kit.common.removal import remove_inside
from ssl_kit.common.writable import disk_full


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object], fsync: bool = False) -> None:
    """Call `write(f)` on a temporary binary file next to `path`, then rename it to `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        remove_inside(tmp, path.parent)
        full = disk_full(path, e)
        if full is not None:
            raise full from None
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def replace_folder(new: Path, out: Path) -> Path:
    """Put the folder `new` at `out` (both in one parent folder), replacing what is there: the old folder is
    renamed aside first and deleted only once `new` is in place, so an interruption leaves the old folder or the
    new one (under a hidden name beside it), never neither."""
    new, out = Path(new), Path(out)
    if new.parent.resolve() != out.parent.resolve():
        raise ValueError(f"replace_folder swaps folders within one parent folder, not {new} and {out}")
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        os.replace(out, old / out.name)
        os.replace(new, out)
        remove_inside(old, out.parent)
    else:
        os.replace(new, out)
    return out
