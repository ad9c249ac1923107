"""Sizes that cannot fit in memory are refused before any work, with the estimate and the flags that set it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from helpers.cli_errors import error_line

from ssl_kit.cli import main
from ssl_kit.common.memory_budget import check_fits, human_bytes
from ssl_kit.errors import ConfigError
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.training.fits import conv_outputs, run_memory


def _train(world: Path, out: Path, *extra: str) -> list[str]:
    data = str(world / "objects" / "train")
    return ["train", "--data", data, "--out", str(out), "--scale", "smoke", "--no-knn", "--quiet", *extra]


@pytest.mark.parametrize(
    "flags, part",
    [
        (
            ["--image-size", "100000", "--input", "memory"],
            "the 60 training images held at --image-size 100000: 1.64 TiB",
        ),
        (["--queue-size", str(10**10)], "--queue-size 10000000000): 4.66 TiB"),
        (["--crop-size", "30000"], "one step's activations (--batch-size 16 at --crop-size 30000)"),
    ],
    ids=["image-size", "queue-size", "crop-size"],
)
def test_a_run_too_large_for_memory_is_refused_before_any_work(smoke_world, tmp_path, capsys, flags, part):
    out = tmp_path / "run"
    assert main(_train(smoke_world, out, *flags)) == 2
    line = error_line(capsys)
    assert line.startswith("error: this run needs at least ") and part in line, line
    assert "available" in line and not out.exists()  # nothing written, not even the folder


def test_eval_refuses_a_size_it_cannot_hold_with_the_estimate(smoke_run, tmp_path, capsys):
    run = Path(shutil.copytree(smoke_run, tmp_path / "run"))
    state = torch.load(run / rundir.CHECKPOINT, weights_only=True)
    state["config"]["image_size"] = 100_000
    torch.save(state, run / rundir.CHECKPOINT)
    assert main(["eval", "--run", str(run), "--quiet"]) == 2
    line = error_line(capsys)
    assert "scoring on these folders needs at least 2.46 TiB" in line and "at 100000 px: 1.64 TiB" in line, (
        line
    )
    assert "train it again at a smaller size" in line


def test_a_streamed_run_that_cannot_be_scored_here_says_so(smoke_world, tmp_path, recwarn):
    argv = _train(
        smoke_world, tmp_path / "run", "--image-size", "100000", "--input", "stream", "--max-steps", "1"
    )
    assert main(argv + ["--batch-size", "8", "--queue-size", "16", "--workers", "1"]) == 0
    said = " ".join(str(w.message) for w in recwarn)
    assert "--image-size 100000: scoring this run" in said and "cannot be scored here" in said, said


def test_the_estimate_is_a_lower_bound_of_what_a_step_holds():
    cfg = resolve(TrainConfig(method="mocov2", scale="smoke", data="unused"))
    parts = run_memory(cfg, num_classes=10, dataset_size=60, held_images=60)
    weights = next(v for k, v in parts.items() if k.startswith("the network's weights"))
    from ssl_kit.runs.config import method_from_config

    method = method_from_config(cfg, 10, 60)
    assert weights == sum(t.numel() * t.element_size() for t in method.state_dict().values())
    assert parts["the 60 training images held at --image-size 32"] == 60 * 3 * 32 * 32
    backbone = method.feature_backbone().eval()
    seen = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: seen.append(o.numel()))
        for m in backbone.modules()
        if isinstance(m, torch.nn.Conv2d)
    ]
    with torch.no_grad():
        backbone(torch.zeros(1, 3, 32, 32))
    for h in hooks:
        h.remove()
    with torch.device("meta"):
        on_meta = method_from_config(cfg, 10, 60).feature_backbone()
    assert conv_outputs(on_meta, 32) == sum(seen)  # the meta-device count is the real one


def test_check_fits_names_every_part_and_refuses_only_beyond_what_is_available(monkeypatch):
    monkeypatch.setattr("ssl_kit.common.memory_budget.available_memory", lambda device=None: 2**30)
    check_fits({"a": 2**29, "b": 2**29}, "this", "fix it")
    with pytest.raises(
        ConfigError,
        match=r"this needs at least 1.5 GiB of memory \(a: 1 GiB; b: 512 MiB\), and "
        r"this machine has 1 GiB available: fix it",
    ):
        check_fits({"a": 2**30, "b": 2**29}, "this", "fix it")
    monkeypatch.setattr(
        "ssl_kit.common.memory_budget.available_memory", lambda device=None: 0
    )  # unknown: no refusal
    check_fits({"a": 2**60}, "this", "fix it")
    assert human_bytes(1.64 * 2**40) == "1.64 TiB" and human_bytes(512) == "512 B"
