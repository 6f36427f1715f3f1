"""Pick a QR decoder by name; each native decoder lives in its own module.

Every decoder takes a grey uint8 image and returns DecodedCode values whose coordinates are that
image's pixels (origin top-left, x right, y down).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scanner.decoders import opencv, zbar, zxing
from scanner.errors import ScanError
from scanner.results import DecodedCode

DECODERS: tuple[str, ...] = ("auto", "zxing", "zbar", "opencv")

Decoder = Callable[..., list[DecodedCode]]

_BY_NAME: dict[str, Decoder] = {"zxing": zxing.decode, "zbar": zbar.decode, "opencv": opencv.decode}


def chain(name: str) -> tuple[Decoder, ...]:
    """Return the decoders to try, in order, for a decoder name from DECODERS.

    "auto" uses zxing-cpp first (fastest and most tolerant on wall photos), then ZBar, which
    reads some blurred crops zxing-cpp misses.
    """
    if name == "auto":
        return (zxing.decode, zbar.decode)
    try:
        return (_BY_NAME[name],)
    except KeyError:
        raise ScanError(f"unknown decoder {name!r}; choose one of {', '.join(DECODERS)}") from None


def decode_qr(
    gray: np.ndarray, *, decoder: str = "auto", thorough: bool = True
) -> list[DecodedCode]:
    """Return the QR codes the first decoder of the chain that finds any reads in `gray`."""
    for fn in chain(decoder):
        found = fn(gray, thorough=thorough)
        if found:
            return found
    return []
