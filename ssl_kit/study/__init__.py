"""The study: grids of trainings run as resumable sweeps, the paper's four findings checked on their records,
the world's fidelity card, and `reproduce` (build the world, run every notebook, write the summary and the
pages). A notebook starts with `study_notebook(...)`, which finds the world and results folder it runs on."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "study_notebook": "notebook",
    "findings_markdown": "report",
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
