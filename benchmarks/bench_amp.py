"""The quick MoCo v2 training step in fp32 and under bf16 autocast, against the CPU's limit. Prints one JSON object.

For each precision: images/s, the step's achieved GFLOP/s (the forward and backward passes' floating-point
operations, counted once with `torch.utils.flop_counter`, over the measured step time) and its fraction of the
CPU's peak for that precision (`ssl_kit.common.cpu_peak`: cores x clock x FLOP per cycle, stated in the JSON).
The bf16 speed-up is a ratio to the fp32 step measured in the same run.

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
from torch.utils.flop_counter import FlopCounterMode

from ssl_kit.augment import augment, get_policy
from ssl_kit.common.cpu_peak import cpu_spec
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


def step_time(
    arch: str, size: int, batch: int, steps: int, bf16: bool, rounds: int = 5
) -> tuple[list[float], int]:
    """Seconds per MoCo v2 step (augment both views, forward, loss, backward, SGD), one figure per round, and
    the floating-point operations of one step (counted on the first warm-up step)."""
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

    with FlopCounterMode(display=False) as counter:
        step()  # warm-up, counted
    step()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - start) / steps)
    return times, counter.get_total_flops()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--arch", default="resnet18_w32")
    args = ap.parse_args()
    spec = cpu_spec()
    runs = {
        p: step_time(args.arch, args.size, args.batch, args.steps, bf16=p == "bf16") for p in ("fp32", "bf16")
    }
    med = {p: sorted(t)[len(t) // 2] for p, (t, _) in runs.items()}
    precision = {}
    for p, (_, flops) in runs.items():
        gflops = flops / med[p] / 1e9
        precision[p] = {
            "images_per_s": round(args.batch / med[p], 1),
            "step_gflop": round(flops / 1e9, 2),
            "achieved_gflops": round(gflops, 1),
            "peak_gflops": round(spec.peak_gflops(p), 1),
            "fraction_of_peak": round(gflops / spec.peak_gflops(p), 3),
        }
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
                "cpu_peak": {
                    **spec.as_dict(),
                    "formula": "cores x GHz x FMA pipes x (vector bits / 32) x 2; bf16 with AVX512-BF16 x2, AMX 1024 per cycle",
                },
                "arch": args.arch,
                "size": args.size,
                "batch": args.batch,
                "fp32": precision["fp32"],
                "bf16": precision["bf16"],
                "bf16_speedup": round(med["fp32"] / med["bf16"], 3),  # baseline: the fp32 step, same run
                "baseline": "the same step in fp32",
            }
        )
    )


if __name__ == "__main__":
    main()
