"""docs/cluster.md's table is rendered from the launcher benchmark's JSON: one row per launcher with its ratio to
the local launcher and whether its records equal the local run's, and the submission times."""

from __future__ import annotations

from ssl_kit.pages.cluster_tables import render_launchers


def _bench(**over) -> dict:
    entry = {"cells": 4, "failed": 0}
    return {
        "cpu": {"model": "Some CPU", "cores": 2},
        "torch": "2.x",
        "grid": "smoke: 3 cells and the baseline",
        "threads_per_cell": 1,
        "launchers": {
            "local": {**entry, "wall_s": 8.0, "ratio_to_local": 1.0, "records_equal_local": True},
            "slurm": {**entry, "wall_s": 12.0, "ratio_to_local": 1.5, "records_equal_local": False},
        },
        "slurm_submit_100_cells_s": 12.5,
        "slurm_all_done_s": 0.01,
        "goal_submit_s": 10,
        "goal_met": False,
        **over,
    }


def test_the_table_says_each_launcher_against_local_and_the_submission_against_its_goal():
    text = render_launchers(_bench())
    assert (
        "on a 2-core Some CPU (torch 2.x): the smoke grid (3 cells and the baseline), 1 thread a cell" in text
    )
    assert "| `local` (2 worker processes) | 4 | 8.0 | 1.00x | yes |" in text
    assert "| `slurm` (a job array) | 4 | 12.0 | 1.50x | **no** |" in text  # unequal records stand out
    assert "took 12.5 s of the user's time" in text and "**over** the 10 s aimed at" in text
    assert "every cell done, 0.01 s (nothing to submit)" in text
    met = render_launchers(_bench(slurm_submit_100_cells_s=0.2, goal_met=True))
    assert "took 0.2 s" in met and "under the 10 s aimed at" in met
