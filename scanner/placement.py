"""Put each sticky read into its cell, off the grid, or leave it out when its cell is in doubt.

Board coordinates are described in scanner.board; photo coordinates are pixels, origin at the
top-left pixel's centre.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scanner.board import BoardFrame
from scanner.grid import Grid
from scanner.manifest import Manifest
from scanner.results import SeenSticky
from scanner.stickies import Refusal, StickyRead

# A sticky centre closer to a cell boundary than this fraction of the cell's width, or than this
# many marker sides, is not placed: a header card taped 5 mm off its column's middle moves the
# boundary that much, and a sticky straddling a boundary is genuinely in doubt.
BOUNDARY_MARGIN = 0.05
BOUNDARY_MARGIN_SIDES = 0.6


def place_stickies(
    frame: BoardFrame,
    grid: Grid,
    reads: Mapping[str, StickyRead],
    *,
    manifest: Manifest,
    margin: float | None = None,
) -> tuple[list[SeenSticky], list[Refusal]]:
    """Return the stickies placed (in code order) and those left out with the reason.

    `margin`: the share of a cell near its border where a centre is in doubt (ScanParams.
    boundary_margin; BOUNDARY_MARGIN when not given).
    """
    margin = BOUNDARY_MARGIN if margin is None else margin
    entries = {s.code: s for s in manifest.stickies}
    # The marker side of a sticky, for the boundary margin; a QR read has no marker.
    sides = [r.side for r in reads.values() if r.via == "marker"]
    side = float(np.median(sides)) if sides else 0.0
    out = []
    refusals = []
    codes = sorted(reads)
    # Every centre in one mapping: the frame's cost is per call, not per point.
    photo = dict(
        zip(codes, frame.photo([reads[c].centre for c in codes]) if codes else [], strict=True)
    )
    for code in codes:
        r = reads[code]
        where = _cell_of(grid, r, pad=BOUNDARY_MARGIN_SIDES * side + r.uncertain, margin=margin)
        if isinstance(where, str):
            refusals.append(Refusal(code, where, (r.centre,)))
            continue
        room, slot = (None, None)
        if where is not None:
            room, slot = manifest.rooms[where[0]].name, manifest.slots[where[1]].name
        x, y = photo[code]
        out.append(
            SeenSticky(
                code=code,
                kind=entries[code].kind,
                room=room,
                slot=slot,
                x=float(x),
                y=float(y),
                via=r.via,
            )
        )
    return out, refusals


def _cell_of(
    grid: Grid, r: StickyRead, *, pad: float, margin: float
) -> tuple[int, int] | None | str:
    """Return (room index, slot index), None for off the grid, or why the cell is in doubt."""
    cs, ci = grid.columns.locate(r.centre[0], margin=margin, pad=pad)
    rs, ri = grid.rows.locate(r.centre[1], margin=margin, pad=pad)
    if cs == "outside" or rs == "outside":
        return None
    if cs == "in" and rs == "in":
        return grid.room_slot(ci, ri)
    if "unknown" in (cs, rs):
        what = "column" if cs == "unknown" else "row"
        return f"in a {what} whose header card is missing"
    return "too close to a cell boundary"
