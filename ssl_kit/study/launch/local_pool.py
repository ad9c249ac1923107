"""The `local` launcher with `jobs > 1`: a pool of worker processes on this machine, one cell at a time each.

On a small CPU one training cannot keep every core busy through a whole step (data movement, the optimiser, the
single-threaded parts of each op), so two trainings on one thread each finish sooner than the same two one after
the other on two threads (docs/benchmarks.md gives the measurement). The pool is the standard library's
`ProcessPoolExecutor` with fresh (`spawn`) processes, so it works the same from a shell, a notebook kernel or a
test, and no worker inherits the parent's threads. Each task sets its own thread count (`cell_task.run_task`),
so a cell is bit for bit the run a one-process sweep gives on the same threads. The thread count itself changes
the floating-point summation order, and training amplifies that (docs/benchmarks.md gives the size): 2 jobs of
1 thread and 1 job of 2 threads are two equally valid draws, not the same numbers.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from tqdm.auto import tqdm

from ssl_kit.study.launch.cell_task import run_task


def run_pool(tasks: list[dict], jobs: int, progress: bool, desc: str) -> dict[str, dict]:
    """Run every task in a pool of `jobs` processes; cell -> the task's summary (`run_task`), or a failed
    summary naming why the task did not finish (a worker that died)."""
    summaries: dict[str, dict] = {}
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)), mp_context=multiprocessing.get_context("spawn")
    )
    try:
        futures = {pool.submit(run_task, t): t["cell"] for t in tasks}
        with tqdm(total=len(tasks), desc=desc, unit="cell", disable=not progress) as bar:
            remaining = set(futures)
            while remaining:
                done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for future in done:
                    cell = futures[future]
                    try:
                        summaries[cell] = future.result()
                    except BrokenProcessPool as e:
                        why = f"its worker process died ({e}); run the sweep again to retry it"
                        summaries[cell] = {"cell": cell, "status": "died", "error": why}
                    except Exception as e:  # run_task records a cell's own errors; this is the task's
                        summaries[cell] = {
                            "cell": cell,
                            "status": "died",
                            "error": f"{type(e).__name__}: {e}",
                        }
                    bar.update(1)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return summaries
