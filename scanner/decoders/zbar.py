"""Read QR codes with ZBar through pyzbar; the only module that imports pyzbar."""

from __future__ import annotations

import numpy as np
from pyzbar import pyzbar

from scanner.results import DecodedCode

NAME = "zbar"


def decode(gray: np.ndarray, *, thorough: bool = True) -> list[DecodedCode]:
    """Return the QR codes in a grey uint8 image; coordinates are its pixels, origin top-left."""
    gray = np.ascontiguousarray(gray)
    out = []
    for sym in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE]):
        try:
            text = sym.data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        pts = [(float(p.x), float(p.y)) for p in sym.polygon]
        if not pts:
            r = sym.rect
            pts = [
                (r.left, r.top),
                (r.left + r.width, r.top),
                (r.left + r.width, r.top + r.height),
                (r.left, r.top + r.height),
            ]
        # ZBar's polygon is the symbol's outline, not always in the symbol's own order.
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        out.append(
            DecodedCode(
                text=text, via=NAME, x=sum(xs) / len(xs), y=sum(ys) / len(ys), corners=tuple(pts)
            )
        )
    return out
