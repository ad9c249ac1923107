"""bf16 autocast on the CPU: the quick MoCo v2 training step with and without it, as a ratio measured in the
same run. Prints one JSON object.

bf16 pays on CPUs that compute it natively (AVX512-BF16 or AMX: `ssl_kit.common.device.cpu_native_bf16`);
elsewhere it is emulated. `--amp auto` uses bf16 on CUDA only: on a CPU it stays fp32 until this ratio (speed)
and a training's downstream accuracy (`--amp bf16` against `--amp off`, same seeds) both say it wins there.

    python benchmarks/bench_amp.py [--size 32] [--batch 128] [--steps 4] [--arch resnet18_w32]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from ssl_kit.augment import augment, get_policy
from ssl_kit.common.device import channels_last, cpu_native_bf16
from ssl_kit.methods import build_method
from ssl_kit.training.prepare import sgd


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def step_time(arch: str, size: int, batch: int, steps: int, bf16: bool, rounds: int = 5) -> list[float]:
    """Seconds per MoCo v2 step (augment both views, forward, loss, backward, SGD), one figure per round."""
    torch.manual_seed(0)
    method = build_method(
        "mocov2",
        arch=arch,
        small_stem=False,
        num_classes=10,
        dataset_size=4800,
        queue_size=128,
        momentum=0.99,
        temperature=0.2,
    )
    channels_last(method)
    method.train()
    opt = sgd(method, lr=0.03, momentum=0.9, weight_decay=1e-4)
    images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8)
    index, labels = torch.arange(batch), torch.zeros(batch, dtype=torch.long)
    policy, gen = get_policy("mocov2"), torch.Generator().manual_seed(0)

    def view(x):
        return augment(x, policy, size, generator=gen).contiguous(memory_format=torch.channels_last)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = method.training_step(images, index, labels, view)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()

    step()
    step()  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - start) / steps)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--arch", default="resnet18_w32")
    args = ap.parse_args()
    fp32 = step_time(args.arch, args.size, args.batch, args.steps, bf16=False)
    bf16 = step_time(args.arch, args.size, args.batch, args.steps, bf16=True)
    med = {k: sorted(v)[len(v) // 2] for k, v in (("fp32", fp32), ("bf16", bf16))}
    print(
        json.dumps(
            {
                "benchmark": "amp",
                "machine": {
                    "cpu": _cpu_model(),
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                    "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                },
                "native_bf16": cpu_native_bf16(),
                "arch": args.arch,
                "size": args.size,
                "batch": args.batch,
                "fp32_images_per_s": round(args.batch / med["fp32"], 1),
                "bf16_images_per_s": round(args.batch / med["bf16"], 1),
                "bf16_speedup": round(med["fp32"] / med["bf16"], 3),  # baseline: the fp32 step, same run
                "baseline": "the same step in fp32",
            }
        )
    )


if __name__ == "__main__":
    main()
