"""Paper-scale training steps on the device at hand, and what the study would cost on it. Prints one JSON object.

For each image method the kit trains at paper scale (ResNet-50 at 224 px, batch 256, the method's paper recipe
and augmentation), one full training step as the trainer takes it: the views augmented on the device from
uint8 images already there (the in-memory path), the forward pass under the trainer's autocast (bf16 on CUDA),
backward, fused SGD. Each is timed over `--steps` steps after warm-up and given as images/s, seconds a step and
its ratio to the baseline measured in the same run: the bare backbone's forward and backward on ready-made float
tensors at the same batch and precision (`step_vs_backbone`). MoCo v2 is also timed in fp32 (`bf16_speedup`),
and the eval-mode forward that feature extraction runs (`features_images_per_s`). The video methods (FTI, the
Region Tracker) step like MoCo v2 (two views through the same ResNet-50) and are costed at its rate.

`estimates` turns the rates into GPU-hours per notebook at paper scale on the real datasets (the trainings each
notebook's committed parameters run, and those of `make study`: every cell, three seeds): steps from each cell's
resolved config (epochs x images / batch, or its `steps`), images from the real training sets' sizes below.
They are estimates: the step alone, on the in-memory path, without the streamed input, evaluation or the video
methods' frame reading.

    python benchmarks/bench_gpu.py [--steps 20] [--batch 256] [--loader-rate R] [--out FILE]
    python benchmarks/bench_gpu.py --from SAVED.json --loader-rate R --out FILE   # the estimates only
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from ssl_kit.augment import get_policy, step_views
from ssl_kit.common.device import channels_last, choose_device
from ssl_kit.runs.config import TrainConfig, method_from_config, resolve
from ssl_kit.study.grid import load_grid
from ssl_kit.training.prepare import sgd
from ssl_kit.training.step import autocast

METHODS = ("supervised", "mocov2", "simclr", "pirl")
# training images of the real sets each study name reads at paper scale (data_scripts/README.md)
REAL_IMAGES = {"objects": 126_689, "scenes": 118_287, "scene_crops": 118_287}  # ImageNet-100, COCO train2017
# what each notebook trains at paper scale: (grid or None, the committed subset, the `make study` subset)
NOTEBOOK_GRIDS = {
    "01_measuring_invariances": ("augmentation_ablations", {"policy": ["mocov2", "crop_0.8"], "seeds": 1}, None),
    "02_augmentation_ablations": ("augmentation_ablations", {"policy": ["no_crop", "crop_0.8", "mocov2"],
                                                             "seeds": 1}, {"seeds": 3}),
    "03_dataset_biases": ("dataset_biases", {"policy": ["crop_0.8"], "seeds": 1}, {"seeds": 3}),
    "06_budget_curve": ("budget", {"seeds": 3}, {"seeds": 3}),
}  # fmt: skip


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _time(fn, steps: int, device: torch.device) -> float:
    """Seconds per call: mean over `steps` calls after three warm-up calls."""
    for _ in range(3):
        fn()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    _sync(device)
    return (time.perf_counter() - start) / steps


def method_step(name: str, device: torch.device, batch: int, steps: int, amp: str = "auto") -> dict:
    cfg = resolve(TrainConfig(method=name, scale="paper", batch_size=batch, device=str(device), amp=amp))
    torch.manual_seed(0)
    method = method_from_config(cfg, num_classes=100, dataset_size=REAL_IMAGES["objects"]).to(device)
    channels_last(method)
    opt = sgd(method, cfg.lr, cfg.sgd_momentum, cfg.weight_decay)
    policy = get_policy(cfg.policy or method.default_policy)
    pool = torch.randint(
        0, 256, (2 * batch, 3, cfg.image_size, cfg.image_size), dtype=torch.uint8, device=device
    )
    gen = torch.Generator().manual_seed(0)  # augment draws its parameters on the CPU, as in training

    def step() -> None:
        idx = torch.randint(0, len(pool), (batch,), generator=gen).to(device)
        labels = torch.randint(0, 100, (batch,), generator=gen).to(device)

        method.train()
        with autocast(cfg.amp, device):
            views = step_views(pool[idx], policy, cfg.crop_size, method.n_views, gen)
            result = method(views, idx, labels)
        opt.zero_grad(set_to_none=True)
        result.loss.backward()
        opt.step()

    seconds = _time(step, steps, device)
    return {
        "seconds_per_step": round(seconds, 4),
        "images_per_s": round(batch / seconds, 1),
        "policy": policy.name,
    }


def bare_backbone(device: torch.device, batch: int, steps: int, size: int = 224) -> dict:
    """The baseline: ResNet-50's forward and backward on float tensors, under the trainer's autocast."""
    cfg = resolve(TrainConfig(method="supervised", scale="paper", device=str(device)))
    backbone = method_from_config(cfg, num_classes=100, dataset_size=10).feature_backbone().to(device)
    channels_last(backbone)
    x = torch.randn(batch, 3, size, size, device=device).contiguous(memory_format=torch.channels_last)

    def step() -> None:
        with autocast(cfg.amp, device):
            y = backbone(x)
        y.float().sum().backward()

    seconds = _time(step, steps, device)
    eval_model = backbone.eval()

    def forward() -> None:
        with torch.no_grad():
            eval_model(x)

    features = _time(forward, steps, device)
    return {
        "seconds_per_step": round(seconds, 4),
        "images_per_s": round(batch / seconds, 1),
        "features_images_per_s": round(batch / features, 1),
    }


def _cells(grid_name: str, keep: dict | None):
    grid = load_grid(grid_name, scale="paper", seeds=list(range((keep or {}).get("seeds", 1))))
    cells = grid.cells
    if keep and keep.get("policy"):
        cells = [c for c in cells if c.policy in keep["policy"]]
    return grid, cells


def _hours(grid_name: str, keep: dict | None, rates: dict, batch: int) -> tuple[float, int]:
    """(GPU-hours, images through the network) of a grid's chosen cells at paper scale."""
    grid, cells = _cells(grid_name, keep)
    total, seen = 0.0, 0
    for c in cells:
        values = {**grid.config, **dict(c.overrides)}
        fields = {k: v for k, v in values.items() if k in TrainConfig.__dataclass_fields__}
        cfg = resolve(TrainConfig(method=c.method, scale="paper", **fields))
        images = REAL_IMAGES.get(c.data, REAL_IMAGES["objects"])
        if grid.equal_size:
            images = min(REAL_IMAGES[d] for d in {x.data for x in grid.cells})
        steps = cfg.steps or cfg.epochs * images // cfg.batch_size
        total += steps * rates.get(c.method, rates["mocov2"]) * (cfg.batch_size / batch)
        seen += steps * cfg.batch_size
    return total / 3600, seen


def _estimate(hours: float, images: int, loader: float | None) -> dict:
    """The step alone, and bounded by the streamed input's rate where that is slower (a loader's images/s)."""
    out = {"gpu_hours": round(hours, 1), "images": images}
    if loader:
        out["gpu_hours_at_loader_rate"] = round(max(hours, images / loader / 3600), 1)
    return out


def estimates(rates: dict, batch: int, loader: float | None = None) -> dict:
    """GPU-hours of each notebook's paper-scale trainings, with its committed parameters and in `make study`;
    with `loader` (images/s of the streamed input, `bench_input.py`), also bounded by that rate."""
    sup = resolve(TrainConfig(method="supervised", scale="paper"))
    sup_steps = sup.epochs * REAL_IMAGES["objects"] // sup.batch_size  # notebook 01 also trains it, once
    out = {}
    for notebook, (grid, committed, study) in NOTEBOOK_GRIDS.items():
        hours, images = _hours(grid, committed, rates, batch)
        if notebook == "01_measuring_invariances":
            hours += sup_steps * rates["supervised"] * (sup.batch_size / batch) / 3600
            images += sup_steps * sup.batch_size
        study_estimate = _estimate(*_hours(grid, study, rates, batch), loader) if study else None
        out[notebook] = {"committed": _estimate(hours, images, loader), "make_study": study_estimate}
    return out


def _write(result: dict, out: str | None) -> None:
    text = json.dumps(result, indent=1)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")
    print(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument(
        "--loader-rate",
        type=float,
        metavar="IMAGES_PER_S",
        help="images/s of the streamed input "
        "(`bench_input.py`'s stream_loader_images_per_s on the same machine): estimates bounded by it",
    )
    ap.add_argument(
        "--from",
        dest="saved",
        metavar="JSON",
        help="time nothing: recompute the estimates from a "
        "saved run's rates (e.g. one measured on a GPU machine)",
    )
    args = ap.parse_args()
    if args.saved:
        with open(args.saved) as f:
            result = json.load(f)
        rates = {m: v["seconds_per_step"] for m, v in result["methods"].items()}
        result["loader_images_per_s"] = args.loader_rate
        result["estimates_gpu_hours"] = estimates(rates, result["batch"], args.loader_rate)
        _write(result, args.out)
        return
    device = choose_device()
    torch.backends.cudnn.benchmark = True
    base = bare_backbone(device, args.batch, args.steps)
    methods = {m: method_step(m, device, args.batch, args.steps) for m in METHODS}
    for m in methods.values():
        m["step_vs_backbone"] = round(m["seconds_per_step"] / base["seconds_per_step"], 2)
    fp32 = method_step("mocov2", device, args.batch, args.steps, amp="off")
    rates = {m: v["seconds_per_step"] for m, v in methods.items()}
    result = {
        "benchmark": "bench_gpu",
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else str(device),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "batch": args.batch,
        "baseline": {"bare_backbone": base},
        "methods": methods,
        "mocov2_fp32": fp32,
        "bf16_speedup": round(fp32["seconds_per_step"] / methods["mocov2"]["seconds_per_step"], 2),
        "real_images": REAL_IMAGES,
        "loader_images_per_s": args.loader_rate,
        "estimates_gpu_hours": estimates(rates, args.batch, args.loader_rate),
    }
    _write(result, args.out)


if __name__ == "__main__":
    main()
