"""Evaluation protocols: known answers on tiny inputs (kNN, linear probe, VOC AP / SVMs, mIoU, features)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ssl_kit.common.imagenet import IMAGENET_MEAN, IMAGENET_STD
from ssl_kit.evaluate import (
    confusion_matrix,
    dense_probe,
    extract_feature_maps,
    extract_features,
    knn_accuracy,
    knn_predict,
    linear_probe,
    mask_class_names,
    miou,
    semantic_masks,
    svm_map,
    voc_ap,
)


def clusters(
    n_per: int, centres: torch.Tensor, spread: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(centres.shape[0]).repeat_interleave(n_per)
    feats = centres[labels] + spread * torch.randn(labels.numel(), centres.shape[1], generator=gen)
    return feats, labels


CENTRES = torch.eye(4, 6) * 10.0  # 4 classes in 6-D, far apart


# --------------------------------------------------------------------------------------------------- kNN


def test_knn_exact_on_separated_clusters():
    train_x, train_y = clusters(10, CENTRES, 0.3, seed=0)
    test_x, test_y = clusters(5, CENTRES, 0.3, seed=1)
    pred, scores = knn_predict(train_x, train_y, test_x, k=5, chunk=3)
    assert torch.equal(pred, test_y)
    assert scores.shape == (20, 4) and scores.dtype == torch.float32
    assert knn_accuracy(train_x, train_y, test_x, test_y) == 1.0


def test_knn_scores_match_hand_computation():
    s = 1 / math.sqrt(2)
    train = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])  # cosines use the normalised rows
    labels = torch.tensor([0, 1, 1, 0])
    test = torch.tensor([[2.0, 0.0], [0.6, 0.8]])
    _, scores = knn_predict(train, labels, test, k=3, temperature=0.1)
    # query (1, 0): cosines 1, 0, 1/sqrt2, -1 -> top 3 = points 0 (class 0), 2 (class 1), 1 (class 1)
    # query (0.6, 0.8): cosines 0.6, 0.8, 1.4/sqrt2, -0.6 -> top 3 = points 2, 1 (class 1), 0 (class 0)
    expected = torch.tensor(
        [
            [math.exp(1 / 0.1), math.exp(s / 0.1) + math.exp(0 / 0.1)],
            [math.exp(0.6 / 0.1), math.exp(1.4 * s / 0.1) + math.exp(0.8 / 0.1)],
        ]
    )
    assert torch.allclose(scores, expected, rtol=1e-5, atol=0)
    pred, scores4 = knn_predict(train, labels, test, k=4, temperature=0.1, num_classes=3)
    assert pred.tolist() == [0, 1]
    assert scores4.shape == (2, 3) and float(scores4[0, 2]) == 0.0
    assert float(scores4[0, 0]) == pytest.approx(math.exp(10) + math.exp(-10), rel=1e-6)


def test_knn_k_larger_than_train_set():
    train_x, train_y = clusters(2, CENTRES[:2], 0.1, seed=0)
    pred, scores = knn_predict(train_x, train_y, train_x, k=200)
    assert torch.equal(pred, train_y)
    # every train point is a neighbour of every query: each row sums over all four weights
    assert bool((scores > 0).all())


def test_knn_bad_input_names_the_argument():
    x, y = clusters(3, CENTRES, 0.1, seed=0)
    with pytest.raises(ValueError, match="train_labels"):
        knn_predict(x, y[:-1], x)
    with pytest.raises(ValueError, match="train_feats"):
        knn_predict(x[:0], y[:0], x)
    bad = x.clone()
    bad[2, 1] = float("nan")
    with pytest.raises(ValueError, match="test_feats"):
        knn_predict(x, y, bad)
    with pytest.raises(ValueError, match="test_feats"):
        knn_predict(x, y, x[:, :3])
    with pytest.raises(ValueError, match="temperature"):
        knn_predict(x, y, x, temperature=0.0)
    with pytest.raises(ValueError, match="test_labels"):
        knn_accuracy(x, y, x, y[:2])


# -------------------------------------------------------------------------------------------- linear probe


def test_linear_probe_separable_and_repeatable():
    train_x, train_y = clusters(12, CENTRES, 1.0, seed=0)
    test_x, test_y = clusters(6, CENTRES, 1.0, seed=1)
    out = linear_probe(train_x, train_y, test_x, test_y, epochs=30, seed=3)
    assert out["accuracy"] == 1.0 and out["train_accuracy"] == 1.0
    assert out["weight_decay"] in (0, 1e-4, 1e-3, 1e-2)
    assert len(out["selection"]) == 4
    assert linear_probe(train_x, train_y, test_x, test_y, epochs=30, seed=3) == out


def test_linear_probe_bad_input():
    x, y = clusters(4, CENTRES, 0.1, seed=0)
    with pytest.raises(ValueError, match="test_labels"):
        linear_probe(x, y, x, y[:3])
    bad = x.clone()
    bad[0, 0] = float("inf")
    with pytest.raises(ValueError, match="train_feats"):
        linear_probe(bad, y, x, y)
    with pytest.raises(ValueError, match="train_feats"):
        linear_probe(x[:0], y[:0], x, y)


# ----------------------------------------------------------------------------------------- VOC AP and SVMs

SCORES = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
TARGETS = [1, -1, 1, 0, -1, 1]
# without the difficult entry: rec = 1/3, 1/3, 2/3, 2/3, 1 and prec = 1, 1/2, 2/3, 1/2, 3/5
AP11 = (4 * 1 + 3 * (2 / 3) + 4 * (3 / 5)) / 11  # t = 0..0.3 -> 1; t = 0.4..0.6 -> 2/3; t = 0.7..1 -> 3/5
AP_AUC = (1 / 3) * 1 + (1 / 3) * (2 / 3) + (1 / 3) * (3 / 5)  # = 34/45


def test_voc_ap_hand_computed():
    assert voc_ap(SCORES, TARGETS) == pytest.approx(AP11)
    assert voc_ap(SCORES, TARGETS, eleven_point=False) == pytest.approx(AP_AUC)
    assert voc_ap([1.0, 0.5], [1, -1]) == 1.0
    assert math.isnan(voc_ap([1.0, 0.5], [-1, 0]))


def test_voc_ap_ignores_difficult_entries():
    # a difficult entry ranked first, or anywhere, changes nothing
    for eleven in (True, False):
        base = voc_ap(SCORES, TARGETS, eleven)
        assert voc_ap([5.0, *SCORES], [0, *TARGETS], eleven) == pytest.approx(base)
        assert voc_ap(SCORES + [0.45], TARGETS + [0], eleven) == pytest.approx(base)
    with pytest.raises(ValueError, match="targets"):
        voc_ap([1.0, 2.0], [1, 2])


def test_svm_map_separable():
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(40, 5, generator=gen)
    feats[:, :2] = torch.sign(feats[:, :2]) * (1.0 + feats[:, :2].abs())  # margin around 0
    targets = torch.where(feats[:, :2] > 0, 1, -1)
    targets[0, 0] = 0  # a difficult example: ignored
    out = svm_map(feats[:28], targets[:28], feats[28:], targets[28:], costs=(0.1, 1.0, 10.0))
    assert out["map"] == pytest.approx(1.0)
    assert len(out["per_class_ap"]) == 2 and all(c in (0.1, 1.0, 10.0) for c in out["costs"])
    with pytest.raises(ValueError, match="test_targets"):
        svm_map(feats[:28], targets[:28], feats[28:], targets[28:, :1])
    with pytest.raises(ValueError, match="train_targets"):
        svm_map(feats[:28], targets[:20], feats[28:], targets[28:])


# --------------------------------------------------------------------------------------------- dense probe


def test_confusion_and_miou_hand_computed():
    target = torch.tensor([[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 255]])
    pred = torch.tensor([[0, 0, 0, 0, 0, 1], [0, 0, 1, 1, 1, 2]])
    cm = confusion_matrix(pred, target, 3)
    assert cm.tolist() == [[5, 1, 0], [2, 3, 0], [0, 0, 0]]  # the ignored pixel is not counted
    mean, per_class = miou(cm)
    # class 0: 5 / (5 + 1 + 2); class 1: 3 / (3 + 2 + 1); class 2 absent from truth and prediction
    assert per_class[0] == pytest.approx(5 / 8) and per_class[1] == pytest.approx(3 / 6)
    assert math.isnan(per_class[2])
    assert mean == pytest.approx((5 / 8 + 1 / 2) / 2)


def test_dense_probe_learns_a_pixel_rule():
    gen = torch.Generator().manual_seed(0)
    maps = torch.randn(12, 4, 6, 6, generator=gen)
    masks = (maps[:, 0] > 0).long() + (maps[:, 1] > 1).long() * (maps[:, 0] <= 0).long() * 2
    masks[:, 0, 0] = 255  # ignored pixels
    out = dense_probe(maps[:8], masks[:8], maps[8:], masks[8:], num_classes=3, epochs=60, batch_size=4)
    assert out["pixel_accuracy"] > 0.9 and out["miou"] > 0.75
    assert len(out["per_class_iou"]) == 3 and sum(map(sum, out["confusion"])) == 4 * 35
    again = dense_probe(maps[:8], masks[:8], maps[8:], masks[8:], num_classes=3, epochs=60, batch_size=4)
    assert again == out


def test_dense_probe_upsamples_to_mask_size_and_checks_input():
    gen = torch.Generator().manual_seed(1)
    labels = torch.arange(8) % 2
    maps = torch.randn(8, 3, 3, 3, generator=gen) * 0.3 + (labels * 2.0 - 1.0)[:, None, None, None]
    masks = labels[:, None, None].expand(8, 12, 12).clone()
    out = dense_probe(maps[:6], masks[:6], maps[6:], masks[6:], num_classes=2, epochs=20)
    assert out["miou"] == 1.0
    with pytest.raises(ValueError, match="train_masks"):
        dense_probe(maps, masks[:5], maps, masks, num_classes=2)
    with pytest.raises(ValueError, match="test_masks"):
        dense_probe(maps, masks, maps, masks + 5, num_classes=2)


@pytest.fixture(scope="module")
def scenes_root(tmp_path_factory):
    from ssl_kit.world.build import build_set

    return build_set("scenes", tmp_path_factory.mktemp("world"), "smoke", progress=False)


def test_semantic_masks_from_world_scenes(scenes_root):
    from ssl_kit.data import annotation_mask, read_coco

    index = read_coco(scenes_root, "train2017")
    images, masks = semantic_masks(index)
    n = len(index.images)
    assert images.dtype == torch.uint8 and images.shape[:2] == (n, 3)
    assert masks.dtype == torch.int64 and masks.shape == (n, *images.shape[2:])
    names = mask_class_names(index)
    assert names[0] == "background" and len(names) == len(index.categories) + 1
    for j, im in enumerate(index.images[:4]):
        for ann in index.annotations[im.id]:  # visible masks do not overlap: every pixel keeps its label
            where = torch.from_numpy(annotation_mask(ann, im.height, im.width))
            assert bool((masks[j][where] == ann.category_id).all())
        painted = sum(int(annotation_mask(a, im.height, im.width).sum()) for a in index.annotations[im.id])
        assert int((masks[j] > 0).sum()) == painted
    small_images, small_masks = semantic_masks(index, size=(16, 20))
    assert small_images.shape == (n, 3, 16, 20) and small_masks.shape == (n, 16, 20)
    assert set(small_masks.unique().tolist()) <= set(range(len(names)))


# ---------------------------------------------------------------------------------------------- features


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3, padding=1)
        self.bn = nn.BatchNorm2d(5)
        self.frozen = nn.Dropout(0.5)

    def forward(self, x):
        return self.frozen(torch.relu(self.bn(self.conv(x))))


def test_extract_features_pools_restores_mode_and_matches_forward():
    torch.manual_seed(0)
    model = Tiny()
    model.train()
    model.frozen.eval()  # a submodule kept in eval mode must stay so
    images = torch.randint(0, 256, (7, 3, 8, 8), dtype=torch.uint8)
    feats = extract_features(model, images, batch_size=3)
    assert model.training and model.bn.training and not model.frozen.training
    assert feats.shape == (7, 5) and feats.dtype == torch.float32 and feats.device.type == "cpu"
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    model.eval()
    with torch.no_grad():
        direct = model((images.float() / 255 - mean) / std)
    assert torch.allclose(feats, direct.mean(dim=(2, 3)), rtol=1e-5, atol=1e-6)
    maps = extract_feature_maps(model, images, batch_size=4, size=4)
    assert maps.shape == (7, 5, 4, 4)
    assert not model.training  # eval before the call stays eval


def test_extract_features_2d_output_and_bad_input():
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    images = torch.randint(0, 256, (5, 3, 4, 4), dtype=torch.uint8)
    assert extract_features(model, images, size=(4, 4)).shape == (5, 2)
    with pytest.raises(ValueError, match="images"):
        extract_features(model, images.float())
    with pytest.raises(ValueError, match="images"):
        extract_features(model, images[:0])
    with pytest.raises(ValueError, match="feature maps"):
        extract_feature_maps(model, images)


class Viewer(nn.Module):
    """No convolution, and a `view` that a channels-last input would break."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 4 * 4, 2)

    def forward(self, x):
        return self.fc(x.view(x.shape[0], -1))


def test_convolutional_models_run_channels_last_others_as_they_are():
    from ssl_kit.common.device import channels_last

    torch.manual_seed(0)
    model = Tiny().eval()
    before = model.conv.weight.detach().clone()
    assert channels_last(model) and model.conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(model.conv.weight, before)  # the layout changes, not the values
    viewer = Viewer()
    assert not channels_last(viewer)
    images = torch.randint(0, 256, (5, 3, 4, 4), dtype=torch.uint8)
    feats = extract_features(viewer, images)
    with torch.no_grad():
        x = (images.float() / 255 - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
            IMAGENET_STD
        ).view(1, 3, 1, 1)
        assert torch.allclose(feats, viewer(x), atol=1e-6)
