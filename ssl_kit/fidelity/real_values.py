"""The real datasets' values that the fidelity card (`ssl_kit.fidelity.card`) sets next to the world's.

Data only, copied from `docs/world_sources.md` (which says where every figure comes from and how sure it is):
per world set, property -> (the real value, as text; its source, short). "no source found" where that file
says no reachable material gives the figure, "not gathered" where that file does not cover the property;
nothing here is estimated. "derived" values are that file's own arithmetic on quoted counts. Goals are not
real values: they are the targets the world was built to meet, kept in `GOALS` with where they come from.
"""

from __future__ import annotations

NO_SOURCE = "no source found"  # docs/world_sources.md looked and found none
NOT_GATHERED = "not gathered"  # docs/world_sources.md does not cover the property

# what each world set stands in for (the card's table titles)
STANDS_IN_FOR = {
    "videos": "TrackingNet / GOT-10k videos",
    "scenes": "COCO 2017 (scene-centric)",
    "objects": "ImageNet (object-centric)",
    "aloi_view": "ALOI viewpoint",
    "aloi_ill": "ALOI illumination direction",
    "aloi_col": "ALOI illumination colour",
    "got_occlusion": "GOT-10k occlusion",
    "pascal3d": "Pascal3D+",
}

REAL: dict[str, dict[str, tuple[str, str]]] = {
    "videos": {
        "box_side": (
            NO_SOURCE,
            "GOT-10k, TrackingNet: target box size relative to the frame (sources §4, §5)",
        ),
        "camera_motion": (NO_SOURCE, "GOT-10k, TrackingNet: camera motion statistics (sources §4, §5)"),
        "box_cover": (NO_SOURCE, "TrackingNet, GOT-10k annotate one object; COCO: object-covered area (§1)"),
        "view_change": (NOT_GATHERED, "viewpoint change between frames: not in docs/world_sources.md"),
        "proposal_precision": (NOT_GATHERED, "region proposals on real frames: not in docs/world_sources.md"),
        "clip_length": (
            "TrackingNet ≈ 471 frames (train 471.4); GOT-10k train ≈ 150",
            "derived: 14,431,266 frames / 30,643 videos, 1,403,359 / 9,335 (tracking-sanity, 3rd-party)",
        ),
    },
    "scenes": {
        "objects_per_image": (
            "mean 7.7 (paper), 7.27 (train2017 annotations); median 4 (train2014)",
            "COCO paper §5; derived 860,001 / 118,287 (3rd-party counts); Lextal/SotA-CV (3rd-party)",
        ),
        "size_split": (
            "≈ 41% / 34% / 24%",
            "COCO detection-eval page (official); < 0.33% / > 3.0% of a 640x480 image, derived",
        ),
        "median_scale": (
            "0.024 / 0.106 / 0.472 (ImageNet median: 0.554)",
            "SNIP (Singh & Davis, CVPR 2018) §1",
        ),
        "image_side": ("typically 480x640", "SNIP §1, footnote 1"),
    },
    "objects": {
        "median_scale": ("0.554", "SNIP (Singh & Davis, CVPR 2018) §1, ImageNet classification"),
        "image_side": (
            "mean ≈ 469x387 (also cited: 482x415)",
            "3rd-party READMEs citing image-net.org (the two disagree)",
        ),
        "colour_only": (NO_SOURCE, "colour-histogram classifier on ImageNet-like classes (sources §7)"),
        "supervised_knn": ("n/a", "a property of a trained network, not of the data"),
    },
    "aloi_view": {
        "views": (
            "72 views, 5° steps (r0 … r355)",
            "3rd-party ALOI loader code; derived 360 / 5",
        ),
        "view_change_30": (NOT_GATHERED, "ALOI pixel statistics: not in docs/world_sources.md"),
        "view_change_30_object": (NOT_GATHERED, "ALOI pixel statistics: not in docs/world_sources.md"),
        "image_side": ("384x288 (red2, half resolution)", "3rd-party code for aloi_red2_view"),
    },
    "aloi_ill": {
        "conditions": (
            "24 (l1c1 … l8c3: 8 lights x 3)",
            "ALOI homepage text; 3rd-party loader code",
        ),
    },
    "aloi_col": {
        "conditions": ("12 (i110 … i250)", "3rd-party loader code"),
    },
    "got_occlusion": {
        "frames": (
            "≈ 150 (train), ≈ 117 (val), ≈ 127 (test)",
            "derived: 1,403,359 frames / 9,335 videos (tracking-sanity, 3rd-party)",
        ),
        "cover_span": (
            "the paper keeps videos whose cover levels span ≥ 4 levels",
            "senthilps8/demystifyssl extract_GOT10k_features.py (official repo)",
        ),
    },
    "pascal3d": {
        "objects_per_image": (
            "≈ 1.17 (derived)",
            "36,292 objects / 30,889 images (ObjectPoseEstimationSummary, 3rd-party)",
        ),
        "categories": ("12 rigid PASCAL VOC 2012 classes", "Xiang et al., WACV 2014, abstract"),
    },
}

# set -> property -> (comparison, threshold, where the target comes from); only the targets
GOALS: dict[str, dict[str, tuple[str, float, str]]] = {
    "videos": {"box_side": (">=", 0.30, "issue"), "camera_motion": (">=", 0.20, "issue")},
    "objects": {"colour_only": ("<=", 0.25, "issue")},
}
