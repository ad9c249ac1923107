"""Where a sweep's cells run: this machine, a SLURM cluster or a Ray cluster (`options`), one interface.

The kit keeps what makes a result: the cells and their keys, the run folders, each cell's record
(`ssl_kit.study.sweep_cell`) and the gather step (`ssl_kit.study.sweep`). An engine only runs cells: it gets
plain-data tasks (`cell_task`) and runs `cell_task.run_task` on each, which writes the cell's record exactly as a
one-process sweep does. `dispatch.launch_cells` hands the cells to the engine `opts.launcher` names and returns, per
cell, a summary: `ok`/`failed`/`done` (its record is there), `busy` (another sweep holds it) or `died` (the task
ended without a record; the error says why, with its log's last lines).
"""
