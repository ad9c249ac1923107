"""The study: grids of trainings run as resumable sweeps, the paper's four findings checked on their records,
the world's fidelity card, and `reproduce` (build the world, run every notebook, write the summary and the
pages). A notebook starts with `study_notebook(...)`, which finds the world and results folder it runs on."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "study_notebook": "notebook",
    "findings_markdown": "report",
    "check": "findings",
    "finding_1": "findings",
    "finding_2": "findings",
    "finding_3": "findings",
    "finding_4": "findings",
    "label": "findings",
    "labelled": "findings",
    "load_grid": "grid",
    "cell_config": "grid",
    "subset": "grid",
    "run_sweep": "sweep",
    "study_mocov2": "sweep",
    "study_mocov2_runs": "sweep",
    "training_folders": "sweep",
    "has_object_boxes": "positive_pairs",
    "positive_pair_stats": "positive_pairs",
    "card_record": "fidelity",
    "fidelity_card": "fidelity",
    "render_markdown": "fidelity",
    "BUDGET_CHECKS": "budget_findings",
    "budget_label": "budget_findings",
    "budget_rows": "budget_findings",
    "findings_by_budget": "budget_findings",
    "split_variant": "budget_findings",
    "verdict_table": "budget_findings",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
