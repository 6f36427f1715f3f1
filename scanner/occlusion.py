"""Find grid cells that the photo does not show: people in front, glare, unreadable stickies.

Works on a small rectified copy of the board (board coordinates scaled to pixels). A cell's
interior, minus the stickies that were read, should be bare board: light and unsaturated. Dark,
coloured or blown-out pixels there mean the cell is covered or holds something that could not be
read, so the cell is reported hidden and no sticky in it is taken for gone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from scanner.board import BoardFrame
from scanner.grid import Grid
from scanner.imageio import halved
from scanner.params import DEFAULT_PARAMS, ScanParams

RECTIFIED_WIDTH = 480  # pixels across the board, at least
MIN_MARKER_PX = 7.0  # a sticky marker's side in the rectified copy, at least
MAX_RECTIFIED_WIDTH = 960
CELL_INSET = 0.1  # fraction of a cell kept clear of its edges (tape, neighbours' overhang)
# The grid's far edges are a guess, half a spacing beyond the last header: unexplained detail this
# share of the end cell beyond them still counts for it (a sticky reaching past the guess).
FAR_EDGE_DOUBT = 0.12
DETAIL_FRACTION = 0.01  # share of a cell's interior in unexplained dark detail (a code)
DETAIL_MARKER_SHARE = 0.25  # or this share of a sticky marker's area, if less
SATURATION_MIN = 45  # HSV saturation (0..255) above which a pixel is not bare board
DARK_RATIO = 0.6  # a pixel darker than this share of the nearby board brightness is covered
CLIPPED = 250
UNREAD = "unreadable sticky or covered"
# For each board brightness (0..255), the grey levels below it that count as dark: a level v is
# dark when v < DARK_RATIO * brightness, that is when v < ceil(DARK_RATIO * brightness).
_DARK_BELOW = np.ceil(DARK_RATIO * np.arange(256, dtype=np.float32)).astype(np.uint8)
PAPER_GROWTH = 0.12  # a known paper's outline is masked this much larger, around its centre


def occluded_cells(
    img: np.ndarray,
    frame: BoardFrame,
    grid: Grid,
    *,
    reads: Sequence,
    offsets: float,
    papers: Sequence[np.ndarray] = (),
    params: ScanParams = DEFAULT_PARAMS,
    copies: BoardCopies | None = None,
) -> dict[tuple[int, int], str]:
    """Return {(column, row): reason} for cells that look covered.

    `reads` are the sticky readings (board-coordinate centre and marker side); `offsets` is a
    sticky's half-size in marker sides, used to mask the stickies that were read. `papers` are
    outlines (board coordinates) of paper known for what it is, such as plain notes: masked as
    the stickies read are, so only darkness there (a person in front) still hides. A cell whose
    interior is more than `params.covered_fraction` coloured or glare, or whose whole is more
    than `params.dark_fraction` dark, is covered. `copies` keeps the board's rectified copy for
    the scan's next judgement of the same frame and grid.
    """
    # A sticky's marker must stay a few pixels across to show as dark detail: wide boards get a
    # wider copy.
    sides = [r.side for r in reads]
    scale = RECTIFIED_WIDTH
    if sides:
        scale = min(MAX_RECTIFIED_WIDTH, max(scale, round(MIN_MARKER_PX / float(np.median(sides)))))
    copy = (copies or BoardCopies()).of(img, frame, grid, scale)
    out_h, out_w = copy.val.shape
    sat, val, inside, dark = copy.sat, copy.val, copy.inside, copy.dark

    mask = _read_stickies(reads, offsets, scale, (out_h, out_w))
    _mask_papers(mask, papers, scale)
    # The bare board's typical brightness: glare can only be told from board below clipping.
    bare = (inside > 0) & (mask == 0)
    bare_level = _median_level(val, bare)
    coloured = sat > SATURATION_MIN
    # Glare: clipped pixels only count when the bare board itself is not clipped.
    glare = (val >= CLIPPED) & (sat < 20) if bare_level < CLIPPED - 5 else np.zeros_like(dark)

    free = (mask == 0) & (inside > 0)
    # Opening drops thin things (tape along the cell edges, slivers of a read sticky's edge).
    kernel = np.ones((5, 5), np.uint8)
    other = cv2.morphologyEx(((coloured | glare) & free).astype(np.uint8), cv2.MORPH_OPEN, kernel)
    other = other > 0
    glare = glare & other
    # People are large dark shapes and may stand in front of a sticky that was read, so darkness
    # counts everywhere; an opening wider than a whole marker keeps codes and text out.
    side = float(np.median([r.side for r in reads])) * scale if reads else 8.0
    k = max(5, int(1.3 * side) | 1)
    # Dark detail outside the stickies that were read (a code, a printed label) means a sticky
    # that could not be read, even on white paper.
    detail = cv2.morphologyEx(
        (dark & free).astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)
    )
    dark = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    dark = (dark > 0) & (inside > 0)
    dark, glare, other, detail = (_Sums(m) for m in (dark, glare, other, detail))
    out: dict[tuple[int, int], str] = {}
    for col in range(len(grid.columns.centres)):
        for row in range(len(grid.rows.centres)):
            x0, y0, x1, y1 = grid.cell_rect(col, row)
            full = _clip(x0 * scale, y0 * scale, x1 * scale, y1 * scale, out_w, out_h)
            dx, dy = (x1 - x0) * CELL_INSET, (y1 - y0) * CELL_INSET
            inner = _clip(
                (x0 + dx) * scale,
                (y0 + dy) * scale,
                (x1 - dx) * scale,
                (y1 - dy) * scale,
                out_w,
                out_h,
            )
            if full is None or inner is None:
                continue
            a0, b0, a1, b1 = full
            d = dark.share(full)
            # Shares of the whole cell interior, so that a cell mostly filled by a read sticky
            # is not judged by the few pixels around it.
            g = glare.share(inner)
            c = other.share(inner)
            # The grid's far edges are a guess (half a spacing beyond the last header): a
            # sticky there may reach past them, up to where the grid ends for certain.
            last_col = col == len(grid.columns.centres) - 1
            last_row = row == len(grid.rows.centres) - 1
            near_edge = _clip(
                (x0 + dx) * scale,
                (y0 + dy) * scale,
                (x1 + (FAR_EDGE_DOUBT * (x1 - x0) if last_col else -dx)) * scale,
                (y1 + (FAR_EDGE_DOUBT * (y1 - y0) if last_row else -dy)) * scale,
                out_w,
                out_h,
            )
            box = near_edge or inner
            t = detail.share(box)
            # Or a quarter of a marker's area, whichever is less: on a wide board a cell is many
            # markers large, and one unread marker is all that may show of a sticky.
            area = (box[2] - box[0]) * (box[3] - box[1])
            detail_limit = min(DETAIL_FRACTION, DETAIL_MARKER_SHARE * side * side / max(area, 1))
            if g > params.covered_fraction:
                out[(col, row)] = "glare"
            elif d > params.dark_fraction:
                out[(col, row)] = "covered"
            elif c > params.covered_fraction or t > detail_limit:
                out[(col, row)] = UNREAD
    return out


@dataclass(frozen=True)
class _Copy:
    """Hold the rectified copy of the board that cells are judged on, and what follows from it
    alone: saturation and value, the pixels the photo shows, and those dark against the board.
    """

    scale: int
    sat: np.ndarray
    val: np.ndarray
    inside: np.ndarray
    dark: np.ndarray


class BoardCopies:
    """Keep the rectified copies made during one scan, so that judging the cells again with
    more stickies read (the second look) does not rectify the same board again."""

    def __init__(self) -> None:
        self._kept: list[tuple[np.ndarray, BoardFrame, Grid, _Copy]] = []

    def of(self, img: np.ndarray, frame: BoardFrame, grid: Grid, scale: int) -> _Copy:
        """Return the copy of this photo, frame and grid at `scale`: the one kept, or a new one."""
        for i, f, g, copy in self._kept:
            if i is img and f is frame and g is grid and copy.scale == scale:
                return copy
        copy = _board_copy(img, frame, grid, scale)
        self._kept.append((img, frame, grid, copy))
        return copy


def _board_copy(img: np.ndarray, frame: BoardFrame, grid: Grid, scale: int) -> _Copy:
    """Return the board rectified to `scale` pixels per board unit, and its dark pixels."""
    out_w, out_h = scale, max(8, round(frame.aspect * scale))
    h, w = img.shape[:2]
    # Warp from a halved photo: the statistics need no more than a few pixels per millimetre,
    # and the board keeps two to four photo pixels per output pixel.
    want = 2.0 * scale / max(1.0, _quad_width(frame.quad))
    small, shrink = halved(img, math.ceil(2.0 * want * max(h, w)))
    # Output pixels from board coordinates, and the reduced photo's pixels from the photo's.
    to_out = np.diag([scale, scale, 1.0])
    small_frame = _scaled(frame, shrink)
    inside = _inside(small_frame, small.shape[:2], scale, (out_w, out_h))
    rect = small_frame.warp(small, to_out, (out_w, out_h), flags=cv2.INTER_LINEAR)
    sat, val = _saturation_value(rect)
    # The board's own brightness near each cell: the bright end of a wide neighbourhood.
    widths = np.subtract(grid.columns.hi, grid.columns.lo)
    cell_px = max(4, int(scale * float(np.median(widths))))
    # The board's own brightness around each cell: the median over about four cells, so that a
    # glare spot does not raise it and a person (about one and a half cells wide) does not lower
    # it, while a soft shadow, many cells wide, lowers it with the board. An eighth of the size
    # is enough for light that varies this slowly.
    small_v = cv2.resize(
        val, (max(1, out_w // 8), max(1, out_h // 8)), interpolation=cv2.INTER_AREA
    )
    k = max(3, (4 * cell_px) // 8 | 1)
    ref = cv2.medianBlur(small_v, min(k, 255))
    ref = cv2.resize(ref, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    # Darker than DARK_RATIO of the board's brightness, looked up per brightness level.
    dark = val < cv2.LUT(ref, _DARK_BELOW)
    return _Copy(scale, sat, val, inside, dark)


def _read_stickies(reads: Sequence, offsets: float, scale: float, shape) -> np.ndarray:
    """Return the rectified copy's mask (255) of the stickies that were read."""
    mask = np.zeros(shape, np.uint8)
    if not reads:
        return mask
    level = np.array([[r.side, 0.0, 0.0, r.side] for r in reads])
    axes = np.array(
        [np.concatenate(r.axes) if r.axes is not None else level[k] for k, r in enumerate(reads)]
    )  # K x 4: the marker's x edge, then its y edge
    centres = np.array([r.centre for r in reads], dtype=np.float64)
    unit = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    # The sticky is square in the marker's frame, turned with it: K x 4 corners.
    boxes = centres[:, None, :] + offsets * (
        unit[None, :, :1] * axes[:, None, 0:2] + unit[None, :, 1:] * axes[:, None, 2:4]
    )
    for box in np.round(boxes * scale).astype(np.int32):
        cv2.fillConvexPoly(mask, box, 255)
    return mask


def _median_level(val: np.ndarray, where: np.ndarray) -> float:
    """Return the median of `val` (uint8) where `where` holds, as np.median gives it; 255 for none.

    Counted in a histogram: no copy of the selected pixels, no sort.
    """
    counts = cv2.calcHist([val], [0], where.astype(np.uint8), [256], [0, 256]).ravel()
    total = int(counts.sum())
    if not total:
        return 255.0
    cumulative = np.cumsum(counts)
    lo = int(np.searchsorted(cumulative, (total - 1) // 2 + 1))
    hi = int(np.searchsorted(cumulative, total // 2 + 1))
    return (lo + hi) / 2


def _mask_papers(mask: np.ndarray, papers: Sequence[np.ndarray], scale: float) -> None:
    """Mark (255) in the rectified copy's mask each paper outline, grown by PAPER_GROWTH."""
    for paper in papers:
        q = np.asarray(paper, np.float64).reshape(-1, 2)
        if len(q) < 3 or not np.all(np.isfinite(q)):
            continue
        centre = q.mean(axis=0)
        # A found outline may lie a few millimetres inside the paper's edge (its shadow, the
        # reduced copy it was found on): the sliver left would read as coloured.
        grown = (centre + (q - centre) * (1.0 + PAPER_GROWTH)) * scale
        cv2.fillPoly(mask, [np.round(grown * 16).astype(np.int32)], 255, shift=4)


def _inside(
    frame: BoardFrame, photo_shape: tuple[int, int], scale: float, size: tuple[int, int]
) -> np.ndarray:
    """Return the rectified copy's mask (255) of the pixels that the photo shows.

    The photo's outline, sampled densely along its edges (the lens may bend them), is mapped
    to the copy and filled: a polygon costs far less than warping a whole white photo.
    """
    h, w = photo_shape
    t = np.linspace(0.0, 1.0, 65)[:-1]
    x0, y0, x1, y1 = -0.5, -0.5, w - 0.5, h - 0.5
    edges = [
        np.column_stack([x0 + t * (x1 - x0), np.full_like(t, y0)]),
        np.column_stack([np.full_like(t, x1), y0 + t * (y1 - y0)]),
        np.column_stack([x1 - t * (x1 - x0), np.full_like(t, y1)]),
        np.column_stack([np.full_like(t, x0), y1 - t * (y1 - y0)]),
    ]
    outline = frame.board(np.vstack(edges)) * scale
    mask = np.zeros((size[1], size[0]), np.uint8)
    if np.all(np.isfinite(outline)):
        cv2.fillPoly(mask, [np.round(outline * 16).astype(np.int32)], 255, shift=4)
    return mask


class _Sums:
    """Answer the share of set pixels in boxes of a mask (boolean, or 0 and 1 in uint8).

    The pixels of a box are counted where they lie: a board has a few dozen cells, and counting
    them costs less than an integral image of the whole copy, which would be written for it.
    """

    def __init__(self, mask: np.ndarray) -> None:
        self._mask = mask.view(np.uint8) if mask.dtype == bool else mask

    def share(self, box: tuple[int, int, int, int]) -> float:
        """Return the share of set pixels in box (a0, b0, a1, b1): columns a0..a1, rows b0..b1."""
        a0, b0, a1, b1 = box
        return cv2.countNonZero(self._mask[b0:b1, a0:a1]) / ((a1 - a0) * (b1 - b0))


def _saturation_value(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return HSV saturation and value (0..255) of a BGR image, as cv2.COLOR_BGR2HSV gives them
    (saturation within one level: rounding).

    Value is the largest channel and saturation 255 * (value - smallest) / value; two channel
    extremes and one division cost a fraction of the full conversion, whose hue is not used.
    """
    b, g, r = cv2.split(bgr)
    val = cv2.max(cv2.max(b, g), r)
    low = cv2.min(cv2.min(b, g), r)
    sat = cv2.divide(cv2.subtract(val, low), val, scale=255.0)
    return sat, val


def _clip(a0, b0, a1, b1, w, h):
    a0, b0 = max(round(a0), 0), max(round(b0), 0)
    a1, b1 = min(round(a1), w), min(round(b1), h)
    if a1 - a0 < 2 or b1 - b0 < 2:
        return None
    return a0, b0, a1, b1


def _scaled(frame: BoardFrame, f: float) -> BoardFrame:
    """Return the frame for the photo resized by f (pixel centres kept)."""
    if f == 1.0:
        return frame
    s = np.array([[f, 0, 0.5 * f - 0.5], [0, f, 0.5 * f - 0.5], [0, 0, 1.0]])
    lens = frame.lens
    lens = type(lens)(lens.k, s[0, 0] * lens.cx + s[0, 2], s[1, 1] * lens.cy + s[1, 2], lens.r0 * f)
    return BoardFrame(
        to_board=frame.to_board @ np.linalg.inv(s),
        to_photo=s @ frame.to_photo,
        aspect=frame.aspect,
        quad=_apply_h(s, frame.quad),
        lens=lens,
    )


def _apply_h(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    q = np.hstack([pts, np.ones((len(pts), 1))]) @ h.T
    return q[:, :2] / q[:, 2:3]


def _quad_width(quad: np.ndarray) -> float:
    return float(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])))
