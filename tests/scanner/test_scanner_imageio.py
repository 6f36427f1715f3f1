import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

import scanner
from scanner import ImageHeader, ScanError, check_size, load_image, read_header


@pytest.fixture
def bgr():
    img = np.zeros((36, 48, 3), np.uint8)
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
    assert out.shape == (36, 48, 3)
    assert np.array_equal(out, bgr)


def test_load_image_gray_array_becomes_bgr():
    gray = np.arange(32 * 40, dtype=np.uint16).reshape(32, 40).astype(np.uint8)
    out = load_image(gray)
    assert out.shape == (32, 40, 3)
    assert out[2, 3].tolist() == [83, 83, 83]


def test_load_image_bgra_drops_alpha(bgr):
    bgra = np.dstack([bgr, np.full(bgr.shape[:2], 7, np.uint8)])
    assert np.array_equal(load_image(bgra), bgr)


def test_load_image_float_array_scaled():
    out = load_image(np.full((32, 32), 1.0, np.float32))
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
    assert out.shape == (36, 48, 3)


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


# Size limits: checked from the header, before any pixel is decoded.

THIN = "its sides must be at least 32 pixels and at most 20:1"


def _white_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """Return an 8 x 8 PNG whose IHDR claims width x height pixels, with its CRC made good."""
    data = bytearray(_white_png(8, 8))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize(
    ("width", "height"),
    [(4000, 3000), (3000, 4000), (8000, 6000), (8192, 6144), (9248, 6936), (3840, 2160)]
    + [(1920, 1080), (32, 32), (32, 640), (640, 32), (12000, 1500)],
    ids=["12MP", "12MP-upright", "48MP", "50MP", "64MP", "4K", "1080p", "smallest"]
    + ["narrowest", "flattest", "panorama"],
)
def test_check_size_camera_sizes_pass(width, height):
    assert check_size(width, height) is None


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (1, 7000, f"the image is 1x7000 pixels: {THIN}"),
        (7000, 1, f"the image is 7000x1 pixels: {THIN}"),
        (31, 400, f"the image is 31x400 pixels: {THIN}"),
        (32, 641, f"the image is 32x641 pixels: {THIN}"),
        (30000, 30000, "the image is 30000x30000 pixels: at most 70 megapixels"),
        (10000, 7001, "the image is 10000x7001 pixels: at most 70 megapixels"),
    ],
    ids=["1x7000", "7000x1", "too-narrow", "past-20-to-1", "30000x30000", "just-past-70MP"],
)
def test_check_size_odd_sizes_raise(width, height, message):
    with pytest.raises(ScanError) as exc:
        check_size(width, height)
    assert str(exc.value) == message


def test_check_size_other_limits_and_name():
    assert check_size(9, 9, what="the view", max_pixels=4_000_000, min_side=8) is None
    with pytest.raises(ScanError) as exc:
        check_size(2001, 2000, what="the view of 7KQ2XM", max_pixels=4_000_000, min_side=8)
    assert str(exc.value) == "the view of 7KQ2XM is 2001x2000 pixels: at most 4 megapixels"


def test_read_header_past_pillows_limit_tells_the_claimed_size():
    data = _png_claiming(30000, 30000)
    assert len(data) < 100
    assert read_header(data) == ImageHeader(30000, 30000, "PNG", "L")


def test_read_header_jpeg():
    assert read_header(_jpeg(np.zeros((36, 48, 3), np.uint8))) == ImageHeader(48, 36, "JPEG", "RGB")


def test_read_header_not_an_image_raises():
    with pytest.raises(ScanError, match=r"^not an image: the photo \(7 bytes"):
        read_header(b"GIF-ish", what="the photo")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (_white_png(1, 7000), f"the image is 1x7000 pixels: {THIN}"),
        (_white_png(7000, 1), f"the image is 7000x1 pixels: {THIN}"),
        (_png_claiming(30000, 30000), "the image is 30000x30000 pixels: at most 70 megapixels"),
        (np.zeros((70000, 1), np.uint8), f"the image is 1x70000 pixels: {THIN}"),
        (Image.new("L", (1, 7000)), f"the image is 1x7000 pixels: {THIN}"),
    ],
    ids=["png-1x7000", "png-7000x1", "png-claims-30000x30000", "array-1x70000", "pil-1x7000"],
)
def test_load_image_odd_size_raises(source, message):
    with pytest.raises(ScanError) as exc:
        load_image(source)
    assert str(exc.value) == message


def test_load_image_odd_size_path_names_the_file(tmp_path):
    path = tmp_path / "strip.png"
    path.write_bytes(_white_png(1, 7000))
    with pytest.raises(ScanError) as exc:
        load_image(path)
    assert str(exc.value) == f"the image {str(path)!r} is 1x7000 pixels: {THIN}"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (_white_png(1, 7000), f"the image is 1x7000 pixels: {THIN}"),
        (_png_claiming(30000, 30000), "the image is 30000x30000 pixels: at most 70 megapixels"),
    ],
    ids=["1x7000", "claims-30000x30000"],
)
def test_scan_odd_image_raises_naming_its_size(small_shot, source, message):
    with pytest.raises(ScanError) as exc:
        scanner.scan(source, small_shot.board.manifest)
    assert str(exc.value) == message


@pytest.mark.parametrize(("height", "width"), [(32, 32), (32, 640), (640, 32)])
def test_scan_smallest_and_narrowest_images_find_no_board(small_shot, height, width):
    result = scanner.scan(np.full((height, width, 3), 255, np.uint8), small_shot.board.manifest)
    assert (result.board_found, result.stickies) == (False, ())
