"""What a training step draws its batch from, behind one interface (`BatchSource.batches(steps)`).

- `ImageData`: images held in memory (a labelled folder, or video frames as independent images);
- `StreamedImages`: an image folder read file by file, each view cropped from the original;
- `FramePairs`, `RegionPairs`: the video method's temporal pairs of frames and of tracked regions;
- `StreamedFrames`: video frames (or FTI's pairs) read as training goes.

`step_plan` says what step `t` draws (its indices and seeds), the same for every source.
"""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "FramePairs": "frame_pairs",
    "ImageData": "held_images",
    **dict.fromkeys(("StepPlan", "step_plan"), "plan"),
    "RegionPairs": "region_pairs",
    **dict.fromkeys(("Batch", "BatchSource", "HeldSource", "Steps"), "source"),
    "StreamedFrames": "streamed_frames",
    "StreamedImages": "streamed_images",
}  # fmt: skip
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
