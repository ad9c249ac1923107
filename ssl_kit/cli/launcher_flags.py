"""The launcher flags of `sweep`, `what-if` and `reproduce`: where a sweep's cells run
(`ssl_kit.study.launch.options`)."""

from __future__ import annotations

import argparse

LAUNCHER_HELP = (
    "where the cells run: local (this machine; --jobs cells side by side), slurm (one SLURM job-array task per "
    "cell, through submitit), ray (tasks on a Ray cluster) (default: the grid's launcher section, "
    "$SSL_KIT_LAUNCHER, else local)"
)


def launcher_args(p: argparse.ArgumentParser, jobs_default: str) -> None:
    g = p.add_argument_group("where the cells run (docs/cluster.md)")
    g.add_argument("--launcher", choices=["local", "slurm", "ray"], help=LAUNCHER_HELP)
    g.add_argument(
        "--jobs",
        type=int,
        help=f"local: cells trained side by side, sharing the CPU's threads ({jobs_default}); slurm and ray: "
        "at most this many cells running at once (default: no cap)",
    )
    g.add_argument(
        "--cpus-per-cell",
        type=int,
        metavar="N",
        help="CPU threads each cell trains on (default: local, the CPU's divided among the jobs; slurm and "
        "ray, 4)",
    )
    g.add_argument(
        "--gpus-per-cell", type=int, metavar="N", help="GPUs per cell; more than 1 trains through torchrun"
    )
    g.add_argument("--partition", help="slurm: the partition (default: the cluster's default)")
    g.add_argument(
        "--time", type=int, metavar="MIN", dest="time_min",
        help="slurm: time limit per cell in minutes; a cell past it is checkpointed and requeued (default: 240)",
    )  # fmt: skip
    g.add_argument("--mem", type=float, metavar="GB", dest="mem_gb", help="slurm: memory per cell in GB")
    g.add_argument(
        "--ray-address",
        metavar="ADDR",
        dest="address",
        help="ray: the cluster's address (auto: the one `ray start` runs here; default: a local cluster "
        "started for the sweep)",
    )


def launch_from_args(args: argparse.Namespace, grid_section: dict | None = None):
    """The `LaunchOptions` the flags give, over the grid's section and the environment."""
    from ssl_kit.study.launch.options import launch_options

    flags = {k: getattr(args, k, None) for k in ("jobs", "cpus_per_cell", "gpus_per_cell", "partition",
                                                 "time_min", "mem_gb", "address")}  # fmt: skip
    return launch_options(grid_section, launcher=args.launcher, **flags)
