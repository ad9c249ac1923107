"""The study: its data by the study's names (`data_folder`, `data_entry`, `train_sets`), grids of trainings run
as resumable sweeps (`grid`, `sweep`, `sweep_context`, `sweep_jobs`), and the notebook harness: where a study
reads and writes (`place`), what every notebook does first and last (`notebook`), the records it leaves
(`records`) and `reproduce` (build the world, run every notebook, write the summary). A notebook starts with
`study_notebook(...)`, which finds the world and results folder it runs on, and ends with `findings_markdown`."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "study_notebook": "notebook",
    "findings_markdown": "notebook",
    "load_grid": "grid",
    "cell_config": "grid",
    "subset": "grid",
    "run_sweep": "sweep",
    "study_mocov2": "sweep",
    "study_mocov2_runs": "sweep",
    "training_folders": "sweep",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
