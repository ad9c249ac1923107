"""Where a sweep's cells run, and with what: the launcher and its resources per cell.

Three launchers, one interface (`ssl_kit.study.launch.launch_cells`):

- `local` (the default): this machine. One job runs the cells one after another in this process; `jobs > 1`
  runs them in a pool of `jobs` worker processes that share the CPU's threads (`cpus_per_cell` each, by default
  the CPU's threads divided among the jobs).
- `slurm`: a SLURM cluster through submitit, one job-array task per cell, at most `jobs` running at once
  (`--array=...%jobs`; unset: as many as the cluster gives), each with `cpus_per_cell`, `gpus_per_cell`,
  `mem_gb`, `time_min` and `partition`.
- `ray`: a Ray cluster at `address` (unset: a local one started for the sweep), each cell a task with
  `cpus_per_cell` and `gpus_per_cell` of the cluster's resources, at most `jobs` in flight.

Options come, last wins, from the defaults, a grid's `launcher:` section, the environment (`SSL_KIT_LAUNCHER`:
what `reproduce --launcher` sets for its notebooks' kernels; `SSL_KIT_SWEEP_JOBS`: the jobs alone) and the
command's flags. A cell with `gpus_per_cell > 1` trains through torchrun inside its task.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass

from ssl_kit.errors import ConfigError

LAUNCHERS = ("local", "slurm", "ray")
ENV = "SSL_KIT_LAUNCHER"  # JSON of the options (reproduce sets it for the notebooks' kernels)
JOBS_ENV = "SSL_KIT_SWEEP_JOBS"  # the jobs alone
CLUSTER_CPUS = 4  # cpus_per_cell on a cluster when unset


@dataclass(frozen=True)
class LaunchOptions:
    launcher: str = "local"
    jobs: int | None = None  # local: worker processes; slurm and ray: cells running at once (unset: no cap)
    cpus_per_cell: int | None = None  # threads each cell trains on
    gpus_per_cell: int = 0
    mem_gb: float | None = None  # slurm: memory per cell
    time_min: int = 240  # slurm: time limit per task (a task past it is checkpointed and requeued)
    partition: str | None = None  # slurm
    address: str | None = None  # ray: the cluster's address (unset: a local cluster for this sweep)
    poll_s: float = 5.0  # slurm: seconds between looks at the queue

    def __post_init__(self):
        if self.launcher not in LAUNCHERS:
            raise ConfigError(f"launcher: unknown launcher {self.launcher!r} (valid: {', '.join(LAUNCHERS)})")
        for name, least in (("jobs", 1), ("cpus_per_cell", 1), ("gpus_per_cell", 0), ("time_min", 1)):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
                raise ConfigError(
                    f"launcher: {name} must be a whole number of at least {least}, not {value!r}"
                )
        for name in ("mem_gb", "poll_s"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
            ):
                raise ConfigError(f"launcher: {name} must be a positive number, not {value!r}")
        for name in ("partition", "address"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"launcher: {name} must be text, not {value!r}")

    @property
    def local_jobs(self) -> int:
        """Worker processes of the local launcher (1: the cells run in this process)."""
        return self.jobs or 1

    def threads(self) -> int:
        """Threads each cell trains on: `cpus_per_cell`, else (local) this CPU's divided among the jobs, else
        (a cluster) `CLUSTER_CPUS`."""
        if self.cpus_per_cell:
            return self.cpus_per_cell
        if self.launcher == "local":
            return max(1, (os.cpu_count() or 1) // self.local_jobs)
        return CLUSTER_CPUS

    def to_env(self) -> str:
        return json.dumps({k: v for k, v in dataclasses.asdict(self).items() if v != _DEFAULTS[k]})


FIELDS = tuple(f.name for f in dataclasses.fields(LaunchOptions))
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(LaunchOptions)}


def check_section(raw, where: str) -> dict:
    """A grid's `launcher:` section: a mapping of option names (checked); empty when absent."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: `launcher` must map option names to values ({', '.join(FIELDS)})")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {unknown} in `launcher` (valid: {', '.join(FIELDS)})")
    LaunchOptions(**raw)  # each value checked
    return dict(raw)


def sweep_jobs() -> int | None:
    """The jobs `SSL_KIT_SWEEP_JOBS` sets (None when unset)."""
    value = os.environ.get(JOBS_ENV)
    if value is None:
        return None
    try:
        jobs = int(value)
    except ValueError:
        raise ConfigError(f"{JOBS_ENV} must be a whole number of jobs, not {value[:40]!r}") from None
    if jobs < 1:
        raise ConfigError(f"{JOBS_ENV} must be at least 1, got {jobs}")
    return jobs


def _from_env() -> dict:
    text = os.environ.get(ENV)
    if not text:
        return {}
    if text in LAUNCHERS:  # a launcher's name alone
        return {"launcher": text}
    try:
        raw = json.loads(text)
    except ValueError:
        raise ConfigError(
            f"{ENV} must be a launcher's name ({', '.join(LAUNCHERS)}) or a JSON object"
        ) from None
    return check_section(raw, ENV)


def launch_options(grid_section: dict | None = None, **flags) -> LaunchOptions:
    """The options in force: defaults < the grid's `launcher:` section < `SSL_KIT_LAUNCHER` <
    `SSL_KIT_SWEEP_JOBS` < `flags` (None: not given)."""
    merged = {**(grid_section or {}), **_from_env()}
    jobs = sweep_jobs()
    if jobs is not None:
        merged["jobs"] = jobs
    merged.update({k: v for k, v in flags.items() if v is not None})
    unknown = sorted(set(merged) - set(FIELDS))
    if unknown:
        raise ConfigError(f"launcher: unknown option(s) {unknown} (valid: {', '.join(FIELDS)})")
    return LaunchOptions(**merged)
