"""The `slurm` launcher: one SLURM job array through submitit, one task per cell.

`run_array` submits every unfinished cell as one `sbatch --array` (submitit's `map_array`, so a 100-cell grid is
one submission of a few seconds), with `cpus_per_cell` CPUs, `gpus_per_cell` GPUs, `mem_gb`, `time_min` and
`partition` per task and at most `jobs` tasks running at once. Logs go to `<sweep folder>/slurm/<job>_<task>/`.
It then watches the queue (`squeue`, every `poll_s` seconds) until every task has left it; what the tasks did
is read from the kit's own cell records, never from SLURM's accounting (which many clusters keep off).

Preemption and time limits: submitit asks SLURM to send SIGUSR2 shortly before a task's time limit, and a
preempted task gets the same signal. `SlurmCell` hands it to the training (`ssl_kit.training.preemption`): the
run is checkpointed after its current step, and submitit then checkpoints the task itself (the same cell task)
and requeues it (`scontrol requeue`); the requeued task resumes the run from that checkpoint. A signal that
arrives while no training runs (the cell is being scored) requeues at once: the run is already saved.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from ssl_kit.errors import ConfigError
from ssl_kit.study.launch.cell_task import run_task
from ssl_kit.study.launch.options import LaunchOptions
from ssl_kit.training import preemption

LOG_LINES = 12  # a task that ended without a record is reported with this many last lines of its log


def _submitit():
    try:
        import submitit
    except ImportError:
        raise ConfigError(
            "--launcher slurm needs submitit: pip install submitit (or the kit's `cluster` extra)"
        ) from None
    return submitit


def _cell_class():
    submitit = _submitit()

    class SlurmCell(submitit.helpers.Checkpointable):
        """One cell's task; submitit checkpoints it (itself, with its task) and requeues it when preempted."""

        def __call__(self, task: dict) -> dict:
            usr = submitit.JobEnvironment._usr_sig()
            requeue = signal.getsignal(usr)  # submitit's: checkpoint this task, requeue it, exit

            def on_signal(signum, frame):
                if preemption.training_active():
                    preemption.request()  # the run is checkpointed after its current step
                else:
                    requeue(signum, frame)

            signal.signal(usr, on_signal)
            try:
                return run_task(task)
            except preemption.Preempted as stopped:
                print(stopped, flush=True)  # in the task's log
                requeue(usr, None)
                raise

    return SlurmCell


def executor(folder: Path, opts: LaunchOptions, name: str):
    """submitit's SLURM executor for `opts`, its logs under `folder`."""
    submitit = _submitit()
    ex = submitit.AutoExecutor(folder=folder / "%j", cluster="slurm")
    params = {
        "name": f"ssl_kit-{name}",
        "timeout_min": opts.time_min,
        "cpus_per_task": opts.threads(),
        "tasks_per_node": 1,
        "nodes": 1,
    }
    if opts.gpus_per_cell:
        params["gpus_per_node"] = opts.gpus_per_cell
    if opts.mem_gb:
        params["mem_gb"] = opts.mem_gb
    if opts.partition:
        params["slurm_partition"] = opts.partition
    if opts.jobs:
        params["slurm_array_parallelism"] = opts.jobs
    ex.update_parameters(**params)
    return ex


def submit(tasks: list[dict], opts: LaunchOptions, folder: Path, name: str) -> list:
    """Submit `tasks` as one job array; its jobs, in the tasks' order."""
    ex = executor(folder, opts, name)
    try:
        return ex.map_array(_cell_class()(), tasks)
    except FileNotFoundError as e:
        raise ConfigError(
            f"--launcher slurm: {e.filename or 'sbatch'} was not found: is this a SLURM login node?"
        ) from None
    except subprocess.CalledProcessError as e:
        said = (e.output or b"").decode(errors="replace").strip().splitlines()[-3:]
        raise ConfigError(f"--launcher slurm: sbatch refused the array: {' '.join(said) or e}") from None


def queued(array: str) -> set[str] | None:
    """The tasks of job array `array` still in the queue (`<array>_<task>`), or None if squeue did not answer."""
    try:
        out = subprocess.run(
            ["squeue", "--noheader", "--array", "--jobs", array, "--format", "%i"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        # a job the controller has already forgotten is "Invalid job id": nothing of it is queued
        return set() if "Invalid job id" in out.stderr else None
    return {line.strip() for line in out.stdout.splitlines() if line.strip()}


def log_tail(job, lines: int = LOG_LINES) -> str:
    """The last lines of a task's output and error logs."""
    tail = []
    for path in (job.paths.stdout, job.paths.stderr):
        if Path(path).is_file():
            tail += Path(path).read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(tail[-lines:]) or f"(no log at {job.paths.stderr})"


def run_array(
    tasks: list[dict], opts: LaunchOptions, folder: Path, name: str, progress: bool, recorded
) -> dict[str, dict]:
    """Submit `tasks` as one array and wait until each has left the queue; cell -> summary. `recorded(cell)`
    says whether a cell's record is there: a task gone without one is reported with its log's last lines."""
    jobs = submit(tasks, opts, folder, name)
    array = str(jobs[0].job_id).split("_")[0]
    tqdm.write(f"sweep {name}: {len(tasks)} cell(s) submitted to SLURM as job array {array} (logs: {folder})",
               file=sys.stderr)  # fmt: skip
    waiting = {str(j.job_id): (t["cell"], j) for t, j in zip(tasks, jobs, strict=True)}
    summaries: dict[str, dict] = {}
    try:
        with tqdm(total=len(tasks), desc=f"sweep {name} on slurm", unit="cell", disable=not progress) as bar:
            while waiting:
                live = queued(array)
                for job_id in [] if live is None else [j for j in waiting if j not in live]:
                    cell, job = waiting.pop(job_id)
                    if recorded(cell):
                        summaries[cell] = {"cell": cell, "status": "done", "error": ""}
                    else:
                        why = f"SLURM task {job_id} ended without a record; the last lines of its log:\n"
                        summaries[cell] = {"cell": cell, "status": "died", "error": why + log_tail(job)}
                    bar.update(1)
                if waiting:
                    time.sleep(opts.poll_s)
    except KeyboardInterrupt:
        tqdm.write(
            f"stopped watching: job array {array} goes on in SLURM (`squeue -j {array}`; `scancel {array}` stops "
            "it); run the same sweep again to gather what it finished",
            file=sys.stderr,
        )
        raise
    return summaries
