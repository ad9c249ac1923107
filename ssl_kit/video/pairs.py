"""What the training loop draws a batch from: images, frames, or temporal pairs (the paper's video method).

Every source answers `batch(index, generator) -> (images, labels)` on the device, where `images` is
(B, 3, S, S) uint8 for single images (the method makes two views of each) or (B, 2, 3, S, S) uint8 for
pairs (the method makes one view of each member). All randomness comes from the step's generator, so a
resumed run draws the same pairs.

- `ImageData`: a labelled image folder, or video frames taken as independent images (MoCo v2 on frames).
- `FramePairs` (Frame Temporal Invariance): an item is frame t of a video; its partner is frame t + delta,
  delta drawn uniformly from [delta_min, delta_max] frames (clipped to the video's end). delta = 0 pairs a
  frame with itself: MoCo v2's augmentation-only positives on the same inputs, the control for time.
- `RegionPairs` (Region Tracker): an item is a region proposed on a keyframe t and tracked forward; its
  partner is the same region at t + delta, delta drawn among the offsets where the track is alive; both
  crops are cut from the full-resolution frames (`roi_align`) and resized to S. With `region_fraction` < 1,
  that fraction of the pairs are regions and the rest full frames t, t + delta.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align


@dataclass
class ImageData:
    images: torch.Tensor  # (N, 3, S, S) uint8, on the device
    labels: torch.Tensor  # (N,) int64
    classes: list[str]

    @property
    def n(self) -> int:
        return self.images.shape[0]

    def batch(self, index: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index], self.labels[index]


def partner_frame(start: torch.Tensor, last: torch.Tensor, lo: int, hi: int, generator) -> torch.Tensor:
    """t + delta with delta ~ U{lo..min(hi, last - t)} (`last`: the video's last frame; lo <= last - t)."""
    room = torch.clamp(last - start, min=lo)
    span = torch.minimum(room, torch.full_like(room, hi)) - lo + 1
    u = torch.rand(start.shape[0], generator=generator)
    return start + lo + (u * span).long().clamp(max=span - 1)


def last_frames(video: np.ndarray) -> np.ndarray:
    """For frames stored video after video (`video[i]`: the video of global frame i), each one's video's last frame."""
    video = np.asarray(video)
    ends = np.flatnonzero(np.r_[video[1:] != video[:-1], True])
    return np.repeat(ends, np.diff(np.r_[-1, ends]))


def check_delta(delta: tuple[int, int]) -> tuple[int, int]:
    lo, hi = (int(v) for v in delta)
    if not 0 <= lo <= hi:
        raise ValueError(f"delta must be 0 <= min <= max frames, got {tuple(delta)}")
    return lo, hi


class FramePairs:
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


@dataclass
class RegionTracks:
    """Tracked regions of a set of videos, flattened: region r starts on global frame `frame[r]`."""

    frame: np.ndarray  # (R,) global index of the keyframe
    boxes: np.ndarray  # (R, D + 1, 4) x, y, w, h at keyframe + d, NaN once the track is lost
    confidence: np.ndarray  # (R, D + 1)


class RegionPairs:
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
