"""Does `torch.compile` pay on a CPU? The quick MoCo v2 step with both backbones compiled, against the same step
eager, and a whole quick training with and without compilation, each ratio measured in the same run. Prints one
JSON object.

Compilation is `nn.Module.compile(dynamic=False)` on the query and key backbones, in place (checkpoints keep
their keys). Each compiled part runs in a fresh process with an empty inductor cache (`cold`), then again with
the cache it left (`warm`, as the later cells of a sweep would find it). `TORCH_LOGS=recompiles` says what
recompiles: the key encoder, which runs without gradients, once; the kNN monitor's batches of another size,
once per size.

    python benchmarks/bench_compile.py [--data data/world/quick/objects/train] [--part step|train|all] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from ssl_kit.common.cpu_peak import cpu_spec

STEPS = 40  # step timings: the median of the last 30


def _compile_backbones(method) -> None:
    method.encoder_q.backbone.compile(dynamic=False)
    method.encoder_k.backbone.compile(dynamic=False)


def step_rate(compiled: bool) -> dict:
    """The quick MoCo v2 step (resnet18_w32, 32 px, batch 128, the paper's augmentation), in this process."""
    from ssl_kit.augment import get_policy, step_views
    from ssl_kit.common.device import channels_last
    from ssl_kit.methods import build_method
    from ssl_kit.training.prepare import sgd

    torch.manual_seed(0)
    method = build_method(
        "mocov2",
        arch="resnet18_w32",
        small_stem=False,
        num_classes=10,
        dataset_size=4800,
        queue_size=128,
        momentum=0.99,
        temperature=0.2,
    )
    channels_last(method)
    if compiled:
        _compile_backbones(method)
    method.train()
    opt = sgd(method, 0.03, 0.9, 1e-4)
    images = torch.randint(0, 256, (128, 3, 32, 32), dtype=torch.uint8)
    index, labels = torch.arange(128), torch.zeros(128, dtype=torch.long)
    policy, gen = get_policy("mocov2"), torch.Generator().manual_seed(0)

    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        out = method.training_step(step_views(images, policy, 32, 2, gen), index, labels)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    steady = statistics.median(times[10:])
    return {"first_step_s": round(times[0], 2), "images_per_s": round(128 / steady, 1)}


def train_time(compiled: bool, data: str) -> dict:
    """A whole quick MoCo v2 training (start-up, loading, compilation, 444 steps, the final kNN), in this process."""
    import ssl_kit.training.prepare as prepare
    from ssl_kit.runs import rundir
    from ssl_kit.runs.config import TrainConfig
    from ssl_kit.training.knn_monitor import knn_monitor
    from ssl_kit.training.loop import train

    if compiled:
        build = prepare.build

        def compiled_build(*args, **kwargs):
            method = build(*args, **kwargs)
            _compile_backbones(method)
            return method

        prepare.build = compiled_build
    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(method="mocov2", scale="quick", data=data, out=out, knn_every=0)
        start = time.perf_counter()
        train(cfg, progress=False, monitor=knn_monitor(cfg, torch.device("cpu")))
        seconds = time.perf_counter() - start
        final = [r for r in rundir.read_metrics(out) if r.get("final")][-1]
    return {"seconds": round(seconds, 1), "knn_acc": round(final["knn_acc"], 4)}


def _child(part: str, compiled: bool, data: str, cache: str) -> dict:
    """`part` measured in a fresh process whose inductor cache is `cache`."""
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache}
    code = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_compile as b; "
        f"print(json.dumps(b.{part}({compiled!r}{', ' + repr(data) if part == 'train_time' else ''})))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(part: str, data: str, rounds: int) -> dict:
    """Eager, compiled with an empty cache, then `rounds` pairs of (eager, compiled with the warm cache)
    interleaved, each in a fresh process: the ratios are medians over the pairs."""
    with tempfile.TemporaryDirectory() as cache:
        out = {"eager": [_child(part, False, data, cache)], "compiled_cold": _child(part, True, data, cache)}
        out["compiled_warm"] = []
        for r in range(rounds):
            if r:
                out["eager"].append(_child(part, False, data, cache))
            out["compiled_warm"].append(_child(part, True, data, cache))
    pairs = list(zip(out["eager"], out["compiled_warm"], strict=True))
    if part == "step_rate":
        out["steady_speedup"] = round(
            statistics.median(w["images_per_s"] / e["images_per_s"] for e, w in pairs), 3
        )
    else:
        out["end_to_end_cold"] = round(out["eager"][0]["seconds"] / out["compiled_cold"]["seconds"], 3)
        out["end_to_end_warm"] = round(statistics.median(e["seconds"] / w["seconds"] for e, w in pairs), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/world/quick/objects/train")
    ap.add_argument("--part", choices=("step", "train", "all"), default="all")
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="interleaved (eager, compiled with a warm cache) pairs, for the step and for the training",
    )
    args = ap.parse_args()
    result = {
        "benchmark": "compile",
        "cpu": cpu_spec().as_dict(),
        "torch": torch.__version__,
        "baseline": "the same step or training, eager, in the same run",
    }
    if args.part in ("step", "all"):
        result["step"] = measure("step_rate", args.data, args.rounds)
    if args.part in ("train", "all"):
        if not Path(args.data).is_dir():
            sys.exit(f"--data {args.data}: no such folder (build the quick world: python -m ssl_kit world)")
        result["train"] = measure("train_time", str(Path(args.data).resolve()), args.rounds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
