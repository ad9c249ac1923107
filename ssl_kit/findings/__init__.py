"""The paper's findings as code: each claim's checks on tidy result rows and the verdict they carry (`checks`,
`paper`), the same checks at each training budget (`by_budget`), the findings' records as Markdown (`tables`),
and the positive-pair analysis behind finding 2 (`positive_pairs`: what the two views of a pair show)."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "check": "checks",
    "label": "checks",
    "labelled": "checks",
    "finding_1": "paper",
    "finding_2": "paper",
    "finding_3": "paper",
    "finding_4": "paper",
    "budget_label": "by_budget",
    "findings_by_budget": "by_budget",
    "split_variant": "by_budget",
    "verdict_table": "by_budget",
    "has_object_boxes": "positive_pairs",
    "positive_pair_stats": "positive_pairs",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
