"""Invariance measure speed: `ssl_kit.invariance.invariance_score` against a per-target loop of the same formula.

Features: N x D float32 (default 100,000 x 2,048, non-negative like pool5 after ReLU) with T targets of equal
size (default 1,000) and C classes (default 100). Baseline in the same run: `reference_scores` below, the
formula written plainly with numpy (full column sort, one Python iteration per target, float64), the way
the authors' released script computes it. Prints one JSON object; goal: results equal to 1e-9, the kit at
least 5x faster and under 5 s.

    python benchmarks/bench_invariance.py [--images 100000] [--neurons 2048] [--targets 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

from ssl_kit.invariance import invariance_score


def reference_scores(feat: np.ndarray, targets: np.ndarray, classes: np.ndarray, top_k=(10, 25)) -> dict:
    """The measure as a straightforward loop over targets (also the tests' reference implementation)."""
    feat = np.asarray(feat, dtype=np.float64)
    n = feat.shape[0]
    class_ids = np.unique(classes)
    p = min((1.0 - 1.0 / len(class_ids)) * 100, 95)
    k = int((n * p) // 100)
    ascending = np.sort(feat, axis=0)
    up = ascending[k]
    down = ascending[n - 1 - k]
    global_rate = np.mean(feat >= up, axis=0)
    sums = np.zeros((len(class_ids), feat.shape[1]))
    counts = np.zeros((len(class_ids), feat.shape[1]))
    for t in np.unique(targets):
        rows = np.flatnonzero(targets == t)
        if len(rows) < 3:
            continue
        c = np.searchsorted(class_ids, classes[rows[0]])
        block = feat[rows]
        count = np.maximum((block > up).sum(0), (block < down).sum(0))
        fired = count > 0
        sums[c, fired] += count[fired] / len(rows)
        counts[c, fired] += 1
    local = sums / (counts + 1e-20)
    out = {}
    for kk in top_k:
        per_class = [np.sort(local[c] / global_rate)[::-1][:kk].mean() for c in range(len(class_ids))]
        out[kk] = float(np.mean(per_class) * (100 - p))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--neurons", type=int, default=2048)
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    gen = np.random.default_rng(args.seed)
    targets = np.repeat(np.arange(args.targets), args.images // args.targets)
    targets = np.concatenate([targets, np.arange(args.images - len(targets))])  # remainder: 1-image targets
    gen.shuffle(targets)
    classes = targets % args.classes
    # half-rectified, target-dependent signal plus noise: a realistic spread of invariances
    signal = gen.standard_normal((args.targets, args.neurons), dtype=np.float32)
    feat = signal[targets] + gen.standard_normal((args.images, args.neurons), dtype=np.float32)
    np.maximum(feat, 0, out=feat)

    start = time.perf_counter()
    kit = invariance_score(feat, targets, classes)
    kit_s = time.perf_counter() - start
    start = time.perf_counter()
    ref = reference_scores(feat, targets, classes)
    ref_s = time.perf_counter() - start

    diff = max(abs(kit[k] - ref[k]) for k in ref)
    result = {
        "benchmark": "invariance_score",
        "features": [args.images, args.neurons],
        "targets": args.targets,
        "classes": args.classes,
        "kit_seconds": round(kit_s, 3),
        "baseline": "per-target numpy loop (reference_scores)",
        "baseline_seconds": round(ref_s, 3),
        "speedup": round(ref_s / kit_s, 2),
        "max_abs_difference": diff,
        "scores": {str(k): kit[k] for k in kit},
        "goal": "equal to 1e-9, speedup >= 5, kit_seconds < 5",
        "goal_met": bool(diff <= 1e-9 and ref_s / kit_s >= 5 and kit_s < 5),
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
