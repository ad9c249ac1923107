"""The benchmark tables of docs/benchmarks.md and docs/real_data.md, rendered from the JSON the benchmarks print
(kept under `docs/reference/cpu/` and `docs/reference/gpu/`): the quick step against the CPU's peak, compilation,
what each speed lever costs, and the paper-scale step rates and GPU-hours measured on a GPU machine. Each
renderer returns a block's body; `ssl_kit.pages.report` writes it between the page's markers.
"""

from __future__ import annotations

from pathlib import Path

from ssl_kit.pages.cluster_tables import CLUSTER_PAGE, CPU_LAUNCHERS, render_launchers
from ssl_kit.study.records import REFERENCE, read_record

BENCHMARKS_PAGE, REAL_DATA_PAGE = Path("docs") / "benchmarks.md", Path("docs") / "real_data.md"
GPU = REFERENCE / "gpu"  # benchmarks/bench_gpu.py's and bench_input.py's JSON, measured on a GPU machine
# benchmarks/bench_amp.py's JSON (the quick step against the CPU's peak) and bench_compile.py's
CPU_LIMIT = REFERENCE / "cpu" / "bench_amp.json"
CPU_COMPILE = REFERENCE / "cpu" / "bench_compile.json"
CPU_LEVERS = REFERENCE / "cpu" / "bench_levers.json"
CPU_INPUT_MEMORY = REFERENCE / "cpu" / "bench_input_memory.json"  # bench_input.py --part memory
CPU_PROFILE = REFERENCE / "cpu" / "profile_quick.json"  # benchmarks/profile_quick.py


def render_compile(bench: dict) -> str:
    """Compiled against eager, the quick step and a whole quick training (benchmarks.md)."""
    cpu, step, train = bench["cpu"], bench["step"], bench["train"]

    def rates(runs: list[dict]) -> str:
        return " / ".join(f"{r['images_per_s']:,.0f}" for r in runs)

    def times(runs: list[dict]) -> str:
        return " / ".join(f"{r['seconds']:.0f} s" for r in runs)

    return "\n".join(
        [
            f"*{cpu['model']} ({cpu['core_name']}, {cpu['cores']} cores), torch {bench['torch']}: both backbones "
            "compiled with `nn.Module.compile(dynamic=False)`, each measurement in a fresh process "
            "(`python benchmarks/bench_compile.py`).*",
            "",
            "| | eager | compiled, empty cache | compiled, warm cache | compiled against eager |",
            "|---|---|---|---|---|",
            f"| the quick step, images/s (interleaved rounds) | {rates(step['eager'])} | {rates([step['compiled_cold']])} "
            f"| {rates(step['compiled_warm'])} | {step['steady_speedup']}x the speed (median of the rounds) |",
            f"| its first step | {step['eager'][0]['first_step_s']} s | {step['compiled_cold']['first_step_s']} s | "
            f"{step['compiled_warm'][0]['first_step_s']} s | |",
            f"| a whole quick training (444 steps, the final kNN) | {times(train['eager'])} | "
            f"{times([train['compiled_cold']])} | {times(train['compiled_warm'])} | {train['end_to_end_cold']}x the "
            f"speed (empty cache), {train['end_to_end_warm']}x (warm) |",
        ]
    )


def render_profile(bench: dict) -> str:
    """Where the quick step's and one sweep cell's scoring time goes, by operator (benchmarks.md)."""
    m, step = bench["machine"], bench["step"]
    out = [
        f"*{m['cpu']}, torch {m['torch']}, {m['threads']} threads: `python benchmarks/profile_quick.py` "
        "(`torch.profiler`, self CPU time of each operator as a share of the profiled wall time).*",
        "",
        f"**The quick step** ({step['seconds_per_step_profiled'] * 1000:.0f} ms a step under the profiler; "
        f"convolutions forward and backward: {step['conv_share']:.0%} of it):",
        "",
        "| operator | calls | share of the step |",
        "|---|---|---|",
        *(f"| `{o['op']}` | {o['calls']} | {o['share']:.1%} |" for o in step["top"]),
    ]
    scoring = bench.get("scoring")
    if scoring:
        phases = "; ".join(f"{k} {v:.1f} s" for k, v in scoring["phases_seconds"].items())
        out += [
            "",
            f"**One cell's scoring** ({scoring['seconds']:.1f} s for a network of the quick architecture: {phases}; "
            f"convolutions {scoring['conv_share']:.0%} of it):",
            "",
            "| operator | calls | share of the scoring |",
            "|---|---|---|",
            *(f"| `{o['op']}` | {o['calls']} | {o['share']:.1%} |" for o in scoring["top"][:6]),
        ]
    return "\n".join(out)


def render_cpu_limit(bench: dict) -> str:
    """The quick step's achieved GFLOP/s against the CPU's peak, fp32 and bf16, with the learned stem and (when
    measured) the quick recipe's frozen whitened stem (benchmarks.md)."""
    cpu = bench["cpu_peak"]
    out = [
        f"*{cpu['model']} ({cpu['core_name']}, {cpu['cores']} cores at {cpu['ghz']:.2f} GHz: {cpu['clock_source']}), "
        f"torch {bench['machine']['torch']}: the quick MoCo v2 step ({bench['arch']}, {bench['size']} px, batch "
        f"{bench['batch']}, the paper's augmentation, channels-last; `python benchmarks/bench_amp.py`).*",
        "",
        "| first layer | precision | images/s | GFLOP a step | achieved GFLOP/s | peak GFLOP/s | fraction of peak "
        "| speed against learned, fp32 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    stems = [
        ("learned", {p: bench[p] for p in ("fp32", "bf16")}),
        ("whitened, frozen", bench.get("whitened", {})),
    ]
    for stem, rows in stems:
        for p, r in rows.items():
            speed = r.get("speedup_vs_learned_fp32", bench["bf16_speedup"] if p == "bf16" else 1.0)
            out.append(
                f"| {stem} | {p} | {r['images_per_s']:,.0f} | {r['step_gflop']} | {r['achieved_gflops']} | "
                f"{r['peak_gflops']} | {r['fraction_of_peak']:.1%} | {speed}x |"
            )
    out += [
        "",
        f"The peak is {cpu['formula']}. Native bf16 on this CPU: {'yes' if bench['native_bf16'] else 'no'}.",
    ]
    return "\n".join(out)


def gpu_records(root: Path) -> tuple[dict, dict] | None:
    bench, loader = (
        read_record(root / GPU / "bench_gpu.json"),
        read_record(root / GPU / "bench_input_rate.json"),
    )
    return (bench, loader or {}) if bench else None


def render_gpu_rates(bench: dict, loader: dict) -> str:
    """The paper-scale step on the GPU (benchmarks.md): each method's images/s against the bare backbone."""
    rate = loader.get("rate", {})
    out = [
        f"*{bench['device']}, torch {bench['torch']}, batch {bench['batch']} at 224 px, bf16 autocast, "
        f"channels-last, augmentation on the GPU; host CPU: {loader.get('cpu', '?')}, {loader.get('cores', '?')} "
        "cores (`python benchmarks/bench_gpu.py`, `python benchmarks/bench_input.py --part rate`).*",
        "",
        "| step | images/s | seconds a step | against the bare backbone |",
        "|---|---|---|---|",
    ]
    base = bench["baseline"]["bare_backbone"]
    out.append(
        f"| ResNet-50 forward and backward alone (the baseline) | {base['images_per_s']:,.0f} | "
        f"{base['seconds_per_step']} | 1 |"
    )
    for name, m in bench["methods"].items():
        out.append(
            f"| {name} | {m['images_per_s']:,.0f} | {m['seconds_per_step']} | {m['step_vs_backbone']}x |"
        )
    fp32 = bench["mocov2_fp32"]
    out.append(
        f"| mocov2 in fp32 | {fp32['images_per_s']:,.0f} | {fp32['seconds_per_step']} | bf16 is "
        f"{bench['bf16_speedup']}x faster |"
    )
    out += [
        "",
        f"Feature extraction (eval-mode forward, fp32): {base['features_images_per_s']:,.0f} images/s.",
    ]
    if rate:
        out += [
            "",
            f"The streamed input on the host ({rate['folder']}; MoCo v2's two views): one worker "
            f"{rate['stream_worker_images_per_s']:,.0f} images/s, the loader with {rate['loader_workers']} workers "
            f"{rate['stream_loader_images_per_s']:,.0f} images/s, below the GPU's MoCo v2 step: on this machine "
            "paper-scale training is bound by reading and decoding the JPEGs.",
        ]
    return "\n".join(out)


def render_gpu_hours(bench: dict) -> str:
    """Estimated GPU-hours per notebook at paper scale (real_data.md), from the measured step rates."""
    loader = bench.get("loader_images_per_s")
    out = [
        f"*Estimates, from the step rates measured on one {bench['device']} "
        "([benchmarks](benchmarks.md#a-gpu-h200)): each notebook's trainings at paper scale (ResNet-50, 224 px, "
        "batch 256, 200 epochs of ImageNet-100 or COCO), the step alone and bounded by the streamed input's "
        f"measured rate ({loader:,.0f} images/s with that machine's loader). Evaluation, the invariance "
        "measure and notebook 04's video trainings are not counted.*",
        "",
        "| notebook | as committed: GPU-hours (step alone / at the input's rate) | `make study`: GPU-hours |",
        "|---|---|---|",
    ]

    def pair(e):
        return "—" if not e else f"{e['gpu_hours']} / {e.get('gpu_hours_at_loader_rate', '—')}"

    for notebook, e in bench["estimates_gpu_hours"].items():
        out.append(f"| {notebook} | {pair(e['committed'])} | {pair(e['make_study'])} |")
    return "\n".join(out)


def render_levers_bench(bench: dict) -> str:
    """What each speed lever costs: a whole quick training's wall time against fp32 (benchmarks.md)."""
    cpu = bench["cpu"]
    out = [
        f"*{cpu['model']} ({cpu['core_name']}, {cpu['cores']} cores), torch {bench['torch']}: a whole quick "
        f"training of {bench['steps']} steps (start-up, loading, every step), each in a fresh process, the settings "
        "interleaved (`python benchmarks/bench_levers.py`).*",
        "",
        "| training | seconds (rounds) | speed against the same method in fp32 (median of the rounds) |",
        "|---|---|---|",
    ]
    for name, seconds in bench["seconds"].items():
        speed = f"{bench['speedup'][name]}x" if name in bench["speedup"] else "the baseline"
        out.append(f"| {name.replace('_', ' ')} | {' / '.join(f'{s:.1f}' for s in seconds)} | {speed} |")
    return "\n".join(out)


def render_input_memory(bench: dict) -> str:
    """Peak memory of a paper-scale streaming set-up on folders of growing size (benchmarks.md)."""
    memory = bench["memory"]
    folders = sorted((v for k, v in memory.items() if k.startswith("folder_")), key=lambda f: f["images"])
    out = [
        f"*{bench['cpu']} ({bench['cores']} cores), torch {bench['torch']}: index the folder and stream "
        f"{memory['steps']} steps of {memory['batch']} images at {memory['crop_size']} px through "
        f"{memory['loader_workers']} workers, each folder in {memory['repeats']} fresh processes, medians "
        "(`python benchmarks/bench_input.py --part memory`).*",
        "",
        "| folder | main process, peak (VmHWM) | workers' private memory, peak (each run) | a forked process reading "
        "every path once gains | the in-memory path would hold |",
        "|---|---|---|---|---|",
    ]
    for f in folders:
        each = " / ".join(f"{v:.0f}" for v in f["peak_workers_private_mb_each_run"])
        out.append(
            f"| {f['images']:,} images | {f['peak_rss_mb']:.0f} MB ({f['peak_rss_after_imports_mb']:.0f} after the "
            f"imports) | {f['peak_workers_private_mb']:.0f} MB ({each}) | "
            f"{f['forked_reader_of_every_path_private_mb']:.1f} MB | {f['memory_path_would_hold_gb']:.1f} GB |"
        )
    main = next(v for k, v in memory.items() if k.startswith("peak_rss_ratio_"))
    workers = next(v for k, v in memory.items() if k.startswith("peak_workers_private_ratio_"))
    small, big = folders[0], folders[-1]
    per_image = (big["peak_rss_mb"] - small["peak_rss_mb"]) * 2**20 / (big["images"] - small["images"])
    out += [
        "",
        f"From {small['images']:,} to {big['images']:,} images the main process's peak is {main}x and the "
        f"workers' {workers}x ({'met' if memory['goal_met'] else 'missed'}: the goal is at most 1.10); the main "
        f"process grows by {per_image:.0f} bytes an image, its index of the folder.",
    ]
    return "\n".join(out)


def benchmark_blocks(root: Path) -> list[tuple[Path, str, str]]:
    """(page, marker, body) of every benchmark table whose JSON is kept under `root`."""
    out = []
    for record, marker, render in (
        (CPU_LIMIT, "cpu limit", render_cpu_limit),
        (CPU_COMPILE, "compile", render_compile),
        (CPU_LEVERS, "levers bench", render_levers_bench),
        (CPU_INPUT_MEMORY, "input memory", render_input_memory),
        (CPU_PROFILE, "step profile", render_profile),
    ):
        bench = read_record(root / record)
        if bench:
            out.append((BENCHMARKS_PAGE, marker, render(bench)))
    launchers = read_record(root / CPU_LAUNCHERS)
    if launchers:
        out.append((CLUSTER_PAGE, "launchers", render_launchers(launchers)))
    gpu = gpu_records(root)
    if gpu is not None:
        out += [
            (BENCHMARKS_PAGE, "gpu step rates", render_gpu_rates(*gpu)),
            (REAL_DATA_PAGE, "gpu hours", render_gpu_hours(gpu[0])),
            (CLUSTER_PAGE, "gpu hours", render_gpu_hours(gpu[0])),
        ]
    return out
