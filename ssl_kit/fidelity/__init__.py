"""The world's fidelity card: each world set's properties, measured (`set_tables`, `measures`), next to the real
dataset's and their sources (`real_values`) and the goals the world was built to meet; `card` holds and prints it."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "fidelity_card": "set_tables",
    "card_record": "card",
    "render_markdown": "card",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
