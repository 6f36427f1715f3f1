"""Read QR codes with OpenCV's QR detector; the only module that uses cv2.QRCodeDetector."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from scanner.results import DecodedCode

NAME = "opencv"

# A detector keeps state between calls; one per thread keeps concurrent scans apart.
_local = threading.local()


def decode(gray: np.ndarray, *, thorough: bool = True) -> list[DecodedCode]:
    """Return the QR codes in a grey uint8 image; coordinates are its pixels, origin top-left."""
    detector = getattr(_local, "detector", None)
    if detector is None:
        detector = _local.detector = cv2.QRCodeDetector()
    try:
        ok, texts, points, _ = detector.detectAndDecodeMulti(gray)
    except cv2.error:
        return []
    if not ok or points is None:
        return []
    out = []
    for text, quad in zip(texts, points, strict=False):
        if not text:
            continue
        corners = tuple((float(x), float(y)) for x, y in np.asarray(quad).reshape(-1, 2))
        out.append(
            DecodedCode(
                text=text,
                via=NAME,
                x=sum(c[0] for c in corners) / len(corners),
                y=sum(c[1] for c in corners) / len(corners),
                corners=corners,
            )
        )
    return out
