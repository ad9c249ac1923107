"""Dense linear probe: a 1x1-convolution classifier on frozen feature maps, scored by mean IoU.

Feature maps (N, C, h, w) are standardised per channel with the train set's statistics. The classifier's
logits (N, K, h, w) are bilinearly upsampled to the mask size (H, W) and trained with per-pixel
cross-entropy (pixels equal to `ignore_index` are left out) using Adam over shuffled mini-batches for a
fixed number of epochs, from a zero initialisation; shuffling is drawn from `seed`, so CPU runs repeat
bit for bit. Everything runs on the feature maps' device. IoUs and accuracies are fractions in [0, 1].
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ssl_kit.data import CocoIndex, annotation_mask, load_images
from ssl_kit.errors import DataError
from ssl_kit.evaluate._checks import check_count, check_positive


def confusion_matrix(pred, target, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    """(K, K) int64 pixel counts: row = true class, column = predicted class; ignored pixels left out.

    `pred` and `target` are integer tensors of one shape; target values must be in [0, K) or `ignore_index`.
    """
    pred, target = torch.as_tensor(pred), torch.as_tensor(target)
    if pred.shape != target.shape:
        raise ValueError(
            f"pred has shape {tuple(pred.shape)} but target {tuple(target.shape)}; expected equal"
        )
    num_classes = check_count(num_classes, "num_classes")
    keep = target != ignore_index
    p, t = pred[keep].long(), target[keep].long()
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_classes):
        raise ValueError(
            f"target holds a class outside [0, {num_classes}) that is not ignore_index={ignore_index}"
        )
    if p.numel() and (int(p.min()) < 0 or int(p.max()) >= num_classes):
        raise ValueError(f"pred holds a class outside [0, {num_classes})")
    counts = torch.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.view(num_classes, num_classes).cpu()


def miou(confusion) -> tuple[float, list[float]]:
    """(mean IoU, per-class IoU) from a (K, K) confusion matrix (rows = truth, columns = prediction).

    IoU_c = TP / (TP + FP + FN). A class absent from both the ground truth and the predictions has no IoU
    (NaN in the list) and is left out of the mean; the mean is NaN if every class is absent.
    """
    cm = torch.as_tensor(confusion).double().cpu()
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion must be a square (K, K) matrix, got shape {tuple(cm.shape)}")
    tp = cm.diag()
    union = cm.sum(dim=0) + cm.sum(dim=1) - tp
    iou = torch.where(union > 0, tp / union.clamp(min=1), torch.full_like(tp, math.nan))
    present = union > 0
    mean = float(iou[present].mean()) if bool(present.any()) else math.nan
    return mean, iou.tolist()


def _check_maps(maps, masks, maps_name: str, masks_name: str, num_classes: int, ignore_index: int):
    x = torch.as_tensor(maps)
    y = torch.as_tensor(masks)
    if x.ndim != 4:
        raise ValueError(f"{maps_name} must be 4-D feature maps (N, C, h, w), got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{maps_name} is empty (N = 0); expected at least one example")
    if y.ndim != 3:
        raise ValueError(f"{masks_name} must be 3-D label masks (N, H, W), got shape {tuple(y.shape)}")
    if y.shape[0] != x.shape[0]:
        raise ValueError(
            f"{masks_name} has {y.shape[0]} masks but {maps_name} has {x.shape[0]} maps; expected equal lengths"
        )
    if y.is_floating_point() or y.dtype == torch.bool:
        raise ValueError(f"{masks_name} must hold integer class ids, got dtype {y.dtype}")
    x = x.float()
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{maps_name} holds NaN or infinite values; expected finite")
    y = y.long().to(x.device)
    valid = y[y != ignore_index]
    if valid.numel() and (int(valid.min()) < 0 or int(valid.max()) >= num_classes):
        raise ValueError(
            f"{masks_name} holds class id {int(valid.max()) if int(valid.min()) >= 0 else int(valid.min())}; "
            f"expected ids in [0, {num_classes}) or ignore_index={ignore_index}"
        )
    return x, y


def _logits(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, out_hw: tuple[int, int]) -> torch.Tensor:
    logits = F.conv2d(x, w[:, :, None, None], b)
    if tuple(logits.shape[-2:]) != out_hw:
        logits = F.interpolate(logits, size=out_hw, mode="bilinear", align_corners=False)
    return logits


def dense_probe(
    train_maps,
    train_masks,
    test_maps,
    test_masks,
    num_classes: int,
    ignore_index: int = 255,
    epochs: int = 30,
    seed: int = 0,
    lr: float = 1e-2,
    batch_size: int = 32,
    weight_decay: float = 0.0,
) -> dict:
    """Train a 1x1-conv linear classifier on frozen train feature maps; mIoU on the test maps.

    Args:
        train_maps, test_maps: (N, C, h, w) and (M, C, h', w') float feature maps on one device.
        train_masks, test_masks: (N, H, W) and (M, H', W') integer masks in [0, K) or `ignore_index`.
        num_classes: K.
        ignore_index: mask value left out of the loss and the scores.
        epochs: passes over the train set; seed: shuffling; lr, batch_size, weight_decay: for Adam.

    Returns:
        {"miou", "per_class_iou" (list, NaN for classes absent from test truth and predictions),
        "pixel_accuracy" (over non-ignored test pixels), "confusion" ((K, K) list of lists, rows = truth),
        "train_loss" (mean loss of the last epoch)}.
    """
    num_classes = check_count(num_classes, "num_classes")
    x_train, y_train = _check_maps(
        train_maps, train_masks, "train_maps", "train_masks", num_classes, ignore_index
    )
    x_test, y_test = _check_maps(test_maps, test_masks, "test_maps", "test_masks", num_classes, ignore_index)
    if x_test.shape[1] != x_train.shape[1]:
        raise ValueError(
            f"test_maps has {x_test.shape[1]} channels but train_maps has {x_train.shape[1]}; expected equal"
        )
    if x_test.device != x_train.device:
        raise ValueError(
            f"test_maps is on {x_test.device} but train_maps on {x_train.device}; expected one device"
        )
    epochs = check_count(epochs, "epochs")
    batch_size = check_count(batch_size, "batch_size")
    lr = check_positive(lr, "lr")
    if not (weight_decay >= 0) or not math.isfinite(weight_decay):
        raise ValueError(f"weight_decay must be a finite value >= 0, got {weight_decay!r}")

    mean = x_train.mean(dim=(0, 2, 3), keepdim=True)
    std = x_train.std(dim=(0, 2, 3), unbiased=False, keepdim=True)
    std = torch.where(std > 1e-8 * (1 + mean.abs()), std, torch.ones_like(std))
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    dev = x_train.device
    w = torch.zeros(num_classes, x_train.shape[1], device=dev, requires_grad=True)
    b = torch.zeros(num_classes, device=dev, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    hw_train = tuple(y_train.shape[-2:])
    last_loss = math.nan
    with torch.enable_grad():
        for _ in range(epochs):
            total, seen = 0.0, 0
            for idx in torch.randperm(x_train.shape[0], generator=gen).split(batch_size):
                idx = idx.to(dev)
                target = y_train[idx]
                if not bool((target != ignore_index).any()):
                    continue  # an all-ignored batch has no loss
                loss = F.cross_entropy(
                    _logits(x_train[idx], w, b, hw_train), target, ignore_index=ignore_index
                )
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * idx.numel()
                seen += idx.numel()
            last_loss = total / seen if seen else math.nan

    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    hw_test = tuple(y_test.shape[-2:])
    with torch.no_grad():
        for start in range(0, x_test.shape[0], batch_size):
            pred = _logits(x_test[start : start + batch_size], w, b, hw_test).argmax(dim=1)
            cm += confusion_matrix(pred, y_test[start : start + batch_size], num_classes, ignore_index)
    mean_iou, per_class = miou(cm)
    total_pixels = int(cm.sum())
    return {
        "miou": mean_iou,
        "per_class_iou": per_class,
        "pixel_accuracy": float(cm.diag().sum()) / total_pixels if total_pixels else math.nan,
        "confusion": cm.tolist(),
        "train_loss": last_loss,
    }


def semantic_masks(
    coco_index: CocoIndex,
    size: int | tuple[int, int] | None = None,
    ignore_index: int = 255,
    progress: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images and per-pixel semantic masks of a COCO-style index (e.g. the world's `scenes` set).

    Args:
        coco_index: a `ssl_kit.data.CocoIndex` (from `ssl_kit.data.read_coco(root, split)`).
        size: resize images (bilinear, antialiased) and masks (nearest) to this (int -> square, pair ->
            (height, width)); None -> all images must share one size.
        ignore_index: painted over crowd annotations (`iscrowd = 1`), which are not reliable labels.
        progress: show a progress bar while decoding images.

    Returns:
        (images, masks): uint8 (N, 3, H, W) and int64 (N, H, W) tensors, in index order. Mask value 0 is
        background and i in 1..K is the i-th category in ascending category-id order (see
        `mask_class_names`); for the world, whose ids are 1..K, the value is the category id itself.
        Annotations are painted in list order, later ones over earlier ones.
    """
    label = {cid: i + 1 for i, cid in enumerate(sorted(coco_index.categories))}
    arrays, _ = load_images([im.path for im in coco_index.images], size=size, progress=progress)
    masks = torch.empty(arrays.shape[:3], dtype=torch.int64)
    for j, im in enumerate(coco_index.images):
        m = np.zeros((im.height, im.width), dtype=np.int64)
        for ann in coco_index.annotations.get(im.id, []):
            m[annotation_mask(ann, im.height, im.width)] = (
                ignore_index if ann.iscrowd else label[ann.category_id]
            )
        mt = torch.from_numpy(m)
        if size is not None:
            mt = F.interpolate(mt[None, None].double(), size=arrays.shape[1:3], mode="nearest-exact")[
                0, 0
            ].long()
        elif tuple(mt.shape) != arrays.shape[1:3]:
            raise DataError(
                im.path,
                f"image is {arrays.shape[2]}x{arrays.shape[1]} but its annotation says {im.width}x{im.height}",
                "the width and height in the annotation file to match the image",
            )
        masks[j] = mt
    images = torch.from_numpy(np.ascontiguousarray(arrays.transpose(0, 3, 1, 2)))
    return images, masks


def mask_class_names(coco_index: CocoIndex) -> list[str]:
    """Names of the mask values of `semantic_masks`: ["background", then categories by ascending id]."""
    return ["background"] + [coco_index.categories[cid] for cid in sorted(coco_index.categories)]
