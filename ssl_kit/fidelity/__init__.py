"""The world's fidelity card: each world set's measured properties next to the real dataset's, their sources and
the goals the world was built to meet (`set_tables` measures a world, `card` holds and prints the card, `measures`
holds the definitions, `real_values` the real datasets' values)."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "fidelity_card": "set_tables",
    "card_record": "card",
    "render_markdown": "card",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
