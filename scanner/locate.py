"""Find the board in the photo: lens, outline and board frame from the markers by role.

Photo coordinates are pixels, origin at the top-left pixel's centre, x right, y down; board
coordinates are described in scanner.board.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from scanner.board import BoardFrame, complete_quad, frame_from_quad
from scanner.lens import estimate_lens
from scanner.manifest import Manifest
from scanner.markers import Marker
from scanner.roles import SortedMarkers

# Header cards are taped by hand: a few millimetres (about a tenth of their marker) off their
# row is placement, not lens.
CARD_PLACEMENT_NOISE = 0.12


@dataclass(frozen=True)
class HeaderCentres:
    """Hold the centres of the header cards seen, in photo pixels, by room and slot index."""

    rooms: dict[int, tuple[float, float]]
    slots: dict[int, tuple[float, float]]


@dataclass(frozen=True)
class Located:
    """Hold the board frame, or None and why not, and the warnings of finding it."""

    frame: BoardFrame | None
    warnings: tuple[str, ...]
    why: str | None = None


def header_centres(sorted_markers: SortedMarkers, manifest: Manifest) -> HeaderCentres:
    """Return the centre of every header card seen, through the manifest's marker offset."""
    offset = manifest.header_marker_offset
    return HeaderCentres(
        rooms={i: card_centre(m, offset) for i, m in sorted_markers.rooms.items()},
        slots={i: card_centre(m, offset) for i, m in sorted_markers.slots.items()},
    )


def locate_board(
    sorted_markers: SortedMarkers,
    headers: HeaderCentres,
    *,
    known: Sequence[Marker],
    manifest: Manifest,
    shape: tuple[int, int],
) -> Located:
    """Return the board frame from the corner markers, or rebuilt from every marker seen.

    `known` are all markers the manifest knows (their outlines fix the wall's plane); `shape` is
    the photo's (height, width).
    """
    corners = sorted_markers.corners
    groups = [np.array(list(headers.rooms.values())), np.array(list(headers.slots.values()))]
    upright = [mk.corners for mk in [*corners.values(), *sorted_markers.headers()]]
    outlines = [mk.corners for mk in known]
    h, w = shape
    card_sides = [mk.side for mk in sorted_markers.headers()]
    noise = CARD_PLACEMENT_NOISE * float(np.median(card_sides)) if card_sides else 0.0
    lens, k = estimate_lens(groups, width=w, height=h, noise=noise)
    warnings = []
    if not lens.identity:
        warnings.append(f"lens distortion corrected (k = {k:.3f})")
    und = lens.undistort
    quad, why = complete_quad(
        {n: tuple(und([m.centre])[0]) for n, m in corners.items()},
        [und(g) if len(g) else g for g in groups],
        [und(q) for q in upright],
        [und(q) for q in outlines],
    )
    if quad is None:
        return Located(None, tuple(warnings), why)
    frame = frame_from_quad(quad, [und(q) for q in outlines])
    if frame is None:
        return Located(None, tuple(warnings), "the corner markers do not form a board outline")
    missing = [n for n, _ in manifest.corners.items() if n not in corners]
    warnings += [f"corner marker {n} not found; used header cards" for n in missing]
    return Located(replace(frame, lens=lens), tuple(warnings))


def card_centre(m: Marker, offset: tuple[float, float]) -> tuple[float, float]:
    """Return the photo position of the centre of the header card that carries marker m.

    `offset` leads from the marker's centre to the card's centre, in marker sides, in the
    marker's own frame (the manifest's header_marker_offset).
    """
    c = m.corners
    ex = ((c[1] - c[0]) + (c[2] - c[3])) / 2
    ey = ((c[3] - c[0]) + (c[2] - c[1])) / 2
    p = c.mean(axis=0) + offset[0] * ex + offset[1] * ey
    return float(p[0]), float(p[1])
