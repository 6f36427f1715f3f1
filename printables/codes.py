"""Turn marker ids and QR payloads into module grids, the only place that calls cv2 and qrcode.

A grid is a tuple of rows, top row first; each row a tuple of booleans, True for a dark cell.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import qrcode
import qrcode.constants
import qrcode.exceptions

from .errors import PrintError

Grid = tuple[tuple[bool, ...], ...]

# Error correction M: the smallest symbol that still survives a fingerprint or a crease;
# Q would push a typical sticky URL from version 3 to version 4 and shrink every module.
QR_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QR_QUIET_MODULES = 4


@lru_cache(maxsize=16)
def marker_dictionary(name: str) -> cv2.aruco.Dictionary:
    """Return the predefined ArUco dictionary called `name` (e.g. "DICT_4X4_1000")."""
    if not name.startswith("DICT_") or not hasattr(cv2.aruco, name):
        known = sorted(n for n in dir(cv2.aruco) if n.startswith("DICT_"))
        raise PrintError(f"unknown marker dictionary {name!r}; choose one of: {', '.join(known)}")
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))


def marker_cells(dictionary: str) -> int:
    """Return how many cells a marker of `dictionary` has along one side, border included."""
    return marker_dictionary(dictionary).markerSize + 2


@lru_cache(maxsize=4096)
def marker_grid(marker_id: int, dictionary: str) -> Grid:
    """Return the cells of marker `marker_id`, one-cell black border included."""
    d = marker_dictionary(dictionary)
    size = d.bytesList.shape[0]
    if not isinstance(marker_id, int) or isinstance(marker_id, bool):
        raise PrintError(f"marker id must be an integer, not {marker_id!r}")
    if not 0 <= marker_id < size:
        raise PrintError(f"marker id {marker_id} is outside {dictionary} (ids 0 to {size - 1})")
    cells = d.markerSize + 2
    # One pixel per cell: the image is the bit matrix itself, border included.
    img = cv2.aruco.generateImageMarker(d, marker_id, cells, borderBits=1)
    return tuple(tuple(bool(v == 0) for v in row) for row in np.asarray(img))


@lru_cache(maxsize=4096)
def qr_grid(text: str) -> Grid:
    """Return the modules of the smallest QR symbol (ECC M) holding `text`, without quiet zone."""
    if not text:
        raise PrintError("QR text is empty")
    qr = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, border=0, box_size=1)
    qr.add_data(text)
    try:
        qr.make(fit=True)
    except (qrcode.exceptions.DataOverflowError, ValueError) as exc:
        raise PrintError(f"QR text is too long for a QR code ({len(text)} characters)") from exc
    return tuple(tuple(bool(v) for v in row) for row in qr.get_matrix())


def grid_runs(grid: Grid) -> list[tuple[int, int, int]]:
    """Return the dark runs of `grid` as (row, first column, length), for drawing few rectangles."""
    runs = []
    for r, row in enumerate(grid):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return runs


def qr_svg(text: str, *, title: str = "QR code", css_class: str | None = None) -> str:
    """Return an SVG of the QR code holding `text`, quiet zone included, one unit per module.

    The SVG has no size of its own beyond its viewBox: it scales to its container. It carries no
    style attribute, so a page with a strict Content-Security-Policy can inline it.
    """
    grid = qr_grid(text)
    size = len(grid) + 2 * QR_QUIET_MODULES
    q = QR_QUIET_MODULES
    path = "".join(f"M{c + q} {r + q}h{n}v1h-{n}z" for r, c, n in grid_runs(grid))
    label = title.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    css = f' class="{css_class}"' if css_class else ""
    return (
        f'<svg{css} xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="{label}">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )
