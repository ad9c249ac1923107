"""The docs pages (`python -m ssl_kit report`): runs and sweeps kept in docs/reference/ (`report`, `kept_sweeps`),
the pages rendered from them and from the benchmarks' JSON (`benchmark_tables`), and the check that they match."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "keep_reference": "report",
    "write_pages": "report",
    "check_pages": "report",
    "keep_sweep": "kept_sweeps",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
