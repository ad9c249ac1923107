"""Small-map convolution speed: a ResNet-18 forward+backward with `SmallMapConv2d` against plain `nn.Conv2d`.

Same weights, same batch of float32 images, same thread count; the only difference is the weight gradient of
the convolutions whose output map has at most 4 pixels (`ssl_kit/models/small_map_conv.py`). Baseline in the
same run: the network with every convolution turned back into `nn.Conv2d`. Median of interleaved rounds.
Prints one JSON object; goal: >= 1.5x at 32 px (where layer3 and layer4 run on 2x2 and 1x1 maps).

    python benchmarks/bench_conv.py [--size 32] [--batch 256] [--arch resnet18] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch
from torch import nn

from ssl_kit.models import build_backbone
from ssl_kit.models.small_map_conv import SmallMapConv2d


def _plain(model: nn.Module) -> nn.Module:
    for m in model.modules():
        if type(m) is SmallMapConv2d:
            m.__class__ = nn.Conv2d
    return model


def _seconds(model: nn.Module, x: torch.Tensor) -> float:
    model.zero_grad(set_to_none=True)
    start = time.perf_counter()
    model(x).sum().backward()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--arch", default="resnet18")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    torch.manual_seed(0)
    fast = build_backbone(args.arch).train()
    plain = _plain(build_backbone(args.arch)).train()
    plain.load_state_dict(fast.state_dict())
    x = torch.randn(args.batch, 3, args.size, args.size)
    for m in (fast, plain):  # warm-up: allocator, oneDNN primitive caches
        _seconds(m, x)
    rounds = [(_seconds(fast, x), _seconds(plain, x)) for _ in range(args.rounds)]
    ratios = sorted(p / f for f, p in rounds)
    t_fast, t_plain = (sorted(v)[len(v) // 2] for v in zip(*rounds, strict=True))
    speedup = ratios[len(ratios) // 2]
    print(
        json.dumps(
            {
                "benchmark": "small_map_conv",
                "arch": args.arch,
                "size": args.size,
                "batch": args.batch,
                "small_map_conv_images_per_s": round(args.batch / t_fast, 1),
                "baseline_nn_conv2d_images_per_s": round(args.batch / t_plain, 1),
                "speedup": round(speedup, 2),
                "speedup_rounds": [round(r, 2) for r in ratios],
                "goal": 1.5,
                "goal_met": speedup >= 1.5,
                "threads": torch.get_num_threads(),
                "cpu": platform.processor() or platform.machine(),
                "cpus": os.cpu_count(),
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
