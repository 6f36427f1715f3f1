"""Find grid cells that the photo does not show: people in front, glare, unreadable stickies.

Works on a small rectified copy of the board (board coordinates scaled to pixels). A cell's
interior, minus the stickies that were read, should be bare board: light and unsaturated. Dark,
coloured or blown-out pixels there mean the cell is covered or holds something that could not be
read, so the cell is reported hidden and no sticky in it is taken for gone.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from scanner.board import BoardFrame
from scanner.grid import Grid

RECTIFIED_WIDTH = 480  # pixels across the board
CELL_INSET = 0.1  # fraction of a cell kept clear of its edges (tape, neighbours' overhang)
COVERED_FRACTION = 0.15  # share of a cell's bare area that may be off-board before it is hidden
SATURATION_MIN = 45  # HSV saturation (0..255) above which a pixel is not bare board
DARK_RATIO = 0.6  # a pixel darker than this share of the nearby board brightness is covered
CLIPPED = 250


def occluded_cells(
    img: np.ndarray, frame: BoardFrame, grid: Grid, *, reads: Sequence, offsets: float
) -> dict[tuple[int, int], str]:
    """Return {(column, row): reason} for cells that look covered.

    `reads` are the sticky readings (board-coordinate centre and marker side); `offsets` is a
    sticky's half-size in marker sides, used to mask the stickies that were read.
    """
    scale = RECTIFIED_WIDTH
    out_w, out_h = RECTIFIED_WIDTH, max(8, round(frame.aspect * scale))
    h, w = img.shape[:2]
    # Warp from a reduced photo: the statistics need no more than a few pixels per millimetre.
    shrink = min(1.0, 2.0 * RECTIFIED_WIDTH / max(1.0, _quad_width(frame.quad)))
    small = img
    if shrink < 0.8:
        small = cv2.resize(
            img, (round(w * shrink), round(h * shrink)), interpolation=cv2.INTER_AREA
        )
    to_small = np.diag([shrink, shrink, 1.0])
    to_small[0, 2] = to_small[1, 2] = 0.5 * shrink - 0.5
    m = np.diag([scale, scale, 1.0]) @ frame.to_board @ np.linalg.inv(to_small)
    inside = cv2.warpPerspective(
        np.full(small.shape[:2], 255, np.uint8), m, (out_w, out_h), flags=cv2.INTER_NEAREST
    )
    rect = cv2.warpPerspective(small, m, (out_w, out_h), flags=cv2.INTER_LINEAR)
    hsv = cv2.cvtColor(rect, cv2.COLOR_BGR2HSV)
    sat, val = hsv[:, :, 1], hsv[:, :, 2]

    mask = np.zeros((out_h, out_w), np.uint8)
    unit = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    for r in reads:
        ex, ey = (
            r.axes if r.axes is not None else (np.array([r.side, 0.0]), np.array([0.0, r.side]))
        )
        # The sticky is square in the marker's frame, turned with it.
        box = (r.centre + offsets * (unit[:, :1] * ex + unit[:, 1:] * ey)) * scale
        cv2.fillConvexPoly(mask, np.round(box).astype(np.int32), 255)

    # The board's own brightness near each cell: the bright end of a wide neighbourhood.
    widths = np.subtract(grid.columns.hi, grid.columns.lo)
    cell_px = max(4, int(scale * float(np.median(widths))))
    # Computed at an eighth of the size: the reference only needs to follow light and shadow.
    small_v = cv2.resize(
        val, (max(1, out_w // 8), max(1, out_h // 8)), interpolation=cv2.INTER_AREA
    )
    k = max(3, (2 * cell_px) // 8 + 1)
    ref = cv2.dilate(small_v, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    ref = cv2.blur(ref, (k, k))
    ref = cv2.resize(ref, (out_w, out_h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    bare_level = float(np.percentile(val[inside > 0], 90)) if np.any(inside) else 255.0
    dark = val.astype(np.float32) < DARK_RATIO * ref
    coloured = sat > SATURATION_MIN
    # Glare: clipped pixels only count when the bare board itself is not clipped.
    glare = (val >= CLIPPED) & (sat < 20) if bare_level < CLIPPED - 5 else np.zeros_like(dark)

    free = (mask == 0) & (inside > 0)
    # Opening drops thin things (tape along the cell edges, slivers of a read sticky's edge).
    kernel = np.ones((5, 5), np.uint8)
    dark = cv2.morphologyEx((dark & free).astype(np.uint8), cv2.MORPH_OPEN, kernel) > 0
    other = cv2.morphologyEx(((coloured | glare) & free).astype(np.uint8), cv2.MORPH_OPEN, kernel)
    other = other > 0
    glare = glare & other
    out: dict[tuple[int, int], str] = {}
    for col in range(len(grid.columns.centres)):
        for row in range(len(grid.rows.centres)):
            x0, y0, x1, y1 = grid.cell_rect(col, row)
            dx, dy = (x1 - x0) * CELL_INSET, (y1 - y0) * CELL_INSET
            a0, a1 = round((x0 + dx) * scale), round((x1 - dx) * scale)
            b0, b1 = round((y0 + dy) * scale), round((y1 - dy) * scale)
            a0, b0 = max(a0, 0), max(b0, 0)
            a1, b1 = min(a1, out_w), min(b1, out_h)
            if a1 - a0 < 2 or b1 - b0 < 2:
                continue
            # Shares of the whole cell interior, so that a cell mostly filled by a read sticky
            # is not judged by the few pixels around it.
            n = float((a1 - a0) * (b1 - b0))
            d = float(dark[b0:b1, a0:a1].sum()) / n
            g = float(glare[b0:b1, a0:a1].sum()) / n
            c = float((other[b0:b1, a0:a1] | dark[b0:b1, a0:a1]).sum()) / n
            if g > COVERED_FRACTION:
                out[(col, row)] = "glare"
            elif d > COVERED_FRACTION:
                out[(col, row)] = "covered"
            elif c > COVERED_FRACTION:
                out[(col, row)] = "covered or unreadable sticky"
    return out


def _quad_width(quad: np.ndarray) -> float:
    return float(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])))
