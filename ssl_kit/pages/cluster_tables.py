"""The measured table of docs/cluster.md, rendered from `benchmarks/bench_launchers.py`'s JSON (kept as
`docs/reference/cpu/bench_launchers.json`): the smoke grid's wall time through each launcher on one machine,
whether its records equal the local launcher's, and the user's time to submit a 100-cell grid to SLURM."""

from __future__ import annotations

from ssl_kit.study.records import REFERENCE

CLUSTER_PAGE = REFERENCE.parent / "cluster.md"
CPU_LAUNCHERS = REFERENCE / "cpu" / "bench_launchers.json"
NAMES = {
    "local": "`local` (2 worker processes)",
    "slurm": "`slurm` (a job array)",
    "ray": "`ray` (Ray tasks)",
}


def render_launchers(bench: dict) -> str:
    cpu = bench["cpu"]
    scale, _, cells = bench["grid"].partition(": ")
    out = [
        f"*Measured by `python benchmarks/bench_launchers.py` on a {cpu['cores']}-core {cpu['model']} (torch "
        f"{bench['torch']}): the {scale} grid ({cells}), {bench['threads_per_cell']} thread a cell, a one-node SLURM "
        "cluster and a local Ray cluster on the same machine. Records: every score in results.csv, every trained "
        "weight and every training loss, bit for bit.*",
        "",
        "| launcher | cells | wall time (s) | against `local` | records equal `local`'s |",
        "|---|---|---|---|---|",
    ]
    for name, entry in bench["launchers"].items():
        equal = "yes" if entry["records_equal_local"] else "**no**"
        out.append(
            f"| {NAMES.get(name, name)} | {entry['cells']} | {entry['wall_s']:.1f} | {entry['ratio_to_local']:.2f}x "
            f"| {equal} |"
        )
    met = "under" if bench["goal_met"] else "**over**"
    out += [
        "",
        f"Submitting a 100-cell grid to SLURM took {bench['slurm_submit_100_cells_s']:.1f} s of the user's time "
        f"(from the command to one array in the queue; {met} the {bench['goal_submit_s']} s aimed at), and the "
        f"same {scale} grid again, every cell done, {bench['slurm_all_done_s']:.2f} s (nothing to submit).",
    ]
    return "\n".join(out)
