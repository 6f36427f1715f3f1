"""Draw a scan result over its photo for a person to check."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from scanner.imageio import load_image
from scanner.results import ScanResult

BOARD = (255, 160, 0)  # BGR: blue-ish outline
GRID = (0, 200, 255)  # amber cell lines
PLACED = (40, 170, 40)  # green: sticky in a cell
OFF_GRID = (200, 90, 200)  # violet: sticky off the grid
HIDDEN = (60, 60, 220)  # red shade: hidden cell
REJECTED = (0, 0, 255)  # red cross: code not in the manifest
UNPLACED = (0, 140, 255)  # orange: sticky seen but not placed
TEXT_BG = (255, 255, 255)


def annotate(image: Any, result: ScanResult) -> np.ndarray:
    """Return a BGR copy of the photo with the board, grid, stickies and hidden cells drawn.

    Hidden cells are shaded red and labelled with the reason; each sticky gets a dot at its
    centre (photo px) with its code and cell (orange "not placed" when it was seen but left
    out); rejected codes get a red cross. Line widths and
    text scale with the photo so that labels stay legible on a 12 MP photo and on a webcam frame.
    """
    out = load_image(image).copy()
    h, w = out.shape[:2]
    unit = max(1.0, max(h, w) / 1600.0)
    thick = max(1, round(2 * unit))
    # Labels as tall as about half a sticky's marker: readable, yet they rarely overlap.
    sides = [_side(c.corners) for c in result.codes if c.text.startswith("marker:") and c.corners]
    marker = float(np.median(sides)) if sides else 30.0 * unit
    font_scale = float(np.clip(marker / 60.0, 0.35, 2.5))
    text_thick = max(1, round(font_scale * 2))
    _draw_cells(out, result, thick, font_scale, text_thick)
    if result.board_quad is not None:
        cv2.polylines(out, [_pts(result.board_quad)], True, BOARD, thick * 2, cv2.LINE_AA)
    for c in result.codes:
        if c.corners and c.text.startswith("marker:"):
            cv2.polylines(out, [_pts(c.corners)], True, BOARD, thick, cv2.LINE_AA)
    for c in result.rejected:
        r = 10 * unit
        p0 = (round(c.x - r), round(c.y - r))
        p1 = (round(c.x + r), round(c.y + r))
        cv2.line(out, p0, p1, REJECTED, thick * 2, cv2.LINE_AA)
        cv2.line(out, (p0[0], p1[1]), (p1[0], p0[1]), REJECTED, thick * 2, cv2.LINE_AA)
    dot = max(3, round(0.25 * marker))
    line = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, font_scale, text_thick)[0][1] * 1.6
    for s in result.stickies:
        colour = PLACED if s.room is not None else OFF_GRID
        where = (
            f"{s.room} {s.slot[11:16] or s.slot}" if s.room is not None and s.slot else "off grid"
        )
        code = s.code if s.via == "marker" else f"{s.code} (QR)"
        _pin(out, (s.x, s.y), (code, where), colour, dot, line, font_scale, text_thick)
    for u in result.unplaced:
        _pin(
            out,
            (u.x, u.y),
            (f"{u.code}?", "not placed"),
            UNPLACED,
            dot,
            line,
            font_scale,
            text_thick,
        )
    _headline(out, _headline_text(result), unit=unit, scale=font_scale * 1.2, thick=text_thick)
    return out


def _draw_cells(out, result: ScanResult, thick: int, font_scale: float, text_thick: int) -> None:
    """Draw the grid's cells, the hidden ones shaded and labelled with the reason."""
    if not result.cells:
        return
    shade = out.copy()
    for cell in result.cells:
        if cell.hidden:
            cv2.fillPoly(shade, [_pts(cell.quad)], HIDDEN)
    cv2.addWeighted(shade, 0.35, out, 0.65, 0, dst=out)
    for cell in result.cells:
        cv2.polylines(out, [_pts(cell.quad)], True, GRID, max(1, thick // 2), cv2.LINE_AA)
    for cell in result.cells:
        if cell.hidden:
            x, y = np.mean(cell.quad, axis=0)
            _label(out, cell.reason, (x, y), HIDDEN, font_scale * 0.8, text_thick, centre=True)


def _pin(out, at, words, colour, dot: int, line: float, font_scale: float, text_thick: int):
    """Draw a dot at a sticky's centre with its two lines of words below it."""
    x, y = at
    centre = (round(x), round(y))
    cv2.circle(out, centre, dot, colour, -1, cv2.LINE_AA)
    cv2.circle(out, centre, dot, (255, 255, 255), max(1, dot // 4), cv2.LINE_AA)
    below = y + dot + line
    _label(out, words[0], (x, below), colour, font_scale, text_thick, centre=True)
    _label(out, words[1], (x, below + line), colour, font_scale * 0.85, text_thick, centre=True)


def _headline_text(result: ScanResult) -> str:
    """Return e.g. "board found: 1 sticky, 3 hidden cells"."""
    status = "board found" if result.board_found else "BOARD NOT FOUND"
    stickies, hidden = len(result.stickies), len(result.hidden_cells)
    return (
        f"{status}: {stickies} {'sticky' if stickies == 1 else 'stickies'}, "
        f"{hidden} hidden {'cell' if hidden == 1 else 'cells'}"
    )


def _headline(img, text: str, *, unit: float, scale: float, thick: int) -> None:
    """Draw the headline in the photo's top-left corner, whole: shrunk to fit the photo's width.

    Its box starts ``10 * unit`` px from the top and left edges (photo px, origin top-left).
    """
    font = cv2.FONT_HERSHEY_SIMPLEX
    margin = round(10 * unit)
    room = img.shape[1] - 2 * margin - 4
    (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
    while tw > room and scale > 0.3:
        scale = max(0.3, scale * room / tw * 0.98)
        thick = max(1, min(thick, round(scale * 2)))
        (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
    # _label puts the baseline at y and its box 3 px above the letters: the box's top is the margin.
    _label(img, text, (margin + 2, margin + th + 3), (0, 0, 0), scale, thick)


def _side(corners) -> float:
    q = np.asarray(corners, dtype=np.float64)
    return float(np.linalg.norm(np.roll(q, -1, axis=0) - q, axis=1).mean())


def _pts(quad) -> np.ndarray:
    return np.round(np.asarray(quad, dtype=np.float64)).astype(np.int32).reshape(-1, 1, 2)


def _label(img, text, org, colour, scale, thick, *, centre: bool = False) -> None:
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    x, y = org
    if centre:
        x, y = x - tw / 2, y + th / 2
    x, y = round(x), round(y)
    # A white box behind the text keeps it legible over stickies and busy walls.
    cv2.rectangle(img, (x - 2, y - th - 3), (x + tw + 2, y + base + 1), TEXT_BG, -1)
    cv2.putText(img, text, (x, y), font, scale, colour, thick, cv2.LINE_AA)
