"""Evaluation protocols on frozen features: kNN, linear probe, VOC linear SVMs, dense probe (mIoU), and
`LabelledSplits` (a train/val folder pair scored with any of them).

Every score is a fraction in [0, 1]. Features come from `extract_features` (pooled, (N, D)) or
`extract_feature_maps` ((N, C, h, w)); the protocols run on whatever device their tensors are on.
"""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    **dict.fromkeys(("confusion_matrix", "dense_probe", "mask_class_names", "miou", "semantic_masks"), "dense"),
    **dict.fromkeys(("extract_feature_maps", "extract_features"), "features"),
    **dict.fromkeys(("knn_accuracy", "knn_predict"), "knn"),
    **dict.fromkeys(("fit_logistic", "linear_probe", "standardise", "stratified_split"), "linear"),
    "LabelledSplits": "splits",
    **dict.fromkeys(("svm_map", "voc_ap"), "svm"),
}  # fmt: skip
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
