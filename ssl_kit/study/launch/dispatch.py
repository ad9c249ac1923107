"""Hand a sweep's cells to the engine its launch options name (`ssl_kit.study.launch`)."""

from __future__ import annotations

from ssl_kit.study.launch.cell_task import cell_task
from ssl_kit.study.launch.local_pool import run_pool
from ssl_kit.study.launch.ray_tasks import run_tasks
from ssl_kit.study.launch.slurm_array import run_array
from ssl_kit.study.sweep_cell import find_cell, recorded


def launch_cells(ctx, cells: list, opts, progress: bool) -> dict[str, dict]:
    """Run `cells` of the sweep `ctx` where `opts` (`options.LaunchOptions`) says; cell -> summary."""

    tasks = [cell_task(ctx, c, opts.threads(), opts.gpus_per_cell) for c in cells]
    name = ctx.grid.name
    if opts.launcher == "local":
        return run_pool(tasks, opts.local_jobs, progress, f"sweep {name}")
    if opts.launcher == "slurm":

        def has_record(cell: str) -> bool:
            return recorded(ctx, find_cell(ctx.grid, cell)) is not None

        return run_array(tasks, opts, ctx.folder / "slurm", name, progress, has_record)
    return run_tasks(tasks, opts, name, progress)
