"""Run directories, device choice and seeding."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

from ssl_kit.common.device import choose_device, cpu_native_bf16, seed_everything
from ssl_kit.errors import ConfigError, DataError
from ssl_kit.runs import rundir


@dataclass
class Cfg:
    method: str = "mocov2"
    lr: float = 0.03
    crop: list = field(default_factory=lambda: [0.2, 1.0])


def test_config_round_trip_and_unknown_fields(tmp_path):
    rundir.save_config(tmp_path, Cfg(lr=0.1))
    assert rundir.load_config(tmp_path, Cfg) == Cfg(lr=0.1)
    (tmp_path / "config.yaml").write_text("method: simclr\nlearning_rate: 1\n")
    with pytest.raises(ConfigError, match="learning_rate"):
        rundir.load_config(tmp_path, Cfg)
    with pytest.raises(DataError, match="config.yaml"):
        rundir.load_config(tmp_path / "none", Cfg)


def test_metrics_append_and_read(tmp_path):
    rundir.append_metrics(tmp_path, step=1, loss=np.float32(2.5))
    rundir.append_metrics(tmp_path, step=2, loss=2.0)
    assert rundir.read_metrics(tmp_path) == [{"step": 1, "loss": 2.5}, {"step": 2, "loss": 2.0}]
    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\nnot json\n')
    with pytest.raises(DataError, match="line 2"):
        rundir.read_metrics(tmp_path)


def test_checkpoint_is_atomic(tmp_path, monkeypatch):
    rundir.save_checkpoint(tmp_path, {"w": torch.ones(3)})

    def crash(obj, f):
        f.write(b"half a checkpoint")
        raise RuntimeError("power cut")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(RuntimeError):
        rundir.save_checkpoint(tmp_path, {"w": torch.zeros(3)})
    monkeypatch.undo()
    assert torch.equal(rundir.load_checkpoint(tmp_path)["w"], torch.ones(3))  # the last good one survives
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
    (tmp_path / "checkpoint.pt").write_bytes(b"garbage")
    with pytest.raises(DataError, match="cannot load checkpoint"):
        rundir.load_checkpoint(tmp_path)


def test_device_and_seed():
    assert choose_device("cpu").type == "cpu"
    assert choose_device().type in {"cuda", "mps", "cpu"}
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            choose_device("cuda")
    seed_everything(3)
    a = (torch.rand(3), np.random.rand(3))  # noqa: NPY002 -- the global state is what is seeded
    seed_everything(3)
    b = (torch.rand(3), np.random.rand(3))  # noqa: NPY002 -- the global state is what is seeded
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize(
    ("avx512_bf16", "amx", "expected"),
    [(False, False, False), (True, False, True), (False, True, True), (True, True, True)],
)
def test_native_bf16_is_avx512_bf16_or_amx(monkeypatch, avx512_bf16, amx, expected):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    assert cpu_native_bf16() is expected
