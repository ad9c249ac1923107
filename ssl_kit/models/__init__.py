"""Backbones, projection heads and layer access."""

from ssl_kit.models.backbones import ARCHS, build_backbone, feature_dim
from ssl_kit.models.heads import LinearHead, MLPHead
from ssl_kit.models.importers import ImportedBackbone, import_backbone
from ssl_kit.models.layers import LayerTap, layer_names

__all__ = [
    "ARCHS",
    "ImportedBackbone",
    "LayerTap",
    "LinearHead",
    "MLPHead",
    "build_backbone",
    "feature_dim",
    "import_backbone",
    "layer_names",
]
