"""Training-step speed, each figure a ratio against a baseline measured in the same run. Prints one JSON object.

(a) step_overhead: the full MoCo v2 training step (two augmented views from uint8 images, momentum update,
    shuffled key pass, InfoNCE, enqueue, SGD step) divided by the bare backbone compute at the same batch and
    resolution (query forward+backward plus key forward on ready-made float tensors). Goal: <= 1.10.
(b) augment_speedup: batched MoCo v2 augmentation vs lightly's per-image MoCoV2Transform (PIL), same images
    and output size (see augment_speed.py). Goal: >= 3x.
(c) end_to_end_vs_lightly: training throughput (loading, augmentation, step) of `ssl_kit train` at the quick
    defaults against the lightly reference pipeline (lightly_reference.py) with the same backbone, batch,
    resolution and hyper-parameters. Goal: >= 1.0x.
(d) accuracy at a fixed budget: lightly trains for the wall time the ssl_kit run took; weighted-kNN accuracy on
    objects/val of both and of the random-init network. Goal: ssl_kit above both.
(c) and (d) need the world's objects set (`--data`, default data/world/objects/train; built at quick scale
into a temporary folder if missing) and lightly; `--skip-budget` leaves them out.

    python benchmarks/bench_train.py [--size 32] [--batch 128] [--steps 6] [--data DIR] [--skip-budget]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from augment_speed import augment_speed  # noqa: E402

from ssl_kit.augment import get_policy, step_views  # noqa: E402
from ssl_kit.common.device import channels_last  # noqa: E402
from ssl_kit.methods import build_method  # noqa: E402
from ssl_kit.training.prepare import sgd  # noqa: E402


def _time(fn, steps: int, repeats: int = 3) -> float:
    """Best of `repeats` means over `steps` calls, after two warm-up calls."""
    fn()
    fn()  # warm-up (allocator, kernels)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def step_overhead(size: int, batch: int, steps: int) -> dict:
    torch.manual_seed(0)
    method = build_method(
        "mocov2",
        arch="resnet18",
        small_stem=False,
        num_classes=10,
        dataset_size=6000,
        queue_size=2048,
        momentum=0.99,
        temperature=0.2,
    )
    channels_last(method)  # the layout train.py trains in
    opt = sgd(method, lr=0.01, momentum=0.9, weight_decay=1e-4)  # the optimizer train.py builds
    images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8)
    index, labels = torch.arange(batch), torch.zeros(batch, dtype=torch.long)
    policy = get_policy("mocov2")
    gen = torch.Generator().manual_seed(0)

    def full_step():
        out = method.training_step(step_views(images, policy, size, 2, gen), index, labels)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()

    x1, x2 = (
        torch.randn(batch, 3, size, size).contiguous(memory_format=torch.channels_last) for _ in range(2)
    )

    def bare():
        method.zero_grad(set_to_none=True)
        q = method.encoder_q(x1)
        with torch.no_grad():
            method.encoder_k(x2)
        q.sum().backward()

    method.train()
    # interleaved rounds, the median ratio: a burst of load from elsewhere hits one round, not one side
    rounds = [(_time(full_step, steps, repeats=1), _time(bare, steps, repeats=1)) for _ in range(5)]
    ratios = sorted(f / b for f, b in rounds)
    t_full, t_bare = (sorted(x)[len(x) // 2] for x in zip(*rounds, strict=True))
    return {
        "step_ms": round(t_full * 1e3, 1),
        "bare_ms": round(t_bare * 1e3, 1),
        "step_overhead": round(ratios[len(ratios) // 2], 3),
        "step_overhead_rounds": [round(r, 3) for r in ratios],
    }


def budget_comparison(data: str) -> dict:
    """(c) and (d): ssl_kit's quick MoCo v2 run against the lightly reference for the same wall time."""
    import tempfile

    from lightly_reference import train_lightly_moco

    from ssl_kit.augment import get_policy
    from ssl_kit.evaluate.splits import LabelledSplits
    from ssl_kit.runs.checkpoints import load_run
    from ssl_kit.runs.config import TrainConfig, resolve
    from ssl_kit.training.loop import train
    from ssl_kit.training.untrained import untrained_twin
    from ssl_kit.world.build import build_set

    with tempfile.TemporaryDirectory() as tmp:
        if not Path(data).is_dir():
            data = str(build_set("objects", tmp, "quick", progress=False) / "train")
        cfg = resolve(TrainConfig(method="mocov2", data=data, out=f"{tmp}/run", scale="quick"))
        start = time.perf_counter()
        train(cfg, progress=False)
        wall = time.perf_counter() - start
        method, cfg, state = load_run(cfg.out)
        ssl_images = state.step * cfg.batch_size
        crop_min = get_policy(cfg.policy).crop_scale[0]
        lightly_backbone, lightly_images, lightly_wall = train_lightly_moco(
            data,
            wall,
            cfg.image_size,
            cfg.batch_size,
            cfg.lr,
            cfg.queue_size,
            cfg.temperature,
            crop_min,
            cfg.moco_momentum,
        )
        splits = LabelledSplits(data, Path(data).parent / "val", cfg.image_size)
        knn = {
            "ssl_kit": splits.scores(method.feature_backbone(), ("knn",), "cpu")["knn_acc"],
            "lightly_reference": splits.scores(lightly_backbone, ("knn",), "cpu")["knn_acc"],
            "random_init": splits.scores(untrained_twin(cfg)[0], ("knn",), "cpu")["knn_acc"],
        }
    return {
        "budget_seconds": round(wall, 1),
        "ssl_kit_train_images_per_s": round(ssl_images / wall, 1),
        "lightly_train_images_per_s": round(lightly_images / lightly_wall, 1),
        "end_to_end_vs_lightly": round((ssl_images / wall) / (lightly_images / lightly_wall), 2),
        "knn_at_budget": {k: round(v, 4) for k, v in knn.items()},
        "ssl_kit_above_both": knn["ssl_kit"] > max(knn["lightly_reference"], knn["random_init"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--data", default="data/world/quick/objects/train")
    ap.add_argument("--skip-budget", action="store_true", help="leave out (c) and (d) (several minutes)")
    args = ap.parse_args()
    result = {
        "benchmark": "train",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__},
        "size": args.size,
        "batch": args.batch,
        "torch_threads": torch.get_num_threads(),
        **step_overhead(args.size, args.batch, args.steps),
        "step_overhead_goal": 1.10,
    }
    torch.set_num_threads(result["torch_threads"])
    try:
        aug = augment_speed(n_images=512, in_size=args.size, out_size=args.size, threads=None)
        result.update(
            {k: aug[k] for k in ("batched_images_per_s", "lightly_images_per_s", "augment_speedup")}
        )
    except ImportError as e:  # lightly is a `bench` extra
        result["augment_speedup"] = None
        result["augment_speedup_error"] = f"{e}; pip install -e '.[bench]'"
    result["augment_speedup_goal"] = 3.0
    if not args.skip_budget:
        try:
            result.update(budget_comparison(args.data))
        except ImportError as e:
            result["budget_error"] = f"{e}; pip install -e '.[bench]'"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
