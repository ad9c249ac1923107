"""One writer per folder: a lock file created exclusively, holding the writer's pid and host.

`file_lock(path)` creates `path` with O_EXCL and writes who holds it (pid, host, the process's start time,
command); it is removed when the `with` block ends, however it ends. A lock whose process is gone (same host,
pid no longer running, or running a process that started at another time: a killed run whose pid was reused) is
taken over; a live one raises `FolderLocked` naming its holder, or with `wait=True`
is waited for (a training set another sweep is writing). `folder_lock(folder)` is `file_lock(folder/.lock)`.

Deciding and creating happen under an advisory `flock` on the lock's folder (where the OS has one), so two
processes that both find a stale lock cannot both take it over. Locks are re-entrant within one process: a
sweep holds its cell's run folder and the trainer it calls takes the same lock again.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ssl_kit.common.removal import remove_inside
from ssl_kit.errors import DataError, SSLKitError

try:
    import fcntl
except ImportError:  # Windows: no advisory lock on the folder, the exclusive create alone
    fcntl = None

LOCK = ".lock"
_HELD: dict[str, int] = {}  # resolved lock path -> nesting depth, in this process


class FolderLocked(SSLKitError):
    """Another live process holds the lock."""

    def __init__(self, path: Path, holder: dict, what: str):
        self.path, self.holder = path, holder
        if "pid" not in holder:  # empty, or not a lock the kit wrote: nobody to name
            super().__init__(
                f"{path.parent} is locked by {path}, which names no process (it is empty or was not written "
                f"by ssl_kit, e.g. left by a process killed as it took the lock); if no ssl_kit command is "
                f"writing this {what}, delete {path} and re-run the same command"
            )
            return
        who = f"process {holder['pid']} on {holder.get('host', '?')}"
        since = holder.get("since")
        super().__init__(
            f"{path.parent} is in use: {who} is writing this {what}"
            + (f" (since {since})" if since else "")
            + f"; wait for it to finish, or if that process is gone on another machine, delete {path}"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, under another user
        return True
    return True


def _read(path: Path) -> dict | None:
    """The holder written in `path`; None if the file is gone, {} if it is not a lock the kit wrote."""
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def process_start(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot (`/proc/<pid>/stat`), or None where the OS does not
    say: with the pid, it names one process, where a pid alone is reused once its process ends."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:  # the fields after the command, which may hold spaces and parentheses, closed by the last ")"
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def _stale(holder: dict) -> bool:
    """True when the holder is known to be gone: same host and its pid no longer runs, or runs a process that
    started at another time than the holder (a pid recycled after a kill), or is this process without holding
    the lock."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False
    if pid == os.getpid() or not _alive(pid):
        return True
    started = holder.get("started")
    return isinstance(started, int) and process_start(pid) not in (None, started)


@contextlib.contextmanager
def _guard(folder: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


def _try_acquire(path: Path, info: dict) -> dict | None:
    """Create the lock; None on success, else the live holder."""
    with _guard(path.parent):
        for _ in range(3):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _read(path)
                if holder is None:
                    continue  # released meanwhile
                if not _stale(holder):
                    return holder
                remove_inside(path, path.parent)  # its process is gone: take it over
                continue
            except OSError as e:  # not FileExistsError: a read-only or full folder
                raise DataError(
                    path, f"cannot create the lock ({e.strerror or e})", "a writable folder"
                ) from e
            with os.fdopen(fd, "w") as f:
                json.dump(info, f)
            return None
    return _read(path) or {}


def _release(path: Path, token: str) -> None:
    with _guard(path.parent):
        if (_read(path) or {}).get("token") == token:
            remove_inside(path, path.parent)


@contextlib.contextmanager
def file_lock(
    path: str | Path, what: str = "folder", wait: bool = False, poll: float = 1.0
) -> Iterator[Path]:
    """Hold the lock file `path` for the `with` block (see the module docstring)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(path.parent, f"cannot write here ({e.strerror or e})", "a writable folder") from e
    key = str(path.resolve())
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield path
        finally:
            _HELD[key] -= 1
        return
    token = secrets.token_hex(8)
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join(sys.argv)[:300],
        "token": token,
        "started": process_start(os.getpid()),
    }
    noted = False
    while (holder := _try_acquire(path, info)) is not None:
        if not wait or "pid" not in holder:  # a lock naming no process is never released: waiting is no use
            raise FolderLocked(path, holder, what)
        if not noted:
            print(f"waiting: process {holder.get('pid')} is writing {path.parent} ({what})", file=sys.stderr)
            noted = True
        time.sleep(poll)
    _HELD[key] = 1
    try:
        yield path
    finally:
        del _HELD[key]
        _release(path, token)


def folder_lock(
    folder: str | Path, what: str = "folder", wait: bool = False
) -> contextlib.AbstractContextManager:
    """`file_lock(folder / ".lock")`: one writer for the whole folder."""
    return file_lock(Path(folder) / LOCK, what, wait)
