"""The paper's invariance measure, exactly (`measure`), a second measure (Ericsson et al.'s cosine, `cosine`), the
six protocols that build its targets (`protocols`), features cached per model and layer (`feature_cache`),
scoring models into tables (`scoring`), and the measure watched during training (`watch`)."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "InvarianceResult": "measure",
    "invariance_detail": "measure",
    "invariance_score": "measure",
    "layer_scores": "measure",
    "percentile_for": "measure",
    "PAPER_PROTOCOLS": "protocols",
    "build_protocol": "protocols",
    "cosine_table": "scoring",
    "layer_table": "scoring",
    "load_model": "scoring",
    "measure_table": "scoring",
    "random_init_model": "scoring",
    "write_csv": "scoring",
    "invariance_watch": "watch",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
