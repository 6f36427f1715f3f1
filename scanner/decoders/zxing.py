"""Read QR codes with zxing-cpp; the only module that imports zxingcpp."""

from __future__ import annotations

import numpy as np
import zxingcpp

from scanner.results import DecodedCode

NAME = "zxing"


def decode(gray: np.ndarray, *, thorough: bool = True) -> list[DecodedCode]:
    """Return the QR codes in a grey uint8 image; coordinates are its pixels, origin top-left."""
    found = zxingcpp.read_barcodes(
        gray,
        formats=zxingcpp.BarcodeFormat.QRCode,
        try_rotate=thorough,
        try_downscale=thorough,
        try_invert=False,
    )
    out = []
    for b in found:
        if not b.valid or not b.text:
            continue
        p = b.position
        corners = tuple(
            (float(q.x), float(q.y))
            for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
        )
        out.append(_code(b.text, corners))
    return out


def _code(text: str, corners: tuple[tuple[float, float], ...]) -> DecodedCode:
    xs = [c[0] for c in corners]
    ys = [c[1] for c in corners]
    return DecodedCode(
        text=text, via=NAME, x=sum(xs) / len(xs), y=sum(ys) / len(ys), corners=corners
    )
