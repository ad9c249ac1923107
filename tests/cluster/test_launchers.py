"""The same smoke grid through the three launchers gives the same records: a real one-node SLURM cluster
(submitit, one job-array task per cell, a task preempted by `scancel --signal=USR2` and requeued) and a real local
Ray cluster, each against the local launcher with the same threads per cell (1)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import pytest
import torch
from helpers.cluster_log import say

from ssl_kit.common.tidy import read_rows
from ssl_kit.runs import rundir
from ssl_kit.study.grid import parse_grid
from ssl_kit.study.launch import slurm_array
from ssl_kit.study.launch.options import LaunchOptions
from ssl_kit.study.sweep import cell_runs, run_sweep

pytestmark = pytest.mark.cluster
CELLS = ["mocov2-s0", "no_crop-s0", "crop_0.8-s0"]


def _grid(name: str = "g", steps: int = 3, **extra):
    return parse_grid({
        "name": name,
        "scale": "smoke",
        "seeds": [0],
        "policy": ["mocov2", "no_crop", "crop_0.8"],
        "config": {"steps": steps, "batch_size": 8, "queue_size": 16, "log_every": 1},
        "evaluate": {"protocols": ["viewpoint"], "top_k": [10], "linear": False},
        **extra,
    })  # fmt: skip


def _losses(run) -> list:
    rows = [json.loads(line) for line in (run / rundir.METRICS).read_text().splitlines()]
    return [(r["step"], r["loss"]) for r in rows if "loss" in r]


def assert_same_records(a, b, what: str) -> None:
    """Scores (results.csv, which holds no timing), the trained weights and the training losses, bit for bit."""
    assert read_rows(a.csv) == read_rows(b.csv), what
    for cell in (c for c in CELLS if c in a.runs):
        wa, wb = rundir.load_checkpoint(a.run(cell))["model"], rundir.load_checkpoint(b.run(cell))["model"]
        assert all(torch.equal(v, wb[k]) for k, v in wa.items()), (what, cell)
        assert _losses(a.run(cell)) == _losses(b.run(cell)), (what, cell)
    say(
        f"records equal: {what} ({len(read_rows(a.csv))} rows of scores, weights and losses of {len(a.runs)} runs)"
    )


@pytest.fixture(scope="module")
def local(smoke_world, tmp_path_factory):
    start = time.perf_counter()
    result = run_sweep(_grid(), tmp_path_factory.mktemp("local"), smoke_world, progress=False,
                       launch=LaunchOptions(jobs=2, cpus_per_cell=1))  # fmt: skip
    say(
        f"local: {len(result.runs)} cells trained and scored by 2 worker processes in {time.perf_counter() - start:.1f} s"
    )
    assert not result.failed
    return result


def test_slurm_runs_the_grid_as_one_array_with_the_local_records(
    slurm, local, smoke_world, tmp_path, monkeypatch
):
    opts = LaunchOptions("slurm", cpus_per_cell=1, poll_s=0.5, time_min=20)
    start = time.perf_counter()
    result = run_sweep(_grid(), tmp_path, smoke_world, progress=False, launch=opts)
    tasks = [p for p in (tmp_path / "g" / "slurm").iterdir() if re.fullmatch(r"\d+_\d+", p.name)]
    say(
        f"slurm: {len(result.rows)} rows from {len(tasks)} array tasks in {time.perf_counter() - start:.1f} s"
    )
    assert not result.failed and not result.busy
    assert_same_records(local, result, "slurm = local")

    def no_submission(*args, **kwargs):
        raise AssertionError("a grid whose cells are all done submitted an array")

    monkeypatch.setattr(slurm_array, "submit", no_submission)
    again = run_sweep(_grid(), tmp_path, smoke_world, progress=False, launch=opts)
    assert read_rows(again.csv) == read_rows(result.csv)
    say("slurm: the same grid again, every cell done: nothing submitted")


def _job_of(name: str) -> str:
    out = subprocess.run(
        ["squeue", "-h", "-n", f"ssl_kit-{name}", "-o", "%i %T"], capture_output=True, text=True
    )
    running = [line.split()[0] for line in out.stdout.splitlines() if line.endswith("RUNNING")]
    return running[0] if running else ""


def _in_background(grid, out, world, opts) -> tuple[threading.Thread, dict]:
    """`run_sweep` in a thread (it waits on SLURM); its result lands in the dict under "result"."""
    done = {}
    thread = threading.Thread(
        target=lambda: done.update(result=run_sweep(grid, out, world, progress=False, launch=opts))
    )
    thread.start()
    return thread, done


def _training_job(run, name: str, steps: int, deadline: float) -> str:
    """The running SLURM task of grid `name` once its run has logged `steps` steps."""
    while time.time() < deadline and not (
        (run / rundir.METRICS).is_file() and len(_losses(run)) >= steps and _job_of(name)
    ):
        time.sleep(0.2)
    job = _job_of(name)
    assert job, "the task never started training"
    return job


def _state(job: str) -> str:
    out = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T %r"], capture_output=True, text=True)
    return out.stdout.strip()


def _restarts(job: str) -> int:
    out = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True).stdout
    found = re.search(r"Restarts=(\d+)", out)
    return int(found.group(1)) if found else 0


def test_a_slurm_task_signalled_by_scancel_is_checkpointed_requeued_and_resumed(
    slurm, smoke_world, tmp_path_factory
):
    """`scancel --signal=USR2` (what SLURM sends before a time limit or a preemption) reaches the training: the
    run is checkpointed after its step, submitit requeues the task, and the requeued task resumes the run. The
    result is bit for bit the uninterrupted run's."""
    grid = _grid(
        "long", steps=60, policy=["mocov2"], evaluate={"protocols": [], "linear": False, "random_init": False}
    )
    base = run_sweep(grid, tmp_path_factory.mktemp("base"), smoke_world, progress=False,
                     launch=LaunchOptions(cpus_per_cell=1))  # fmt: skip
    out = tmp_path_factory.mktemp("preempted")
    run = cell_runs(grid, out, smoke_world)["mocov2-s0"]
    opts = LaunchOptions("slurm", cpus_per_cell=1, poll_s=0.5, time_min=20)
    sweep, done = _in_background(grid, out, smoke_world, opts)
    deadline = time.time() + 300
    job = _training_job(run, "long", 5, deadline)
    subprocess.run(["scancel", "--signal=USR2", job], check=True)
    say(f"slurm: scancel --signal=USR2 {job} at step {len(_losses(run))} of 60")
    while time.time() < deadline and _restarts(job) < 1:
        time.sleep(0.2)
    assert _restarts(job) == 1, "the task was not requeued"
    # SLURM holds a requeued job for about two minutes before it may start again: release it once it waits
    while time.time() < deadline and _state(job) != "PENDING BeginTime":
        time.sleep(0.2)
    subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], check=True)
    say(f"slurm: task {job} requeued (Restarts=1), released from SLURM's hold on a requeued job")
    sweep.join(timeout=300)
    result = done["result"]
    assert not result.failed, result.failed
    log = next((out / "long" / "slurm").glob(f"{job}/*_log.out")).read_text()
    stopped = re.search(r"stopped as asked after step (\d+)", log)
    assert "Caught signal SIGUSR2" in log and "Requeued job" in log and stopped, log[-2000:]
    assert 5 <= int(stopped.group(1)) < 60
    losses = _losses(run)
    assert [s for s, _ in losses] == list(range(1, 61))  # every step once: resumed, not restarted
    say(f"slurm: task {job} checkpointed at step {stopped.group(1)}, requeued and resumed to step 60")
    a, b = rundir.load_checkpoint(base.run("mocov2-s0"))["model"], rundir.load_checkpoint(run)["model"]
    assert all(torch.equal(v, b[k]) for k, v in a.items())
    assert losses == _losses(base.run("mocov2-s0"))
    say("records equal: slurm preempted and requeued = local uninterrupted (weights and the 60 losses)")


def test_ray_runs_the_grid_with_the_local_records(ray_cluster, local, smoke_world, tmp_path):
    start = time.perf_counter()
    opts = LaunchOptions("ray", cpus_per_cell=1, address=ray_cluster)
    result = run_sweep(_grid(), tmp_path, smoke_world, progress=False, launch=opts)
    say(
        f"ray: {len(result.rows)} rows from {len(result.runs) + 1} tasks in {time.perf_counter() - start:.1f} s"
    )
    assert not result.failed and not result.busy
    assert_same_records(local, result, "ray = local")


def test_a_slurm_task_killed_without_a_record_is_reported_with_its_log_and_retried(
    slurm, smoke_world, tmp_path
):
    grid = _grid(
        "killed",
        steps=60,
        policy=["mocov2"],
        evaluate={"protocols": [], "linear": False, "random_init": False},
    )
    opts = LaunchOptions("slurm", cpus_per_cell=1, poll_s=0.5, time_min=20)
    run = cell_runs(grid, tmp_path, smoke_world)["mocov2-s0"]
    sweep, done = _in_background(grid, tmp_path, smoke_world, opts)
    job = _training_job(run, "killed", 3, time.time() + 300)
    # the task's process killed as the kernel's out-of-memory killer would (SIGKILL); `scancel` alone sends
    # SIGTERM, which submitit's tasks let pass, so a short training would still finish
    task = f"^{sys.executable} -u -m submitit.core._submit {tmp_path / 'killed' / 'slurm'}"  # not its srun
    subprocess.run(["pkill", "-KILL", "-f", task], check=True)
    sweep.join(timeout=300)
    why = done["result"].failed["mocov2-s0"]
    assert why.startswith(f"SLURM task {job} ended without a record; the last lines of its log:\n"), why
    assert "Starting with JobEnvironment" in why or "Killed" in why, why  # the log's own lines
    say(f"slurm: task {job} killed (SIGKILL), reported: {why.splitlines()[0]} {why.splitlines()[-1][:90]}")
    again = run_sweep(grid, tmp_path, smoke_world, progress=False, launch=opts)
    assert not again.failed and rundir.load_checkpoint(again.run("mocov2-s0"))["step"] == 60
    say("slurm: the same sweep again retried the killed cell, which finished")
