"""Backbones, projection heads and layer access."""

from ssl_kit.models.backbones import ARCHS, build_backbone, feature_dim
from ssl_kit.models.heads import LinearHead, MLPHead
from ssl_kit.models.layers import LayerTap, layer_names

__all__ = ["ARCHS", "LayerTap", "LinearHead", "MLPHead", "build_backbone", "feature_dim", "layer_names"]
