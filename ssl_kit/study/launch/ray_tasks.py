"""The `ray` launcher: each cell a Ray task on a Ray cluster, with its CPUs and GPUs as the task's resources.

`run_tasks` connects to the cluster at `address` (`auto`: the one `ray start` runs on this machine; unset: a
local cluster started for this sweep and stopped after it), submits the cells as tasks of `cpus_per_cell` CPUs
and `gpus_per_cell` GPUs, at most `jobs` in flight, and waits for them (`ray.wait`). Ray's dashboard shows them
while they run. Every node must see the same paths as this one (a shared filesystem, as on a SLURM cluster) and
have the kit installed: a task only carries the cell's plain-data task, and writes its record where a
one-process sweep would.
"""

from __future__ import annotations

import os

from tqdm.auto import tqdm

from ssl_kit.errors import ConfigError
from ssl_kit.study.launch.cell_task import run_task
from ssl_kit.study.launch.options import LaunchOptions

LOG_LINES = 12


def _ray(opts: LaunchOptions):
    if (
        opts.address is None
    ):  # a cluster of this machine alone: Ray keeps every address on loopback (read at import)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--launcher ray needs Ray: pip install 'ray[default]' (or the kit's `cluster` extra)"
        ) from None
    return ray


def _connect(ray, opts: LaunchOptions) -> bool:
    """Connect to the cluster (or start a local one); True when this call started it."""
    if ray.is_initialized():
        return False
    settings = {"log_to_driver": False, "configure_logging": False}
    if opts.address is None:  # "local": always a new cluster of this machine, never one found running
        settings.update(num_cpus=os.cpu_count() or 1, include_dashboard=False)
    try:
        ray.init(address=opts.address or "local", **settings)
    except ConnectionError as e:
        raise ConfigError(f"--launcher ray: no Ray cluster at {opts.address!r} ({e})") from None
    return True


def run_tasks(tasks: list[dict], opts: LaunchOptions, name: str, progress: bool) -> dict[str, dict]:
    """Run every task on the Ray cluster; cell -> summary (`run_task`'s, or why the task did not finish)."""
    ray = _ray(opts)
    started = _connect(ray, opts)
    try:
        cpus = ray.cluster_resources().get("CPU", 0)
        if opts.threads() > cpus:
            raise ConfigError(
                f"--launcher ray: a cell asks for {opts.threads()} CPUs and the cluster has {cpus:g}; "
                "lower --cpus-per-cell"
            )
        kit_env = {k: v for k, v in os.environ.items() if k.startswith("SSL_KIT_")}  # the kit's own settings
        remote = ray.remote(
            num_cpus=opts.threads(),
            num_gpus=opts.gpus_per_cell,
            max_retries=2,
            runtime_env={"env_vars": kit_env} if kit_env else None,
        )(run_task)
        limit = opts.jobs or len(tasks)
        queue, running, summaries = list(tasks), {}, {}
        with tqdm(total=len(tasks), desc=f"sweep {name} on ray", unit="cell", disable=not progress) as bar:
            while queue or running:
                while queue and len(running) < limit:
                    task = queue.pop(0)
                    running[remote.remote(task)] = task["cell"]
                done, _ = ray.wait(list(running), num_returns=1)
                for ref in done:
                    cell = running.pop(ref)
                    try:
                        summaries[cell] = ray.get(ref)
                    except Exception as e:  # the task itself died (a cell's own error is in its record)
                        lines = str(e).strip().splitlines()[-LOG_LINES:]
                        why = "its Ray task failed; the last lines it left:\n" + "\n".join(lines)
                        summaries[cell] = {"cell": cell, "status": "died", "error": why}
                    bar.update(1)
        return summaries
    finally:
        if started:
            ray.shutdown()
