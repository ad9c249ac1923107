"""On-disk dataset readers: strict, deterministic indexes of image folders, videos and annotations.

Every reader calls `check_complete(root)` first and raises `DataError` naming the path and what was
expected when the layout is wrong; image decoding raises `CorruptImageError`.
"""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    **dict.fromkeys(("AloiIndex", "detect_aloi_kind", "read_aloi"), "aloi"),
    **dict.fromkeys(("CocoAnnotation", "CocoImage", "CocoIndex", "annotation_mask", "polygons_to_mask",
                     "read_coco", "rle_decode", "rle_encode", "rle_from_string", "rle_to_string"), "coco"),
    **dict.fromkeys(("GotSequence", "read_got10k"), "got10k"),
    **dict.fromkeys(("ImageFolderIndex", "read_imagefolder"), "imagefolder"),
    **dict.fromkeys(("crop_box", "load_images", "read_image", "resize_image"), "images"),
    **dict.fromkeys(("INCOMPLETE", "check_complete", "read_manifest"), "manifest"),
    "load_sample": "memory",
    **dict.fromkeys(("ANNOTATION_LOADERS", "Pascal3DObject", "Pascal3DRecord", "load_json_record",
                     "pascal3d_classes", "read_pascal3d"), "pascal3d"),
    **dict.fromkeys(("FrameVideo", "Track", "read_frame_videos"), "trackingnet"),
}  # fmt: skip
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
