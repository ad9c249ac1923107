"""World build speed: images rendered *and written* per second, at 64 and 128 px, on the `objects` set; and the
culled ray caster on COCO-like `scenes` at the quick preset's size.

Baselines in the same run: for `objects`, the same renderer called one image at a time (no batching), rendering
and writing the same frames; for `scenes`, the dense caster (`render`) on the same batches of 32 scenes the
culled one (`render_culled`) renders. Prints one JSON object. Goal: at least 300 images/s at 64 px on a 2-core
CPU.

    python benchmarks/bench_world.py [--images 1500] [--scenes 256] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from ssl_kit.common.atomic import atomic_write_bytes
from ssl_kit.world.build import _encode, build_set, plan_set
from ssl_kit.world.presets import get_preset
from ssl_kit.world.render import render
from ssl_kit.world.render_culled import render_culled
from ssl_kit.world.scene import pack


def _preset(size: int, images: int):
    views = 10
    return replace(
        get_preset("quick"),
        name=f"bench{size}",
        size=size,
        train_instances=max(1, images // (10 * views)),
        val_instances=0,
        views=views,
    )


def batched(size: int, images: int, device: str) -> tuple[float, int]:
    preset = _preset(size, images)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        root = build_set("objects", out, preset, seed=0, device=device, progress=False)
        seconds = time.perf_counter() - start
        n = json.loads((root / "manifest.json").read_text())["images"]
    return n / seconds, n


def unbatched(size: int, images: int, device: str) -> float:
    frames = plan_set("objects", _preset(size, images), 0).frames[:images]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        for f in frames:
            with torch.no_grad():
                img = render(pack([f.make_scene()], device), size).image
            arr = (img * 255 + 0.5).clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0).cpu().numpy()
            path = Path(out) / f.path
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, _encode(arr, f.path, 95))
        return len(frames) / (time.perf_counter() - start)


def scenes(images: int, device: str) -> dict:
    """Scenes per second of the culled and the dense caster on the same batches (rendering only)."""
    preset = get_preset("quick")
    frames = plan_set("scenes", preset, 0).frames[:images]
    batches = [pack([f.make_scene() for f in frames[i : i + 32]], device) for i in range(0, len(frames), 32)]
    rates = {}
    for name, fn in (("culled", render_culled), ("dense", render)):
        start = time.perf_counter()
        with torch.no_grad():
            for b in batches:
                fn(b, preset.scene_size)
        rates[name] = len(frames) / (time.perf_counter() - start)
    return {
        f"scenes_per_s_{preset.scene_size}px": round(rates["culled"], 1),
        f"scenes_dense_per_s_{preset.scene_size}px": round(rates["dense"], 1),
        "scenes_speedup_culled_vs_dense": round(rates["culled"] / rates["dense"], 2),
        "scenes": len(frames),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=1500, help="images at 64 px (a quarter of that at 128 px)")
    ap.add_argument("--baseline-images", type=int, default=200)
    ap.add_argument("--scenes", type=int, default=256, help="COCO-like scenes (0 to skip)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    result = {
        "benchmark": "world_build",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__},
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "baseline": "the same renderer one image at a time (unbatched), rendering and writing the same frames",
    }
    for size, n in ((64, args.images), (128, max(100, args.images // 4))):
        ips, count = batched(size, n, args.device)
        base = unbatched(size, min(args.baseline_images, count), args.device)
        result[f"images_per_s_{size}px"] = round(ips, 1)
        result[f"images_{size}px"] = count
        result[f"baseline_images_per_s_{size}px"] = round(base, 1)
        result[f"speedup_vs_unbatched_{size}px"] = round(ips / base, 2)
    if args.scenes:
        result.update(scenes(args.scenes, args.device))
    result["goal_64px_images_per_s"] = 300
    result["goal_met"] = result["images_per_s_64px"] >= 300
    print(json.dumps(result))


if __name__ == "__main__":
    main()
