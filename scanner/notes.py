"""Find plain notes in a photo: sticky notes, index cards and sheets of paper without our codes.

Pure: OpenCV and numpy, no web framework and no database. Photo coordinates are pixels, origin
at the top-left pixel's centre, x right, y down. A note's quad runs clockwise from its top-left
corner: the corner that is top-left once the note is turned upright by the smallest rotation.

A note is a patch of paper that stands out from what is around it, by its colour (chroma in
Lab: yellow, pink, orange, green, blue notes) or by its lightness (white and pale notes against
a darker wall, or pale ones with a shadowed edge on a white board), and whose outline is a
rectangle of a note's size. The finder looks at several such masks of a reduced copy of the
photo, keeps the outlines that are rectangles (or a large enough rectangular fragment of one, for
a note partly covered by a person), and merges the candidates that several masks found.

The ink on a note, not its paper, identifies it: `ink_fingerprint` hashes the dark strokes of its
flat picture, so that two photographs of one note at different scales agree and two notes of
different colours with the same writing agree too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from scanner.board import BoardFrame
from scanner.grid import Grid
from scanner.imageio import load_image
from scanner.manifest import Manifest
from scanner.markers import Marker
from scanner.placement import BOUNDARY_MARGIN
from scanner.results import DecodedCode, Point, SeenNote

# As scanner.views: a picture below 2 px/mm aliases, above 8 adds bytes and no legibility.
MIN_VIEW_PX_PER_MM = 2.0
MAX_VIEW_PX_PER_MM = 8.0
# printables' kit: a header card's marker is 40 mm, a corner card's 84 mm. The manifest does not
# say; the photo's scale on the wall comes from them.
HEADER_MARKER_MM = 40.0
CORNER_MARKER_MM = 84.0
# A note's centre closer to a cell boundary than this share of its shorter side (or than
# placement.BOUNDARY_MARGIN of the cell) is in doubt, as a sticky's is.
BOUNDARY_NOTE_SHARE = 0.2

COLORS = ("yellow", "pink", "orange", "green", "blue", "white")

# Notes are 50 to 125 mm on a side; A6 sheets are 105 x 148 mm.
MIN_NOTE_MM = 45.0
MAX_NOTE_MM = 160.0
# Without a scale (a photo that is not of our board), a note is this share of the photo's
# shorter side: from a wall seen whole to a single note seen close.
MIN_NOTE_SHARE = 0.02
MAX_NOTE_SHARE = 0.7
# The finder works on a copy of the photo reduced to at most this long side: a 50 mm note stays
# above 20 px there for any camera that frames a board of up to 2.5 m.
WORK_LONG_SIDE = 1280
# The outline's area over its minimum rectangle's: a note, even curled, fills its rectangle.
MIN_RECTANGULARITY = 0.8
# A note's sides: from square sticky notes to index cards and A6 (148 / 105 = 1.41), a little more
# for a rectangle fragment of a covered note.
MAX_ASPECT = 2.2
# Lab chroma (sqrt(a^2 + b^2), 8-bit Lab) above which paper counts as coloured.
CHROMA_LEVELS = (14, 24, 36)
# Lightness above the local background by this much: a white note on a darker wall.
LIGHT_LEVELS = (10, 20)
# Two candidates overlapping by more than this share of the smaller are one note.
SAME_CANDIDATE_OVERLAP = 0.5
# At or above this fingerprint similarity two pictures show the same note (benchmarks/plain_notes.py
# measures it; see benchmarks/PLAIN_NOTES.md).
SAME_NOTE_SIMILARITY = 0.75
# A picture pixel this much darker than the paper around it is ink.
INK_CONTRAST = 40
# The margin of a note's picture left out of the fingerprint: edges, shadows, curl.
FINGERPRINT_MARGIN = 0.08
FINGERPRINT_SIZE = 32
FINGERPRINT_KEEP = 12  # DCT coefficients kept along each axis (the DC term is left out)

Quad = tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class FoundNote:
    """Describe a note found in a photo, before it is placed on a board.

    `quad` holds its corners in photo pixels, clockwise from its top-left; `x`, `y` its centre.
    `color` is one of COLORS; `partial` is True when only a rectangle fragment showed (covered,
    or cut by the photo's edge). `fingerprint` and `ink` as in scanner.results.SeenNote;
    `size_px` is the (width, height) of the quad along its own edges, photo pixels.
    """

    quad: Quad
    x: float
    y: float
    color: str
    fingerprint: str
    ink: float
    partial: bool
    size_px: tuple[float, float]

    def to_dict(self) -> dict:
        return {
            "quad": [[round(x, 1), round(y, 1)] for x, y in self.quad],
            "x": round(self.x, 1),
            "y": round(self.y, 1),
            "color": self.color,
            "fingerprint": self.fingerprint,
            "ink": round(self.ink, 4),
            "partial": self.partial,
        }


def find_notes(
    image: Any,
    *,
    exclude: Sequence[Sequence[Point]] = (),
    px_per_mm: float | None = None,
) -> tuple[FoundNote, ...]:
    """Return every plain note in the photo, in reading order (top to bottom, left to right).

    `image` is anything load_image accepts: any photo, of a board or not. `exclude` holds
    outlines (photo px, any polygon) of things that are not plain notes, such as our printed
    stickies and kit cards: a candidate with its centre in one, or mostly inside one, is left
    out. `px_per_mm` is the photo's scale on the wall when known (from the board), which bounds a
    note's size to 45-160 mm; without it, sizes are bounded by the photo's.
    """
    img = load_image(image)
    small, scale = _reduced(img)
    lo, hi = _size_bounds(small.shape[:2], px_per_mm, scale)
    candidates = []
    for mask in _masks(small):
        candidates += _rectangles(mask, lo, hi)
    picked = _merge(candidates)
    polys = [np.asarray(p, np.float64).reshape(-1, 2) for p in exclude]
    out = []
    for quad, partial in picked:
        q = _upright(quad * (1.0 / scale))
        if _excluded(q, polys):
            continue
        out.append(_describe(img, small, q, scale, partial))
    out.sort(key=lambda n: (round(n.y / max(1.0, n.size_px[1])), n.x))
    return tuple(out)


def note_picture(
    image: Any, quad: Sequence[Point], *, px_per_mm: float | None = None
) -> np.ndarray:
    """Return the note inside `quad` (photo px, clockwise from top-left) as a flat upright picture.

    `px_per_mm` is the photo's scale on the wall when known: the picture then has that many
    pixels per mm, kept within 2 to 8 as a sticky's view (scanner.views). Without it the picture
    keeps the photo's own pixels, at least 64 along the note's longer side. BGR, uint8.
    """
    img = load_image(image)
    q = np.asarray(quad, np.float64).reshape(4, 2)
    w = 0.5 * (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3]))
    h = 0.5 * (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1]))
    if px_per_mm is not None and px_per_mm > 0:
        # As a sticky's view (scanner.views): the photo's own resolution, within bounds.
        f = float(np.clip(px_per_mm, MIN_VIEW_PX_PER_MM, MAX_VIEW_PX_PER_MM)) / px_per_mm
    else:
        f = max(1.0, 64.0 / max(w, h, 1.0))
    vw, vh = max(8, round(w * f)), max(8, round(h * f))
    target = np.float32([[-0.5, -0.5], [vw - 0.5, -0.5], [vw - 0.5, vh - 0.5], [-0.5, vh - 0.5]])
    to_view = cv2.getPerspectiveTransform(q.astype(np.float32), target)
    return cv2.warpPerspective(img, to_view, (vw, vh), flags=cv2.INTER_AREA)


def ink_mask(picture: np.ndarray) -> np.ndarray:
    """Return a uint8 mask (255 = ink) of the strokes darker than the paper around them."""
    gray = picture if picture.ndim == 2 else cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    k = max(3, (min(h, w) // 6) | 1)
    # The paper's own lightness, strokes closed over: a light closing of the picture.
    paper = cv2.morphologyEx(
        gray, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    )
    diff = cv2.subtract(paper, gray)
    return cv2.compare(diff, INK_CONTRAST, cv2.CMP_GE)


def ink_share(picture: np.ndarray) -> float:
    """Return the share of the picture (its margin left out) that is ink: about 0 when blank."""
    m = _inner(ink_mask(picture))
    return float(np.count_nonzero(m)) / max(1, m.size)


def ink_fingerprint(picture: np.ndarray) -> str:
    """Return a hex perceptual hash of the ink on a note's flat, upright picture.

    The ink's darkness below the paper, the margin left out, is brought to a fixed size, and the
    signs of its low-frequency DCT coefficients against their median make the bits: a hash
    of where the writing is and how it is shaped, not of the paper's colour or the picture's size.
    """
    gray = picture if picture.ndim == 2 else cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    k = max(3, (min(h, w) // 6) | 1)
    paper = cv2.morphologyEx(
        gray, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    )
    dark = _inner(cv2.subtract(paper, gray)).astype(np.float32)
    n = FINGERPRINT_SIZE
    small = cv2.resize(dark, (n, n), interpolation=cv2.INTER_AREA)
    coeffs = cv2.dct(small)[:FINGERPRINT_KEEP, :FINGERPRINT_KEEP].flatten()[1:]
    bits = coeffs > np.median(coeffs)
    return _hex(bits)


def fingerprint_similarity(a: str, b: str) -> float:
    """Return how alike two fingerprints are: 1.0 for the same ink, about 0.5 for unrelated notes.

    The share of equal bits. At or above SAME_NOTE_SIMILARITY the two are the same note's
    (measured in benchmarks/PLAIN_NOTES.md); blank notes (ink about 0) all look alike.
    """
    if len(a) != len(b) or not a:
        return 0.0
    x = int(a, 16) ^ int(b, 16)
    return 1.0 - bin(x).count("1") / (4 * len(a))


def notes_on_board(
    img: np.ndarray,
    *,
    frame: BoardFrame,
    grid: Grid,
    found: Sequence[Marker],
    codes: Sequence[DecodedCode],
    manifest: Manifest,
) -> tuple[list[SeenNote], list[str]]:
    """Return the plain notes on a found board, each in its cell, and warnings for those in doubt.

    `found` are the markers read (any id) and `codes` the QR codes read: paper around one is a
    printed sticky, a kit card or a poster, not a plain note. A note is placed as a sticky is
    (scanner.placement): by its centre, left out when that is near a cell boundary or in a
    column or row whose header card is missing.
    """
    exclude = [m.corners for m in found] + [c.corners for c in codes if len(c.corners) == 4]
    notes = find_notes(img, exclude=exclude, px_per_mm=board_scale(found, manifest))
    if not notes:
        return [], []
    pts = [(n.x, n.y) for n in notes] + [p for n in notes for p in n.quad]
    board = frame.board(pts)
    centres, corners = board[: len(notes)], board[len(notes) :].reshape(-1, 4, 2)
    out, warnings = [], []
    for note, centre, quad in zip(notes, centres, corners, strict=True):
        short = min(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[3] - quad[0]))
        where = _note_cell(grid, centre, pad=BOUNDARY_NOTE_SHARE * float(short))
        if isinstance(where, str):
            warnings.append(f"plain note at ({note.x:.0f}, {note.y:.0f}): {where}; not placed")
            continue
        room = slot = None
        if where is not None:
            room, slot = manifest.rooms[where[0]].name, manifest.slots[where[1]].name
        out.append(
            SeenNote(
                quad=note.quad,
                x=note.x,
                y=note.y,
                color=note.color,
                room=room,
                slot=slot,
                fingerprint=note.fingerprint,
                ink=note.ink,
            )
        )
    return out, warnings


def board_scale(found: Sequence[Marker], manifest: Manifest) -> float | None:
    """Return the photo's pixels per mm on the wall from the kit's markers read, or None."""
    headers = {r.marker_id for r in manifest.rooms} | {s.marker_id for s in manifest.slots}
    corners = {mid for _, mid in manifest.corners.items()}
    scales = [m.side / HEADER_MARKER_MM for m in found if m.id in headers]
    scales += [m.side / CORNER_MARKER_MM for m in found if m.id in corners]
    return float(np.median(scales)) if scales else None


def _note_cell(grid: Grid, centre: np.ndarray, *, pad: float) -> tuple[int, int] | None | str:
    """Return (room index, slot index), None for off the grid, or why the cell is in doubt."""
    cs, ci = grid.columns.locate(float(centre[0]), margin=BOUNDARY_MARGIN, pad=pad)
    rs, ri = grid.rows.locate(float(centre[1]), margin=BOUNDARY_MARGIN, pad=pad)
    if cs == "outside" or rs == "outside":
        return None
    if cs == "in" and rs == "in":
        return grid.room_slot(ci, ri)
    if "unknown" in (cs, rs):
        return f"in a {'column' if cs == 'unknown' else 'row'} whose header card is missing"
    return "too close to a cell boundary"


# ----------------------------------------------------------------------------------------------


def _reduced(img: np.ndarray) -> tuple[np.ndarray, float]:
    """Return the photo reduced to WORK_LONG_SIDE at most, and its scale (reduced px per photo px)."""
    h, w = img.shape[:2]
    scale = min(1.0, WORK_LONG_SIDE / max(h, w))
    if scale >= 1.0:
        return img, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA), scale


def _size_bounds(shape, px_per_mm: float | None, scale: float) -> tuple[float, float]:
    """Return the shortest and longest side (reduced px) a note may have."""
    if px_per_mm:
        return MIN_NOTE_MM * px_per_mm * scale * 0.8, MAX_NOTE_MM * px_per_mm * scale * 1.15
    short = min(shape)
    return max(8.0, MIN_NOTE_SHARE * short), MAX_NOTE_SHARE * short


def _masks(small: np.ndarray) -> list[np.ndarray]:
    """Return binary masks in which paper stands out from what is around it."""
    lab = cv2.cvtColor(cv2.GaussianBlur(small, (3, 3), 0), cv2.COLOR_BGR2LAB)
    light, a, b = cv2.split(lab)
    chroma = cv2.magnitude(a.astype(np.float32) - 128, b.astype(np.float32) - 128)
    out = [cv2.compare(chroma, float(level), cv2.CMP_GE) for level in CHROMA_LEVELS]
    h, w = light.shape
    k = max(15, (max(h, w) // 8) | 1)
    background = cv2.blur(
        cv2.medianBlur(cv2.resize(light, None, fx=0.25, fy=0.25), 5), (k // 4 | 1,) * 2
    )
    background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
    lift = cv2.subtract(light, background)
    out += [cv2.compare(lift, level, cv2.CMP_GE) for level in LIGHT_LEVELS]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    return [cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel) for m in out]


def _rectangles(mask: np.ndarray, lo: float, hi: float) -> list[tuple[np.ndarray, bool, float]]:
    """Return (quad in reduced px, partial, rectangularity) of every note-like outline in mask."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        area = cv2.contourArea(c)
        if area < lo * lo * 0.5:
            continue
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(c)
        short, long_ = min(rw, rh), max(rw, rh)
        if short < lo or long_ > hi or long_ > MAX_ASPECT * short:
            continue
        hull = cv2.convexHull(c)
        rect = cv2.boxPoints(((cx, cy), (rw, rh), ang))
        fill = area / max(1.0, rw * rh)
        if fill < MIN_RECTANGULARITY:
            continue
        quad = _quad_of(hull, rect)
        out.append((quad, False, fill))
    return out


def _quad_of(hull: np.ndarray, rect: np.ndarray) -> np.ndarray:
    """Return the four hull points nearest the rectangle's corners: the note's own perspective."""
    pts = hull.reshape(-1, 2).astype(np.float64)
    quad = []
    for corner in rect:
        d = np.linalg.norm(pts - corner, axis=1)
        quad.append(pts[int(d.argmin())])
    q = np.array(quad)
    if abs(_area(q)) < 0.8 * abs(_area(rect)):
        return rect.astype(np.float64)
    return q


def _merge(cands: list[tuple[np.ndarray, bool, float]]) -> list[tuple[np.ndarray, bool]]:
    """Return one candidate per note: the most rectangular of those that overlap."""
    cands = sorted(cands, key=lambda c: -c[2])
    kept: list[tuple[np.ndarray, bool, float]] = []
    for quad, partial, fill in cands:
        if any(_overlap(quad, k[0]) > SAME_CANDIDATE_OVERLAP for k in kept):
            continue
        kept.append((quad, partial, fill))
    return [(q, p) for q, p, _ in kept]


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Return the intersection of two convex quads over the smaller's area."""
    inter, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    small = min(abs(_area(a)), abs(_area(b)))
    return float(inter) / small if small > 0 else 0.0


def _excluded(quad: np.ndarray, polys: list[np.ndarray]) -> bool:
    """Return True when the quad's centre lies in a polygon, or holds one's centre, or covers it."""
    centre = tuple(float(v) for v in quad.mean(axis=0))
    outline = quad.astype(np.float32).reshape(-1, 1, 2)
    for p in polys:
        if len(p) < 3:
            continue
        contour = p.astype(np.float32).reshape(-1, 1, 2)
        if cv2.pointPolygonTest(contour, centre, False) >= 0:
            return True
        inner = tuple(float(v) for v in p.mean(axis=0))
        if cv2.pointPolygonTest(outline, inner, False) >= 0:
            return True
        if (
            len(p) == 4
            and _overlap(quad, cv2.convexHull(p.astype(np.float32)).reshape(-1, 2)) > 0.3
        ):
            return True
    return False


def _upright(quad: np.ndarray) -> np.ndarray:
    """Return the quad clockwise (in photo px, y down) from the corner that is top-left upright.

    The top edge is the one whose direction is nearest to +x: the smallest turn makes it level.
    """
    q = np.asarray(quad, np.float64).reshape(4, 2)
    if _area(q) < 0:  # counter-clockwise on screen: reverse
        q = q[::-1]
    best = 0
    best_cos = -2.0
    for i in range(4):
        d = q[(i + 1) % 4] - q[i]
        c = d[0] / max(1e-9, float(np.hypot(*d)))
        if c > best_cos:
            best, best_cos = i, c
    return np.roll(q, -best, axis=0)


def _describe(
    img: np.ndarray, small: np.ndarray, q: np.ndarray, scale: float, partial: bool
) -> FoundNote:
    picture = note_picture(img, q)
    w = 0.5 * (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3]))
    h = 0.5 * (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1]))
    return FoundNote(
        quad=tuple((float(x), float(y)) for x, y in q),
        x=float(q[:, 0].mean()),
        y=float(q[:, 1].mean()),
        color=paper_color(picture),
        fingerprint=ink_fingerprint(picture),
        ink=ink_share(picture),
        partial=partial,
        size_px=(float(w), float(h)),
    )


# Hue (OpenCV's 0-180) ranges of the usual note colours.
_HUES = (
    ("orange", 5, 19),
    ("yellow", 19, 38),
    ("green", 38, 90),
    ("blue", 90, 135),
    ("pink", 135, 181),
)


def paper_color(picture: np.ndarray) -> str:
    """Return the colour name (COLORS) of a note's paper: the median of its lighter half."""
    lab = cv2.cvtColor(picture, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    light = lab[:, 0]
    paper = lab[light >= np.median(light)]
    a, b = float(np.median(paper[:, 1])) - 128, float(np.median(paper[:, 2])) - 128
    if np.hypot(a, b) < CHROMA_LEVELS[0]:
        return "white"
    hsv = cv2.cvtColor(picture, cv2.COLOR_BGR2HSV).reshape(-1, 3)
    hsv = hsv[light >= np.median(light)]
    hue = float(np.median(hsv[:, 0]))
    if hue < 5:
        return "pink"
    for name, lo, hi in _HUES:
        if lo <= hue < hi:
            return name
    return "white"


def _inner(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    my, mx = round(h * FINGERPRINT_MARGIN), round(w * FINGERPRINT_MARGIN)
    return a[my : h - my, mx : w - mx] if h - 2 * my > 2 and w - 2 * mx > 2 else a


def _hex(bits: np.ndarray) -> str:
    n = len(bits)
    value = int("".join("1" if b else "0" for b in bits), 2) if n else 0
    return f"{value:0{(n + 3) // 4}x}"


def _area(q: np.ndarray) -> float:
    x, y = q[:, 0], q[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))
