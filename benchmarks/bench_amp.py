"""The quick MoCo v2 training step in fp32 and under bf16 autocast, against the CPU's limit. Prints one JSON object.

For each precision: images/s, the step's achieved GFLOP/s (the forward and backward passes' floating-point
operations, counted once with `torch.utils.flop_counter`, over the measured step time) and its fraction of the
CPU's peak for that precision (`ssl_kit.common.cpu_peak`: cores x clock x FLOP per cycle, stated in the JSON).
The bf16 speed-up is a ratio to the fp32 step measured in the same run.

Each precision is measured twice: with the stem the network learns (the step before the quick recipe froze it:
`fp32`, `bf16`), and with the frozen whitened stem of today's quick recipe (`whitened`), whose first layer needs
no gradient; `speedup_vs_learned_fp32` is each against the learned stem in fp32, in the same run.

bf16 pays on CPUs that compute it natively (AVX512-BF16 or AMX: `ssl_kit.common.device.cpu_native_bf16`);
elsewhere it is emulated. Whether `--amp auto` uses it there is decided by this ratio (speed) and by trainings'
accuracy under bf16 against fp32 (grid `bf16`, docs/recipes.md).

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

from ssl_kit.augment import get_policy, step_views
from ssl_kit.common.cpu_peak import cpu_spec
from ssl_kit.common.device import channels_last, cpu_native_bf16
from ssl_kit.methods import build_method
from ssl_kit.models.whitening import whiten_stems
from ssl_kit.training.prepare import sgd


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def quick_step(arch: str, size: int, batch: int, bf16: bool, whitened: bool = False):
    """One MoCo v2 training step (augment both views, forward, loss, backward, SGD) of a fresh network on random
    images, as a function to call: what this benchmark times and `profile_quick.py` profiles. `whitened`: the
    first layer frozen, as the quick recipe's whitened stem."""
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
    images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8)
    if whitened:
        whiten_stems(method, images)
    channels_last(method)
    method.train()
    opt = sgd(method, lr=0.03, momentum=0.9, weight_decay=1e-4)
    index, labels = torch.arange(batch), torch.zeros(batch, dtype=torch.long)
    policy, gen = get_policy("mocov2"), torch.Generator().manual_seed(0)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = method.training_step(step_views(images, policy, size, 2, gen), index, labels)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()

    return step


def step_time(
    arch: str, size: int, batch: int, steps: int, bf16: bool, whitened: bool = False, rounds: int = 5
) -> tuple[list[float], int]:
    """Seconds per MoCo v2 step (`quick_step`), one figure per round, and the floating-point operations of one
    step (counted on the first warm-up step)."""
    step = quick_step(arch, size, batch, bf16, whitened)
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
    kinds = [(stem, p) for stem in ("learned", "whitened") for p in ("fp32", "bf16")]
    runs = {
        k: step_time(args.arch, args.size, args.batch, args.steps, k[1] == "bf16", k[0] == "whitened")
        for k in kinds
    }
    med = {k: sorted(t)[len(t) // 2] for k, (t, _) in runs.items()}
    precision: dict = {"whitened": {}}
    for (stem, p), (_, flops) in runs.items():
        gflops = flops / med[stem, p] / 1e9
        row = {
            "images_per_s": round(args.batch / med[stem, p], 1),
            "step_gflop": round(flops / 1e9, 2),
            "achieved_gflops": round(gflops, 1),
            "peak_gflops": round(spec.peak_gflops(p), 1),
            "fraction_of_peak": round(gflops / spec.peak_gflops(p), 3),
            "speedup_vs_learned_fp32": round(med["learned", "fp32"] / med[stem, p], 3),
        }
        if stem == "learned":
            precision[p] = row
        else:
            precision["whitened"][p] = row
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
                "whitened": precision["whitened"],
                "bf16_speedup": round(med["learned", "fp32"] / med["learned", "bf16"], 3),
                "baseline": "the same step in fp32 with the learned stem, in the same run",
            }
        )
    )


if __name__ == "__main__":
    main()
