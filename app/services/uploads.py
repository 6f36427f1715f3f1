"""Uploaded photos: checked before any decoder sees them.

The size limits are the scanner's (scanner.check_size): every side at least MIN_SIDE pixels, at
most MAX_ASPECT to 1, and at most MAX_PIXELS in all, read from the file's header before a single
pixel is decoded. A small compressed file that claims a huge size (a decompression bomb) or a strip
one pixel wide is refused with a message saying so.
"""

from __future__ import annotations

from app.services import ServiceError

FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "MPO")


class InvalidUpload(ServiceError):
    """The upload is not an image we can read safely, or one the scanner cannot analyse."""


def read_photo(data: bytes):
    """Decode an uploaded photo to a BGR array, refusing non-images and sizes out of limits."""
    # The scanner brings OpenCV and Pillow: imported here, so that the app starts fast.
    import scanner

    if not data:
        raise InvalidUpload("the photo is empty")
    try:
        header = scanner.read_header(data, what="the photo")
    except scanner.ScanError:
        raise InvalidUpload("the upload is not an image (JPEG, PNG or WebP)") from None
    if header.format not in FORMATS:
        raise InvalidUpload(f"{header.format} images are not accepted; send a JPEG or PNG photo")
    try:
        scanner.check_size(header.width, header.height, what="the photo")
        return scanner.load_image(data)
    except scanner.ScanError as exc:
        raise InvalidUpload(str(exc)) from None
