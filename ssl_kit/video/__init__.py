"""Learning from video: sources (frame folders, video files), temporal pairs, region proposals and tracks.

Names are imported on first use (`ssl_kit.video.open_videos`, ...); importing a submodule loads only what it
needs. The batch sources built on temporal pairs are `ssl_kit.batches` (`FramePairs`, `RegionPairs`).
"""

from __future__ import annotations

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "Video": "sources",
    "VideoSet": "sources",
    "FrameFolderVideo": "sources",
    "FileVideo": "sources",
    "open_videos": "sources",
    "is_video_source": "sources",
    "load_frames": "sources",
    "probe_file": "file_index",
    "index_files": "file_index",
    "write_index": "file_index",
    "propose": "proposals",
    "track_box": "tracking",
    "track_boxes": "tracking",
    "TrackResult": "tracking",
    "FlowParams": "tracking",
    "box_iou": "box_geometry",
    "RegionTracks": "pairs",
    "RegionParams": "regions",
    "region_tracks": "regions",
    "pair_change": "diagnostics",
    "region_quality": "diagnostics",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
