"""The paper's invariance measure, the protocols that build its targets, and layer feature extraction."""

from ssl_kit.invariance.measure import (
    InvarianceResult,
    invariance_detail,
    invariance_score,
    layer_scores,
    percentile_for,
)

__all__ = ["InvarianceResult", "invariance_detail", "invariance_score", "layer_scores", "percentile_for"]
