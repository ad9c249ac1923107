from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from ssl_kit.data.imagefolder import read_imagefolder
from ssl_kit.data.images import crop_box, load_images, read_image, resize_image
from ssl_kit.data.manifest import INCOMPLETE
from ssl_kit.errors import CorruptImageError, DataError, IncompleteSetError


def _rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _save(path: Path, arr: np.ndarray, mode: str | None = None) -> Path:
    img = Image.fromarray(arr)
    if mode:
        img = img.convert(mode)
    img.save(path)
    return path


def test_read_png_exact(tmp_path):
    arr = _rgb(7, 5)
    out = read_image(_save(tmp_path / "a.png", arr))
    assert out.dtype == np.uint8 and out.shape == (7, 5, 3)
    np.testing.assert_array_equal(out, arr)
    assert out.flags.writeable


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "1", "CMYK"])
def test_read_converts_modes_to_rgb(tmp_path, mode):
    ext = "jpg" if mode == "CMYK" else "png"
    path = _save(tmp_path / f"a.{ext}", _rgb(6, 4), mode)
    out = read_image(path)
    assert out.shape == (6, 4, 3) and out.dtype == np.uint8


def test_read_grayscale_replicates_channels(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)


def test_read_16bit_grayscale(tmp_path):
    arr = (np.arange(6, dtype=np.uint16).reshape(2, 3) * 10000).astype(np.uint16)
    Image.fromarray(arr).save(tmp_path / "g16.png")
    out = read_image(tmp_path / "g16.png")
    np.testing.assert_array_equal(out[..., 0], (arr >> 8).astype(np.uint8))


def test_read_missing_file_is_data_error(tmp_path):
    with pytest.raises(DataError, match="missing") as e:
        read_image(tmp_path / "nope.png")
    assert not isinstance(e.value, CorruptImageError)


def test_read_garbage_bytes(tmp_path):
    (tmp_path / "bad.jpg").write_bytes(b"this is not an image" * 10)
    with pytest.raises(CorruptImageError, match="bad.jpg"):
        read_image(tmp_path / "bad.jpg")


@pytest.mark.parametrize("ext", ["png", "jpg"])
@pytest.mark.parametrize("keep", [0.5, "tail"])
def test_read_truncated(tmp_path, ext, keep):
    full = _save(tmp_path / f"full.{ext}", _rgb(32, 32)).read_bytes()
    cut = len(full) // 2 if keep == 0.5 else len(full) - 20
    (tmp_path / f"cut.{ext}").write_bytes(full[:cut])
    with pytest.raises(CorruptImageError, match=f"cut.{ext}"):
        read_image(tmp_path / f"cut.{ext}")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_resize_image_int_and_pair():
    arr = _rgb(10, 20)
    assert resize_image(arr, 4).shape == (4, 4, 3)
    assert resize_image(arr, (3, 5)).shape == (3, 5, 3)
    assert resize_image(arr, (10, 20)) is arr
    flat = np.full((8, 8, 3), 77, dtype=np.uint8)
    assert (resize_image(flat, 3) == 77).all()


def test_load_images_same_size(tmp_path):
    arrs = [_rgb(4, 6, seed=i) for i in range(3)]
    paths = [_save(tmp_path / f"{i}.png", a) for i, a in enumerate(arrs)]
    images, kept = load_images(paths)
    assert images.shape == (3, 4, 6, 3) and kept == [0, 1, 2]
    np.testing.assert_array_equal(images[2], arrs[2])


def test_load_images_resizes(tmp_path):
    paths = [_save(tmp_path / "a.png", _rgb(4, 6)), _save(tmp_path / "b.png", _rgb(9, 3))]
    images, kept = load_images(paths, size=5, progress=False)
    assert images.shape == (2, 5, 5, 3) and images.dtype == np.uint8 and kept == [0, 1]
    images, _ = load_images(paths, size=(2, 7))
    assert images.shape == (2, 2, 7, 3)


def test_load_images_progress_bar(tmp_path, capsys):
    paths = [_save(tmp_path / f"{i}.png", _rgb(4, 4, seed=i)) for i in range(2)]
    images, kept = load_images(paths, progress=True)
    assert images.shape == (2, 4, 4, 3) and kept == [0, 1]


def test_load_images_mismatched_sizes_without_size(tmp_path):
    paths = [_save(tmp_path / "a.png", _rgb(4, 6)), _save(tmp_path / "b.png", _rgb(9, 3))]
    with pytest.raises(DataError, match="b.png"):
        load_images(paths)


def test_load_images_corrupt_raises_first(tmp_path):
    good = _save(tmp_path / "good.png", _rgb(4, 4))
    (tmp_path / "bad1.png").write_bytes(b"\x89PNG garbage")
    (tmp_path / "bad2.png").write_bytes(b"")
    with pytest.raises(CorruptImageError, match="bad1.png"):
        load_images([good, tmp_path / "bad1.png", tmp_path / "bad2.png"])


def test_load_images_skip_corrupt_warns(tmp_path):
    good = [_save(tmp_path / f"g{i}.png", _rgb(4, 4, seed=i)) for i in range(2)]
    (tmp_path / "bad1.png").write_bytes(b"\x89PNG garbage")
    (tmp_path / "bad2.png").write_bytes(b"")
    paths = [good[0], tmp_path / "bad1.png", good[1], tmp_path / "bad2.png"]
    for size in (None, 3):
        with pytest.warns(UserWarning, match=r"skipped 2 corrupt.*bad1\.png"):
            images, kept = load_images(paths, size=size, skip_corrupt=True)
        assert kept == [0, 2] and len(images) == 2


def test_load_images_empty_and_all_corrupt(tmp_path):
    images, kept = load_images([], size=4)
    assert images.shape == (0, 4, 4, 3) and kept == []
    (tmp_path / "bad.png").write_bytes(b"x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        images, kept = load_images([tmp_path / "bad.png"], skip_corrupt=True)
    assert len(images) == 0 and kept == []


def test_load_images_missing_file_raises_even_when_skipping(tmp_path):
    with pytest.raises(DataError, match="missing"):
        load_images([tmp_path / "gone.png"], skip_corrupt=True)


def test_crop_box_basic():
    img = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)
    np.testing.assert_array_equal(crop_box(img, (2, 3, 4, 5)), img[3:8, 2:6])
    # fractional boxes round outwards
    assert crop_box(img, (2.5, 3.2, 3.0, 4.0)).shape == (5, 4, 3)


def test_crop_box_clips_and_keeps_one_pixel():
    img = np.zeros((10, 12, 3), dtype=np.uint8)
    assert crop_box(img, (-5, -5, 8, 8)).shape == (3, 3, 3)
    assert crop_box(img, (50, 50, 4, 4)).shape == (1, 1, 3)
    assert crop_box(img, (3, 3, 0, 0)).shape == (1, 1, 3)
    assert crop_box(img, (0, 0, 100, 100)).shape == (10, 12, 3)


def test_crop_box_context_and_out_size():
    img = np.zeros((20, 20, 3), dtype=np.uint8)
    assert crop_box(img, (8, 8, 4, 4), context=1.0).shape == (8, 8, 3)
    assert crop_box(img, (8, 8, 4, 2), out_size=6).shape == (6, 6, 3)
    assert crop_box(img, (8, 8, 4, 2), out_size=(3, 5)).shape == (3, 5, 3)


def test_crop_box_bad_input():
    img = np.zeros((5, 5, 3), dtype=np.uint8)
    with pytest.raises(ValueError):
        crop_box(img, (0, 0, float("nan"), 1))
    with pytest.raises(ValueError):
        crop_box(img, (0, 0, 1))


def _img(path: Path, value: int = 0, size: tuple[int, int] = (4, 3)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, value, value)).save(path)
    return path


# ------------------------------------------------------------------------------------------- imagefolder


@pytest.fixture
def data_imagefolder(tmp_path) -> Path:
    root = tmp_path / "train"
    for cls, names in {"dog": ["b.JPEG", "a.png"], "cat": ["z.jpg", "y.webp", "x.bmp"]}.items():
        for n in names:
            _img(root / cls / n)
    (root / "cat" / "notes.txt").write_text("ignored")
    (root / "cat" / ".hidden.png").write_bytes(b"")
    (root / "manifest.json").write_text("{}")
    (root / ".cache").mkdir()
    return root


def test_imagefolder_sorted(data_imagefolder):
    idx = read_imagefolder(data_imagefolder)
    assert idx.classes == ["cat", "dog"]
    assert [p.name for p in idx.paths] == ["x.bmp", "y.webp", "z.jpg", "a.png", "b.JPEG"]
    assert idx.labels.dtype == np.int64 and idx.labels.tolist() == [0, 0, 0, 1, 1]
    assert len(idx) == 5 and idx.class_to_idx == {"cat": 0, "dog": 1}


def test_imagefolder_errors(tmp_path, data_imagefolder):
    with pytest.raises(DataError, match="missing"):
        read_imagefolder(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class"):
        read_imagefolder(tmp_path / "empty")
    (data_imagefolder / "emu").mkdir()
    (data_imagefolder / "emu" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="emu.*no image"):
        read_imagefolder(data_imagefolder)


def test_incomplete_marker_in_root_or_parent(tmp_path, data_imagefolder):
    (data_imagefolder / INCOMPLETE).touch()
    with pytest.raises(IncompleteSetError):
        read_imagefolder(data_imagefolder)
    (data_imagefolder / INCOMPLETE).unlink()
    (tmp_path / INCOMPLETE).touch()
    with pytest.raises(IncompleteSetError):
        read_imagefolder(data_imagefolder)
