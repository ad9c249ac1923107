"""Images held in memory on the device: a labelled image folder, or video frames taken as independent images
(MoCo v2 on frames). A step's batch is the images at its indices; the method draws its views."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ssl_kit.batches.source import HeldSource


@dataclass
class ImageData(HeldSource):
    images: torch.Tensor  # (N, 3, S, S) uint8, on the device
    labels: torch.Tensor  # (N,) int64
    classes: list[str]

    @property
    def n(self) -> int:
        return self.images.shape[0]

    def batch(self, index: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index], self.labels[index]
