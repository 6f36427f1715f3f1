"""Look again, on a rectified close-up, at cells that hold something no code was read from.

A marker far from the camera or seen at a slant is small and squashed in the photo; warped
square to the board at about 48 px per marker it often reads. Marker corners come back in photo
pixels, origin at the top-left pixel's centre.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from scanner import markers
from scanner.board import BoardFrame
from scanner.grid import Grid
from scanner.manifest import Manifest
from scanner.occlusion import UNREAD
from scanner.params import DEFAULT_PARAMS, ScanParams
from scanner.results import Cell
from scanner.roles import Roles

# Cells looked at again per photo: ScanParams.closeup_cells (about 40 ms on a 2-core machine).


def read_cells_again(
    gray: np.ndarray,
    frame: BoardFrame,
    grid: Grid,
    cells: Sequence[Cell],
    *,
    found: Sequence[markers.Marker],
    sticky_side: float,
    manifest: Manifest,
    roles: Roles,
    params: ScanParams = DEFAULT_PARAMS,
) -> list[markers.Marker]:
    """Return sticky markers, not among `found`, read on close-ups of the unreadable cells.

    `sticky_side` is the sticky marker side in board units; nothing is read without it.
    """
    if sticky_side <= 0:
        return []
    targets = [c for c in cells if c.reason == UNREAD]
    have = {m.id for m in found}
    size = params.closeup_px_per_marker
    ppu = size / sticky_side  # output pixels per board unit
    out: list[markers.Marker] = []
    rooms = {r.name: i for i, r in enumerate(manifest.rooms)}
    slots = {s.name: i for i, s in enumerate(manifest.slots)}
    for cell in targets[: params.closeup_cells]:
        col, row = grid.col_row(rooms[cell.room], slots[cell.slot])
        ids = sorted(
            i for i, (kind, _) in roles.by_marker.items() if kind == "sticky" and i not in have
        )
        for g in _read_cell(gray, frame, grid.cell_rect(col, row), ppu, size, manifest, ids):
            if g.id in have or not roles.is_sticky_marker(g.id):
                continue
            out.append(g)
            have.add(g.id)
    return out


def _read_cell(
    gray: np.ndarray,
    frame: BoardFrame,
    rect: tuple[float, float, float, float],
    ppu: float,
    size: float,
    manifest: Manifest,
    ids: list[int],
) -> list[markers.Marker]:
    """Return the markers read on a close-up of one cell (a little beyond it), in photo px.

    Marker-sized quads the detector could not decode are tried against `ids` (the event's
    sticky markers not read yet); `size` is a marker's side in the close-up, px.
    """
    x0, y0, x1, y1 = rect
    mx, my = 0.15 * (x1 - x0), 0.15 * (y1 - y0)
    x0, y0, x1, y1 = x0 - mx, y0 - my, x1 + mx, y1 + my
    w, h = round((x1 - x0) * ppu), round((y1 - y0) * ppu)
    if not 16 <= w <= 900 or not 16 <= h <= 900:
        return []
    to_out = np.array([[ppu, 0, -x0 * ppu], [0, ppu, -y0 * ppu], [0, 0, 1.0]])
    close = frame.warp(gray, to_out, (w, h), flags=cv2.INTER_CUBIC)
    got, quads = markers.detect(
        close, dictionary=manifest.marker_dictionary, retries=0, thorough=True
    )
    quads = [q for q in quads if 0.6 * size <= markers.quad_side(q) <= 1.5 * size]
    got += markers.decode_quads(close, quads, ids=ids, dictionary=manifest.marker_dictionary)
    back = np.linalg.inv(to_out)
    out = []
    for g in got:
        b = back[:2, :2] @ g.corners.astype(np.float64).T + back[:2, 2:3]
        pts = frame.photo(b.T)
        out.append(markers.Marker(id=g.id, corners=pts.astype(np.float32)))
    return out
