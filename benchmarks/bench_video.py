"""Video pair sampler speed: pairs per second from cached tracks, against the trainer's rate at the same batch.

Baseline in the same run: the MoCo v2 training step (augmentation of both members, query and key passes,
loss, backward, SGD) on batches of those pairs, in pairs per second. Prints one JSON object; goal: the
Region Tracker sampler (and the Frame Temporal Invariance one) at least 2x the step rate, so sampling never
starves training.

    python benchmarks/bench_video.py [--data data/world/videos] [--batch 128] [--size 32] [--region-cache DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import _time  # noqa: E402

from ssl_kit.augment import augment, get_policy  # noqa: E402
from ssl_kit.methods import build_method  # noqa: E402
from ssl_kit.training.config import TrainConfig, resolve  # noqa: E402
from ssl_kit.training.data import load_train_data  # noqa: E402
from ssl_kit.training.loop import sgd  # noqa: E402


def sampler_rate(data, batch: int, steps: int) -> float:
    gen = torch.Generator().manual_seed(0)
    order = torch.randperm(data.n, generator=gen)

    def draw():
        idx = order[torch.randint(0, data.n - batch, (1,), generator=gen).item() :][:batch]
        data.batch(idx, gen)

    return batch / _time(draw, steps)


def step_rate(pairs: torch.Tensor, size: int, steps: int) -> float:
    torch.manual_seed(0)
    arch = resolve(
        TrainConfig(method="region_tracker", scale="quick")
    ).arch  # the network the quick runs train
    method = build_method("region_tracker", arch=arch, small_stem=False, num_classes=1, dataset_size=1000,
                          queue_size=2048, momentum=0.99, temperature=0.2)  # fmt: skip
    opt = sgd(method, 0.03, 0.9, 1e-4)
    policy = get_policy("crop_0.8")
    gen = torch.Generator().manual_seed(0)
    b = pairs.shape[0]
    index, labels = torch.arange(b), torch.zeros(b, dtype=torch.long)
    method.train()

    def step():
        out = method.training_step(pairs, index, labels, lambda x: augment(x, policy, size, generator=gen))
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()

    return b / _time(step, steps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="", help="a video folder (default: build the quick world's videos)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--region-cache", default="",
                    help="reuse this region cache (default: a fresh one, so its build time is measured)")  # fmt: skip
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data
        if not data_dir:
            from ssl_kit.world.build import build_set

            data_dir = str(build_set("videos", tmp, "quick", progress=False))
        base = dict(data=data_dir, out=f"{tmp}/run", scale="quick", image_size=args.size, crop_size=args.size,
                    region_cache=args.region_cache or f"{tmp}/regions")  # fmt: skip
        start = time.perf_counter()
        regions, log = load_train_data(
            resolve(TrainConfig(method="region_tracker", **base)), torch.device("cpu")
        )
        cache_seconds = time.perf_counter() - start
        frames, _ = load_train_data(resolve(TrainConfig(method="fti", **base)), torch.device("cpu"))
        region_pairs_s = sampler_rate(regions, args.batch, args.steps * 4)
        frame_pairs_s = sampler_rate(frames, args.batch, args.steps * 4)
        batch, _ = regions.batch(torch.arange(args.batch), torch.Generator().manual_seed(0))
        train_pairs_s = step_rate(batch, args.size, args.steps)
    result = {
        "benchmark": "video_pair_sampler",
        "batch": args.batch,
        "size": args.size,
        "regions": log.get("regions"),
        "region_cache_build_seconds": round(cache_seconds, 1),
        "region_cache": "reused" if args.region_cache else "built in this run",
        "region_pairs_per_s": round(region_pairs_s, 1),
        "frame_pairs_per_s": round(frame_pairs_s, 1),
        "baseline": "MoCo v2 training step on the same pairs (pairs/s)",
        "train_pairs_per_s": round(train_pairs_s, 1),
        "region_sampler_vs_step": round(region_pairs_s / train_pairs_s, 2),
        "frame_sampler_vs_step": round(frame_pairs_s / train_pairs_s, 2),
        "goal": "sampler >= 2x the step rate",
        "goal_met": bool(min(region_pairs_s, frame_pairs_s) >= 2 * train_pairs_s),
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
