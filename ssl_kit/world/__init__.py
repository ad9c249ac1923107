"""The embedded procedural 3D world that stands in for every real dataset: scenes of parametric objects rendered
from any camera and light, written as the same folder layouts as the real datasets (objects, scenes, ALOI-like
turntables, GOT-10k-like occlusion clips, PASCAL3D-like instances, videos). `build_world` renders a preset."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "build_world": "build",
    "SETS": "presets",
    "PRESETS": "presets",
    "get_preset": "presets",
    "world_info": "info",
    "mean_view_change": "sets_video",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
