"""The docs pages rendered from records (`python -m ssl_kit report`): reference runs and sweeps kept in
docs/reference/ (`report`, `kept_sweeps`), every page and block rendered from them and from the benchmarks' JSON
(`benchmark_tables`), and the check that the committed pages are what the records render."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "keep_reference": "report",
    "render_pages": "report",
    "write_pages": "report",
    "check_pages": "report",
    "keep_sweep": "kept_sweeps",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
