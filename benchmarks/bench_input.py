"""Input pipeline at paper scale: streaming speed against the in-memory path and the trainer, and its memory.

Prints one JSON object with two parts.

- `rate`, on a folder of full-size JPEGs made here (`--images` photos-like images of 500x375 in 10 classes, JPEG
  quality 90): images/s of the streaming pipeline's worker part (read, draft decode, MoCo v2's two 224 px
  RandomResizedCrop views cut from the original) in one process on one thread, i.e. per worker; of the device
  part (the rest of MoCo v2's policy, batched, on every thread); and of the loader with `--workers` processes.
  Baselines in the same run: the in-memory path on the same images (decoded once to 224 x 224, then both views
  cropped and augmented batched, as `augment` does in training), and the trainer's consumption at paper scale on
  this machine (a MoCo v2 ResNet-50 step at 224 px on streamed views, batch `--train-batch`).
- `memory`: peak resident memory of a paper-scale data set-up (index the folder, stream `--memory-steps` steps of
  batch 256 through the loader) on folders of 10,000, 100,000 and 1,000,000 images (`--memory-sizes`; hard links
  to the made JPEGs, so no new bytes on disk), each in `--memory-repeats` fresh processes (median; VmHWM, Linux),
  with the loader's worker processes' private memory counted apart. Against: the bytes the in-memory path would
  hold for the folder. Goal: peak memory independent of the folder's size (largest / smallest at most 1.10).
  Also: the private memory a forked process gains by reading every path of the index once, as a loader worker
  does in an epoch (what grows with the folder if anything does).

    python benchmarks/bench_input.py [--images 2000] [--workers 2] [--memory-steps 3] [--part rate|memory|all]
        [--memory-sizes 10000 100000 1000000] [--memory-repeats 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_amp import _cpu_model  # noqa: E402

from ssl_kit.augment import augment, get_policy, step_views  # noqa: E402
from ssl_kit.batches import Steps, StreamedImages  # noqa: E402
from ssl_kit.batches.streamed_images import StepViews  # noqa: E402
from ssl_kit.data.memory import (
    load_labelled_folder,  # noqa: E402
    resident_bytes,  # noqa: E402
)
from ssl_kit.runs.config import TrainConfig, method_from_config, resolve  # noqa: E402

CLASSES = 10
SIZE = 224
POLICY = "mocov2"


def make_photo(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A photo-like image: smooth colour fields (a bicubic blow-up of a few random pixels) with fine texture and
    noise, so that JPEG decoding costs about what it costs on a photo of that size."""
    coarse = Image.fromarray(rng.integers(0, 256, (height // 40 + 2, width // 40 + 2, 3), dtype=np.uint8))
    base = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    y, x = np.mgrid[0:height, 0:width]
    texture = 18 * np.sin(x * rng.uniform(0.05, 0.4) + y * rng.uniform(0.05, 0.4))[..., None]
    noise = rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(np.clip(base + texture + noise, 0, 255).astype(np.uint8))


def make_folder(root: Path, n: int, width: int = 500, height: int = 375) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = root / f"class_{i % CLASSES:02d}" / f"img_{i:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        make_photo(rng, width, height).save(path, quality=90)
        paths.append(path)
    return paths


def link_folder(root: Path, sources: list[Path], n: int) -> None:
    """An ImageFolder of `n` files, hard links to `sources` in turn (no new bytes on disk)."""
    for i in range(n):
        path = root / f"class_{i % CLASSES:02d}" / f"img_{i:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(sources[i % len(sources)], path)


def _rate(fn, images: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    fn()
    return images / (time.perf_counter() - start)


def rate_part(root: Path, n: int, workers: int, batch: int, train_batch: int) -> dict:
    stream = StreamedImages.open(root, workers=workers)
    policy = get_policy(POLICY)
    steps = max(1, min(4, n // batch))
    threads = torch.get_num_threads()

    one = StepViews(
        stream.paths, stream.labels, 0, batch, 0, 1, 0, steps, policy, SIZE, 2
    )  # views of steps 0..
    torch.set_num_threads(1)  # a worker's share: one thread, as `one_thread_worker` sets
    worker = _rate(lambda: [one[i] for i in range(steps)], steps * batch)
    torch.set_num_threads(threads)
    crops = one[0][0]  # uint8 (B, 2, 3, 224, 224)
    rest = stream.device_policy(policy)
    gen = torch.Generator().manual_seed(0)
    device = _rate(lambda: [augment(crops[:, v], rest, SIZE, generator=gen) for v in range(2)], batch)

    def loader():
        it = stream.batches(Steps(0, batch, 0, steps, get_policy(POLICY), SIZE, 2, torch.device("cpu")))
        for _ in it:
            pass

    loaded = _rate(loader, steps * batch)  # includes starting the workers, as each run does once

    start = time.perf_counter()
    held, _, _ = load_labelled_folder(root, SIZE)
    decode_once = n / (time.perf_counter() - start)
    idx = torch.arange(batch)
    memory = _rate(lambda: [augment(held[idx], policy, SIZE, generator=gen) for _ in range(2)], batch)

    cfg = resolve(TrainConfig(method=POLICY, scale="paper", data=str(root), out="unused"))
    method = method_from_config(cfg, CLASSES, n)
    method.train()
    opt = torch.optim.SGD(method.parameters(), lr=0.03, momentum=0.9)
    tb = crops[:train_batch]
    index, labels = torch.arange(len(tb)), torch.zeros(len(tb), dtype=torch.long)

    def step():
        out = method.training_step(step_views(tb, rest, SIZE, 2, gen), index, labels)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()

    train = _rate(step, len(tb))
    per_image_core = 1 / worker + threads / device  # one core's seconds per streamed image, both parts
    return {
        "folder": f"{n} JPEGs of 500x375, quality 90, {CLASSES} classes",
        "policy": POLICY,
        "crop_size": SIZE,
        "batch": batch,
        "stream_worker_images_per_s": round(worker, 1),
        "stream_device_augment_images_per_s": round(device, 1),
        "stream_images_per_s_per_core": round(1 / per_image_core, 1),
        "stream_loader_images_per_s": round(loaded, 1),
        "loader_workers": workers,
        "baseline_memory_decode_once_images_per_s": round(decode_once, 1),
        "baseline_memory_step_images_per_s": round(memory, 1),
        "baseline_memory_step_images_per_s_per_core": round(memory / threads, 1),
        "stream_vs_memory_per_core": round(threads / per_image_core / memory, 2),
        "trainer": f"MoCo v2 {cfg.arch} at {SIZE} px, batch {len(tb)}, {threads} threads, CPU",
        "trainer_images_per_s": round(train, 2),
        "stream_worker_vs_trainer": round(worker / train, 1),
        "torch_threads": threads,
    }


def _status_kb(pid: int | str, field: str) -> int:
    """A `VmRSS`/`VmHWM` line of /proc/<pid>/status, in kB (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _private_kb(pid: int) -> int:
    """A process's private memory (Private_Clean + Private_Dirty of /proc/<pid>/smaps_rollup), in kB: what a
    forked worker holds of its own, pages it copied from the parent on write included."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return sum(
        int(line.split()[1]) for line in lines if line.startswith(("Private_Clean:", "Private_Dirty:"))
    )


def _children() -> list[int]:
    pids: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


def _walk(paths, read_all: bool, queue) -> None:
    if read_all:
        read = getattr(paths, "fspath", paths.__getitem__)  # as a loader worker reads a path (StepViews)
        for i in range(len(paths)):
            read(i)
    queue.put(_private_kb("self"))


def forked_reader_mb(paths) -> float:
    """Private memory a forked process (a DataLoader worker) gains by reading every path once: a worker's epoch
    touches them all, and reading a Python object writes its reference count, so its page is copied."""
    ctx = multiprocessing.get_context("fork")
    kb = []
    for read_all in (False, True):
        queue = ctx.Queue()
        proc = ctx.Process(target=_walk, args=(paths, read_all, queue))
        proc.start()
        kb.append(queue.get())
        proc.join()
    return (kb[1] - kb[0]) / 1024


def memory_child(root: str, steps: int, workers: int) -> None:
    """In a fresh process: this process's peak resident memory (VmHWM, which starts afresh at exec) after the
    imports and after indexing `root` and streaming `steps` steps, and the loader workers' summed private memory
    at its highest (sampled every 20 ms; pages a forked worker still shares with this process are not counted)."""
    after_imports = _status_kb("self", "VmHWM")
    peak_workers, done = [0], threading.Event()

    def sample():
        while not done.wait(0.02):
            peak_workers[0] = max(peak_workers[0], sum(_private_kb(p) for p in _children()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stream = StreamedImages.open(root, workers=workers)
    it = stream.batches(Steps(0, 256, 0, steps, get_policy(POLICY), SIZE, 2, torch.device("cpu")))
    for _ in it:
        pass
    done.set()
    sampler.join()
    out = {
        "images": stream.n,
        "peak_rss_after_imports_mb": after_imports / 1024,
        "peak_rss_mb": _status_kb("self", "VmHWM") / 1024,
        "peak_workers_private_mb": peak_workers[0] / 1024,
        "forked_reader_of_every_path_private_mb": forked_reader_mb(stream.paths),
    }
    print(json.dumps(out))


def memory_part(
    tmp: Path, sources: list[Path], steps: int, workers: int, sizes: list[int], repeats: int
) -> dict:
    out: dict = {
        "steps": steps,
        "batch": 256,
        "crop_size": SIZE,
        "loader_workers": workers,
        "repeats": repeats,
    }
    for n in sizes:
        root = tmp / f"folder_{n}"
        start = time.perf_counter()
        link_folder(root, sources, n)
        linked = time.perf_counter() - start
        cmd = [
            sys.executable,
            __file__,
            "--memory-child",
            str(root),
            "--memory-steps",
            str(steps),
            "--workers",
            str(workers),
        ]
        runs = [
            json.loads(
                subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1]
            )
            for _ in range(repeats)
        ]  # each a fresh process; the median of each value (a worker's peak depends on when batches overlap)
        child = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
        child["images"] = runs[0]["images"]
        child["peak_workers_private_mb_each_run"] = [round(r["peak_workers_private_mb"], 1) for r in runs]
        out[f"folder_{n}"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in child.items()}
        out[f"folder_{n}"]["memory_path_would_hold_gb"] = round(resident_bytes(n, SIZE) / 2**30, 2)
        out[f"folder_{n}"]["links_made_seconds"] = round(linked, 1)
        shutil.rmtree(root)
    small, big = out[f"folder_{sizes[0]}"], out[f"folder_{sizes[-1]}"]
    ratio = f"{sizes[-1] // 1000}k_vs_{sizes[0] // 1000}k"
    out[f"peak_rss_ratio_{ratio}"] = round(big["peak_rss_mb"] / small["peak_rss_mb"], 3)
    out[f"peak_workers_private_ratio_{ratio}"] = round(
        big["peak_workers_private_mb"] / small["peak_workers_private_mb"], 3
    )
    out["goal"] = (
        f"peak resident memory independent of the folder's size (ratio {sizes[-1]:,} / {sizes[0]:,} images at "
        "most 1.10, main process and workers)"
    )
    out["goal_met"] = bool(
        max(out[f"peak_rss_ratio_{ratio}"], out[f"peak_workers_private_ratio_{ratio}"]) <= 1.10
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("rate", "memory", "all"), default="all")
    ap.add_argument("--images", type=int, default=2000, help="full-size JPEGs made for the rate part")
    ap.add_argument("--workers", type=int, default=2, help="loader worker processes")
    ap.add_argument("--batch", type=int, default=64, help="images per step in the rate part")
    ap.add_argument(
        "--train-batch", type=int, default=16, help="images per trainer step (ResNet-50 on the CPU)"
    )
    ap.add_argument("--memory-steps", type=int, default=3)
    ap.add_argument("--memory-repeats", type=int, default=3, help="fresh processes per folder (median)")
    ap.add_argument(
        "--memory-sizes",
        type=int,
        nargs="+",
        default=[10_000, 100_000, 1_000_000],
        help="images in the memory part's folders (hard links to the made JPEGs)",
    )
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.memory_steps, args.workers)
        return
    result: dict = {
        "benchmark": "input",
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
    }
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        sources = make_folder(Path(tmp) / "photos", args.images)
        result["folder_made_seconds"] = round(time.perf_counter() - start, 1)
        if args.part in ("rate", "all"):
            result["rate"] = rate_part(
                Path(tmp) / "photos", args.images, args.workers, args.batch, args.train_batch
            )
        if args.part in ("memory", "all"):
            result["memory"] = memory_part(
                Path(tmp),
                sources,
                args.memory_steps,
                args.workers,
                sorted(args.memory_sizes),
                args.memory_repeats,
            )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
