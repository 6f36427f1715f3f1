"""Uploaded photos: checked before any decoder sees them."""

from __future__ import annotations

import io
import warnings

from app.services import ServiceError

# A 12 MP phone photo has 12 million pixels; a little headroom for 48 MP sensors, and no more:
# a small compressed file that claims a huge size is a decompression bomb.
MAX_PIXELS = 50_000_000


class InvalidUpload(ServiceError):
    """The upload is not an image we can read safely."""


def read_photo(data: bytes):
    """Decode an uploaded photo to a BGR array, refusing non-images and decompression bombs."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InvalidUpload("the photo is empty")
    try:
        with warnings.catch_warnings():
            # Pillow only warns about a bomb below twice its limit; here any bomb is refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                fmt = probe.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidUpload("the image claims too many pixels to be a photo") from None
    except (UnidentifiedImageError, OSError):
        raise InvalidUpload("the upload is not an image (JPEG, PNG or WebP)") from None
    if width * height > MAX_PIXELS:
        raise InvalidUpload(
            f"the image is {width} x {height} pixels; at most {MAX_PIXELS // 1_000_000} megapixels"
        )
    if fmt not in ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "MPO"):
        raise InvalidUpload(f"{fmt} images are not accepted; send a JPEG or PNG photo")
    import scanner

    try:
        return scanner.load_image(data)
    except scanner.ScanError as exc:
        raise InvalidUpload(str(exc)) from None
