"""Scan a wall photo: find the board, the grid and every sticky, and say what could not be seen.

Photo coordinates are pixels, origin at the top-left pixel's centre, x right, y down. Board
coordinates are described in scanner.board (origin at the top-left corner marker, unit = board
width).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from scanner import decoders, markers
from scanner.board import BoardFrame, complete_quad, frame_from_quad
from scanner.errors import ScanError
from scanner.grid import SEEN, UNKNOWN, Grid, build_grid
from scanner.imageio import load_image
from scanner.lens import estimate_lens
from scanner.manifest import Manifest, StickyEntry
from scanner.occlusion import UNREAD, occluded_cells
from scanner.results import Cell, DecodedCode, ScanResult, SeenSticky, Unplaced

# The centre of a header card seen from its marker, in marker sides in the marker's own frame
# (x along its top edge, y down its left edge): the kit's header cards centre the marker
# horizontally and put its centre 11 mm below the card's centre (40 mm marker, 90 mm card).
# A sticky centre closer to a cell boundary than this fraction of the cell's width, or than this
# many marker sides, is not placed: a header card taped 5 mm off its column's middle moves the
# boundary that much, and a sticky straddling a boundary is genuinely in doubt.
BOUNDARY_MARGIN = 0.05
BOUNDARY_MARGIN_SIDES = 0.6
# Time for QR crops around marker-like shapes the marker decoder could not read, per megapixel.
CROP_BUDGET_S_PER_MP = 0.01
CROP_BUDGET_MIN_S = 0.03
# Time for a second look at cells that hold something no code was read from.
CELL_RETRY_BUDGET_S = 0.04


@dataclass(frozen=True)
class _Read:
    """One sighting of a sticky: its centre in board coordinates and how it was found."""

    code: str
    centre: np.ndarray  # board coordinates
    side: float  # marker (or QR) side in board units, the scale of the sticky
    via: str
    uncertain: float = 0.0  # extra doubt about the centre, board units
    axes: tuple[np.ndarray, np.ndarray] | None = None  # the marker's x and y edges, board units


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
        return _Scan(img, gray, manifest, chain).run()
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
    out = [_marker_code(m, marker_dictionary) for m in found]
    qr = _dedupe([c for fn in chain for c in fn(gray)])
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


def decode_crop(gray: np.ndarray, chain, centre: np.ndarray, radius: float) -> list[DecodedCode]:
    """Read QR codes in a square crop around `centre` (photo pixels), enlarged and sharpened.

    A crop decodes where the whole frame does not: the decoder sees the code large and alone.
    Positions come back in photo pixels.
    """
    h, w = gray.shape
    x0, y0 = int(max(0, centre[0] - radius)), int(max(0, centre[1] - radius))
    x1, y1 = int(min(w, centre[0] + radius + 1)), int(min(h, centre[1] + radius + 1))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return []
    crop = gray[y0:y1, x0:x1]
    # A QR about as wide as the marker has ~29 modules; give each at least 4 pixels.
    f = float(np.clip(4.0 * 29 / max(radius / 1.5, 1.0), 1.0, 4.0))
    if f > 1.0:
        crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    blur = cv2.GaussianBlur(crop, (0, 0), 1.0 * f)
    sharp = cv2.addWeighted(crop, 1.8, blur, -0.8, 0)
    for fn in chain:
        got = fn(sharp)
        if got:
            return [
                DecodedCode(
                    text=g.text,
                    via=g.via,
                    x=x0 + (g.x + 0.5) / f - 0.5,
                    y=y0 + (g.y + 0.5) / f - 0.5,
                    corners=tuple(
                        (x0 + (a + 0.5) / f - 0.5, y0 + (b + 0.5) / f - 0.5) for a, b in g.corners
                    ),
                )
                for g in got
            ]
    return []


def _marker_code(m: markers.Marker, dictionary: str) -> DecodedCode:
    x, y = m.centre
    return DecodedCode(
        text=markers.marker_text(dictionary, m.id),
        via="aruco",
        x=x,
        y=y,
        corners=tuple((float(a), float(b)) for a, b in m.corners),
    )


def _dedupe(codes: list[DecodedCode]) -> list[DecodedCode]:
    """Drop repeated reads of one symbol (same text, centres within a few pixels)."""
    out: list[DecodedCode] = []
    for c in codes:
        if any(o.text == c.text and abs(o.x - c.x) + abs(o.y - c.y) < 8.0 for o in out):
            continue
        out.append(c)
    return out


class _Scan:
    def __init__(self, img, gray, manifest: Manifest, chain) -> None:
        self.img = img
        self.gray = gray
        self.m = manifest
        self.chain = chain
        self.dictionary = manifest.marker_dictionary
        self.warnings: list[str] = []
        self.qr_warnings: list[str] = []
        self.sticky_side = 0.0
        self.rejected: list[DecodedCode] = []
        self.codes: list[DecodedCode] = []
        self.role: dict[int, tuple[str, Any]] = {}
        for name, mid in manifest.corners.items():
            self.role[mid] = ("corner", name)
        for i, r in enumerate(manifest.rooms):
            self.role[r.marker_id] = ("room", i)
        for i, s in enumerate(manifest.slots):
            self.role[s.marker_id] = ("slot", i)
        for s in manifest.stickies:
            self.role[s.marker_id] = ("sticky", s)
        self.qr_role: dict[str, tuple[str, Any]] = {}
        for i, r in enumerate(manifest.rooms):
            if r.qr:
                self.qr_role[r.qr] = ("room", i)
        for i, s in enumerate(manifest.slots):
            if s.qr:
                self.qr_role[s.qr] = ("slot", i)
        for s in manifest.stickies:
            self.qr_role[s.qr] = ("sticky", s)

    # -- the steps ---------------------------------------------------------------------------

    def run(self) -> ScanResult:
        found, candidates = markers.detect(self.gray, dictionary=self.dictionary)
        have = {m.id for m in found}
        h, w = self.gray.shape
        if max(h, w) >= 64 and any(mid not in have for _, mid in self.m.corners.items()):
            # Large markers with wide black areas can defeat the fine threshold windows; at half
            # the size they read. Corners matter most, so look again when one is missing.
            more, _ = markers.detect(
                self.gray, dictionary=self.dictionary, long_side=max(h, w) // 2, retry_budget_s=0.0
            )
            found += [m for m in more if m.id not in have and m.id in self.role]
        self.codes, self.rejected = [], []
        qr_all = self._read_qr(self._sort_markers(found), candidates)
        result, again = self._analyse(found, qr_all)
        if again is not None:
            frame, grid, cells = again
            more = self._read_cells(frame, grid, cells, found)
            if more:
                result, _ = self._analyse(found + more, qr_all)
        return result

    def _analyse(self, found: list[markers.Marker], qr_all: list[DecodedCode]):
        """Turn the markers and QR codes read into a result; also say where to look again."""
        self.warnings = list(self.qr_warnings)
        self.codes, self.rejected = [], []
        self.doubtful: list[tuple[str, np.ndarray, str]] = []
        by_role = self._sort_markers(found)
        for c in qr_all:
            (self.codes if c.text in self.qr_role else self.rejected).append(c)
        qr_reads = [c for c in qr_all if c.text in self.qr_role]
        corners = by_role["corner"]
        offset = self.m.header_marker_offset
        room_px = {i: _card_centre(m, offset) for i, m in by_role["room"].items()}
        slot_px = {i: _card_centre(m, offset) for i, m in by_role["slot"].items()}
        groups = [np.array(list(room_px.values())), np.array(list(slot_px.values()))]
        upright = [
            mk.corners
            for mk in [*corners.values(), *by_role["room"].values(), *by_role["slot"].values()]
        ]
        known = [mk.corners for mk in found if mk.id in self.role]
        h, w = self.gray.shape
        # Header cards are taped by hand: a few millimetres (about a tenth of their marker) off
        # their row is placement, not lens.
        card_sides = [mk.side for mk in [*by_role["room"].values(), *by_role["slot"].values()]]
        noise = 0.12 * float(np.median(card_sides)) if card_sides else 0.0
        lens, k = estimate_lens(groups, width=w, height=h, noise=noise)
        if not lens.identity:
            self.warnings.append(f"lens distortion corrected (k = {k:.3f})")
        und = lens.undistort
        quad, why = complete_quad(
            {n: tuple(und([m.centre])[0]) for n, m in corners.items()},
            [und(g) if len(g) else g for g in groups],
            [und(q) for q in upright],
            [und(q) for q in known],
        )
        frame = None
        if quad is not None:
            missing = [n for n, _ in self.m.corners.items() if n not in corners]
            frame = frame_from_quad(quad, [und(q) for q in known])
            if frame is not None:
                frame = replace(frame, lens=lens)
            if frame is None:
                why = "the corner markers do not form a board outline"
            elif missing:
                self.warnings += [
                    f"corner marker {n} not found; used header cards" for n in missing
                ]
        if frame is None:
            self.warnings.insert(0, f"board not found: {why}")
            result = ScanResult(
                board_found=False,
                stickies=(),
                hidden_cells=(),
                warnings=tuple(self.warnings),
                rejected=tuple(self.rejected),
                codes=tuple(self.codes),
            )
            return result, None
        grid, grid_warnings = build_grid(
            rooms={i: frame.board([p])[0] for i, p in room_px.items()},
            slots={i: frame.board([p])[0] for i, p in slot_px.items()},
            n_rooms=len(self.m.rooms),
            n_slots=len(self.m.slots),
        )
        self.warnings += grid_warnings
        self._header_warnings(by_role)
        reads = self._sticky_reads(frame, by_role["sticky"], qr_reads)
        stickies = self._place(frame, grid, reads)
        cells = self._cells(frame, grid, reads)
        self.sticky_side = float(np.median([r.side for r in reads.values()])) if reads else 0.0
        result = ScanResult(
            board_found=True,
            stickies=tuple(stickies),
            hidden_cells=tuple((c.room, c.slot) for c in cells if c.hidden),
            warnings=tuple(self.warnings),
            rejected=tuple(self.rejected),
            board_quad=tuple((float(x), float(y)) for x, y in frame.photo_quad()),
            cells=tuple(cells),
            codes=tuple(self.codes),
            transposed=grid.transposed,
            unplaced=tuple(
                Unplaced(code=code, x=float(x), y=float(y), reason=why)
                for code, p, why in self.doubtful
                for x, y in frame.photo([p])
            ),
        )
        return result, (frame, grid, cells)

    def _read_cells(self, frame: BoardFrame, grid: Grid, cells: list[Cell], found) -> list:
        """Look again, on a rectified close-up, at cells that hold something unread.

        A marker far from the camera or seen at a slant is small and squashed in the photo;
        warped square to the board at about 48 px per marker it often reads. Returns the new
        markers, corners in photo pixels.
        """
        side = self.sticky_side
        if side <= 0:
            return []
        targets = [c for c in cells if c.reason == UNREAD]
        have = {m.id for m in found}
        ppu = 48.0 / side  # output pixels per board unit
        out: list[markers.Marker] = []
        end = time.perf_counter() + CELL_RETRY_BUDGET_S
        rooms = {r.name: i for i, r in enumerate(self.m.rooms)}
        slots = {s.name: i for i, s in enumerate(self.m.slots)}
        for cell in targets:
            if time.perf_counter() > end:
                break
            col, row = grid.col_row(rooms[cell.room], slots[cell.slot])
            x0, y0, x1, y1 = grid.cell_rect(col, row)
            mx, my = 0.15 * (x1 - x0), 0.15 * (y1 - y0)
            x0, y0, x1, y1 = x0 - mx, y0 - my, x1 + mx, y1 + my
            w, h = round((x1 - x0) * ppu), round((y1 - y0) * ppu)
            if not 16 <= w <= 900 or not 16 <= h <= 900:
                continue
            to_out = np.array([[ppu, 0, -x0 * ppu], [0, ppu, -y0 * ppu], [0, 0, 1.0]])
            close = frame.warp(self.gray, to_out, (w, h), flags=cv2.INTER_CUBIC)
            got, _ = markers.detect(close, dictionary=self.dictionary, retry_budget_s=0.0)
            back = np.linalg.inv(to_out)
            for g in got:
                if g.id in have or self.role.get(g.id, ("",))[0] != "sticky":
                    continue
                b = back[:2, :2] @ g.corners.astype(np.float64).T + back[:2, 2:3]
                pts = frame.photo(b.T)
                out.append(markers.Marker(id=g.id, corners=pts.astype(np.float32)))
                have.add(g.id)
        return out

    def _sort_markers(self, found: list[markers.Marker]) -> dict[str, dict]:
        by_id: dict[int, list[markers.Marker]] = defaultdict(list)
        for mk in found:
            by_id[mk.id].append(mk)
        out: dict[str, dict] = {"corner": {}, "room": {}, "slot": {}, "sticky": {}}
        for mid, ms in sorted(by_id.items()):
            role = self.role.get(mid)
            for mk in ms:
                code = _marker_code(mk, self.dictionary)
                (self.codes if role else self.rejected).append(code)
            if role is None:
                continue
            kind, key = role
            if kind == "sticky":
                out["sticky"][key.code] = ms
                continue
            if len(ms) > 1:
                self.warnings.append(
                    f"marker {mid} ({kind} {self._name(kind, key)}) seen twice; ignored"
                )
                continue
            out[kind][key] = ms[0]
        return out

    def _name(self, kind: str, key: Any) -> str:
        if kind == "room":
            return self.m.rooms[key].name
        if kind == "slot":
            return self.m.slots[key].name
        return str(key)

    def _header_warnings(self, by_role) -> None:
        for kind, items in (("room", self.m.rooms), ("slot", self.m.slots)):
            for i, item in enumerate(items):
                if i not in by_role[kind]:
                    self.warnings.append(f"{kind} card {item.name} not found")

    def _read_qr(self, by_role, candidates) -> list[DecodedCode]:
        """Read QR codes on the whole frame, then in crops around unread marker-like shapes."""
        reads = _dedupe(self.chain[0](self.gray))
        h, w = self.gray.shape
        budget = max(CROP_BUDGET_MIN_S, CROP_BUDGET_S_PER_MP * h * w / 1e6)
        sticky_markers = [mk for ms in by_role["sticky"].values() for mk in ms]
        if sticky_markers:
            ref = float(np.median([mk.side for mk in sticky_markers]))
        else:
            ref = 0.0
        offsets = {s.marker_offset for s in self.m.stickies}
        reach = max((max(abs(a), abs(b)) for a, b in offsets), default=1.0) + 1.2
        known = [np.array(mk.centre) for mk in sticky_markers]
        known += [np.array((c.x, c.y)) for c in reads]
        spots = []
        for c in self.rejected:  # markers the manifest does not know may be misread stickies
            spots.append((np.array((c.x, c.y)), _side(np.array(c.corners))))
        for q in candidates:
            s = _side(q)
            if ref and not 0.7 * ref <= s <= 1.4 * ref:
                continue
            if not ref and s < 12:
                continue
            spots.append((q.mean(axis=0), s))
        # A QR about as wide as the marker has ~29 modules; below ~1.3 px per module no crop,
        # however enlarged, reads, so small markers mean the markers alone must do.
        if ref and 0.9 * ref / 29 < 1.3:
            spots = [sp for sp in spots if sp[1] >= 1.3 * 29 / 0.9]
        t_crop_end = time.perf_counter() + budget
        for centre, side in spots:
            if time.perf_counter() > t_crop_end:
                self.qr_warnings.append("QR crop time budget used up; some crops not read")
                break
            if known and np.min(np.linalg.norm(np.asarray(known) - centre, axis=1)) < reach * side:
                continue
            got = self._decode_crop(centre, side * reach)
            reads += [g for g in got if g.text not in {r.text for r in reads}]
            known += [np.array((g.x, g.y)) for g in got]
        return reads

    def _decode_crop(self, centre: np.ndarray, radius: float) -> list[DecodedCode]:
        return decode_crop(self.gray, self.chain, centre, radius)

    def _refuse(self, code: str, why: str, where) -> None:
        """Leave a sticky out, say why, and keep where it was seen so its cells count as hidden."""
        self.warnings.append(f"sticky {code}: {why}; not placed")
        for p in where:
            self.doubtful.append((code, np.asarray(p, dtype=np.float64), why))

    def _sticky_reads(self, frame: BoardFrame, sticky_markers, qr_reads) -> dict[str, _Read]:
        """Combine marker and QR sightings into one centre per sticky, or none when in doubt."""
        entries = {s.code: s for s in self.m.stickies}

        qr_by_code: dict[str, list[DecodedCode]] = defaultdict(list)
        for c in qr_reads:
            kind, key = self.qr_role[c.text]
            if kind == "sticky":
                qr_by_code[key.code].append(c)

        def seen_at(code):
            pts = [frame.board([mk.centre])[0] for mk in sticky_markers.get(code, [])]
            return pts + [frame.board([(c.x, c.y)])[0] for c in qr_by_code.get(code, [])]

        by_marker: dict[str, _Read] = {}
        sides = []
        poses = {}
        for code, ms in sticky_markers.items():
            if len(ms) > 1:
                self._refuse(code, f"its marker was seen {len(ms)} times", seen_at(code))
                continue
            pose = _pose(frame.board(ms[0].corners))
            poses[code] = pose
            sides.append(pose[3])
        med = float(np.median(sides)) if sides else 0.0
        for code, (centre, ex, ey, side, ok) in poses.items():
            if not ok or (len(sides) >= 3 and not 0.6 * med <= side <= 1.6 * med):
                self._refuse(code, "marker pose implausible", seen_at(code))
                continue
            ox, oy = entries[code].marker_offset
            by_marker[code] = _Read(code, centre + ox * ex + oy * ey, side, "marker", axes=(ex, ey))

        # Learn where the sticky's centre lies in its QR's frame from stickies read both ways.
        samples: dict[tuple[float, float], list[np.ndarray]] = defaultdict(list)
        qr_pose = {}
        for code, cs in qr_by_code.items():
            if len(cs) != 1 or len(cs[0].corners) != 4:
                continue
            qb = frame.board(cs[0].corners)
            qr_pose[code] = _pose(qb)
            if code in by_marker and cs[0].via in ("zxing", "opencv"):
                qc, qx, qy, _, ok = qr_pose[code]
                if ok:
                    d = _in_frame(qx, qy, by_marker[code].centre - qc)
                    if d is not None:
                        samples[entries[code].marker_offset].append(d)
        learned = {k: np.median(v, axis=0) for k, v in samples.items() if len(v) >= 2}

        reads: dict[str, _Read] = dict(by_marker)
        for code, cs in qr_by_code.items():
            entry: StickyEntry = entries[code]
            if len(cs) > 1:
                self._refuse(code, f"its QR was read {len(cs)} times", seen_at(code))
                reads.pop(code, None)
                continue
            c = cs[0]
            qcentre = frame.board([(c.x, c.y)])[0]
            pose = qr_pose.get(code)
            key = entry.marker_offset
            if code in by_marker:
                mr = by_marker[code]
                d = None
                if pose is not None and pose[4] and key in learned and c.via in ("zxing", "opencv"):
                    qc, qx, qy, _, _ = pose
                    d = _in_frame(qx, qy, mr.centre - qc)
                if d is not None:
                    agree = np.linalg.norm(d - learned[key]) <= 0.5
                else:
                    agree = np.linalg.norm(mr.centre - qcentre) <= 2.5 * mr.side
                if not agree:
                    self._refuse(code, "QR and marker disagree", seen_at(code))
                    reads.pop(code, None)
                continue
            if pose is not None and key in learned and c.via in ("zxing", "opencv") and pose[4]:
                qc, qx, qy, qside, _ = pose
                a, b = learned[key]
                reads[code] = _Read(code, qc + a * qx + b * qy, qside, "qr", 0.05 * qside)
            else:
                side = pose[3] if pose is not None else med or 0.02
                # The QR lies somewhere on the sticky: allow for the whole sticky's reach.
                reach = (max(abs(v) for v in entry.marker_offset) + 0.7) * (med or side)
                reads[code] = _Read(code, qcentre, side, "qr", reach)

        # A QR naming one sticky where another sticky's marker says its own QR sits: one of the
        # two is misprinted or misread, and neither is trusted.
        for code, cs in qr_by_code.items():
            for c in cs:
                qcentre = frame.board([(c.x, c.y)])[0]
                pose = _pose(frame.board(c.corners)) if len(c.corners) == 4 else None
                for other, mr in by_marker.items():
                    if other == code:
                        continue
                    key = entries[other].marker_offset
                    if pose is not None and key in learned and c.via in ("zxing", "opencv"):
                        qc, qx, qy, qside, _ = pose
                        a, b = learned[key]
                        where = mr.centre - (a * qx + b * qy)
                        clash_here = np.linalg.norm(qcentre - where) < 0.5 * qside
                    else:
                        clash_here = np.linalg.norm(qcentre - mr.centre) < 1.4 * mr.side
                    if clash_here:
                        for gone in (code, other):
                            if gone in reads:
                                self._refuse(gone, "QR and marker disagree", seen_at(gone))
                                reads.pop(gone)

        # Two stickies cannot share a centre: a misread is likelier than a pile-up.
        codes = sorted(reads)
        clash = set()
        for i, a in enumerate(codes):
            for b in codes[i + 1 :]:
                ra, rb = reads[a], reads[b]
                if np.linalg.norm(ra.centre - rb.centre) < 0.8 * min(ra.side, rb.side):
                    clash |= {a, b}
        for code in sorted(clash):
            self._refuse(code, "overlaps another sticky's reading", seen_at(code))
            reads.pop(code)
        return reads

    def _place(self, frame: BoardFrame, grid: Grid, reads: dict[str, _Read]) -> list[SeenSticky]:
        entries = {s.code: s for s in self.m.stickies}
        # The marker side of a sticky, for the boundary margin; a QR read has no marker.
        sides = [r.side for r in reads.values() if r.via == "marker"]
        side = float(np.median(sides)) if sides else 0.0
        out = []
        for code in sorted(reads):
            r = reads[code]
            x, y = frame.photo([r.centre])[0]
            pad = BOUNDARY_MARGIN_SIDES * side + r.uncertain
            cs, ci = grid.columns.locate(r.centre[0], margin=BOUNDARY_MARGIN, pad=pad)
            rs, ri = grid.rows.locate(r.centre[1], margin=BOUNDARY_MARGIN, pad=pad)
            room = slot = None
            if cs == "outside" or rs == "outside":
                pass
            elif cs == "in" and rs == "in":
                room_i, slot_i = grid.room_slot(ci, ri)
                room, slot = self.m.rooms[room_i].name, self.m.slots[slot_i].name
            elif "unknown" in (cs, rs):
                what = "column" if cs == "unknown" else "row"
                self._refuse(code, f"in a {what} whose header card is missing", [r.centre])
                continue
            else:
                self._refuse(code, "too close to a cell boundary", [r.centre])
                continue
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
        return out

    def _cells(self, frame: BoardFrame, grid: Grid, reads: dict[str, _Read]) -> list[Cell]:
        h, w = self.gray.shape
        covered = occluded_cells(
            self.img, frame, grid, reads=list(reads.values()), offsets=self._reach()
        )
        # A sticky seen but not placed may be in any cell its paper reaches: none of them is
        # known to be empty.
        near: dict[tuple[int, int], str] = {}
        side = float(np.median([r.side for r in reads.values()])) if reads else 0.02
        reach = self._reach() * side
        for code, p, _ in self.doubtful:
            for col in range(len(grid.columns.centres)):
                for row in range(len(grid.rows.centres)):
                    x0, y0, x1, y1 = grid.cell_rect(col, row)
                    if x0 - reach <= p[0] <= x1 + reach and y0 - reach <= p[1] <= y1 + reach:
                        near.setdefault((col, row), code)
        cells = []
        for ri, room in enumerate(self.m.rooms):
            for si, slot in enumerate(self.m.slots):
                col, row = grid.col_row(ri, si)
                x0, y0, x1, y1 = grid.cell_rect(col, row)
                quad = frame.photo([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
                reason = ""
                if (
                    np.any(quad < -0.5)
                    or np.any(quad[:, 0] > w - 0.5)
                    or np.any(quad[:, 1] > h - 0.5)
                ):
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
                        quad=tuple((float(a), float(b)) for a, b in quad),
                        hidden=bool(reason),
                        reason=reason,
                    )
                )
        return cells

    def _reach(self) -> float:
        """Return the half-size of the largest sticky, in marker sides, from the offsets."""
        offs = [max(abs(a), abs(b)) for a, b in (s.marker_offset for s in self.m.stickies)]
        # The marker's half side plus its one-cell quiet zone lie beyond the offset.
        return (max(offs) if offs else 1.0) + 0.5 + 1.0 / 6.0 + 0.2


def _card_centre(m: markers.Marker, offset: tuple[float, float]) -> tuple[float, float]:
    """Return the photo position of the centre of the header card that carries marker m.

    `offset` leads from the marker's centre to the card's centre, in marker sides, in the
    marker's own frame (the manifest's header_marker_offset).
    """
    c = m.corners
    ex = ((c[1] - c[0]) + (c[2] - c[3])) / 2
    ey = ((c[3] - c[0]) + (c[2] - c[1])) / 2
    p = c.mean(axis=0) + offset[0] * ex + offset[1] * ey
    return float(p[0]), float(p[1])


def _in_frame(ex: np.ndarray, ey: np.ndarray, v: np.ndarray) -> np.ndarray | None:
    """Return v in the frame of the axes ex, ey (board units), or None for a degenerate frame."""
    m = np.column_stack([ex, ey])
    if abs(float(np.linalg.det(m))) < 1e-12:
        return None
    return np.linalg.solve(m, v)


def _side(q: np.ndarray) -> float:
    d = np.diff(np.vstack([q, q[:1]]), axis=0)
    return float(np.hypot(d[:, 0], d[:, 1]).mean())


def _pose(qb: np.ndarray):
    """Return (centre, x axis, y axis, side, plausible) of a square's corners in board units."""
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
    return qb.mean(axis=0), ex, ey, side, ok
