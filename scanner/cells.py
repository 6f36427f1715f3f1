"""Say for every cell of the grid whether the photo shows it, and if not, why.

Board coordinates are described in scanner.board; cell outlines come back in photo pixels,
origin at the top-left pixel's centre.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from scanner.board import BoardFrame
from scanner.grid import SEEN, UNKNOWN, Grid
from scanner.manifest import Manifest
from scanner.occlusion import BoardCopies, occluded_cells
from scanner.params import DEFAULT_PARAMS, ScanParams
from scanner.results import Cell
from scanner.stickies import Refusal, StickyRead


def cell_states(
    img: np.ndarray,
    frame: BoardFrame,
    grid: Grid,
    reads: Mapping[str, StickyRead],
    refusals: Sequence[Refusal],
    *,
    manifest: Manifest,
    notes: Sequence[np.ndarray] = (),
    params: ScanParams = DEFAULT_PARAMS,
    copies: BoardCopies | None = None,
) -> list[Cell]:
    """Return every cell (rooms, then slots within a room) with its outline and visibility.

    A cell is hidden when it is partly outside the photo, when a header of its row or column is
    missing, when a sticky seen but not placed may reach into it, or when it looks covered.
    `notes` are the outlines (board coordinates) of plain notes found: their paper does not
    cover a cell, while a person in front of one still does. `copies` keeps the board's
    rectified copy between the judgements of one scan (`occlusion.BoardCopies`).
    """
    h, w = img.shape[:2]
    reach = sticky_reach(manifest)
    covered = occluded_cells(
        img,
        frame,
        grid,
        reads=list(reads.values()),
        offsets=reach,
        papers=notes,
        params=params,
        copies=copies,
    )
    side = float(np.median([r.side for r in reads.values()])) if reads else 0.02
    near = _near_refused(grid, refusals, reach * side)
    places = [
        (room, slot, *grid.col_row(ri, si))
        for ri, room in enumerate(manifest.rooms)
        for si, slot in enumerate(manifest.slots)
    ]
    corners = []
    for _, _, col, row in places:
        x0, y0, x1, y1 = grid.cell_rect(col, row)
        corners += [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    # Every cell's outline in one mapping: the frame's cost is per call, not per point.
    quads = frame.photo(corners).reshape(-1, 4, 2) if corners else np.zeros((0, 4, 2))
    beyond = (quads < -0.5).any(axis=(1, 2)) | (quads > (w - 0.5, h - 0.5)).any(axis=(1, 2))
    cells = []
    for (room, slot, col, row), quad, out in zip(
        places, quads.tolist(), beyond.tolist(), strict=True
    ):
        reason = ""
        if out:
            reason = "outside the photo"
        elif grid.columns.status[col] != SEEN or grid.rows.status[row] != SEEN:
            unknown = UNKNOWN in (grid.columns.status[col], grid.rows.status[row])
            reason = "no header card" if unknown else "header card interpolated"
        elif (col, row) in near:
            reason = f"sticky {near[(col, row)]} not placed"
        elif (col, row) in covered:
            reason = covered[(col, row)]
        cells.append(
            Cell(
                room=room.name,
                slot=slot.name,
                quad=tuple((a, b) for a, b in quad),
                hidden=bool(reason),
                reason=reason,
            )
        )
    return cells


def _near_refused(
    grid: Grid, refusals: Sequence[Refusal], reach: float
) -> dict[tuple[int, int], str]:
    """Return {(column, row): code} of cells that a sticky seen but not placed may reach into.

    None of them is known to be empty.
    """
    near: dict[tuple[int, int], str] = {}
    for refusal in refusals:
        for p in refusal.points:
            for col in range(len(grid.columns.centres)):
                for row in range(len(grid.rows.centres)):
                    x0, y0, x1, y1 = grid.cell_rect(col, row)
                    if x0 - reach <= p[0] <= x1 + reach and y0 - reach <= p[1] <= y1 + reach:
                        near.setdefault((col, row), refusal.code)
    return near


def sticky_reach(manifest: Manifest) -> float:
    """Return the half-size of the largest sticky, in marker sides, from the offsets."""
    offs = [max(abs(a), abs(b)) for a, b in (s.marker_offset for s in manifest.stickies)]
    # The marker's half side plus its one-cell quiet zone lie beyond the offset.
    return (max(offs) if offs else 1.0) + 0.5 + 1.0 / 6.0 + 0.2
