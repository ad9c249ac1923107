"""Frame Temporal Invariance's pairs, held in memory: an item is frame t of a video; its partner is frame
t + delta of the same video (`ssl_kit.video.pairs.partner_frame`). A batch is (B, 2, 3, S, S) uint8: the method
makes one view of each member."""

from __future__ import annotations

import numpy as np
import torch

from ssl_kit.batches.source import HeldSource
from ssl_kit.video.pairs import check_delta, last_frames, partner_frame


class FramePairs(HeldSource):
    """Frame Temporal Invariance: (frame t, frame t + delta) of one video."""

    def __init__(self, frames: torch.Tensor, video: np.ndarray, delta: tuple[int, int], device: torch.device):
        self.delta = check_delta(delta)
        last = last_frames(video)
        items = np.flatnonzero(last - np.arange(len(last)) >= self.delta[0])
        if len(items) == 0:
            raise ValueError(f"no video is longer than delta_min = {self.delta[0]} frames")
        self.frames = frames.to(device)
        self.items = torch.from_numpy(items)
        self.last = torch.from_numpy(last)
        self.classes = ["video"]
        # clips too short for delta_min: their frames are never drawn (counted for the run log)
        self.short_videos = int(len(np.unique(video)) - len(np.unique(np.asarray(video)[items])))

    @property
    def n(self) -> int:
        return len(self.items)

    def pair_indices(
        self, index: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.items[index.cpu()]
        return t, partner_frame(t, self.last[t], *self.delta, generator)

    def batch(self, index: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        t, u = self.pair_indices(index, generator)
        dev = self.frames.device
        pairs = torch.stack([self.frames[t.to(dev)], self.frames[u.to(dev)]], dim=1)
        return pairs, torch.zeros(len(t), dtype=torch.long, device=dev)
