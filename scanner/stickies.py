"""Turn sticky markers and QR codes into one centre per sticky, in board coordinates.

Board coordinates are described in scanner.board; a marker's own frame has x along its top edge
and y down its left edge, in units of its side. Every doubt leaves a sticky out with a Refusal
that names it, why, and where it was seen, so that its cells are never taken for empty.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from scanner.board import BoardFrame
from scanner.manifest import Manifest, StickyEntry
from scanner.markers import Marker
from scanner.results import DecodedCode
from scanner.roles import Roles

# Decoders that report a QR's corners in the symbol's own order, so that its frame is known.
ORDERED_CORNERS = ("zxing", "opencv")
# A QR and a marker of one sticky agree within this many QR sides (learned offset) or marker
# sides (no offset learned yet).
AGREE_LEARNED = 0.5
AGREE_SIDES = 2.5
# A QR naming one sticky this close to where another sticky's QR should be refuses both.
CLASH_LEARNED = 0.5
CLASH_SIDES = 1.4
# Two readings closer than this many marker sides refuse both.
OVERLAP_SIDES = 0.8


@dataclass(frozen=True)
class StickyRead:
    """One sighting of a sticky: its centre in board coordinates and how it was found."""

    code: str
    centre: np.ndarray  # board coordinates
    side: float  # marker (or QR) side in board units, the scale of the sticky
    via: str
    uncertain: float = 0.0  # extra doubt about the centre, board units
    axes: tuple[np.ndarray, np.ndarray] | None = None  # the marker's x and y edges, board units


@dataclass(frozen=True)
class Refusal:
    """A sticky left out: its code, why, and where it was seen (board coordinates)."""

    code: str
    why: str
    points: tuple[np.ndarray, ...]

    @property
    def warning(self) -> str:
        return f"sticky {self.code}: {self.why}; not placed"


class Pose(NamedTuple):
    """A square's centre, x and y edge vectors and side in board units, and if it looks flat."""

    centre: np.ndarray
    ex: np.ndarray
    ey: np.ndarray
    side: float
    ok: bool


def sticky_reads(
    frame: BoardFrame,
    sticky_markers: Mapping[str, Sequence[Marker]],
    qr_reads: Sequence[DecodedCode],
    *,
    manifest: Manifest,
    roles: Roles,
) -> tuple[dict[str, StickyRead], list[Refusal]]:
    """Combine marker and QR sightings into one centre per sticky, or none when in doubt.

    `sticky_markers` holds every sighting of each sticky's marker by code; `qr_reads` the known
    QR codes read. Returns the reads by code and the refusals, in the order they were made.
    """
    entries = {s.code: s for s in manifest.stickies}
    qr_by_code = _qr_by_code(qr_reads, roles)
    seen = _sightings(frame, sticky_markers, qr_by_code)
    by_marker, med, refusals = _marker_reads(frame, sticky_markers, entries, seen)
    learned = _learn_qr_offsets(frame, qr_by_code, by_marker, entries)
    reads, more = _add_qr_reads(frame, qr_by_code, by_marker, learned, med, entries, seen)
    refusals += more
    reads, more = _drop_qr_clashes(frame, reads, qr_by_code, by_marker, learned, entries, seen)
    refusals += more
    reads, more = _drop_overlaps(reads, seen)
    return reads, refusals + more


def _qr_by_code(qr_reads: Sequence[DecodedCode], roles: Roles) -> dict[str, list[DecodedCode]]:
    out: dict[str, list[DecodedCode]] = defaultdict(list)
    for c in qr_reads:
        kind, key = roles.by_qr[c.text]
        if kind == "sticky":
            out[key.code].append(c)
    return out


def _sightings(
    frame: BoardFrame,
    sticky_markers: Mapping[str, Sequence[Marker]],
    qr_by_code: Mapping[str, Sequence[DecodedCode]],
) -> dict[str, tuple[np.ndarray, ...]]:
    """Return every place each sticky was seen, markers first, in board coordinates."""
    codes = list(dict.fromkeys([*sticky_markers, *qr_by_code]))
    owners, pts = [], []
    for code in codes:
        spots = [mk.centre for mk in sticky_markers.get(code, [])]
        spots += [(c.x, c.y) for c in qr_by_code.get(code, [])]
        owners += [code] * len(spots)
        pts += spots
    out: dict[str, list[np.ndarray]] = {code: [] for code in codes}
    # One mapping of every point: the frame's cost is per call, not per point.
    for code, p in zip(owners, frame.board(pts) if pts else [], strict=True):
        out[code].append(p)
    return {code: tuple(v) for code, v in out.items()}


def _marker_reads(
    frame: BoardFrame,
    sticky_markers: Mapping[str, Sequence[Marker]],
    entries: Mapping[str, StickyEntry],
    seen: Mapping[str, tuple[np.ndarray, ...]],
) -> tuple[dict[str, StickyRead], float, list[Refusal]]:
    """Return the reads from markers, the median marker side (board units) and the refusals.

    A marker seen twice, one that is not square on the wall, or one far from the others' size
    is left out.
    """
    refusals = []
    single = {}
    for code, ms in sticky_markers.items():
        if len(ms) > 1:
            refusals.append(Refusal(code, f"its marker was seen {len(ms)} times", seen[code]))
            continue
        single[code] = ms[0].corners
    poses = {}
    if single:
        board = frame.board(np.concatenate(list(single.values()))).reshape(-1, 4, 2)
        poses = {code: pose(qb) for code, qb in zip(single, board, strict=True)}
    sides = [p.side for p in poses.values()]
    med = float(np.median(sides)) if sides else 0.0
    reads = {}
    for code, (centre, ex, ey, side, ok) in poses.items():
        if not ok or (len(sides) >= 3 and not 0.6 * med <= side <= 1.6 * med):
            refusals.append(Refusal(code, "marker pose implausible", seen[code]))
            continue
        ox, oy = entries[code].marker_offset
        reads[code] = StickyRead(code, centre + ox * ex + oy * ey, side, "marker", axes=(ex, ey))
    return reads, med, refusals


def _learn_qr_offsets(
    frame: BoardFrame,
    qr_by_code: Mapping[str, Sequence[DecodedCode]],
    by_marker: Mapping[str, StickyRead],
    entries: Mapping[str, StickyEntry],
) -> dict[tuple[float, float], np.ndarray]:
    """Learn where the sticky's centre lies in its QR's frame from stickies read both ways.

    Keyed by the stickies' marker offset (one per sticky template); needs two stickies.
    """
    samples: dict[tuple[float, float], list[np.ndarray]] = defaultdict(list)
    for code, cs in qr_by_code.items():
        q = _framed_pose(frame, cs)
        if code in by_marker and q is not None and cs[0].via in ORDERED_CORNERS and q.ok:
            d = _in_frame(q.ex, q.ey, by_marker[code].centre - q.centre)
            if d is not None:
                samples[entries[code].marker_offset].append(d)
    return {k: np.median(v, axis=0) for k, v in samples.items() if len(v) >= 2}


def _framed_pose(frame: BoardFrame, cs: Sequence[DecodedCode]) -> Pose | None:
    """Return the pose of a sticky's only QR read, or None when read twice or without corners."""
    if len(cs) != 1 or len(cs[0].corners) != 4:
        return None
    return pose(frame.board(cs[0].corners))


def _add_qr_reads(
    frame: BoardFrame,
    qr_by_code: Mapping[str, Sequence[DecodedCode]],
    by_marker: Mapping[str, StickyRead],
    learned: Mapping[tuple[float, float], np.ndarray],
    med: float,
    entries: Mapping[str, StickyEntry],
    seen: Mapping[str, tuple[np.ndarray, ...]],
) -> tuple[dict[str, StickyRead], list[Refusal]]:
    """Return the marker reads checked against their QR codes, plus the stickies read by QR only.

    A QR read twice, or a QR that disagrees with its own sticky's marker, refuses the sticky.
    """
    reads = dict(by_marker)
    refusals = []
    for code, cs in qr_by_code.items():
        if len(cs) > 1:
            refusals.append(Refusal(code, f"its QR was read {len(cs)} times", seen[code]))
            reads.pop(code, None)
            continue
        c = cs[0]
        q = _framed_pose(frame, cs)
        key = entries[code].marker_offset
        framed = q is not None and q.ok and key in learned and c.via in ORDERED_CORNERS
        if code in by_marker:
            if not _qr_agrees(frame, c, q if framed else None, by_marker[code], learned.get(key)):
                refusals.append(Refusal(code, "QR and marker disagree", seen[code]))
                reads.pop(code, None)
            continue
        if framed:
            a, b = learned[key]
            reads[code] = StickyRead(
                code, q.centre + a * q.ex + b * q.ey, q.side, "qr", 0.05 * q.side
            )
        else:
            side = q.side if q is not None else med or 0.02
            # The QR lies somewhere on the sticky: allow for the whole sticky's reach.
            reach = (max(abs(v) for v in entries[code].marker_offset) + 0.7) * (med or side)
            reads[code] = StickyRead(code, frame.board([(c.x, c.y)])[0], side, "qr", reach)
    return reads, refusals


def _qr_agrees(
    frame: BoardFrame,
    c: DecodedCode,
    q: Pose | None,
    mr: StickyRead,
    learned: np.ndarray | None,
) -> bool:
    """Return True when a sticky's QR lies where its marker says (q: the QR's pose if framed)."""
    d = _in_frame(q.ex, q.ey, mr.centre - q.centre) if q is not None else None
    if d is not None:
        return bool(np.linalg.norm(d - learned) <= AGREE_LEARNED)
    qcentre = frame.board([(c.x, c.y)])[0]
    return bool(np.linalg.norm(mr.centre - qcentre) <= AGREE_SIDES * mr.side)


def _drop_qr_clashes(
    frame: BoardFrame,
    reads: Mapping[str, StickyRead],
    qr_by_code: Mapping[str, Sequence[DecodedCode]],
    by_marker: Mapping[str, StickyRead],
    learned: Mapping[tuple[float, float], np.ndarray],
    entries: Mapping[str, StickyEntry],
    seen: Mapping[str, tuple[np.ndarray, ...]],
) -> tuple[dict[str, StickyRead], list[Refusal]]:
    """Drop both stickies where a QR names one sticky and sits where another's QR should be.

    One of the two is misprinted or misread, and neither is trusted.
    """
    reads = dict(reads)
    refusals = []
    for code, cs in qr_by_code.items():
        for c in cs:
            qcentre = frame.board([(c.x, c.y)])[0]
            q = pose(frame.board(c.corners)) if len(c.corners) == 4 else None
            for other, mr in by_marker.items():
                if other == code:
                    continue
                key = entries[other].marker_offset
                if q is not None and key in learned and c.via in ORDERED_CORNERS:
                    a, b = learned[key]
                    where = mr.centre - (a * q.ex + b * q.ey)
                    clash = np.linalg.norm(qcentre - where) < CLASH_LEARNED * q.side
                else:
                    clash = np.linalg.norm(qcentre - mr.centre) < CLASH_SIDES * mr.side
                if not clash:
                    continue
                for gone in (code, other):
                    if gone in reads:
                        refusals.append(Refusal(gone, "QR and marker disagree", seen[gone]))
                        reads.pop(gone)
    return reads, refusals


def _drop_overlaps(
    reads: Mapping[str, StickyRead], seen: Mapping[str, tuple[np.ndarray, ...]]
) -> tuple[dict[str, StickyRead], list[Refusal]]:
    """Drop both of two readings that share a centre: a misread is likelier than a pile-up."""
    codes = sorted(reads)
    clash = set()
    if len(codes) > 1:
        centres = np.array([reads[c].centre for c in codes], dtype=np.float64)
        sides = np.array([reads[c].side for c in codes], dtype=np.float64)
        d = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
        hit = d < OVERLAP_SIDES * np.minimum(sides[:, None], sides[None, :])
        np.fill_diagonal(hit, False)
        clash = {codes[i] for i in np.flatnonzero(hit.any(axis=1))}
    kept = {c: r for c, r in reads.items() if c not in clash}
    return kept, [Refusal(c, "overlaps another sticky's reading", seen[c]) for c in sorted(clash)]


def _in_frame(ex: np.ndarray, ey: np.ndarray, v: np.ndarray) -> np.ndarray | None:
    """Return v in the frame of the axes ex, ey (board units), or None for a degenerate frame."""
    m = np.column_stack([ex, ey])
    if abs(float(np.linalg.det(m))) < 1e-12:
        return None
    return np.linalg.solve(m, v)


def pose(qb: np.ndarray) -> Pose:
    """Return the pose of a square's corners (tl, tr, br, bl) in board units."""
    ex = ((qb[1] - qb[0]) + (qb[2] - qb[3])) / 2
    ey = ((qb[3] - qb[0]) + (qb[2] - qb[1])) / 2
    lx, ly = float(np.linalg.norm(ex)), float(np.linalg.norm(ey))
    side = (lx + ly) / 2
    ok = lx > 0 and ly > 0
    if ok:
        ratio = lx / ly
        cos = abs(float(ex @ ey)) / (lx * ly)
        # A flat square on the wall stays square in board coordinates; anything else is a misread.
        ok = 0.75 <= ratio <= 1.33 and cos <= 0.25
    return Pose(qb.mean(axis=0), ex, ey, side, ok)
