"""Evaluation protocols on frozen features: kNN, linear probe, VOC linear SVMs, dense probe (mIoU), and
`LabelledSplits` (a train/val folder pair scored with any of them).

Every score is a fraction in [0, 1]. Features come from `extract_features` (pooled, (N, D)) or
`extract_feature_maps` ((N, C, h, w)); the protocols run on whatever device their tensors are on.
"""

from __future__ import annotations

from ssl_kit.common.imagenet import IMAGENET_MEAN, IMAGENET_STD
from ssl_kit.evaluate.dense import confusion_matrix, dense_probe, mask_class_names, miou, semantic_masks
from ssl_kit.evaluate.features import extract_feature_maps, extract_features
from ssl_kit.evaluate.knn import knn_accuracy, knn_predict
from ssl_kit.evaluate.linear import fit_logistic, linear_probe, standardise, stratified_split
from ssl_kit.evaluate.splits import LabelledSplits
from ssl_kit.evaluate.svm import svm_map, voc_ap

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LabelledSplits",
    "confusion_matrix",
    "dense_probe",
    "extract_feature_maps",
    "extract_features",
    "fit_logistic",
    "knn_accuracy",
    "knn_predict",
    "linear_probe",
    "mask_class_names",
    "miou",
    "semantic_masks",
    "standardise",
    "stratified_split",
    "svm_map",
    "voc_ap",
]
