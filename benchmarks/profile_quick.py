"""Where the quick study's time goes: the quick MoCo v2 training step and one sweep cell's scoring, by operator.
Prints one JSON object.

`step`: the quick recipe's step (MoCo v2, `resnet18_w32` at 32 px, batch 128, the paper's augmentation, the
frozen whitened stem, fp32; what `bench_amp.py` times), profiled with `torch.profiler` over a few steps after a
warm-up: the operators with the most self CPU time, each with its share of the step, and the share of the
convolutions (forward and backward) against everything else. `scoring`: what a sweep cell does after training
(`ssl_kit.study.sweep`: kNN and a linear probe on objects/val, decoding the six protocols' images, or in any
later process reading them back from the sweep's cache, their features, the paper's measure at K = 10 and 25) for a network of the quick architecture, timed by phase and profiled by operator;
it needs the quick world (`make world`). The shares are of the profiled wall time, on the threads torch has.

    python benchmarks/profile_quick.py [--world data/world/quick] [--steps 6] [--top 12] [--no-scoring]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch
from bench_amp import quick_step
from torch.profiler import ProfilerActivity, profile

from ssl_kit.study.records import cpu_model

CONV = ("convolution", "conv2d", "mkldnn_convolution", "convolution_backward")


def top_operators(prof, total_us: float, top: int) -> list[dict]:
    """The `top` operators by self CPU time, each with its calls and share of `total_us`."""
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    return [
        {
            "op": e.key,
            "calls": e.count,
            "self_ms": round(e.self_cpu_time_total / 1e3, 1),
            "share": round(e.self_cpu_time_total / total_us, 3),
        }
        for e in events[:top]
    ]


def conv_share(prof, total_us: float) -> float:
    spent = sum(e.self_cpu_time_total for e in prof.key_averages() if any(c in e.key for c in CONV))
    return round(spent / total_us, 3)


def profile_step(steps: int, top: int) -> dict:
    step = quick_step("resnet18_w32", 32, 128, bf16=False, whitened=True)  # bench_amp.py's step
    for _ in range(2):
        step()
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    wall_us = (time.perf_counter() - start) * 1e6
    return {
        "seconds_per_step_profiled": round(wall_us / 1e6 / steps, 4),
        "conv_share": conv_share(prof, wall_us),
        "top": top_operators(prof, wall_us, top),
    }


def profile_scoring(world: Path, top: int) -> dict:
    from ssl_kit.evaluate.splits import LabelledSplits
    from ssl_kit.invariance.protocols import PAPER_PROTOCOLS, build_protocol, protocol_root
    from ssl_kit.invariance.scoring import MeasuredModel, measure_table
    from ssl_kit.models.random_init import random_init_backbone
    from ssl_kit.study.data_folder import StudyData

    data = StudyData.open(world, build=False)
    backbone = random_init_backbone("resnet18_w32", False, seed=0).eval()
    model = MeasuredModel("m", backbone, "profile-random-init", 32, "resnet18_w32", False)
    protocols = [build_protocol(n, protocol_root(n, world)) for n in PAPER_PROTOCOLS]
    phases = {}
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof, tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        splits = LabelledSplits(data.objects("train"), data.objects("val"), 32)
        phases["load objects train/val"] = time.perf_counter() - t
        t = time.perf_counter()
        splits.scores(backbone, ("knn", "linear"), seed=0)
        phases["kNN + linear probe"] = time.perf_counter() - t
        t = time.perf_counter()
        for p in protocols:  # decoded once, kept by each protocol and on disk (the first process of a study)
            p.load(0, len(p), 32, cache_dir=cache)
        phases["decode the six protocols' images"] = time.perf_counter() - t
        t = time.perf_counter()
        protocols = [build_protocol(n, protocol_root(n, world)) for n in PAPER_PROTOCOLS]
        for p in protocols:  # what every later process does: read them back
            p.load(0, len(p), 32, cache_dir=cache)
        phases["read them back (a later process)"] = time.perf_counter() - t
        t = time.perf_counter()
        measure_table([model], protocols, (10, 25), cache_dir=cache, progress=False)
        phases["six protocols: features + measure"] = time.perf_counter() - t
    wall_us = (time.perf_counter() - start) * 1e6
    return {
        "seconds": round(wall_us / 1e6, 2),
        "phases_seconds": {k: round(v, 2) for k, v in phases.items()},
        "conv_share": conv_share(prof, wall_us),
        "top": top_operators(prof, wall_us, top),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="data/world/quick")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--no-scoring", action="store_true")
    args = ap.parse_args()
    out = {
        "benchmark": "profile_quick",
        "machine": {
            "cpu": cpu_model(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
        "step": profile_step(args.steps, args.top),
    }
    if not args.no_scoring:
        out["scoring"] = profile_scoring(Path(args.world), args.top)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
