"""Video speed, in two parts; prints one JSON object with a section for each part asked for.

- `sampler`: pairs per second from cached tracks, against the trainer's rate at the same batch. Baseline in
  the same run: the MoCo v2 training step (augmentation of both members, query and key passes, loss,
  backward, SGD) on batches of those pairs, in pairs per second. Goal: the Region Tracker sampler (and the
  Frame Temporal Invariance one) at least 2x the step rate, so sampling never starves training.
- `regions`: the region cache (proposals on keyframes and their tracks) of a full-size video file made here
  (`fullsize_video.py`: 600 frames at 768x576, with ground truth), on one core. Baseline in the same run: the
  same code at the frames' own size (`work_side=0`) on the first `--compare-frames` frames. Goal: the whole
  video in at most 10 s on one core. Also: the regions' quality (`region_quality`) at both sizes on those
  frames, the cache with the previous defaults (selective search's fast strategy at 144 px) and its quality,
  the cache at the paper scale's working size (224), and the cache filled by one worker per core.

    python benchmarks/bench_video.py [--part sampler|regions|all] [--data data/world/videos] [--batch 128]
        [--size 32] [--region-cache DIR] [--frames 600]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_amp import _cpu_model  # noqa: E402
from bench_train import _time  # noqa: E402
from fullsize_video import make_video  # noqa: E402

from ssl_kit.augment import get_policy, step_views  # noqa: E402
from ssl_kit.methods import build_method  # noqa: E402
from ssl_kit.runs.config import TrainConfig, resolve  # noqa: E402
from ssl_kit.training.data import load_train_data  # noqa: E402
from ssl_kit.training.prepare import sgd  # noqa: E402
from ssl_kit.video.diagnostics import region_quality  # noqa: E402
from ssl_kit.video.proposals import PROPOSE_SIDE  # noqa: E402
from ssl_kit.video.regions import TRACK_FRAMES, WORK_SIDE, RegionParams, cached_regions, fill_cache  # noqa: E402
from ssl_kit.video.subset import FirstFrames  # noqa: E402


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
    method = build_method(
        "region_tracker",
        arch=arch,
        small_stem=False,
        num_classes=1,
        dataset_size=1000,
        queue_size=2048,
        momentum=0.99,
        temperature=0.2,
    )
    opt = sgd(method, 0.03, 0.9, 1e-4)
    policy = get_policy("crop_0.8")
    gen = torch.Generator().manual_seed(0)
    b = pairs.shape[0]
    index, labels = torch.arange(b), torch.zeros(b, dtype=torch.long)
    method.train()

    def step():
        out = method.training_step(step_views(pairs, policy, size, 2, gen), index, labels)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()

    return b / _time(step, steps)


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _quality(q: dict) -> dict:
    keep = ("regions", "precision", "mean_best_iou", "track_iou_at_max_delta")
    return {k: round(q[k], 3) if isinstance(q[k], float) else q[k] for k in keep}


def regions_part(tmp: str, frames: int, compare: int, width: int = 768, height: int = 576) -> dict:
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    video, make_s = _timed(lambda: make_video(f"{tmp}/fullsize", frames, width, height))
    cache = Path(tmp) / "cache"
    params = RegionParams(max_delta=TRACK_FRAMES, work_side=WORK_SIDE)
    full = RegionParams(max_delta=TRACK_FRAMES, work_side=0, propose_side=0)
    head = FirstFrames(video, compare)
    _, seconds = _timed(lambda: cached_regions(video, params, cache))
    _, base = _timed(lambda: cached_regions(head, full, cache))
    _, paper = _timed(
        lambda: cached_regions(video, RegionParams(max_delta=TRACK_FRAMES, work_side=224), cache)
    )
    before = RegionParams(max_delta=TRACK_FRAMES, work_side=WORK_SIDE, propose_side=WORK_SIDE, mode="fast")
    _, before_s = _timed(lambda: cached_regions(video, before, cache))
    workers = os.cpu_count() or 1
    _, spread = _timed(lambda: fill_cache([video], params, Path(tmp) / "cache_workers", workers, False))
    per_frame, base_per_frame = seconds / frames, base / compare
    return {
        "video": f"{frames} frames, {width}x{height}, mp4v (a world clip rendered at 192 px, resized)",
        "video_made_seconds": round(make_s, 1),
        "work_side": WORK_SIDE,
        "propose_side": PROPOSE_SIDE,
        "mode": params.mode,
        "region_cache_seconds_one_core": round(seconds, 2),
        "frames_per_s_per_core": round(1 / per_frame, 1),
        "goal": "region cache of the video in <= 10 s on one core",
        "goal_met": bool(seconds <= 10),
        "baseline": f"the same code at the frames' own size (work_side=0), first {compare} frames",
        "baseline_frames_per_s": round(1 / base_per_frame, 2),
        "baseline_seconds_projected_to_video": round(base_per_frame * frames, 1),
        "speedup_vs_baseline": round(base_per_frame / per_frame, 1),
        "quality_first_frames_at_work_side": _quality(region_quality([head], params, cache)),
        "quality_first_frames_at_own_size": _quality(region_quality([head], full, cache)),
        "quality_whole_video_at_work_side": _quality(region_quality([video], params, cache)),
        "region_cache_seconds_previous_defaults": round(before_s, 2),
        "previous_defaults": "selective search's fast strategy, proposing at 144 px",
        "quality_whole_video_previous_defaults": _quality(region_quality([video], before, cache)),
        "region_cache_seconds_at_work_side_224": round(paper, 2),
        "region_cache_seconds_one_worker_per_core": round(spread, 2),
        "workers": workers,
    }


def sampler_part(args, tmp: str) -> dict:
    data_dir = args.data
    if not data_dir:
        from ssl_kit.world.build import build_set

        data_dir = str(build_set("videos", tmp, "quick", progress=False))
    base = dict(
        data=data_dir,
        out=f"{tmp}/run",
        scale="quick",
        image_size=args.size,
        crop_size=args.size,
        region_cache=args.region_cache or f"{tmp}/regions",
    )
    start = time.perf_counter()
    regions, log = load_train_data(resolve(TrainConfig(method="region_tracker", **base)), torch.device("cpu"))
    cache_seconds = time.perf_counter() - start
    frames, _ = load_train_data(resolve(TrainConfig(method="fti", **base)), torch.device("cpu"))
    region_pairs_s = sampler_rate(regions, args.batch, args.steps * 4)
    frame_pairs_s = sampler_rate(frames, args.batch, args.steps * 4)
    batch, _ = regions.batch(torch.arange(args.batch), torch.Generator().manual_seed(0))
    train_pairs_s = step_rate(batch, args.size, args.steps)
    return {
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
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("sampler", "regions", "all"), default="all")
    ap.add_argument("--data", default="", help="a video folder (default: build the quick world's videos)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument(
        "--region-cache",
        default="",
        help="reuse this region cache (default: a fresh one, so its build time is measured)",
    )
    ap.add_argument("--frames", type=int, default=600, help="frames of the full-size video (--part regions)")
    ap.add_argument("--compare-frames", type=int, default=48, help="frames the own-size baseline runs on")
    args = ap.parse_args()
    result: dict = {"benchmark": "video"}
    with tempfile.TemporaryDirectory() as tmp:
        if args.part in ("sampler", "all"):
            result["sampler"] = sampler_part(args, tmp)
        if args.part in ("regions", "all"):  # last: it pins this process to one thread
            result["regions"] = regions_part(tmp, args.frames, args.compare_frames)
    result.update(cpu=_cpu_model(), cores=os.cpu_count())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
