"""What makes a temporal pair (the paper's video method): a frame's partner frame, each frame's video's last
frame, and tracked regions (`RegionTracks`). The batch sources built on them are `ssl_kit.batches`
(`FramePairs`, `RegionPairs`, `StreamedFrames`).

A partner is frame t + delta, delta drawn uniformly from [delta_min, delta_max] frames (clipped to the video's
end). delta = 0 pairs a frame with itself: MoCo v2's augmentation-only positives on the same inputs, the
control for time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


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


@dataclass
class RegionTracks:
    """Tracked regions of a set of videos, flattened: region r starts on global frame `frame[r]`."""

    frame: np.ndarray  # (R,) global index of the keyframe
    boxes: np.ndarray  # (R, D + 1, 4) x, y, w, h at keyframe + d, NaN once the track is lost
    confidence: np.ndarray  # (R, D + 1)
