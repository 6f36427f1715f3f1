"""Plain result values of a scan; photo coordinates are pixels, origin top-left, x right, y down."""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.timing import StageTime, timings_dict

Point = tuple[float, float]


@dataclass(frozen=True)
class DecodedCode:
    """Describe one code read from a photo.

    `text` is the QR payload, or `marker:<dictionary>:<id>` for an ArUco marker. `x`, `y` is the
    code's centre in photo pixels (origin top-left, at pixel centres). `corners` are the code's
    corners in photo pixels, in the code's own order (top-left, top-right, bottom-right,
    bottom-left of the symbol), when the decoder reports them.
    """

    text: str
    via: str
    x: float
    y: float
    corners: tuple[Point, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict:
        return {"text": self.text, "via": self.via, "x": _r(self.x), "y": _r(self.y)}


@dataclass(frozen=True)
class SeenSticky:
    """Describe a sticky found on the wall.

    `room`/`slot` are None for a sticky off the grid. `x`, `y` is the sticky's centre in photo
    pixels. `via` is "marker" when the centre comes from the sticky's marker (its QR, when also
    read, agreed), "qr" when only its QR code was read.
    """

    code: str
    kind: str
    room: str | None
    slot: str | None
    x: float
    y: float
    via: str

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "room": self.room,
            "slot": self.slot,
            "x": _r(self.x),
            "y": _r(self.y),
            "via": self.via,
        }


@dataclass(frozen=True)
class SeenNote:
    """Describe a plain note (paper without a code of ours) found on the wall.

    `quad` holds the note's corners in photo pixels (origin top-left), clockwise from its top-left:
    the corner that is top-left once the note is turned upright by the smallest rotation. `x`, `y`
    is its centre in photo pixels. `color` is one of scanner.notes.COLORS ("white" for pale or
    unknown paper). `room`/`slot` are its cell, as for SeenSticky; None, None off the grid.
    `fingerprint` is a hex perceptual hash of the ink on it, not of the paper
    (scanner.notes.fingerprint_similarity compares two); `ink` the share of its area that is ink,
    about 0 for a blank note.
    """

    quad: tuple[Point, Point, Point, Point]
    x: float
    y: float
    color: str
    room: str | None
    slot: str | None
    fingerprint: str
    ink: float

    def to_dict(self) -> dict:
        return {
            "quad": [[_r(x), _r(y)] for x, y in self.quad],
            "x": _r(self.x),
            "y": _r(self.y),
            "color": self.color,
            "room": self.room,
            "slot": self.slot,
            "fingerprint": self.fingerprint,
            "ink": round(float(self.ink), 4),
        }


@dataclass(frozen=True)
class Unplaced:
    """Describe a sticky seen but not placed: its code, where it was seen (photo px) and why."""

    code: str
    x: float
    y: float
    reason: str


@dataclass(frozen=True)
class Cell:
    """Describe one grid cell as seen in the photo: its outline (photo px) and visibility."""

    room: str
    slot: str
    quad: tuple[Point, Point, Point, Point]
    hidden: bool
    reason: str = ""


@dataclass(frozen=True)
class BoardView:
    """Remember where a fixed camera saw the board's corner markers and header cards.

    `size` is the photo's (width, height) in pixels; `markers` holds (marker id, its corners tl,
    tr, br, bl in photo pixels) for every corner and header marker the scan used, seen or
    remembered. Pass it (or the ScanResult holding it) to the next scan of the same camera.
    """

    size: tuple[int, int]
    markers: tuple[tuple[int, tuple[Point, Point, Point, Point]], ...]


@dataclass(frozen=True)
class ScanResult:
    """Hold what one photo showed.

    `board_quad` is the board outline through the four corner-marker centres (tl, tr, br, bl) in
    photo pixels, or None when the board was not found. `cells` are the grid cells with their
    outlines in photo pixels. `codes` are the known codes that were read (stickies, headers,
    corners); `rejected` the codes read that the manifest does not know; `unplaced` the stickies
    seen but left out (their reasons are also in `warnings`). `view` is where the corner and
    header markers were, for the next scan from the same place (`scan(..., previous=result)`).
    `notes` are the plain notes on the board (paper without a code of ours), each in its cell
    or off the grid; notes too close to a cell boundary are left out and named in `warnings`.
    `timings` holds each stage's wall and processor milliseconds, in the order the stages ran
    (scanner.timing); two results of the same photo differ only there.
    """

    board_found: bool
    stickies: tuple[SeenSticky, ...]
    hidden_cells: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    rejected: tuple[DecodedCode, ...]
    board_quad: tuple[Point, Point, Point, Point] | None = None
    cells: tuple[Cell, ...] = ()
    codes: tuple[DecodedCode, ...] = ()
    transposed: bool = False
    unplaced: tuple[Unplaced, ...] = ()
    view: BoardView | None = None
    notes: tuple[SeenNote, ...] = ()
    timings: tuple[StageTime, ...] = field(default=(), compare=False, repr=False)

    def timings_dict(self) -> dict[str, dict]:
        """Return {stage: {"wall_ms", "cpu_ms"}} with a "total", rounded (scanner.timing)."""
        return timings_dict(self.timings)

    def to_dict(self) -> dict:
        """Return the scan-result JSON of docs/contracts.md."""
        found = {
            "board_found": self.board_found,
            "stickies": [s.to_dict() for s in self.stickies],
            "hidden_cells": [[room, slot] for room, slot in self.hidden_cells],
            "warnings": list(self.warnings),
        }
        if self.notes:  # a wall of printed stickies only answers as it always did
            found["notes"] = [n.to_dict() for n in self.notes]
        return found


def _r(v: float) -> float:
    return round(float(v), 1)
