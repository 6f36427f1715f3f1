"""Pick a QR decoder by name; each native decoder lives in its own module.

Every decoder takes a grey uint8 image and returns DecodedCode values whose coordinates are that
image's pixels (origin top-left, x right, y down). A QR text ends before its first ``?``: a
sticky's QR carries its claim key in the query, which no scan result may hold.
"""

from __future__ import annotations

import dataclasses
import functools
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
        return (_without_query(zxing.decode), _without_query(zbar.decode))
    try:
        return (_without_query(_BY_NAME[name]),)
    except KeyError:
        raise ScanError(f"unknown decoder {name!r}; choose one of {', '.join(DECODERS)}") from None


def _without_query(decode: Decoder) -> Decoder:
    """Wrap a native decoder so that each text it reads ends before its first ``?``.

    ``http://localhost:5000/s/7KQ2XM?k=K3Y9AB`` is read as ``http://localhost:5000/s/7KQ2XM``.
    """

    @functools.wraps(decode)
    def read(gray: np.ndarray, **options) -> list[DecodedCode]:
        found = decode(gray, **options)
        return [dataclasses.replace(c, text=c.text.split("?", 1)[0]) for c in found]

    return read


def decode_qr(
    gray: np.ndarray, *, decoder: str = "auto", thorough: bool = True
) -> list[DecodedCode]:
    """Return the QR codes the first decoder of the chain that finds any reads in `gray`."""
    for fn in chain(decoder):
        found = fn(gray, thorough=thorough)
        if found:
            return found
    return []
