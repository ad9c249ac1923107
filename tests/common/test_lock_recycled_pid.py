"""A lock names its holder by pid and the process's start time: a lock whose pid now belongs to another live
process (the holder was killed and the pid reused) is taken over; the same pid and start time still hold it."""

from __future__ import annotations

import json
import os
import socket

import pytest

from ssl_kit.common.lock import FolderLocked, file_lock, process_start


def _holder(pid: int, started) -> str:
    return json.dumps({"pid": pid, "host": socket.gethostname(), "since": "then", "started": started})


@pytest.mark.skipif(process_start(1) is None, reason="no /proc/<pid>/stat here")
def test_a_lock_whose_pid_was_recycled_is_taken_over(tmp_path):
    lock = tmp_path / ".lock"
    lock.write_text(
        _holder(1, process_start(1) + 1)
    )  # pid 1 lives, but started at another time than the holder
    with file_lock(lock):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        assert json.loads(lock.read_text())["started"] == process_start(os.getpid())
    lock.write_text(_holder(1, process_start(1)))  # the very process: still held
    with pytest.raises(FolderLocked, match="process 1 on"):
        with file_lock(lock):
            pass
    lock.write_text(_holder(1, None))  # a lock written without a start time: held while its pid lives
    with pytest.raises(FolderLocked):
        with file_lock(lock):
            pass


def test_process_start_of_a_process_that_does_not_exist_is_none():
    assert process_start(2**22 + 12345) is None
