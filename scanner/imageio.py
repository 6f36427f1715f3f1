"""Convert every kind of image input into one BGR uint8 array."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from scanner.errors import ScanError


def load_image(source: Any) -> np.ndarray:
    """Return `source` as a BGR uint8 array of shape (height, width, 3).

    Accepts a path (str or os.PathLike), encoded bytes (bytes, bytearray, memoryview), a binary
    file object, a PIL image, or an ndarray (BGR, BGRA or grey; uint8, uint16, bool or float in
    0..1). Encoded images are decoded with their EXIF orientation applied. Pixel (0, 0) is the
    top-left of the photo. Raises ScanError for anything that is not a complete, non-empty image.
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
        return _from_bytes(data, repr(os.fspath(path)))
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


def _from_pil(im: Image.Image) -> np.ndarray:
    try:
        im.load()
    except (OSError, ValueError) as exc:
        raise ScanError(f"truncated or broken image: {exc}") from None
    if im.width == 0 or im.height == 0:
        raise ScanError(f"empty image: {im.width}x{im.height} pixels")
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    a = np.asarray(im)
    if a.ndim == 2:
        return cv2.cvtColor(a, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(a, cv2.COLOR_RGB2BGR)


def _from_bytes(data: bytes, what: str) -> np.ndarray:
    if not data:
        raise ScanError(f"empty image: {what} has 0 bytes")
    if data[:2] == b"\xff\xd8" and not _jpeg_complete(data):
        raise ScanError(f"truncated JPEG: {what} ends before the end-of-image marker")
    if data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" not in data[-64:]:
        raise ScanError(f"truncated PNG: {what} ends before the IEND chunk")
    buf = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is not None and img.size:
        return img
    # OpenCV gives no reason; Pillow tells an unknown format from a broken file.
    try:
        with Image.open(io.BytesIO(data)) as im:
            return _from_pil(im)
    except UnidentifiedImageError:
        head = data[:16]
        raise ScanError(
            f"not an image: {what} ({len(data)} bytes, starts with {head!r}) is not a known "
            "image format"
        ) from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
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
