"""Training-step speed, each figure a ratio against a baseline measured in the same run. Prints one JSON object.

(a) step_overhead: the full MoCo v2 training step (two augmented views from uint8 images, momentum update,
    shuffled key pass, InfoNCE, enqueue, SGD step) divided by the bare backbone compute at the same batch and
    resolution (query forward+backward plus key forward on ready-made float tensors). Goal: <= 1.10.
(b) augment_speedup: batched MoCo v2 augmentation vs lightly's per-image MoCoV2Transform (PIL), same images
    and output size (see augment_speed.py). Goal: >= 3x.
Still to come (next session): (c) end-to-end throughput against a lightly reference pipeline and (d) kNN
accuracy at a fixed wall-clock budget against that pipeline and random init.

    python benchmarks/bench_train.py [--size 32] [--batch 128] [--steps 6]
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

from ssl_kit.augment import augment, get_policy  # noqa: E402
from ssl_kit.methods import build_method  # noqa: E402


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
    method = build_method("mocov2", arch="resnet18", small_stem=False, num_classes=10, dataset_size=6000,
                          queue_size=2048, momentum=0.99, temperature=0.2)  # fmt: skip
    opt = torch.optim.SGD([p for p in method.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8)
    index, labels = torch.arange(batch), torch.zeros(batch, dtype=torch.long)
    policy = get_policy("mocov2")
    gen = torch.Generator().manual_seed(0)

    def full_step():
        out = method.training_step(images, index, labels, lambda x: augment(x, policy, size, generator=gen))
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()

    x1, x2 = torch.randn(batch, 3, size, size), torch.randn(batch, 3, size, size)

    def bare():
        method.zero_grad(set_to_none=True)
        q = method.encoder_q(x1)
        with torch.no_grad():
            method.encoder_k(x2)
        q.sum().backward()

    method.train()
    t_full, t_bare = _time(full_step, steps), _time(bare, steps)
    return {
        "step_ms": round(t_full * 1e3, 1),
        "bare_ms": round(t_bare * 1e3, 1),
        "step_overhead": round(t_full / t_bare, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=6)
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
    print(json.dumps(result))


if __name__ == "__main__":
    main()
