"""Images as they are stored: pixels encoded afresh, nothing else of what came in.

Every photo, annotated photo, thumbnail and sticky picture the app writes goes through
``encode_image``. A camera's or a phone's JPEG can carry EXIF (the place it was taken, the device),
comments, thumbnails and any bytes after the image's end; encoding the decoded pixels keeps none of
them, only what a viewer sees.
"""

from __future__ import annotations

from app.services import ServiceError

JPEG_QUALITY = 85


class ImageEncodeError(ServiceError):
    """An image that cannot be decoded or encoded."""


def encode_image(
    image, *, suffix: str = ".jpg", quality: int = JPEG_QUALITY, what: str = "the image"
) -> bytes:
    """Return ``image`` encoded afresh as JPEG (``suffix`` ".jpg") or PNG (".png").

    ``image`` is a BGR array, or the bytes of an image file, which are decoded first: what is
    written holds the pixels and no metadata, whatever the input carried.
    """
    import cv2  # slow imports, kept off the web app's start
    import numpy as np

    if isinstance(image, bytes | bytearray | memoryview):
        image = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ImageEncodeError(f"{what} is not a readable image")
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if suffix == ".jpg" else []
    ok, buf = cv2.imencode(suffix, image, params)
    if not ok:
        raise ImageEncodeError(f"{what} cannot be encoded as {suffix[1:].upper()}")
    return buf.tobytes()
