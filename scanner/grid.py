"""Build the cell grid from the header cards, in board coordinates (see scanner.board).

Columns run across the board (along x) and rows down it (along y). Rooms are the columns and
slots the rows, unless the board is transposed. A header card's marker centre marks the middle of
its column or row; the boundary between two neighbours lies halfway between their headers, so
uneven, hand-taped columns work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEEN = "seen"
INTERPOLATED = "interpolated"  # header missing, centre taken halfway between seen neighbours
UNKNOWN = "unknown"  # header missing at an end, or too few headers: never place a sticky here
INTERP_DOUBT = 0.08
OUTER_DOUBT = 0.25


@dataclass(frozen=True)
class Axis:
    """Hold one axis of the grid: per column (or row) its centre, bounds and status."""

    centres: tuple[float, ...]
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    status: tuple[str, ...]

    def locate(self, t: float, *, margin: float, pad: float = 0.0) -> tuple[str, int]:
        """Return ("in", i), ("outside", -1), ("doubt", i) or ("unknown", i) for coordinate t.

        "unknown" is a column whose header card is missing at the grid's end.

        `margin` is a fraction of the column's width and `pad` a distance (board units); a centre
        closer to a boundary than the larger of the two is in doubt, so that no sticky is ever
        given a neighbour's cell.
        """
        n = len(self.centres)
        first_w = self.hi[0] - self.lo[0]
        last_w = self.hi[-1] - self.lo[-1]
        # The grid's outer edges are half a spacing out from the end headers, a guess when the end
        # columns are uneven: off the grid means a quarter column beyond that. Beyond an unknown
        # end column the edge itself is unknown: there is no outside.
        before = max(margin * first_w, pad) + OUTER_DOUBT * first_w
        after = max(margin * last_w, pad) + OUTER_DOUBT * last_w
        if t < self.lo[0] - before:
            return ("unknown", 0) if self.status[0] == UNKNOWN else ("outside", -1)
        if t > self.hi[-1] + after:
            return ("unknown", n - 1) if self.status[-1] == UNKNOWN else ("outside", -1)
        for i in range(n):
            if self.lo[i] <= t < self.hi[i]:
                w = self.hi[i] - self.lo[i]
                if self.status[i] == UNKNOWN:
                    return "unknown", i
                near = max(margin * w, pad)
                # A boundary next to an interpolated column moves with the unevenness of the
                # columns around it (by an eighth of their difference): keep 8 % of its width more.
                left = near + (INTERP_DOUBT * w if self._interpolated(i - 1, i) else 0.0)
                right = near + (INTERP_DOUBT * w if self._interpolated(i, i + 1) else 0.0)
                if t - self.lo[i] < left or self.hi[i] - t < right:
                    return "doubt", i
                return "in", i
        # Just beyond the grid's edge: in doubt, or unknown next to an unknown end column.
        end = 0 if t < self.lo[0] else n - 1
        return ("unknown", end) if self.status[end] == UNKNOWN else ("doubt", -1)

    def _interpolated(self, a: int, b: int) -> bool:
        n = len(self.status)
        return any(0 <= k < n and self.status[k] == INTERPOLATED for k in (a, b))


@dataclass(frozen=True)
class Grid:
    """Hold the grid: columns along board x, rows along board y, and which is rooms."""

    columns: Axis
    rows: Axis
    transposed: bool  # True: rooms are rows (down the left), slots are columns

    def cell_rect(self, col: int, row: int) -> tuple[float, float, float, float]:
        """Return the cell's (x0, y0, x1, y1) in board coordinates."""
        return (self.columns.lo[col], self.rows.lo[row], self.columns.hi[col], self.rows.hi[row])

    def room_slot(self, col: int, row: int) -> tuple[int, int]:
        """Return (room index, slot index) of a cell given by column and row."""
        return (row, col) if self.transposed else (col, row)

    def col_row(self, room: int, slot: int) -> tuple[int, int]:
        """Return (column, row) of the cell of a room and slot index."""
        return (slot, room) if self.transposed else (room, slot)


def detect_transposed(rooms: dict[int, np.ndarray], slots: dict[int, np.ndarray]) -> bool:
    """Return True when the room cards run down the board and the slot cards across it.

    Room cards across the top spread along x at one height; slot cards down the left spread along
    y. With a single card in each group, the room card sits right of and above the slot card.
    """
    score = 0.0
    for pts, sign in ((rooms, 1.0), (slots, -1.0)):
        if len(pts) >= 2:
            p = np.array(list(pts.values()))
            score += sign * (np.ptp(p[:, 0]) - np.ptp(p[:, 1]))
    if score == 0.0 and rooms and slots:
        r = np.mean(list(rooms.values()), axis=0)
        s = np.mean(list(slots.values()), axis=0)
        score = (r[0] - s[0]) - (r[1] - s[1])
    return bool(score < 0.0)


def build_grid(
    *,
    rooms: dict[int, np.ndarray],
    slots: dict[int, np.ndarray],
    n_rooms: int,
    n_slots: int,
) -> tuple[Grid, list[str]]:
    """Build the grid from header centres (board coordinates), keyed by room or slot index.

    Returns the grid and warnings about header cards that were missing or out of order.
    """
    transposed = detect_transposed(rooms, slots)
    col_pts, row_pts = (slots, rooms) if transposed else (rooms, slots)
    n_cols, n_rows = (n_slots, n_rooms) if transposed else (n_rooms, n_slots)
    warnings: list[str] = []
    col_t = {i: float(p[0]) for i, p in col_pts.items()}
    row_t = {i: float(p[1]) for i, p in row_pts.items()}
    col_t, w1 = _in_order(col_t)
    row_t, w2 = _in_order(row_t)
    warnings += [f"{'slot' if transposed else 'room'} card {i + 1} is out of order" for i in w1]
    warnings += [f"{'room' if transposed else 'slot'} card {i + 1} is out of order" for i in w2]
    # The header line of the other group lies one column (row) before the first one.
    row_line = float(np.median([p[0] for p in row_pts.values()])) if row_pts else None
    col_line = float(np.median([p[1] for p in col_pts.values()])) if col_pts else None
    columns = _axis(col_t, n_cols, row_line)
    rows = _axis(row_t, n_rows, col_line)
    return Grid(columns=columns, rows=rows, transposed=transposed), warnings


def _in_order(t: dict[int, float]) -> tuple[dict[int, float], list[int]]:
    """Keep the longest run of headers whose positions grow with their manifest order."""
    idx = sorted(t)
    if len(idx) < 2:
        return t, []
    vals = [t[i] for i in idx]
    n = len(idx)
    best = [1] * n
    prev = [-1] * n
    for a in range(n):
        for b in range(a):
            if vals[b] < vals[a] and best[b] + 1 > best[a]:
                best[a], prev[a] = best[b] + 1, b
    k = int(np.argmax(best))
    keep = set()
    while k >= 0:
        keep.add(idx[k])
        k = prev[k]
    return {i: t[i] for i in idx if i in keep}, [i for i in idx if i not in keep]


def _axis(seen: dict[int, float], n: int, other_line: float | None) -> Axis:
    centres, status = _centres(seen, n, other_line)
    lo, hi = _bounds(centres, other_line)
    return Axis(centres=tuple(centres), lo=tuple(lo), hi=tuple(hi), status=tuple(status))


def _centres(
    seen: dict[int, float], n: int, other_line: float | None
) -> tuple[list[float], list[str]]:
    """Return each column's (or row's) centre and how it is known, from the headers seen."""
    centres = [0.0] * n
    status = [UNKNOWN] * n
    idx = sorted(seen)
    if len(idx) >= 2:
        for i in range(n):
            if i in seen:
                centres[i], status[i] = seen[i], SEEN
                continue
            lower = [k for k in idx if k < i]
            upper = [k for k in idx if k > i]
            if lower and upper:
                a, b = lower[-1], upper[0]
                centres[i] = seen[a] + (seen[b] - seen[a]) * (i - a) / (b - a)
                status[i] = INTERPOLATED
            else:
                a, b = (idx[-2], idx[-1]) if lower else (idx[0], idx[1])
                centres[i] = seen[a] + (seen[b] - seen[a]) * (i - a) / (b - a)
    elif len(idx) == 1 and n == 1 and other_line is not None:
        # The only column: it reaches from halfway to the other group's header line out as far
        # again on its other side.
        centres[0], status[0] = seen[idx[0]], SEEN
    elif len(idx) == 1:
        # One header of several: the spacing is unknown, so is every column, the seen one too.
        k = idx[0]
        step = abs(seen[k] - other_line) if other_line is not None else 1.0
        for i in range(n):
            centres[i] = seen[k] + (i - k) * max(step, 1e-6)
    else:
        # No header at all: a unit spacing keeps the geometry finite; everything is unknown.
        centres = [float(i) for i in range(n)]
    return centres, status


def _bounds(centres: list[float], other_line: float | None) -> tuple[list[float], list[float]]:
    """Return each column's edges: halfway to its neighbours, as wide again at the ends."""
    n = len(centres)
    if n == 1:
        half = abs(centres[0] - other_line) / 2 if other_line is not None else 0.0
        return [centres[0] - half], [centres[0] + half]
    lo = [
        (centres[i - 1] + centres[i]) / 2 if i > 0 else centres[0] - (centres[1] - centres[0]) / 2
        for i in range(n)
    ]
    hi = [
        (centres[i] + centres[i + 1]) / 2
        if i < n - 1
        else centres[-1] + (centres[-1] - centres[-2]) / 2
        for i in range(n)
    ]
    return lo, hi
