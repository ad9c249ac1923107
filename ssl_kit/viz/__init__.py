"""What the notebooks show: the world's contact sheets, augmentation views, invariance tables and figures, sweep
summaries, the budget curve, positive pairs, video pairs, invariance curves during training, what-if answers, and
the interactive widgets (`viz.widgets`). Everything here draws records the layers below computed."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "plot_contact_sheets": "contact_sheet",
    "world_contact_sheets": "contact_sheet",
    "plot_view_pairs": "augment_views",
    "view_pairs_grid": "augment_views",
    "both_measures": "invariance",
    "invariance_table": "invariance",
    "plot_invariances": "invariance",
    "plot_layer_scores": "invariance",
    "mean_values": "sweep_plots",
    "plot_by": "sweep_plots",
    "summary_table": "sweep_plots",
    "plot_pair_examples": "pair_plots",
    "plot_pair_histograms": "pair_plots",
    "plot_pair_batches": "video",
    "budget_table": "budget",
    "plot_budget_curves": "budget",
    "plot_findings_by_budget": "budget",
    "curves_table": "invariance_curves",
    "plot_invariance_curves": "invariance_curves",
    "plot_what_if": "what_if_plots",
    "layer_change": "what_if_plots",
    "plot_layer_change": "what_if_plots",
    "WhatIfExplorer": "widgets",
    "AugmentExplorer": "widgets",
    "CurvesViewer": "widgets",
    "InvarianceInspector": "widgets",
    "NeighbourBrowser": "widgets",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
