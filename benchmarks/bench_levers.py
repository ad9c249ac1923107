"""What a quick training costs with each speed lever: the wall time of a whole quick training (start-up, loading
the images, every step) with bf16 autocast, progressive resolution or a whitened stem, against the same training
in fp32 in the same run. Prints one JSON object, with the steps each lever may take in the baseline's time (what
the equal-wall-time grids train: `ssl_kit/study/grids/recipe_levers_3.yaml`, `bf16.yaml`).

Every training runs in a fresh process, the settings interleaved round by round, so that a slow spell of the
machine falls on all of them; the ratios are medians over the rounds.

    python benchmarks/bench_levers.py [--data data/world/quick/objects/train] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from ssl_kit.common.cpu_peak import cpu_spec

STEPS = 444  # the quick budget: 12 epochs of 37 steps (4,800 world objects, batch 128)
# name -> (method, the lever's config); each is compared with its method's `_fp32` baseline: the learned stem
# in fp32, the quick recipe before the levers
LEARNED, FP32 = {"whiten_stem": False}, {"amp": "off"}
SETTINGS = {
    "mocov2_fp32": ("mocov2", {**LEARNED, **FP32}),
    "mocov2_bf16": ("mocov2", {**LEARNED, "amp": "bf16"}),
    "mocov2_progressive_16": ("mocov2", {**LEARNED, **FP32, "progressive_from": 16}),
    "mocov2_whitened_stem": ("mocov2", {"whiten_stem": True, **FP32}),
    "mocov2_whitened_stem_bf16": ("mocov2", {"whiten_stem": True, "amp": "bf16"}),
    "supervised_fp32": ("supervised", {**LEARNED, **FP32}),
    "supervised_bf16": ("supervised", {**LEARNED, "amp": "bf16"}),
}


def train_seconds(name: str, data: str, steps: int = STEPS) -> float:
    """A whole quick training of setting `name` (the paper's augmentation for MoCo v2), in this process."""
    from ssl_kit.runs.config import TrainConfig
    from ssl_kit.training.loop import train

    method, lever = SETTINGS[name]
    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(
            method=method, scale="quick", data=data, out=out, steps=steps, policy=method, seed=0, **lever
        )
        start = time.perf_counter()
        train(cfg, progress=False)
        return round(time.perf_counter() - start, 1)


def _child(name: str, data: str, steps: int) -> float:
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_levers as b; "
        f"print(b.train_seconds({name!r}, {data!r}, {steps}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/world/quick/objects/train")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of every setting, interleaved")
    ap.add_argument("--only", nargs="+", choices=list(SETTINGS), help="these settings (default: all)")
    ap.add_argument(
        "--steps",
        type=int,
        default=STEPS,
        help=f"steps of each training (default: {STEPS}, the quick budget)",
    )
    args = ap.parse_args()
    if not Path(args.data).is_dir():
        sys.exit(f"--data {args.data}: no such folder (build the quick world: python -m ssl_kit world)")
    names = args.only or list(SETTINGS)
    data = str(Path(args.data).resolve())
    seconds: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for n in names:
            seconds[n].append(_child(n, data, args.steps))
    result = {
        "benchmark": "levers",
        "cpu": cpu_spec().as_dict(),
        "torch": torch.__version__,
        "baseline": "the same method's quick training in fp32, in the same run",
        "steps": args.steps,
        "seconds": seconds,
    }
    speedup, equal_time_steps = {}, {}
    for n in names:
        base = f"{SETTINGS[n][0]}_fp32"
        if base in seconds and n != base:
            ratio = statistics.median(b / s for b, s in zip(seconds[base], seconds[n], strict=True))
            speedup[n] = round(ratio, 3)
            equal_time_steps[n] = round(args.steps * ratio)
    result["speedup"] = speedup
    result["steps_at_equal_wall_time"] = equal_time_steps
    print(json.dumps(result))


if __name__ == "__main__":
    main()
