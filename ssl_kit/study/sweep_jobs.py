"""Cells side by side: a sweep run as `jobs` processes that share the CPU's threads.

On a small CPU one training cannot keep every core busy through a whole step (data movement, the optimiser, the
single-threaded parts of each op), so two trainings on one thread each finish sooner than the same two one after
the other on two threads (docs/benchmarks.md gives the measurement). `side_by_side` starts
`jobs - 1` helper processes running the same sweep (`python -c`, so it works the same from a shell, a notebook
kernel or a test); every process walks the cells in order and a cell is trained by whichever process locks it
first (the sweep's cell lock), so the work splits itself with no scheduler. Each process gets
`cpu_count // jobs` threads. The caller then gathers every cell's result once the helpers are done.

`sweep_jobs()` is the default: `SSL_KIT_SWEEP_JOBS` when set (what `reproduce --jobs` sets for its notebooks),
else 1. A cell's run is the same config, seeds and steps whichever process trains it, and bit for bit the run a
one-job sweep gives on the same number of threads (tested). The thread count itself changes the floating-point
summation order, and training amplifies that (docs/benchmarks.md gives the size): a sweep on 2 jobs of 1 thread and one
on 1 job of 2 threads are two equally valid draws, not the same numbers.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import torch

from ssl_kit.study.grid import grid_to_json

ENV = "SSL_KIT_SWEEP_JOBS"


def sweep_jobs() -> int:
    """Cells a sweep runs at once by default: `SSL_KIT_SWEEP_JOBS`, else 1."""
    value = os.environ.get(ENV, "1")
    try:
        jobs = int(value)
    except ValueError:
        raise ValueError(f"{ENV} must be a whole number of jobs, not {value!r}") from None
    if jobs < 1:
        raise ValueError(f"{ENV} must be at least 1, got {jobs}")
    return jobs


def threads_per_job(jobs: int) -> int:
    return max(1, (os.cpu_count() or 1) // jobs)


# what a helper runs (`ssl_kit.study.sweep.sweep_helper`), named in a string: a new process, not an import here
_HELPER = "import sys; from ssl_kit.study.sweep import sweep_helper; sweep_helper(sys.argv[1])"


@contextlib.contextmanager
def side_by_side(grid, out: Path, world: Path | None, folder: Path, jobs: int) -> Iterator[None]:
    """Run `jobs - 1` helpers on the sweep while the `with` block runs this process's share on its threads;
    on leaving, wait for the helpers (or stop them, if the block raised). Their output goes to
    `folder/helper-<k>.log`."""
    threads = threads_per_job(jobs)
    helpers, logs = [], []
    for k in range(1, jobs):
        task = folder / f".helper-{k}.json"
        payload = {
            "grid": grid_to_json(grid),
            "out": str(out),
            "world": None if world is None else str(world),
        }
        task.write_text(json.dumps({**payload, "threads": threads}))
        log = open(folder / f"helper-{k}.log", "w")  # noqa: SIM115 (closed below, after the process ends)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), ENV: "1"}
        helpers.append(
            subprocess.Popen([sys.executable, "-c", _HELPER, str(task)], stdout=log, stderr=log, env=env)
        )
        logs.append(log)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    except BaseException:
        for h in helpers:
            h.terminate()
        raise
    finally:
        torch.set_num_threads(before)
        for h in helpers:
            h.wait()
        for log in logs:
            log.close()
        for k in range(1, jobs):
            (folder / f".helper-{k}.json").unlink(missing_ok=True)
