"""Boxes: the annotation readers' one box parser (ssl_kit.data.boxes) and the kit's one box IoU
(ssl_kit.video.box_geometry.box_iou), on hand-computed answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ssl_kit.data.boxes import read_voc, read_xywh, voc_to_xywh
from ssl_kit.errors import DataError
from ssl_kit.video.box_geometry import box_intersection, box_iou

ANN = Path("ann.json")


def test_read_boxes_and_their_errors():
    assert read_xywh(ANN, [1, 2.5, "3", 4], "annotation 0") == (1.0, 2.5, 3.0, 4.0)
    assert read_xywh(ANN, np.array([0, 0, 0, 0]), "annotation 0") == (0.0, 0.0, 0.0, 0.0)  # a size may be 0
    assert read_voc(ANN, (1, 1, 1, 1), "object 0") == (1.0, 1.0, 1.0, 1.0)  # one pixel
    for bad in (None, [1, 2, 3], [1, 2, 3, 4, 5], [1, 2, "x", 4], 7, {"x": 1}):
        with pytest.raises(DataError, match=r"annotation 3 has a bad bbox .*\[x, y, w, h\] numbers"):
            read_xywh(ANN, bad, "annotation 3")
        with pytest.raises(DataError, match=r"object 1 has a bad bbox .*\[x1, y1, x2, y2\] numbers"):
            read_voc(ANN, bad, "object 1")
    with pytest.raises(DataError, match=r"object 1 bbox \[5, 1, 4, 2\] has x2 < x1 or y2 < y1"):
        read_voc(ANN, [5, 1, 4, 2], "object 1")


def test_voc_corners_to_pixels():
    # the world writes an x, y, w, h box as [x + 1, y + 1, x + w, y + h] (1-based inclusive, as Pascal VOC)
    x, y, w, h = 3.0, 5.0, 10.0, 4.0
    assert voc_to_xywh((x + 1, y + 1, x + w, y + h)) == (x, y, w, h)
    assert voc_to_xywh((1, 1, 1, 1)) == (0, 0, 1, 1)  # the top-left pixel


def test_box_iou_known_answers():
    a = [0.0, 0, 10, 10]
    others = np.array([[5.0, 0, 10, 10], [2, 2, 4, 4], [10, 0, 5, 5], [0, 0, 10, 10], [-5, -5, 10, 20]])
    # overlaps 50 of 150; inside (16 of 100); touching (0); the same box; 5 x 10 = 50 of 100 + 200 - 50
    want = np.array([[50 / 150, 16 / 100, 0.0, 1.0, 50 / 250]])
    np.testing.assert_allclose(box_iou(a, others), want, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(box_intersection(a, others), [[50, 16, 0, 100, 50]])
    assert box_iou(others, a).shape == (5, 1) and np.array_equal(box_iou(others, a)[:, 0], want[0])
    assert box_iou(a, [1, 1, 0, 5])[0, 0] == 0.0  # zero area: IoU 0
    assert np.isnan(box_iou(a, [np.nan, 0, 1, 1])[0, 0])  # an absent object
