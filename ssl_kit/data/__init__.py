"""On-disk dataset readers: strict, deterministic indexes of image folders, videos and annotations.

Every reader calls `check_complete(root)` first and raises `DataError` naming the path and what was
expected when the layout is wrong; image decoding raises `CorruptImageError`.
"""

from __future__ import annotations

from ssl_kit.data.aloi import AloiIndex, detect_aloi_kind, read_aloi
from ssl_kit.data.coco import (
    CocoAnnotation,
    CocoImage,
    CocoIndex,
    annotation_mask,
    polygons_to_mask,
    read_coco,
    rle_decode,
    rle_encode,
    rle_from_string,
    rle_to_string,
)
from ssl_kit.data.got10k import GotSequence, read_got10k
from ssl_kit.data.imagefolder import ImageFolderIndex, read_imagefolder
from ssl_kit.data.images import crop_box, load_images, read_image, resize_image
from ssl_kit.data.manifest import INCOMPLETE, check_complete, read_manifest
from ssl_kit.data.memory import load_sample
from ssl_kit.data.pascal3d import (
    ANNOTATION_LOADERS,
    Pascal3DObject,
    Pascal3DRecord,
    load_json_record,
    pascal3d_classes,
    read_pascal3d,
)
from ssl_kit.data.trackingnet import FrameVideo, Track, read_frame_videos

__all__ = [
    "ANNOTATION_LOADERS",
    "INCOMPLETE",
    "AloiIndex",
    "CocoAnnotation",
    "CocoImage",
    "CocoIndex",
    "FrameVideo",
    "GotSequence",
    "ImageFolderIndex",
    "Pascal3DObject",
    "Pascal3DRecord",
    "Track",
    "annotation_mask",
    "check_complete",
    "crop_box",
    "detect_aloi_kind",
    "load_images",
    "load_json_record",
    "load_sample",
    "pascal3d_classes",
    "polygons_to_mask",
    "read_aloi",
    "read_coco",
    "read_frame_videos",
    "read_got10k",
    "read_image",
    "read_imagefolder",
    "read_manifest",
    "read_pascal3d",
    "resize_image",
    "rle_decode",
    "rle_encode",
    "rle_from_string",
    "rle_to_string",
]
