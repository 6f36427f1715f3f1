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
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from scanner import decoders, markers
from scanner.board import BoardFrame
from scanner.cells import cell_states
from scanner.closeup import read_cells_again
from scanner.errors import ScanError
from scanner.fuse import fuse_frames
from scanner.grid import Grid, build_grid
from scanner.imageio import halved, load_image
from scanner.locate import HeaderCentres, Located, header_centres, locate_board
from scanner.manifest import Manifest
from scanner.memory import board_view, recall
from scanner.notes import notes_on_board
from scanner.occlusion import BoardCopies
from scanner.params import DEFAULT_PARAMS, ScanParams
from scanner.placement import place_stickies
from scanner.qrcodes import decode_crop, dedupe, read_qr
from scanner.results import BoardView, DecodedCode, ScanResult, Unplaced
from scanner.roles import Roles, SortedMarkers, marker_code, sort_markers
from scanner.stickies import Refusal, StickyRead, sticky_reads
from scanner.timing import Stopwatch


def scan(
    image: Any,
    manifest: Manifest | Mapping,
    *,
    decoder: str = "auto",
    previous: ScanResult | BoardView | None = None,
    params: ScanParams = DEFAULT_PARAMS,
) -> ScanResult:
    """Return where every known sticky in the photo sits on the board.

    `image` is anything load_image accepts; `manifest` a Manifest or its JSON dict. Stickies are
    placed only when their cell is certain; those that are not are left out and named in the
    warnings. A photo without a board gives board_found False, never an exception.

    `previous` is the last result (or its `view`) of a camera that has not moved: when the
    corner and header markers seen now lie where they were, hidden header cards and corners are
    taken from it (the warnings say so). The result's `view` is the one to pass next time.
    `params` are the scanner's knobs (scanner.params), today's values by default.
    """
    view = previous.view if isinstance(previous, ScanResult) else previous
    if not isinstance(manifest, Manifest):
        if not isinstance(manifest, Mapping):
            raise ScanError(f"manifest must be a Manifest or a dict, got {type(manifest).__name__}")
        manifest = Manifest.from_dict(manifest)
    chain = decoders.chain(decoder)
    clock = Stopwatch()
    with clock.stage("decode"):
        img = load_image(image)
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    try:
        result = _scan(img, gray, manifest, chain, view, clock, params)
        return replace(result, timings=clock.times())
    except (cv2.error, np.linalg.LinAlgError) as exc:
        # Callers handle one exception type; a numeric failure on odd pixels is reported as one.
        h, w = gray.shape
        why = exc.err if isinstance(exc, cv2.error) else str(exc)
        raise ScanError(f"cannot analyse this {w}x{h} image: {why}") from None


def scan_frames(
    images: Sequence[Any],
    manifest: Manifest | Mapping,
    *,
    decoder: str = "auto",
    previous: ScanResult | BoardView | None = None,
    params: ScanParams = DEFAULT_PARAMS,
) -> ScanResult:
    """Scan several consecutive frames of a still wall as one photo with less noise.

    The frames (anything load_image accepts, one size) are aligned to the first and averaged
    (scanner.fuse); positions are in the first frame's pixels. Frames that moved are left out
    and the warnings say how many frames were fused.
    """
    clock = Stopwatch()
    with clock.stage("fuse"):
        fused, used = fuse_frames(images)
    result = scan(fused, manifest, decoder=decoder, previous=previous, params=params)
    note = f"fused {used} of {len(images)} frames"
    return replace(
        result, warnings=(*result.warnings, note), timings=(*clock.times(), *result.timings)
    )


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
class _Board:
    """Hold the board as one look at a photo found it: frame, grid, the warnings of finding
    them, and whether all its corner markers were seen (or remembered)."""

    frame: BoardFrame
    grid: Grid
    warnings: tuple[str, ...]
    # The outline is then the corner markers' own: markers read later cannot move it.
    cornered: bool


@dataclass(frozen=True)
class _Analysis:
    """Hold a scan's result and what a second look needs: the board and sticky size."""

    result: ScanResult
    board: _Board | None = None
    sticky_side: float = 0.0  # median sticky marker side, board units
    reads: Mapping[str, StickyRead] = field(default_factory=dict)
    refusals: tuple[Refusal, ...] = ()

    @property
    def frame(self) -> BoardFrame | None:
        return self.board.frame if self.board else None

    @property
    def grid(self) -> Grid | None:
        return self.board.grid if self.board else None


def _scan(
    img: np.ndarray,
    gray: np.ndarray,
    manifest: Manifest,
    chain,
    view: BoardView | None,
    clock: Stopwatch,
    params: ScanParams,
) -> ScanResult:
    roles = Roles.of(manifest)
    with clock.stage("markers"):
        # One reduced copy of a large photo serves the marker search and the whole-frame QR read.
        reduced = halved(gray, params.detect_long_side)
        found, candidates = find_markers(
            gray, manifest=manifest, roles=roles, reduced=reduced, params=params
        )
        memory = _Memory(view)
        if view is not None:
            memory = _Memory(
                view, *recall(found, view, manifest=manifest, roles=roles, shape=gray.shape)
            )
    with clock.stage("qr"):
        first = sort_markers(found, manifest, roles)
        qr, qr_warnings = read_qr(
            gray,
            chain,
            sticky_markers=[mk for ms in first.stickies.values() for mk in ms],
            unknown_markers=first.unknown,
            candidates=candidates,
            manifest=manifest,
            other_markers=[
                mk for mk in found if mk.id in roles.by_marker and not roles.is_sticky_marker(mk.id)
            ],
            every_card=first.every_card(manifest),
            reduced=reduced,
            params=params,
        )
    ctx = _Context(img, qr, qr_warnings, memory, manifest, roles, clock, params)
    seen = _analyse(ctx, found)
    if seen.frame is None or seen.grid is None:
        return seen.result
    with clock.stage("closeup"):
        more = read_cells_again(
            gray,
            seen.frame,
            seen.grid,
            seen.result.cells,
            found=found,
            sticky_side=seen.sticky_side,
            manifest=manifest,
            roles=roles,
            params=params,
        )
    if more:
        # The close-up reads sticky markers only: where the corner markers gave the outline, the
        # board stays where the first look found it, and so does its rectified copy.
        board = seen.board if seen.board is not None and seen.board.cornered else None
        seen = _analyse(ctx, found + more, board)
    if not manifest.plain_notes:
        return seen.result
    with clock.stage("notes"):
        notes, note_warnings, papers = notes_on_board(
            img, frame=seen.frame, grid=seen.grid, found=found + more, codes=qr, manifest=manifest
        )
        result = replace(
            seen.result, notes=tuple(notes), warnings=(*seen.result.warnings, *note_warnings)
        )
        if papers and result.hidden_cells:
            # A note's paper looked like something covering its cell: judged again with the
            # notes masked, only a person in front of one (or glare beside it) still hides it.
            cells = cell_states(
                img,
                seen.frame,
                seen.grid,
                seen.reads,
                seen.refusals,
                manifest=manifest,
                notes=papers,
                params=params,
                copies=ctx.copies,
            )
            result = replace(
                result,
                cells=tuple(cells),
                hidden_cells=tuple((c.room, c.slot) for c in cells if c.hidden),
            )
    return result


def find_markers(
    gray: np.ndarray,
    *,
    manifest: Manifest,
    roles: Roles,
    reduced: tuple[np.ndarray, float] | None = None,
    params: ScanParams = DEFAULT_PARAMS,
) -> tuple[list[markers.Marker], list[np.ndarray]]:
    """Return the markers decoded in the photo and the marker-like quads that did not decode.

    `reduced` is imageio.halved(gray, params.detect_long_side), when the caller has it already.
    """
    dictionary = manifest.marker_dictionary
    h, w = gray.shape
    reduced = reduced or halved(gray, params.detect_long_side)
    # On frames larger than 720p, quads that did not decode are read against the event's own
    # ids below, which costs less there than looking at each again enlarged.
    retries = params.marker_retries if max(h, w) <= params.enlarge_max_side else 0
    found, candidates = markers.detect(
        gray,
        dictionary=dictionary,
        long_side=params.detect_long_side,
        retries=retries,
        reduced=reduced,
    )
    missing = [n for n, mid in manifest.corners.items() if mid not in {m.id for m in found}]
    if max(h, w) >= 64 and missing:
        # Large markers with wide black areas can defeat the fine threshold windows; at half
        # the size they read. Corners matter most, so look again where a missing one would be.
        found += _look_again(
            gray, found, _corner_regions(found, missing, (h, w)), roles, dictionary, shrink=2
        )
    # A header card missed by the fast search (a person's shadow beside it, blur) hides its
    # whole row or column: look again, thoroughly, along the band its seen neighbours lie in.
    strips = _header_strips(found, manifest, roles, (h, w))
    found += _look_again(gray, found, strips, roles, dictionary, shrink=1)
    stickies = [m.side for m in found if roles.is_sticky_marker(m.id)]
    quads, found_at = candidates, reduced[1]
    small = not stickies or np.median(stickies) < params.small_marker_px
    if small and max(h, w) <= params.enlarge_max_side:
        # Small markers (a 720p webcam across a wide board) read better enlarged.
        more, quads = markers.detect_enlarged(gray, dictionary=dictionary, factor=ENLARGED)
        found_at = ENLARGED
        have = {m.id for m in found}
        found += [m for m in more if m.id not in have and m.id in roles.by_marker]
    found += _decode_leftovers(
        gray, found, quads, roles=roles, dictionary=dictionary, scale=found_at
    )
    return found, candidates


# Small markers on a small frame are searched on the photo enlarged this many times.
ENLARGED = 2.0


def _look_again(
    gray: np.ndarray,
    found: list[markers.Marker],
    boxes: list[tuple[int, int, int, int]],
    roles: Roles,
    dictionary: str,
    *,
    shrink: int,
) -> list[markers.Marker]:
    """Return the manifest's markers, not among `found`, read thoroughly in photo regions.

    Each box (x0, y0, x1, y1) is searched with both threshold windows, reduced `shrink` times.
    """
    have = {m.id for m in found}
    out = []
    for x0, y0, x1, y1 in boxes:
        crop = gray[y0:y1, x0:x1]
        more, _ = markers.detect(
            crop,
            dictionary=dictionary,
            long_side=max(crop.shape) // shrink,
            retries=0,
            thorough=True,
        )
        for m in more:
            if m.id not in have and m.id in roles.by_marker:
                out.append(markers.Marker(id=m.id, corners=m.corners + np.float32((x0, y0))))
                have.add(m.id)
    return out


# A band of header cards is searched this many card-marker sides to either side of its cards.
HEADER_BAND_SIDES = 1.5


def _header_strips(
    found: list[markers.Marker], manifest: Manifest, roles: Roles, shape: tuple[int, int]
) -> list[tuple[int, int, int, int]]:
    """Return (x0, y0, x1, y1) photo strips along each band of header cards missing one.

    A band (room cards, slot cards) needs two cards seen: the strip spans their outlines,
    widened by HEADER_BAND_SIDES marker sides and run out to the photo's edges along the band.
    """
    h, w = shape
    out = []
    for kind, items in (("room", manifest.rooms), ("slot", manifest.slots)):
        seen = [m for m in found if roles.by_marker.get(m.id, ("", None))[0] == kind]
        if len(seen) < 2 or len(seen) >= len(items):
            continue
        pts = np.vstack([m.corners for m in seen])
        pad = HEADER_BAND_SIDES * float(np.median([m.side for m in seen]))
        (x0, y0), (x1, y1) = pts.min(axis=0) - pad, pts.max(axis=0) + pad
        if x1 - x0 >= y1 - y0:
            x0, x1 = 0, w
        else:
            y0, y1 = 0, h
        box = (int(max(0, x0)), int(max(0, y0)), int(min(w, x1)), int(min(h, y1)))
        if box[2] - box[0] >= 32 and box[3] - box[1] >= 32:
            out.append(box)
    return out


def _corner_regions(
    found: list[markers.Marker], missing: list[str], shape: tuple[int, int]
) -> list[tuple[int, int, int, int]]:
    """Return (x0, y0, x1, y1) photo regions where the missing corner markers would be.

    A corner lies beyond the matching corner of the other markers' extent: the region runs
    from there to the photo's edge and 40 % of the extent back inwards. Without markers, the
    whole photo.
    """
    h, w = shape
    if len(found) < 2:
        return [(0, 0, w, h)]
    pts = np.vstack([m.corners for m in found])
    (bx0, by0), (bx1, by1) = pts.min(axis=0), pts.max(axis=0)
    dx, dy = 0.4 * (bx1 - bx0), 0.4 * (by1 - by0)
    out = []
    for name in missing:
        left, top = name in ("tl", "bl"), name in ("tl", "tr")
        x0, x1 = (0, bx0 + dx) if left else (bx1 - dx, w)
        y0, y1 = (0, by0 + dy) if top else (by1 - dy, h)
        box = (int(max(0, x0)), int(max(0, y0)), int(min(w, x1 + 1)), int(min(h, y1 + 1)))
        if box[2] - box[0] >= 32 and box[3] - box[1] >= 32:
            out.append(box)
    return out


def _decode_leftovers(
    gray: np.ndarray,
    found: list[markers.Marker],
    quads: list[np.ndarray],
    *,
    roles: Roles,
    dictionary: str,
    scale: float = 1.0,
) -> list[markers.Marker]:
    """Return the event's markers among undecoded quads of a sticky marker's size.

    Only ids the manifest lists and that were not read yet are tried; a quad next to a marker
    that was read is its sticky's QR code. `scale` is the size the quads were found at, as a
    share of the photo's.
    """
    sides = [m.side for m in found if roles.is_sticky_marker(m.id)]
    if not sides:
        return []
    ref = float(np.median(sides))
    have = {m.id for m in found}
    if not quads:
        return []
    qs = np.asarray(quads, dtype=np.float64).reshape(-1, 4, 2)
    s = markers.quad_sides(qs)
    near = _nearest(qs.mean(axis=1), np.array([m.corners.mean(axis=0) for m in found]))
    keep = (0.7 * ref <= s) & (s <= 1.4 * ref) & (near >= 2.2 * s)
    # The detector leaves a quad it could not decode where its contour ran: on a marker of 10 to
    # 16 px a pixel off, which blurs the cells sampled between its corners into each other.
    spots = markers.refined(gray, [q for q, k in zip(quads, keep, strict=True) if k], scale)
    ids = sorted(i for i in roles.by_marker if i not in have)
    # An id decoded twice is refused downstream like any marker seen twice.
    return markers.decode_quads(gray, spots, ids=ids, dictionary=dictionary)


def _nearest(points: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Return each point's distance to the nearest of `others` (inf without any)."""
    if not len(others):
        return np.full(len(points), np.inf)
    d = points[:, None, :] - others[None, :, :]
    return np.sqrt((d**2).sum(axis=2)).min(axis=1)


@dataclass(frozen=True)
class _Context:
    """Hold what every analysis of one photo shares: the photo, the QR codes read, the memory."""

    img: np.ndarray
    qr: Sequence[DecodedCode]
    qr_warnings: Sequence[str]
    memory: _Memory
    manifest: Manifest
    roles: Roles
    clock: Stopwatch
    params: ScanParams = DEFAULT_PARAMS
    # The board's rectified copies, made once per frame and grid (scanner.occlusion).
    copies: BoardCopies = field(default_factory=BoardCopies)


@dataclass(frozen=True)
class _Memory:
    """Hold the previous view, the markers recalled from it and the warnings saying so."""

    view: BoardView | None
    recalled: list[markers.Marker] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _analyse(ctx: _Context, found: list[markers.Marker], board: _Board | None = None) -> _Analysis:
    """Turn the markers and QR codes read into a result, through the board, grid and cells.

    Markers recalled from a previous view count as seen for the board and grid, but are not
    reported among the codes read. `board`, when given, is where an earlier look at the same
    photo found the board: it is not located again.
    """
    manifest, roles, memory, clock, img = ctx.manifest, ctx.roles, ctx.memory, ctx.clock, ctx.img
    with clock.stage("locate"):
        by_role = sort_markers([*found, *memory.recalled], manifest, roles)
        recalled = {markers.marker_text(manifest.marker_dictionary, m.id) for m in memory.recalled}
        qr_known = [c for c in ctx.qr if c.text in roles.by_qr]
        codes = (*(c for c in by_role.known if c.text not in recalled), *qr_known)
        rejected = (*by_role.unknown, *(c for c in ctx.qr if c.text not in roles.by_qr))
        warnings = [*ctx.qr_warnings, *by_role.warnings, *memory.warnings]
        headers = header_centres(by_role, manifest)
    if board is None:
        board, located = _find_board(ctx, by_role, headers, found)
        if board is None:
            return _Analysis(
                ScanResult(
                    board_found=False,
                    stickies=(),
                    hidden_cells=(),
                    warnings=(f"board not found: {located.why}", *warnings, *located.warnings),
                    rejected=rejected,
                    codes=codes,
                    view=memory.view,
                )
            )
    frame, grid = board.frame, board.grid
    warnings += [*board.warnings, *_missing_headers(by_role, manifest)]
    with clock.stage("stickies"):
        reads, refusals = sticky_reads(
            frame, by_role.stickies, qr_known, manifest=manifest, roles=roles
        )
    with clock.stage("placement"):
        stickies, more = place_stickies(
            frame, grid, reads, manifest=manifest, margin=ctx.params.boundary_margin
        )
    refusals += more
    warnings += [r.warning for r in refusals]
    with clock.stage("cells"):
        cells = cell_states(
            img,
            frame,
            grid,
            reads,
            refusals,
            manifest=manifest,
            params=ctx.params,
            copies=ctx.copies,
        )
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
        view=board_view([*found, *memory.recalled], roles, img.shape[:2]),
        unplaced=tuple(
            Unplaced(code=r.code, x=float(x), y=float(y), reason=r.why)
            for r in refusals
            for p in r.points
            for x, y in frame.photo([p])
        ),
    )
    side = float(np.median([r.side for r in reads.values()])) if reads else 0.0
    return _Analysis(result, board, side, reads, tuple(refusals))


def _find_board(
    ctx: _Context, by_role: SortedMarkers, headers: HeaderCentres, found: list[markers.Marker]
) -> tuple[_Board | None, Located]:
    """Return the board (its frame and grid) located from the markers, and how it was located."""
    with ctx.clock.stage("locate"):
        recalled = ctx.memory.recalled
        known = [mk for mk in [*found, *recalled] if mk.id in ctx.roles.by_marker]
        located = locate_board(
            by_role, headers, known=known, manifest=ctx.manifest, shape=ctx.img.shape[:2]
        )
    if located.frame is None:
        return None, located
    with ctx.clock.stage("grid"):
        grid, grid_warnings = _grid(located.frame, headers, ctx.manifest)
    board = _Board(located.frame, grid, (*located.warnings, *grid_warnings), by_role.every_corner())
    return board, located


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
