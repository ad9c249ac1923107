"""Region Tracker's pairs, held in memory: an item is a region proposed on a keyframe t and tracked forward; its
partner is the same region at t + delta, delta drawn among the offsets where the track is alive; both crops are
cut from the full-resolution frames (`roi_align`) and resized to S. With `region_fraction` < 1, that fraction of
the pairs are regions and the rest full frames t, t + delta. A batch is (B, 2, 3, S, S) uint8."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

from ssl_kit.batches.source import HeldSource
from ssl_kit.video.pairs import RegionTracks, check_delta, last_frames, partner_frame


class RegionPairs(HeldSource):
    """Region Tracker: the same tracked region at t and at t + delta (mixed with full-frame pairs)."""

    def __init__(
        self,
        frames: torch.Tensor,  # (N, 3, H, W) uint8 at full resolution
        video: np.ndarray,
        tracks: RegionTracks,
        size: int,
        delta: tuple[int, int],
        device: torch.device,
        region_fraction: float = 1.0,
        min_confidence: float = 0.5,
    ):
        lo, hi = self.delta = check_delta(delta)
        if not 0 < region_fraction <= 1:
            raise ValueError(f"region_fraction must be in (0, 1], got {region_fraction}")
        alive = np.isfinite(tracks.boxes).all(-1) & (tracks.confidence >= min_confidence)  # (R, D + 1)
        start_ok = alive[:, 0].copy()  # the region must be there on its keyframe
        alive[:, :lo] = False
        alive[:, hi + 1 :] = False
        keep = alive.any(1) & start_ok
        if not keep.any():
            raise ValueError(
                f"no tracked region is alive between delta {lo} and {hi} frames (confidence >= {min_confidence})"
            )
        self.frames = frames.to(device)
        self.frame = torch.from_numpy(tracks.frame[keep])
        self.boxes = torch.from_numpy(tracks.boxes[keep]).float()
        self.alive = torch.from_numpy(alive[keep])
        self.last = torch.from_numpy(last_frames(video))
        self.size, self.fraction = size, region_fraction
        self.classes = ["region"]
        self.dropped_regions = int((~keep).sum())  # absent on the keyframe or lost before delta_min (run log)

    @property
    def n(self) -> int:
        return len(self.frame)

    def _crops(self, frame_index: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        dev = self.frames.device
        x, y, w, h = boxes.unbind(1)
        rois = torch.stack([torch.arange(len(boxes), dtype=torch.float32), x, y, x + w, y + h], 1).to(dev)
        crops = roi_align(self.frames[frame_index.to(dev)].float(), rois, self.size, aligned=True)
        return crops.round().clamp(0, 255).to(torch.uint8)

    def _whole(self, frame_index: torch.Tensor) -> torch.Tensor:
        full = self.frames[frame_index.to(self.frames.device)].float()
        out = F.interpolate(full, size=(self.size, self.size), mode="bilinear", antialias=True)
        return out.round().clamp(0, 255).to(torch.uint8)

    def batch(self, index: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        index = index.cpu()
        u = torch.rand(self.alive[index].shape, generator=generator) * self.alive[index]
        d = u.argmax(1)  # a uniform pick among the offsets where the track is alive
        t = self.frame[index]
        b = torch.arange(len(index))
        pairs = torch.stack(
            [self._crops(t, self.boxes[index, 0]), self._crops(t + d, self.boxes[index, d])], 1
        )
        whole = torch.rand(len(index), generator=generator) >= self.fraction
        if whole.any():  # full frames t, t + delta instead of the region
            tf = t[whole]
            tu = partner_frame(tf, self.last[tf], *self.delta, generator)
            rows = b[whole].to(pairs.device)
            pairs[rows, 0], pairs[rows, 1] = self._whole(tf), self._whole(tu)
        return pairs, torch.zeros(len(index), dtype=torch.long, device=pairs.device)
