"""DDP is correct for every method: two gloo processes of B/2 images step as one process of B images does.

`tests/helpers/ddp_steps.py` takes three SGD steps of each method (MoCo v1, v2 and its symmetric loss, SimCLR, PIRL with
NCE and with InfoNCE, supervised, and the video methods' MoCo v2 on positive pairs) with batch norm over the global
batch (`sync_bn`), once in one process and once as two torchrun processes. The networks run in float64, but the
kit computes its losses in float32 whatever the network's precision (`methods/losses.py`), so every gradient and
every weight after a step carries float32 rounding: the two runs sum in different orders (one process sums the
batch of 8, two processes sum 4 and 4 and then add), and float32 promises agreement only to a few units of its
2^-24 relative rounding per operation, amplified by the batch norm over 8 images. TOLERANCE is therefore relative
and float32's: 1e-5 of each tensor's norm (measured: at most 2e-12 on the AMD CPUs, whose kernels happened to sum
alike, and 7e-7 for PIRL's NCE on an Intel Xeon with AMX). A DDP error (a gradient not averaged, a batch not
gathered, a buffer broadcast) moves a tensor by a sizeable fraction of its norm, far beyond it. The losses
agree to 1e-6 (float32 values of one sum).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ssl_kit.errors import ConfigError
from ssl_kit.methods.moco import MoCo
from ssl_kit.methods.sync_bn import GlobalBatchNorm2d, sync_batchnorm
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig, resolve

REPO = Path(__file__).resolve().parents[2]
STEPS = REPO / "tests" / "helpers" / "ddp_steps.py"
TOLERANCE = 1e-5  # float32 rounding, relative to each tensor's norm (see the module doc)
CASES = ("mocov1", "mocov2", "mocov2_symmetric", "simclr", "pirl_nce", "pirl_infonce", "supervised", "fti")


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def _run(tmp: Path, processes: int) -> dict:
    out = tmp / f"{processes}.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DDP_STEPS_DTYPE": "float64"}
    cmd = [sys.executable, str(STEPS), str(out)]
    if processes > 1:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            str(processes),
            "--master_port",
            _free_port(),
            str(STEPS),
            str(out),
        ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    one, two = _run(tmp, 1), _run(tmp, 2)
    assert (one["world"], two["world"]) == (1, 2)
    return one["cases"], two["cases"]


def _far(a: dict, b: dict) -> list[str]:
    """Tensors whose summaries (sum, norm, projection) differ by more than TOLERANCE of the tensor's norm."""
    assert a.keys() == b.keys()
    return [
        n
        for n in a
        if any(abs(x - y) > TOLERANCE * max(abs(a[n][1]), 1e-12) for x, y in zip(a[n], b[n], strict=True))
    ]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_two_processes_step_as_one(runs, case):
    one, two = runs[0][case], runs[1][case]
    assert two["ranks_agree"], "the two ranks hold different weights or buffers"
    assert two["broadcast_buffers"] is False  # queue and bank are gathered, never broadcast
    assert one["loss"] == pytest.approx(two["loss"], rel=1e-6)  # losses are computed in float32 by design
    assert not _far(one["grad0"], two["grad0"]), "gradients of the first step"
    assert not _far(one["state"], two["state"]), "weights and buffers after the steps"


def _torchrun(script: Path, *args: str) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        _free_port(),
        str(script),
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow
def test_only_rank_0_reads_and_writes_the_run_folder_and_resume_is_exact(smoke_world, tmp_path):
    """Ranks other than 0 get a run folder that does not exist and may not read checkpoints (a second machine
    without a shared file system): a run resumed from rank 0's checkpoint ends as the uninterrupted one."""
    data, script = str(smoke_world / "objects" / "train"), REPO / "tests" / "helpers" / "ddp_resume.py"
    _torchrun(script, data, str(tmp_path / "straight"), "4")
    _torchrun(script, data, str(tmp_path / "resumed"), "2")
    _torchrun(script, data, str(tmp_path / "resumed"), "4", "resume")
    a, b = rundir.load_checkpoint(tmp_path / "straight"), rundir.load_checkpoint(tmp_path / "resumed")
    assert a["step"] == b["step"] == 4
    assert all(torch.equal(v, b["model"][k]) for k, v in a["model"].items())
    assert not any(p.name.endswith("_elsewhere") for p in tmp_path.iterdir())  # the other rank wrote nothing


def test_sync_batchnorm_keeps_parameters_buffers_and_frozen_key_encoder():
    method = MoCo("resnet18_w32", queue_size=16)
    before = {n: t.clone() for n, t in method.state_dict().items()}
    frozen = {n for n, p in method.named_parameters() if not p.requires_grad}
    sync_batchnorm(method, torch.device("cpu"))
    bns = [m for m in method.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(type(m) is GlobalBatchNorm2d for m in bns)
    assert {n for n, p in method.named_parameters() if not p.requires_grad} == frozen  # the key encoder
    after = method.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(before[n], after[n]) for n in before)


def test_global_batchnorm_is_batchnorm_in_one_process():
    torch.manual_seed(0)
    x = torch.randn(6, 4, 5, 5, requires_grad=True)
    ref, glob = torch.nn.BatchNorm2d(4), GlobalBatchNorm2d(4)
    y1, y2 = ref(x), glob(x)
    assert torch.allclose(y1, y2) and torch.allclose(ref.running_var, glob.running_var)


def test_sync_bn_and_split_bn_exclude_each_other():
    with pytest.raises(ConfigError, match="sync_bn .* split_bn 2"):
        resolve(TrainConfig(scale="smoke", sync_bn=True, split_bn=2))
