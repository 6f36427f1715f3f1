import io

import cv2
import numpy as np
import pytest
from PIL import Image

from scanner import ScanError, load_image


@pytest.fixture
def bgr():
    img = np.zeros((6, 8, 3), np.uint8)
    img[:, :, 0] = 10  # blue
    img[:, :, 1] = 20
    img[:, :, 2] = 200  # red
    img[0, 0] = (1, 2, 3)
    return img


def _png(img) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def _jpeg(img) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return buf.tobytes()


def test_load_image_array_bgr_unchanged(bgr):
    out = load_image(bgr)
    assert out.dtype == np.uint8
    assert out.shape == (6, 8, 3)
    assert np.array_equal(out, bgr)


def test_load_image_gray_array_becomes_bgr():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = load_image(gray)
    assert out.shape == (3, 4, 3)
    assert out[2, 3].tolist() == [11, 11, 11]


def test_load_image_bgra_drops_alpha(bgr):
    bgra = np.dstack([bgr, np.full(bgr.shape[:2], 7, np.uint8)])
    assert np.array_equal(load_image(bgra), bgr)


def test_load_image_float_array_scaled():
    out = load_image(np.full((2, 2), 1.0, np.float32))
    assert out[0, 0].tolist() == [255, 255, 255]


def test_load_image_path_and_pathlike(tmp_path, bgr):
    p = tmp_path / "wall.png"
    p.write_bytes(_png(bgr))
    assert np.array_equal(load_image(p), bgr)
    assert np.array_equal(load_image(str(p)), bgr)


def test_load_image_bytes_file_object_and_memoryview(bgr):
    data = _png(bgr)
    assert np.array_equal(load_image(data), bgr)
    assert np.array_equal(load_image(io.BytesIO(data)), bgr)
    assert np.array_equal(load_image(memoryview(data)), bgr)


def test_load_image_pil_rgb_becomes_bgr(bgr):
    pil = Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    assert np.array_equal(load_image(pil), bgr)


def test_load_image_jpeg_bytes_decoded(bgr):
    out = load_image(_jpeg(bgr))
    assert out.shape == (6, 8, 3)


def test_load_image_not_an_image_raises():
    with pytest.raises(ScanError, match="^not an image: bytes"):
        load_image(b"%PDF-1.4 this is not a photo")


def test_load_image_text_file_raises(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(ScanError, match="not an image"):
        load_image(p)


def test_load_image_truncated_jpeg_raises(bgr):
    big = cv2.resize(bgr, (400, 300), interpolation=cv2.INTER_NEAREST)
    data = _jpeg(big)
    with pytest.raises(ScanError, match="^truncated JPEG"):
        load_image(data[: len(data) // 2])


def test_load_image_truncated_png_raises(bgr):
    data = _png(bgr)
    with pytest.raises(ScanError, match="^truncated PNG"):
        load_image(data[: len(data) - 20])


def test_load_image_empty_bytes_raises():
    with pytest.raises(ScanError, match="^empty image: bytes has 0 bytes$"):
        load_image(b"")


def test_load_image_empty_array_raises():
    with pytest.raises(ScanError, match=r"^empty image: array of shape \(0, 5\)$"):
        load_image(np.zeros((0, 5), np.uint8))


def test_load_image_missing_file_raises(tmp_path):
    with pytest.raises(ScanError, match="cannot read image"):
        load_image(tmp_path / "absent.jpg")


def test_load_image_unsupported_type_raises():
    with pytest.raises(ScanError, match="^not an image: cannot read an image from int$"):
        load_image(42)
