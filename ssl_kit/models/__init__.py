"""Backbones, projection heads and layer access: a leaf that knows no method, run or checkpoint format."""

from ssl_kit.models.backbones import ARCHS, build_backbone, feature_dim
from ssl_kit.models.heads import LinearHead, MLPHead
from ssl_kit.models.layers import LayerTap, layer_names

__all__ = ["ARCHS", "LayerTap", "LinearHead", "MLPHead", "build_backbone", "feature_dim", "layer_names"]
