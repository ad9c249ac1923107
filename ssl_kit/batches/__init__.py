"""What a training step draws its batch from, behind one interface (`BatchSource.batches(steps)`).

- `ImageData`: images held in memory (a labelled folder, or video frames as independent images);
- `StreamedImages`: an image folder read file by file, each view cropped from the original;
- `FramePairs`, `RegionPairs`: the video method's temporal pairs of frames and of tracked regions;
- `StreamedFrames`: video frames (or FTI's pairs) read as training goes.

`step_plan` says what step `t` draws (its indices and seeds), the same for every source.
"""

from ssl_kit.batches.frame_pairs import FramePairs
from ssl_kit.batches.held_images import ImageData
from ssl_kit.batches.plan import StepPlan, step_plan
from ssl_kit.batches.region_pairs import RegionPairs
from ssl_kit.batches.source import Batch, BatchSource, HeldSource, Steps
from ssl_kit.batches.streamed_frames import StreamedFrames
from ssl_kit.batches.streamed_images import StreamedImages

__all__ = [
    "Batch",
    "BatchSource",
    "FramePairs",
    "HeldSource",
    "ImageData",
    "RegionPairs",
    "StepPlan",
    "Steps",
    "StreamedFrames",
    "StreamedImages",
    "step_plan",
]
