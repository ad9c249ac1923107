"""Invariance monitor overhead: a quick-scale MoCo v2 training with `--invariance-every N` against the same
training without it, run one after the other in this process.

Baseline in the same run: the plain training (same config, seed, steps). The overhead is the time spent in the
monitor's calls during the monitored run plus building it once (reading the protocols, decoding the subsets),
as a share of the plain run: end to end, two quick trainings on this shared 2-core machine differ by up to 15%
with nothing changed, more than the monitor costs, so the end-to-end ratio is printed too but not judged.
Prints one JSON object; goal: overhead at most 10%.

    python benchmarks/bench_invariance_monitor.py [--world data/world] [--steps 444] [--every 50]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_amp import _cpu_model  # noqa: E402

from ssl_kit.invariance.watch import DEFAULT_IMAGES, invariance_watch  # noqa: E402
from ssl_kit.runs.config import TrainConfig, resolve  # noqa: E402
from ssl_kit.training.loop import train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="data/world/quick")
    ap.add_argument("--steps", type=int, default=444, help="training steps (444: the whole quick run)")
    ap.add_argument("--every", type=int, default=50, help="--invariance-every")
    ap.add_argument("--images", type=int, default=DEFAULT_IMAGES)
    args = ap.parse_args()
    world = Path(args.world)
    with tempfile.TemporaryDirectory() as tmp:
        base = dict(
            method="mocov2", scale="quick", data=str(world / "objects" / "train"), max_steps=args.steps
        )
        cfg = resolve(TrainConfig(out=f"{tmp}/plain", **base))
        start = time.perf_counter()
        watch = invariance_watch(world, cfg.image_size, images=args.images)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        train(cfg, progress=False)
        plain = time.perf_counter() - start
        inside = []  # seconds spent in each monitor call during the monitored run

        def timed_watch(method, step):
            t0 = time.perf_counter()
            values = watch(method, step)
            inside.append(time.perf_counter() - t0)
            return values

        start = time.perf_counter()
        train(
            TrainConfig(out=f"{tmp}/watched", invariance_every=args.every, **base),
            progress=False,
            watch=timed_watch,
        )
        watched = time.perf_counter() - start
        from ssl_kit.runs.checkpoints import load_run

        method, _, _ = load_run(f"{tmp}/watched")
        start = time.perf_counter()
        watch(method, 0)
        call = time.perf_counter() - start
    calls, spent = len(inside), sum(inside)
    print(
        json.dumps(
            {
                "benchmark": "invariance_monitor_overhead",
                "steps": args.steps,
                "invariance_every": args.every,
                "monitor_calls": calls,
                "images_per_protocol": args.images,
                "protocols": len(watch.subsets),
                "images_measured_per_call": sum(len(s.images) for s in watch.subsets),
                "baseline": "the same quick MoCo v2 training without the monitor (s)",
                "plain_seconds": round(plain, 1),
                "monitored_seconds": round(watched, 1),
                "end_to_end_overhead": round(watched / plain - 1, 3),
                "seconds_in_monitor_calls": round(spent, 1),
                "one_call_seconds": round(call, 2),
                "monitor_build_seconds": round(build_s, 1),
                "overhead": round((spent + build_s) / plain, 3),
                "goal": "overhead (monitor calls + build) / plain run <= 0.10",
                "goal_met": bool((spent + build_s) / plain <= 0.10),
                "torch_threads": torch.get_num_threads(),
                "cpu": _cpu_model(),
                "cores": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
