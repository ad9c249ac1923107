"""Learning from video: sources (frame folders, video files), temporal pairs, region proposals and tracks.

Names are imported on first use (`ssl_kit.video.FramePairs`, ...); importing a submodule loads only what it needs.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
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
    "box_iou": "boxes",
    "FramePairs": "pairs",
    "RegionPairs": "pairs",
    "RegionTracks": "pairs",
    "RegionParams": "regions",
    "region_tracks": "regions",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"ssl_kit.video.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'ssl_kit.video' has no attribute {name!r}")
