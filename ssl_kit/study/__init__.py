"""The study: its data by the study's names (`data_folder`, `data_entry`, `train_sets`), grids of trainings run as
resumable sweeps (`grid`, `sweep`, `sweep_cell`, `sweep_context`; where their cells run: `launch`), what-if
questions (`factors`, `what_if_sweep`: change one thing a network trains with and see which invariance moves),
and the notebooks' harness: each study's
folders (`place`), what a notebook does first and last (`notebook`: `study_notebook(...)` finds the world and
results folder it runs on, `findings_markdown` closes it), its records (`records`, `summary`) and `reproduce`."""

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
    "what_if": "what_if_sweep",
    "FACTORS": "factors",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
