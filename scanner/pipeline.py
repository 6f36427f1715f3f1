"""Scan a wall photo: find the board, the grid and every sticky, and say what could not be seen.

The scan runs as plain stages, each a function of what the one before returned: markers
(`markers`, sorted by role in `roles`), QR codes (`qrcodes`), the board (`locate`), the grid
(`grid`), sticky reads (`stickies`), placements (`placement`) and cells (`cells`); a second look
at unreadable cells (`closeup`) may add markers and run the stages from the board on again.

Photo coordinates are pixels, origin at the top-left pixel's centre, x right, y down. Board
coordinates are described in scanner.board (origin at the top-left corner marker, unit = board
width).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from scanner import decoders, markers
from scanner.board import BoardFrame
from scanner.cells import cell_states
from scanner.closeup import read_cells_again
from scanner.errors import ScanError
from scanner.grid import Grid, build_grid
from scanner.imageio import load_image
from scanner.locate import HeaderCentres, header_centres, locate_board
from scanner.manifest import Manifest
from scanner.placement import place_stickies
from scanner.qrcodes import decode_crop, dedupe, read_qr
from scanner.results import DecodedCode, ScanResult, Unplaced
from scanner.roles import Roles, SortedMarkers, marker_code, sort_markers
from scanner.stickies import sticky_reads


def scan(image: Any, manifest: Manifest | Mapping, *, decoder: str = "auto") -> ScanResult:
    """Return where every known sticky in the photo sits on the board.

    `image` is anything load_image accepts; `manifest` a Manifest or its JSON dict. Stickies are
    placed only when their cell is certain; those that are not are left out and named in the
    warnings. A photo without a board gives board_found False, never an exception.
    """
    if not isinstance(manifest, Manifest):
        if not isinstance(manifest, Mapping):
            raise ScanError(f"manifest must be a Manifest or a dict, got {type(manifest).__name__}")
        manifest = Manifest.from_dict(manifest)
    chain = decoders.chain(decoder)
    img = load_image(image)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    try:
        return _scan(img, gray, manifest, chain)
    except (cv2.error, np.linalg.LinAlgError) as exc:
        # Callers handle one exception type; a numeric failure on odd pixels is reported as one.
        h, w = gray.shape
        why = exc.err if isinstance(exc, cv2.error) else str(exc)
        raise ScanError(f"cannot analyse this {w}x{h} image: {why}") from None


def decode_all(
    image: Any, *, decoder: str = "auto", marker_dictionary: str = "DICT_4X4_1000"
) -> list[DecodedCode]:
    """Return every QR code and marker read in the photo, known or not.

    A marker's text is `marker:<dictionary>:<id>`; positions are photo pixels (origin top-left).
    """
    if not marker_dictionary.startswith("DICT_") or not hasattr(cv2.aruco, marker_dictionary):
        raise ScanError(f"unknown marker dictionary {marker_dictionary!r}")
    chain = decoders.chain(decoder)
    img = load_image(image)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    found, _ = markers.detect(gray, dictionary=marker_dictionary)
    out = [marker_code(m, marker_dictionary) for m in found]
    qr = dedupe([c for fn in chain for c in fn(gray)])
    # Around each marker whose sticky's QR did not read on the whole frame, look again closer:
    # a sticky's QR lies within about two and a half marker sides of its marker.
    for m in found:
        centre = np.asarray(m.centre)
        if any(np.hypot(c.x - centre[0], c.y - centre[1]) < 3.0 * m.side for c in qr):
            continue
        for got in decode_crop(gray, chain, centre, 2.6 * m.side):
            if got.text not in {c.text for c in qr}:
                qr.append(got)
    return out + qr


@dataclass(frozen=True)
class _Analysis:
    """Hold a scan's result and what a second look needs: the frame, grid and sticky size."""

    result: ScanResult
    frame: BoardFrame | None = None
    grid: Grid | None = None
    sticky_side: float = 0.0  # median sticky marker side, board units


def _scan(img: np.ndarray, gray: np.ndarray, manifest: Manifest, chain) -> ScanResult:
    roles = Roles.of(manifest)
    found, candidates = find_markers(gray, manifest=manifest, roles=roles)
    first = sort_markers(found, manifest, roles)
    qr, qr_warnings = read_qr(
        gray,
        chain,
        sticky_markers=[mk for ms in first.stickies.values() for mk in ms],
        unknown_markers=first.unknown,
        candidates=candidates,
        manifest=manifest,
    )
    seen = _analyse(img, found, qr, qr_warnings, manifest=manifest, roles=roles)
    if seen.frame is None or seen.grid is None:
        return seen.result
    more = read_cells_again(
        gray,
        seen.frame,
        seen.grid,
        seen.result.cells,
        found=found,
        sticky_side=seen.sticky_side,
        manifest=manifest,
        roles=roles,
    )
    if more:
        seen = _analyse(img, found + more, qr, qr_warnings, manifest=manifest, roles=roles)
    return seen.result


def find_markers(
    gray: np.ndarray, *, manifest: Manifest, roles: Roles
) -> tuple[list[markers.Marker], list[np.ndarray]]:
    """Return the markers decoded in the photo and the marker-like quads that did not decode."""
    dictionary = manifest.marker_dictionary
    found, candidates = markers.detect(gray, dictionary=dictionary)
    have = {m.id for m in found}
    h, w = gray.shape
    if max(h, w) >= 64 and any(mid not in have for _, mid in manifest.corners.items()):
        # Large markers with wide black areas can defeat the fine threshold windows; at half
        # the size they read. Corners matter most, so look again when one is missing.
        more, _ = markers.detect(
            gray, dictionary=dictionary, long_side=max(h, w) // 2, retry_budget_s=0.0
        )
        found += [m for m in more if m.id not in have and m.id in roles.by_marker]
    return found, candidates


def _analyse(
    img: np.ndarray,
    found: list[markers.Marker],
    qr: Sequence[DecodedCode],
    qr_warnings: Sequence[str],
    *,
    manifest: Manifest,
    roles: Roles,
) -> _Analysis:
    """Turn the markers and QR codes read into a result, through the board, grid and cells."""
    by_role = sort_markers(found, manifest, roles)
    qr_known = [c for c in qr if c.text in roles.by_qr]
    codes = (*by_role.known, *qr_known)
    rejected = (*by_role.unknown, *(c for c in qr if c.text not in roles.by_qr))
    warnings = [*qr_warnings, *by_role.warnings]
    headers = header_centres(by_role, manifest)
    known = [mk for mk in found if mk.id in roles.by_marker]
    located = locate_board(by_role, headers, known=known, manifest=manifest, shape=img.shape[:2])
    warnings += located.warnings
    frame = located.frame
    if frame is None:
        return _Analysis(
            ScanResult(
                board_found=False,
                stickies=(),
                hidden_cells=(),
                warnings=(f"board not found: {located.why}", *warnings),
                rejected=rejected,
                codes=codes,
            )
        )
    grid, grid_warnings = _grid(frame, headers, manifest)
    warnings += grid_warnings + _missing_headers(by_role, manifest)
    reads, refusals = sticky_reads(
        frame, by_role.stickies, qr_known, manifest=manifest, roles=roles
    )
    stickies, more = place_stickies(frame, grid, reads, manifest=manifest)
    refusals += more
    warnings += [r.warning for r in refusals]
    cells = cell_states(img, frame, grid, reads, refusals, manifest=manifest)
    result = ScanResult(
        board_found=True,
        stickies=tuple(stickies),
        hidden_cells=tuple((c.room, c.slot) for c in cells if c.hidden),
        warnings=tuple(warnings),
        rejected=rejected,
        board_quad=tuple((float(x), float(y)) for x, y in frame.photo_quad()),
        cells=tuple(cells),
        codes=codes,
        transposed=grid.transposed,
        unplaced=tuple(
            Unplaced(code=r.code, x=float(x), y=float(y), reason=r.why)
            for r in refusals
            for p in r.points
            for x, y in frame.photo([p])
        ),
    )
    side = float(np.median([r.side for r in reads.values()])) if reads else 0.0
    return _Analysis(result, frame, grid, side)


def _grid(frame: BoardFrame, headers: HeaderCentres, manifest: Manifest) -> tuple[Grid, list[str]]:
    """Return the grid from the header card centres, and warnings about cards out of order."""
    return build_grid(
        rooms={i: frame.board([p])[0] for i, p in headers.rooms.items()},
        slots={i: frame.board([p])[0] for i, p in headers.slots.items()},
        n_rooms=len(manifest.rooms),
        n_slots=len(manifest.slots),
    )


def _missing_headers(by_role: SortedMarkers, manifest: Manifest) -> list[str]:
    """Return a warning for every header card not seen, rooms first."""
    out = []
    for kind, items, seen in (
        ("room", manifest.rooms, by_role.rooms),
        ("slot", manifest.slots, by_role.slots),
    ):
        out += [
            f"{kind} card {item.name} not found" for i, item in enumerate(items) if i not in seen
        ]
    return out
