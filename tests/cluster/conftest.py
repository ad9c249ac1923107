"""Cluster tests: the sweep's launchers against a real one-node SLURM cluster and a real local Ray cluster.

Run them with `make test-cluster` (installs submitit and Ray if missing); `make test` and plain `pytest` leave
them out (pyproject.toml's addopts deselect the `cluster` marker). The `slurm` fixture starts Debian's slurmctld,
slurmd and munge on this machine (`start_slurm.sh`: installs them if missing, one partition on localhost with
this machine's CPUs) unless a cluster already answers, and stops what it started; the `ray_cluster` fixture runs
`ray start --head` on a free local port and `ray stop` after. Where a cluster cannot start (no root to install
or start the daemons, no Ray), the tests skip with the reason, except under CI (the `CI` environment variable
set), where they fail: CI cannot pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cluster_log import say, unavailable

HERE = Path(__file__).resolve().parent
RAY = Path(sys.executable).with_name("ray")


def _answers() -> bool:
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and any(s in out.stdout for s in ("idle", "mix", "alloc"))


@pytest.fixture(scope="session")
def slurm():
    """A SLURM cluster on this machine (started for the session if none answers)."""
    try:
        import submitit  # noqa: F401
    except ImportError:
        unavailable("submitit is not installed (pip install submitit, or `make test-cluster`)")
    started = False
    if not _answers():
        out = subprocess.run(
            ["bash", str(HERE / "start_slurm.sh")], capture_output=True, text=True, timeout=600
        )
        if out.returncode != 0 or not _answers():
            unavailable(f"no SLURM cluster could start here: {(out.stdout + out.stderr).strip()[-600:]}")
        started = True
        say(out.stdout.strip().splitlines()[-1])
    info = subprocess.run(["sinfo", "-h", "-o", "%P %D %c %T"], capture_output=True, text=True).stdout.strip()
    say(f"slurm cluster up: partition, nodes, CPUs, state = {info}")
    yield
    if started:
        subprocess.run(["bash", str(HERE / "stop_slurm.sh")], capture_output=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """A local Ray cluster (`ray start --head`, 2 CPUs at most); its address."""
    if not RAY.exists() and not shutil.which("ray"):
        unavailable("Ray is not installed (pip install 'ray[default]', or `make test-cluster`)")
    ray = str(RAY if RAY.exists() else shutil.which("ray"))
    # a cluster of this machine alone: every address on loopback (Ray resolves 127.0.0.1 to the machine's network
    # address unless told the cluster is one machine's) and no token to keep in the home folder; both the
    # cluster and this process (the driver) read these
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    os.environ["RAY_AUTH_MODE"] = "disabled"
    port = _free_port()
    cpus = min(2, os.cpu_count() or 1)
    temp = tmp_path_factory.mktemp("ray")
    command = [ray, "start", "--head", f"--port={port}", f"--num-cpus={cpus}", "--num-gpus=0", "--node-ip-address=127.0.0.1",
               "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}",
               "--object-store-memory=200000000"]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if out.returncode != 0:
        unavailable(f"`ray start --head` failed: {(out.stdout + out.stderr).strip()[-600:]}")
    address = f"127.0.0.1:{port}"
    say(f"ray cluster up at {address} with {cpus} CPUs")
    yield address
    subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120)
    say("ray cluster stopped")
