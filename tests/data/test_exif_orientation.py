"""A photo stored on its side with an EXIF orientation tag (as phones and cameras write them) is read upright,
as image viewers and torchvision's `decode_image(..., apply_exif_orientation=True)` show it, also when decoded
at a reduced size (JPEG draft)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ssl_kit.data.images import open_rgb, read_image


def _photo(path, orientation: int):
    """A 40x20 (W x H) picture, red on its left half, stored turned so that `orientation` makes it upright."""
    upright = np.zeros((20, 40, 3), np.uint8)
    upright[:, :20] = (255, 0, 0)
    stored = {1: upright, 6: np.rot90(upright, 1), 8: np.rot90(upright, -1), 3: np.rot90(upright, 2)}[
        orientation
    ]
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(np.ascontiguousarray(stored)).save(path, quality=95, exif=exif)
    return path


def test_a_rotated_photo_is_read_upright(tmp_path):
    for orientation in (1, 3, 6, 8):
        image = read_image(_photo(tmp_path / f"o{orientation}.jpg", orientation))
        assert image.shape == (20, 40, 3), orientation  # upright: wider than tall
        assert image[10, 5, 0] > 200 and image[10, 35, 0] < 60, orientation  # red on the left


def test_a_rotated_photo_decoded_at_a_reduced_size_is_upright_and_large_enough(tmp_path):
    path = _photo(tmp_path / "big.jpg", 6)
    big = np.asarray(Image.open(path).resize((80, 320)))  # stored 80 wide, 320 tall: upright 320 x 80
    Image.fromarray(big).save(path, quality=95, exif=Image.open(path).getexif())
    asked = []

    def draft(w, h):  # the caller asks in upright sizes: it needs 80 x 20
        asked.append((w, h))
        return (80, 20)

    img = open_rgb(path, draft)
    assert asked == [(320, 80)] and img.size[0] >= 80 and img.size[1] >= 20 and img.size[0] > img.size[1]
