"""Interactive inspection widgets (ipywidgets), built as plain objects: `.widget` is what to display, and every
control and every quantity shown is an attribute, so tests (and papermill, without a front end) drive them.

- `NeighbourBrowser`: nearest neighbours of a query image under a model's layer, two models side by side.
- `InvarianceInspector`: a class's most invariant neurons firing across one target's transformation.
- `AugmentExplorer`: a policy's knobs and freshly sampled positive pairs.
- `CurvesViewer`: loss, instance and kNN accuracy of runs, from their metrics.jsonl.
- `WhatIfExplorer`: change one augmentation knob or one property of the world, see which invariance moves.
"""

from ssl_kit.viz.widgets.augment import AugmentExplorer
from ssl_kit.viz.widgets.curves import CurvesViewer, find_runs
from ssl_kit.viz.widgets.inspector import InvarianceInspector, available_protocols
from ssl_kit.viz.widgets.models import ModelBank
from ssl_kit.viz.widgets.neighbours import NeighbourBrowser, Neighbours
from ssl_kit.viz.widgets.ordering import TargetOrder, target_order
from ssl_kit.viz.widgets.what_if import WhatIfExplorer

__all__ = [
    "AugmentExplorer",
    "CurvesViewer",
    "InvarianceInspector",
    "ModelBank",
    "NeighbourBrowser",
    "Neighbours",
    "TargetOrder",
    "WhatIfExplorer",
    "available_protocols",
    "find_runs",
    "target_order",
]
