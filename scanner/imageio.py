"""Convert every kind of image input into one BGR uint8 array, refusing sizes nobody can analyse.

An encoded image's size is read from its header and checked before its pixels are decoded, so that
a few bytes that claim a huge size never reach the decoder.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from scanner.errors import ScanError

# Real cameras stay well inside these: a 12 MP phone photo is 4000 x 3000 pixels, a 48 MP one
# 8000 x 6000, a 50 MP one 8192 x 6144, a 64 MP one 9248 x 6936, a 4K webcam frame 3840 x 2160, and
# a phone's panorama of a long wall about 8:1. Phones that offer 108 or 200 MP save 12 MP unless
# told otherwise; above MAX_PIXELS a photo takes more memory than a board's scan is worth.
MAX_PIXELS = 70_000_000
# Below this the scanner's image pyramid runs out of pixels; no camera takes such a photo.
MIN_SIDE = 32
# Long side over short side: beyond it an image is a strip, and a JPEG encoder (65535 pixels a
# side at most) may not hold it.
MAX_ASPECT = 20


@dataclass(frozen=True)
class ImageHeader:
    """What an encoded image's header says: its size in pixels, and Pillow's names of its format
    and its mode (``"RGB"``, ``"L"``, ``"CMYK"``...)."""

    width: int
    height: int
    format: str
    mode: str


def check_size(
    width: int,
    height: int,
    *,
    what: str = "the image",
    max_pixels: int = MAX_PIXELS,
    min_side: int = MIN_SIDE,
) -> None:
    """Raise ScanError unless an image of `width` x `height` pixels is one to decode and analyse.

    Each side must be at least `min_side` pixels, the long side at most MAX_ASPECT times the short
    one, and the image at most `max_pixels` pixels. `what` names the image in the message, for
    example "the photo is 1x7000 pixels: its sides must be at least 32 pixels and at most 20:1".
    """
    short, long = sorted((width, height))
    if short < min_side or long > MAX_ASPECT * short:
        raise ScanError(
            f"{what} is {width}x{height} pixels: its sides must be at least {min_side} pixels "
            f"and at most {MAX_ASPECT}:1"
        )
    if width * height > max_pixels:
        raise ScanError(
            f"{what} is {width}x{height} pixels: at most {max_pixels / 1_000_000:g} megapixels"
        )


def read_header(data: bytes, *, what: str = "the image") -> ImageHeader:
    """Return the size and format an encoded image's header states; decode none of its pixels.

    Raises ScanError when `data` is not an image Pillow knows, or its header is broken.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns, then refuses, past its own limit; the header is all that is read here.
            # The filter is the whole process's: should another thread's block undo it, Pillow
            # only warns, and a size past its limit is past MAX_PIXELS all the same.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                return ImageHeader(probe.width, probe.height, probe.format or "", probe.mode)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        header = _header_past_pillows_limit(data)
        if header is None:
            limit = Image.MAX_IMAGE_PIXELS or 0
            raise ScanError(f"{what} claims more than {limit} pixels") from None
        return header
    except UnidentifiedImageError:
        raise ScanError(
            f"not an image: {what} ({len(data)} bytes, starts with {data[:16]!r}) is not a known "
            "image format"
        ) from None
    except (OSError, ValueError, SyntaxError, struct.error) as exc:
        raise ScanError(f"broken image: {what}: {exc}") from None


def _header_past_pillows_limit(data: bytes) -> ImageHeader | None:
    """Read the header of an image Pillow refuses to open for its size, so that the size is told.

    Pillow's readers of the usual formats read the header alone when called directly; Image.open
    checks the size after them.
    """
    from PIL import (
        BmpImagePlugin,
        JpegImagePlugin,
        PngImagePlugin,
        TiffImagePlugin,
        WebPImagePlugin,
    )

    readers = (
        PngImagePlugin.PngImageFile,
        JpegImagePlugin.JpegImageFile,
        WebPImagePlugin.WebPImageFile,
        BmpImagePlugin.BmpImageFile,
        TiffImagePlugin.TiffImageFile,
    )
    for reader in readers:
        try:
            with reader(io.BytesIO(data)) as probe:
                return ImageHeader(probe.width, probe.height, probe.format or "", probe.mode)
        except (OSError, ValueError, SyntaxError, IndexError, TypeError, struct.error):
            continue
    return None


def load_image(source: Any) -> np.ndarray:
    """Return `source` as a BGR uint8 array of shape (height, width, 3).

    Accepts a path (str or os.PathLike), encoded bytes (bytes, bytearray, memoryview), a binary
    file object, a PIL image, or an ndarray (BGR, BGRA or grey; uint8, uint16, bool or float in
    0..1). Encoded images are decoded with their EXIF orientation applied. Pixel (0, 0) is the
    top-left of the photo. Raises ScanError for anything that is not a complete, non-empty image,
    and for a size outside the limits (check_size), which an encoded image's header is checked
    against before its pixels are decoded.
    """
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, Image.Image):
        return _from_pil(source)
    if isinstance(source, bytes | bytearray | memoryview):
        return _from_bytes(bytes(source), "bytes")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            raise ScanError(f"not an image: {os.fspath(path)!r} is a directory") from None
        except OSError as exc:
            raise ScanError(f"cannot read image {os.fspath(path)!r}: {exc.strerror}") from None
        return _from_bytes(data, repr(os.fspath(path)), f"the image {os.fspath(path)!r}")
    if hasattr(source, "read"):
        try:
            data = source.read()
        except (OSError, ValueError) as exc:
            raise ScanError(f"cannot read image from file object: {exc}") from None
        if isinstance(data, str):
            raise ScanError("not an image: the file object is open in text mode")
        return _from_bytes(bytes(data), "file object")
    raise ScanError(f"not an image: cannot read an image from {type(source).__name__}")


def _from_array(a: np.ndarray) -> np.ndarray:
    if a.size == 0:
        raise ScanError(f"empty image: array of shape {a.shape}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ScanError(f"not an image: array of shape {a.shape}")
    check_size(a.shape[1], a.shape[0])
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise ScanError("not an image: float array with NaN or infinite values")
        a = np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise ScanError(f"not an image: unsupported array dtype {a.dtype}")
    if a.ndim == 2:
        return cv2.cvtColor(a, cv2.COLOR_GRAY2BGR)
    if a.shape[2] == 4:
        return cv2.cvtColor(a, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(a)


def _from_pil(im: Image.Image, subject: str = "the image") -> np.ndarray:
    if im.width == 0 or im.height == 0:
        raise ScanError(f"empty image: {im.width}x{im.height} pixels")
    # An image Pillow opened lazily has its size from the header: checked before the decode.
    check_size(im.width, im.height, what=subject)
    try:
        im.load()
    except (OSError, ValueError) as exc:
        raise ScanError(f"truncated or broken image: {exc}") from None
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    a = np.asarray(im)
    if a.ndim == 2:
        return cv2.cvtColor(a, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(a, cv2.COLOR_RGB2BGR)


def _from_bytes(data: bytes, what: str, subject: str = "the image") -> np.ndarray:
    """Decode `data` (`what` names it in the messages about its bytes, `subject` in those about
    its size), once its header has passed the size limits."""
    if not data:
        raise ScanError(f"empty image: {what} has 0 bytes")
    if data[:2] == b"\xff\xd8" and not _jpeg_complete(data):
        raise ScanError(f"truncated JPEG: {what} ends before the end-of-image marker")
    if data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" not in data[-64:]:
        raise ScanError(f"truncated PNG: {what} ends before the IEND chunk")
    header = read_header(data, what=what)
    check_size(header.width, header.height, what=subject)
    buf = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is not None and img.size:
        return img
    # OpenCV gives no reason; Pillow tells a broken file.
    try:
        with Image.open(io.BytesIO(data)) as im:
            return _from_pil(im, subject)
    except (OSError, ValueError) as exc:
        raise ScanError(f"broken image: {what}: {exc}") from None


def _jpeg_complete(data: bytes) -> bool:
    """Walk the JPEG segments and report whether the end-of-image marker is reached."""
    n = len(data)
    i = 2
    while i < n:
        if data[i] != 0xFF:
            return False
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            return False
        marker = data[i]
        i += 1
        if marker == 0xD9:
            return True
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0xD8):
            continue
        if i + 2 > n:
            return False
        i += int.from_bytes(data[i : i + 2], "big")
        if marker == 0xDA:
            # Entropy-coded data runs until the next marker that is not a stuffed byte or a restart.
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    return False
                nxt = data[j + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    i = j + 1
                    continue
                i = j
                break
    return False


def halved(img: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """Return the image halved until its long side is at most `long_side`, and the scale.

    A photo point p lies at (p + 0.5) * scale - 0.5 in the reduced one. An odd last row or
    column is dropped before each halving, so that every reduced pixel is the mean of a 2 x 2
    block: that costs a twentieth of a resize to an arbitrary size.
    """
    small, scale = img, 1.0
    while max(small.shape[:2]) > max(long_side, 16):
        h, w = small.shape[:2]
        small = small[: h - h % 2, : w - w % 2]
        small = cv2.resize(small, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        scale /= 2.0
    return small, scale
