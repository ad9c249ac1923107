"""Where a command will write, checked before any long work: a folder that is a file, a file name that is a
folder, a folder that cannot be created or written (read-only, no permission), each one error naming the flag.

A disk that fills while a file is written is `disk_full` (`ssl_kit.common.atomic` raises it): the file being
replaced is intact, and the error says how much room is left.
"""

from __future__ import annotations

import errno
import shutil
import tempfile
from pathlib import Path

from ssl_kit.errors import ConfigError, DataError, DiskFullError

# how torch's zip writer reports a write the disk refused (it raises RuntimeError, not OSError)
_TORCH_WRITE_FAILED = ("unexpected pos", "PytorchStreamWriter failed", "file write failed")
_ROOMY = 2**30  # free bytes past which a failed torch write is not taken for a full disk


def writable_folder(path: str | Path, flag: str, create: bool = True) -> Path:
    """`path` as a folder this process can write in (created when missing), else one error naming `flag`.
    Without `create`, only that neither it nor a parent is a file (what a dry run checks: nothing written)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"{flag} {path} is a file, not a folder: give {flag} a folder (or a name not yet taken)"
        )
    for parent in path.parents:  # the first existing parent must be a folder
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(
                    f"{flag} {path}: {parent} is a file, not a folder: give {flag} another path"
                )
            break
    if not create:
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise DataError(
            path, f"cannot write here ({e.strerror or e})", f"a writable folder: give {flag} another"
        ) from None
    return path


def writable_file(path: str | Path, flag: str, example: str = "results.csv") -> Path:
    """`path` as a file name this process can write (its folder created when missing), else one error naming
    `flag`; a folder is refused with the name of a file in it to give instead."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{flag} {path} is a folder; give {flag} a file name (e.g. {path / example})")
    writable_folder(path.parent if str(path.parent) else Path("."), flag)
    return path


def check_room(folder: str | Path, need: int, what: str, flag: str) -> None:
    """Refuse, before any work, to write `what` (about `need` bytes) into `folder` when its disk has less free."""
    folder = Path(folder)
    probe = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    free = shutil.disk_usage(probe).free
    if free < need:
        raise DataError(
            folder,
            f"its disk has {free / 2**20:.1f} MiB free, and {what} takes about {need / 2**20:.1f} MiB",
            f"room for it: free some space, or give {flag} a folder on another disk",
        )


def disk_full(path: str | Path, error: BaseException) -> DiskFullError | None:
    """The error to raise when `error`, raised while writing `path`, says its disk is full (None otherwise)."""
    full = isinstance(error, OSError) and error.errno in (
        errno.ENOSPC,
        getattr(errno, "EDQUOT", errno.ENOSPC),
    )
    torch_full = isinstance(error, RuntimeError) and any(t in str(error) for t in _TORCH_WRITE_FAILED)
    if not (full or torch_full):
        return None
    path = Path(path)
    try:
        free_bytes = shutil.disk_usage(path.parent).free
    except OSError:
        free_bytes = None
    free = "unknown" if free_bytes is None else f"{free_bytes / 2**20:.1f} MiB"
    # torch's words do not say why a write stopped: a disk with room left makes it another write error
    if torch_full and free_bytes is not None and free_bytes > _ROOMY:
        first = (str(error).strip().splitlines() or [""])[0]
        problem = f"could not be written: the write stopped ({first}), with {free} free on its disk"
    else:
        problem = f"could not be written: its disk is full ({free} free once the unfinished file was removed)"
    return DiskFullError(
        path,
        problem,
        f"room for it: free some space (or write elsewhere) and re-run; the {path.name} it would have "
        "replaced, if any, is intact",
    )
