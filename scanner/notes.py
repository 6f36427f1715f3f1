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
from dataclasses import dataclass, field, replace
from functools import lru_cache
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
# The finder works on a copy of the photo reduced by a whole factor to at most this long side: a
# 1080p photo is searched at 960 px, where a 50 mm note on a 2 m wide board is 24 px a side, a
# 720p one at 640 px.
WORK_LONG_SIDE = 960
# The outline's area over its minimum rectangle's: a note, even curled, fills its rectangle.
MIN_RECTANGULARITY = 0.8
# A note's sides: from square sticky notes to index cards and A6 (148 / 105 = 1.41), a little more
# for a rectangle fragment of a covered note.
MAX_ASPECT = 2.2
# A patch this much longer than wide may be two notes side by side (scanner.notes._split_pair):
# their notches are this share of its short side deep, within this share of its length of the
# middle, and face each other.
SPLIT_ASPECT = 1.6
SEAM_DEPTH = 0.02
SEAM_MIN_PX = 1.5  # and at least this deep on the reduced copy: an edge's roughness is less
SEAM_MIDDLE = 0.2
SEAM_SLANT = 0.5  # a seam's run along the patch over its run across, at most
# A patch that may be several notes (at least this many of the smallest notes' area) is looked
# at for the seams between them (scanner.notes._seam_pieces) in the photo, up to SEAM_FINE times
# finer than the search, where the notes found are SEAM_NOTE_PX across; and where both its long
# sides step by SEAM_STEP of its width. A seam is a thin line or step of at least SEAM_LEVEL (8-bit
# Lab) that runs straight for at least SEAM_RUN of the smallest note, or SEAM_PATCH_RUN of the
# patch's shorter side; the cut is kept when the pieces that are notes cover SEAM_COVER of it.
SEAM_MIN_NOTES = 1.6
# With notes found to tell their size by, a patch is looked at for seams only when at least this
# many times their median size one way or the other.
SEAM_FAMILY = 1.4
SEAM_FINE = 2
SEAM_NOTE_PX = 100.0
SEAM_STEP = 0.03
SEAM_LEVEL = 6.0
SEAM_RUN = 0.5
SEAM_PATCH_RUN = 0.1
SEAM_COVER = 0.75
# A seam that fades out within this share of the smallest note of the patch's edge or of the
# next seam in line is carried on to it.
SEAM_GAP = 0.5
# A long patch is looked at for the bands of notes stuck over each other (_bands): along lines
# slanted up to BAND_SLANT degrees, each across at least BAND_ACROSS of the patch; an edge's mean
# evidence at least BAND_LEVEL and BAND_CONTRAST times the median, BAND_APART of the smallest
# note from the next.
BAND_SLANT = 4.5
# Notes stuck in rows and columns are turned less from their block (_grid_seams); a block has
# less than BLOCK_LIGHTER of it much lighter than its paper (_paper_block).
GRID_SLANT = 3.0
BLOCK_LIGHTER = 0.05
BAND_ACROSS = 0.6
BAND_LEVEL = 4.0
BAND_CONTRAST = 2.5
BAND_APART = 2.0
BAND_SHOWN = 0.5
# Below this many pixels a patch's slanted averages are read off its sheared pictures, above it
# off its integral images (_Across): the same sums, whichever costs less.
BAND_WARP_PX = 40000
# A straight run of which this share or more is ink is a line of writing, not a seam.
SEAM_INK = 0.5
# Ink is at least this share of the paper's lightness darker than the paper.
SEAM_INK_DEPTH = 0.35
# What differs this much in a and b (8-bit Lab) from a patch's paper lies on it.
FOREIGN_CHROMA = 24
# Any other patch is cut when its pieces that are notes cover at least this share of it.
SEAM_TILED = 0.3
# A piece whose shorter side is less than this share of the widest piece's is a sliver of a note.
SEAM_PIECE_SHARE = 0.45
# Patches whose boxes overlap by more than this share of their union are one patch.
SAME_PATCH = 0.8
# The search runs on a copy of the photo in which the smallest note is this many pixels a side.
WORK_NOTE_PX = 20.0
# A fragment of a covered note: at least this share of its rectangle, and this share of its
# outline on the rectangle's sides (a whole note: MIN_SUPPORT).
MIN_FRAGMENT_FILL = 0.55
MIN_FRAGMENT_SUPPORT = 0.62
MIN_SUPPORT = 0.6
# Strokes thinner than this share of the smallest note are writing, painted over in the search.
INK_STROKE_SHARE = 0.25
# In a photo of unknown scale, with at least FAMILY_NOTES whole notes found, a note's longer side
# is at least FAMILY_SMALLEST of their median's and its shorter side at most FAMILY_LARGEST times
# theirs: pads run from 51 to 152 mm, while a magnet is 20 mm and a printed page 210 mm wide.
FAMILY_NOTES = 3
FAMILY_SMALLEST = 0.4
FAMILY_SMALLEST_BLANK = 0.5
FAMILY_LARGEST = 2.5
# A candidate reaching within this many pixels of the reduced photo's edge is cut by the frame.
EDGE_PX = 1.5
# A note's outline, or a fragment's, passes near at least MIN_CORNERS corners of its rectangle,
# within CORNER_REACH of its shorter side: a round magnet's comes no nearer than 0.2 of its side.
MIN_CORNERS = 2
CORNER_REACH = 0.08
# An outline's support is measured on about this many of its points.
EDGE_SAMPLES = 120
# Lines thinner than this share of the smallest note are opened out of the masks.
OPEN_SHARE = 0.2
# Colour difference from the local background that counts as standing out: the sum of the
# differences of the three 8-bit Lab channels.
DELTA_LEVELS = (10,)
# Chroma (|a - 128| + |b - 128|, 8-bit Lab) from which paper counts as coloured.
CHROMA_LEVEL = 15
# Paper of less chroma than this is reported "white" (pale notes included).
WHITE_CHROMA = 10.0
# A white or pale note differs from the surface around it by at least this much (8-bit Lab:
# lightness gained plus the change in a and b).
PALE_DIFFERENCE = 7
# Lightness above the local background by this much: a white note on a darker wall or board
# (and below it: a note on a window, off a board).
LIGHT_LEVELS = (6,)
# Off a board, a note's edge, where the colour EDGE_REACH pixels either side of its outline
# differs by EDGE_LEVEL or more (8-bit Lab, the channels' differences summed), makes at least
# EDGE_SHARPNESS of that change within EDGE_STEP pixels (_looks_like_paper).
EDGE_REACH = 8
EDGE_LEVEL = 12
EDGE_STEP = 3
EDGE_SHARPNESS = 0.5
# Two candidates overlapping by more than this share of the smaller are one note, unless the
# smaller is less than INSIDE_SHARE of the larger: then it is something on the note.
SAME_CANDIDATE_OVERLAP = 0.5
INSIDE_SHARE = 0.25
# At or above this fingerprint similarity two pictures show the same note: benchmarks/plain_notes.py
# measured the same note in two photographs (another camera; moved to another cell) at 0.86 or
# more, and different notes at 0.79 at most (different texts; one text written twice looks alike).
SAME_NOTE_SIMILARITY = 0.83
# Ink is read on the note's picture brought to this many pixels along its longer side (about
# 1.3 px/mm on a 76 mm note, as a 1080p camera sees a wall), closed over this many pixels to
# find the paper; a pixel this much darker than the paper is ink.
INK_SIZE = 96
ANALYSIS_PX = 2 * INK_SIZE
INK_CLOSE = 9
INK_CONTRAST = 24
# Less ink than this share of a note is a blank note (noise, a crease, a speck).
BLANK_INK = 0.002
# The margin of a note's picture left out of the fingerprint: edges, shadows, curl.
FINGERPRINT_MARGIN = 0.04
# The fingerprint: cells a side; its smoothing and the layout taken out, in cells; how far two
# are slid over each other when compared, in cells (6 % of the note).
FINGERPRINT_SIZE = 64
FINGERPRINT_SMOOTH = 1.5
FINGERPRINT_LAYOUT = 4.0
FINGERPRINT_SHIFT = 4

Quad = tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class FoundNote:
    """Describe a note found in a photo, before it is placed on a board.

    `quad` holds its corners in photo pixels, clockwise from its top-left; `x`, `y` its centre.
    `color` is one of COLORS; `partial` is True when only a rectangle fragment showed (covered
    by a person or another note; a note cut by the photo's edge is not reported). `fingerprint`
    and `ink` as in scanner.results.SeenNote; `size_px` is the (width, height) of the quad along
    its own edges, photo pixels.
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
    stickies' markers and kit cards: a candidate with its centre in one, holding one's centre, or
    mostly over one is left out. `px_per_mm` is the photo's scale on the wall when known (from
    the board), which bounds a note's size to MIN_NOTE_MM-MAX_NOTE_MM; without it, sizes are
    bounded by the photo's and by the notes written on (_in_family). A note cut by the photo's
    edge is left out.
    """
    img = load_image(image)
    small, scale = _reduced(img, px_per_mm)
    lo, hi = _size_bounds(small.shape[:2], px_per_mm, scale)
    polys = [np.asarray(p, np.float64).reshape(-1, 2) for p in exclude]
    polys = [p for p in polys if len(p) >= 3]
    # The codes' centres in the reduced photo: a candidate holding one is not looked at further.
    centres = np.array([p.mean(axis=0) for p in polys]).reshape(-1, 2)
    codes = (centres + 0.5) * scale - 0.5
    search = _Search(lo, hi, set(), codes, img, scale, small.shape[1::-1], bool(px_per_mm))
    masks, lab, hue, kernel = _masks(small, lo, hi, darker=not px_per_mm)
    candidates = []
    for mask in masks:
        candidates += _rectangles(mask, search)
    candidates += _hue_candidates(masks[-1], hue, kernel, search)
    pieces = _cut_patches(candidates, search)
    # A patch cut along its seams in one mask is several notes, whole as it may look in another.
    candidates = [c for c in candidates if not search.was_cut(c[0])]
    # A piece holding a smaller note is a board's cell or a stretch of wall, not a note.
    candidates += [p for p in pieces if not _holds_note(p[0], candidates)]
    # A note cut by the photo's edge has an outline and a picture nobody can tell; paper along
    # the edge is more often a window frame, a door or a wall's end than a note.
    candidates = [c for c in candidates if not _at_edge(c[0], search.size)]
    boxes = np.array([[*p.min(axis=0), *p.max(axis=0)] for p in polys]).reshape(-1, 4)

    # Whether each patch cut into notes stands out: one look at each, whatever its pieces.
    patches: dict[int, bool] = {}

    def accept(quad: np.ndarray) -> bool:
        if _excluded(_upright(quad * (1.0 / scale)), polys, boxes):
            return False
        if px_per_mm is None and not _looks_like_paper(lab, quad):
            return False
        if _stands_out(lab, quad):
            return True
        # Off a board, a white note amid white notes stands out with the patch it was cut from.
        patch = search.patch_of(quad)
        if px_per_mm is None and id(patch) not in patches:
            patches[id(patch)] = _stands_out(lab, patch)
        return px_per_mm is None and patches[id(patch)]

    out = [
        _describe(img, _upright(quad * (1.0 / scale)), partial)
        for quad, partial in _merge(candidates, accept)
    ]
    if px_per_mm is None:
        out = _in_family(out)
    out.sort(key=lambda n: (n.y, n.x))
    return tuple(out)


def _in_family(notes: list[FoundNote]) -> list[FoundNote]:
    """Return the notes whose size is of a kind with the others', in a photo of unknown scale.

    The notes on one wall come from a few pads: a patch far smaller than most (a magnet, a pin,
    the white inside a letter) or far larger (a printed page, a window pane) is something else.
    The family is the notes written on, when there are FAMILY_NOTES of them: a blank patch must
    come nearer their size than a written one. With fewer whole notes there is no family.
    """
    whole = [n for n in notes if not n.partial]
    written = [n for n in whole if n.ink >= BLANK_INK]
    family = written if len(written) >= FAMILY_NOTES else whole
    if len(family) < FAMILY_NOTES:
        return notes
    longest = float(np.median([max(n.size_px) for n in family]))
    widest = float(np.median([min(n.size_px) for n in family]))

    def smallest(n: FoundNote) -> float:
        return FAMILY_SMALLEST if n.ink >= BLANK_INK else FAMILY_SMALLEST_BLANK

    return [
        n
        for n in notes
        if max(n.size_px) >= smallest(n) * longest and min(n.size_px) <= FAMILY_LARGEST * widest
    ]


def note_picture(
    image: Any, quad: Sequence[Point], *, px_per_mm: float | None = None
) -> np.ndarray:
    """Return the note inside `quad` (photo px, clockwise from top-left) as a flat upright picture.

    `px_per_mm` is the photo's scale on the wall when known: the picture then has that many
    pixels per mm, kept within 2 to 8 as a sticky's view (scanner.views). Without it the picture
    keeps the photo's own pixels, at least 64 along the note's longer side. BGR, uint8.
    """
    return _warp(load_image(image), np.asarray(quad, np.float64).reshape(4, 2), px_per_mm)


def _warp(img: np.ndarray, q: np.ndarray, px_per_mm: float | None) -> np.ndarray:
    """Return note_picture of a BGR array, whatever its size."""
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
    """Return a uint8 mask (255 = ink) of the strokes darker than the paper around them.

    The picture is first brought to INK_SIZE pixels along its longer side, so that the mask
    means the same at any photo resolution.
    """
    return cv2.compare(_darkness(picture), INK_CONTRAST, cv2.CMP_GE)


def ink_share(picture: np.ndarray) -> float:
    """Return the share of the picture (its margin left out) that is ink: about 0 when blank."""
    return _share_of_ink(_darkness(picture))


def _share_of_ink(darkness: np.ndarray) -> float:
    m = _inner(darkness) >= INK_CONTRAST
    return float(np.count_nonzero(m)) / max(1, m.size)


def ink_fingerprint(picture: np.ndarray) -> str:
    """Return a hex perceptual fingerprint of the ink on a note's flat, upright picture.

    The ink's darkness below its paper (not the paper's colour), the margin left out, is brought
    to FINGERPRINT_SIZE x FINGERPRINT_SIZE and band-passed: smoothed to what a 1080p camera
    resolves, less its layout at large (where the lines of writing are, which most notes share).
    What remains is the shape of the words; each cell is one hex digit (0 to 15, 8 is none), so
    that fingerprint_similarity can slide one over the other a little.
    """
    return _fingerprint_of(_darkness(picture))


def _fingerprint_of(darkness: np.ndarray) -> str:
    """Return ink_fingerprint of a picture's darkness (_darkness)."""
    n = FINGERPRINT_SIZE
    if _share_of_ink(darkness) < BLANK_INK:
        return "8" * (n * n)  # blank: nothing to tell it by
    dark = _inner(darkness).astype(np.float32)
    grid = cv2.resize(dark, (n, n), interpolation=cv2.INTER_AREA)
    grid = cv2.GaussianBlur(grid, (0, 0), FINGERPRINT_SMOOTH)
    band = grid - cv2.GaussianBlur(grid, (0, 0), FINGERPRINT_LAYOUT)
    spread = float(band.std())
    if spread < 1e-3:
        return "8" * (n * n)
    digits = np.clip(np.round(band * (7.0 / (2.0 * spread))), -7, 7).astype(int) + 8
    return _HEX_DIGITS[digits.flatten()].tobytes().decode("ascii")


def fingerprint_similarity(a: str, b: str) -> float:
    """Return how alike the ink of two fingerprints is: 1.0 the same, about 0.4 unrelated notes.

    The normalised correlation of the two, the better of their alignments within
    FINGERPRINT_SHIFT cells (a note's outline found a few millimetres apart), 0 when negative.
    At or above SAME_NOTE_SIMILARITY two fingerprints are one note's (benchmarks/PLAIN_NOTES.md
    measures the separation). A blank note (no ink) is like nothing: 0.0.
    """
    ga, gb = _grid_of(a), _grid_of(b)
    if ga is None or gb is None or ga.shape != gb.shape:
        return 0.0
    fa, fb = ga.astype(np.float32), gb.astype(np.float32)
    r = FINGERPRINT_SHIFT
    n = fa.shape[0]
    best = -1.0
    for x, y in ((fa, fb), (fb, fa)):
        core = y[r : n - r, r : n - r]
        if float(core.std()) < 1e-6 or float(x.std()) < 1e-6:
            return 0.0
        best = max(best, float(cv2.matchTemplate(x, core, cv2.TM_CCOEFF_NORMED).max()))
    return round(max(0.0, best), 4)


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", np.uint8)
# Each ASCII byte's hex value, 255 for a byte that is not a hex digit.
_HEX_VALUES = np.full(256, 255, np.uint8)
_HEX_VALUES[_HEX_DIGITS] = np.arange(16, dtype=np.uint8)
_HEX_VALUES[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16, dtype=np.uint8)
# The app compares one seen note with every known note, and the known ones again at each scan:
# parsed fingerprints are kept (4 KB each as int8), a few hundred notes' looks and more.
FINGERPRINT_CACHE = 2048


@lru_cache(maxsize=FINGERPRINT_CACHE)
def _grid_of(fingerprint: str) -> np.ndarray | None:
    """Return a fingerprint's cells (-8..7) as a square read-only int8 array, or None when it is
    not one."""
    n = int(round(len(fingerprint) ** 0.5))
    if n < 2 * FINGERPRINT_SHIFT + 2 or n * n != len(fingerprint) or not fingerprint.isascii():
        return None
    values = _HEX_VALUES[np.frombuffer(fingerprint.encode("ascii"), np.uint8)]
    if np.any(values == 255):
        return None
    cells = (values.astype(np.int8) - 8).reshape(n, n)
    # Shared by every caller through the cache: nobody may change it.
    cells.setflags(write=False)
    return cells


def _darkness(picture: np.ndarray) -> np.ndarray:
    """Return how much darker than its paper each pixel is, at INK_SIZE px along the longer side."""
    gray = picture if picture.ndim == 2 else cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    f = INK_SIZE / max(h, w, 1)
    size = (max(8, round(w * f)), max(8, round(h * f)))
    inter = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    gray = cv2.resize(gray, size, interpolation=inter)
    # The paper's own lightness, strokes closed over: a closing wider than a stroke.
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (INK_CLOSE, INK_CLOSE))
    return cv2.subtract(cv2.morphologyEx(gray, cv2.MORPH_CLOSE, k), gray)


def notes_on_board(
    img: np.ndarray,
    *,
    frame: BoardFrame,
    grid: Grid,
    found: Sequence[Marker],
    codes: Sequence[DecodedCode],
    manifest: Manifest,
) -> tuple[list[SeenNote], list[str], list[np.ndarray]]:
    """Return the plain notes on a found board, each in its cell, warnings for those in doubt,
    and the outlines (board coordinates, 4 x 2) of every note found, placed or not.

    `found` are the markers read (any id) and `codes` the QR codes read: paper around one is a
    printed sticky, a kit card or a poster, not a plain note. A note is placed as a sticky is
    (scanner.placement): by its centre, left out when that is near a cell boundary or in a
    column or row whose header card is missing. The outlines let the cells' occlusion test take
    a note's paper for what it is (scanner.cells.cell_states).
    """
    outlines = {s.marker_id: s.outline for s in manifest.stickies if s.outline is not None}
    exclude = [_paper_of(m, outlines.get(m.id)) for m in found]
    exclude += [c.corners for c in codes if len(c.corners) == 4]
    notes = find_notes(img, exclude=exclude, px_per_mm=board_scale(found, manifest))
    if not notes:
        return [], [], []
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
    return out, warnings, list(corners)


# The unit square of a marker's own frame (marker sides), corners tl, tr, br, bl.
_UNIT_SQUARE = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
# Paper around a marker that is not a sticky's with a known outline: a kit card reaches about
# this many marker sides out (a header card is 100 x 90 mm around a 40 mm marker).
CARD_SIDES = 2.6
CODE_PAPER_SIDES = 3.2


def _paper_of(marker: Marker, outline) -> np.ndarray:
    """Return the outline (photo px) of the paper a marker is printed on, as far as known.

    A sticky's `outline` comes from the manifest, in marker sides in the marker's frame, carried
    into the photo by the marker's pose; any other marker (None) gets a square of CARD_SIDES sides.
    """
    corners = np.asarray(marker.corners, np.float64).reshape(4, 2)
    outline = (
        np.asarray(outline, np.float64).reshape(-1, 2)
        if outline is not None
        else _UNIT_SQUARE * CARD_SIDES
    )
    ones = np.hstack([_UNIT_SQUARE, np.ones((4, 1))])
    affine, *_ = np.linalg.lstsq(ones, corners, rcond=None)
    return np.hstack([outline, np.ones((len(outline), 1))]) @ affine


def paper_around(corners: Sequence[Point], *, sides: float = CODE_PAPER_SIDES) -> np.ndarray:
    """Return a square `sides` code sides across around a code's corners (photo px).

    Without a manifest, where a code's paper reaches is unknown: a printed sticky reaches about
    three marker sides from its marker, a kit card less.
    """
    c = np.asarray(corners, np.float64).reshape(-1, 2)
    ones = np.hstack([_UNIT_SQUARE, np.ones((4, 1))])
    affine, *_ = np.linalg.lstsq(ones, c[:4], rcond=None)
    return np.hstack([_UNIT_SQUARE * sides, np.ones((4, 1))]) @ affine


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


def _reduced(img: np.ndarray, px_per_mm: float | None) -> tuple[np.ndarray, float]:
    """Return the photo reduced for the search, and its scale (reduced px per photo px).

    The photo is brought to WORK_LONG_SIDE or less, and further when its scale is known: down to
    where the smallest note keeps WORK_NOTE_PX pixels a side. The reduction is by a whole factor.
    """
    h, w = img.shape[:2]
    # Never larger than WORK_LONG_SIDE: notes are large, and the search's cost is its pixels'.
    k = -(-max(h, w) // WORK_LONG_SIDE)
    if px_per_mm:
        k = max(k, int(max(1.0, MIN_NOTE_MM * px_per_mm / WORK_NOTE_PX)))
    if k == 1:
        return img, 1.0
    size = (w // k, h // k)
    # Linear at a whole factor averages a 2 x 2 block per pixel: a tenth of an area average's
    # cost on a 12 MP photo, and paper is flat enough for the aliasing not to matter.
    small = cv2.resize(img[: size[1] * k, : size[0] * k], size, interpolation=cv2.INTER_LINEAR)
    return small, 1.0 / k


def _size_bounds(shape, px_per_mm: float | None, scale: float) -> tuple[float, float]:
    """Return the shortest and longest side (reduced px) a note may have."""
    if px_per_mm:
        # Perspective makes the near end of a tilted board larger than its middle.
        return MIN_NOTE_MM * px_per_mm * scale * 0.75, MAX_NOTE_MM * px_per_mm * scale * 1.2
    short = min(shape)
    return max(8.0, MIN_NOTE_SHARE * short), MAX_NOTE_SHARE * short


def _masks(small: np.ndarray, lo: float, hi: float, *, darker: bool = True):
    """Return binary masks in which paper stands out from the wall or board around it, the
    reduced photo in Lab with its writing painted over, its hue where it is coloured, and the
    opening's kernel. `darker` adds the mask of paper darker than what is around it (notes on a
    window; not on our board's white paper, where every coloured note stands out already).

    The background is the median colour over a window of 1.5 large notes: mostly the board's paper
    or the wall, whatever lies on it. A note differs from it in colour and lightness (all
    notes), in chroma (coloured ones), in hue (one colour from another where notes overlap), or
    in lightness (white ones lighter, and notes on a window darker than the light behind). Lines thinner than a fifth of the smallest note (tape, pen strokes,
    the gap between two notes) are opened away.
    """
    # Writing is thin and darker than its paper: a closing of the photo paints it over with the
    # paper around it, so that a line written near a note's edge does not bite into its outline.
    stroke = max(3, round(INK_STROKE_SHARE * lo)) | 1
    small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((stroke, stroke), np.uint8))
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB)
    h, w = lab.shape[:2]
    quarter = cv2.resize(lab, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    # The window (a quarter-size pixel is 4 px) spans one and a half of the largest notes: their
    # middles too see mostly what is around them, and it stays within a board's edges.
    k = min(255, max(5, round(1.4 * min(hi, 16 * lo) / 4)) | 1)
    back = np.dstack([cv2.medianBlur(quarter[..., c], k) for c in range(3)])
    back = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR)
    # Distances in 8-bit Lab as sums of channel differences: integer work, and a note's
    # difference from its background adds up the same way whatever its colour.
    delta = _channel_sum(cv2.absdiff(lab, back))
    chroma = _channel_sum(cv2.absdiff(lab, (0, 128, 128, 0)), first=1)
    lift = cv2.subtract(lab[..., 0], back[..., 0])
    side = max(3, round(OPEN_SHARE * lo)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))

    def opened(m: np.ndarray) -> np.ndarray:
        return cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)

    out = [opened(cv2.compare(delta, t, cv2.CMP_GE)) for t in DELTA_LEVELS]
    out += [opened(cv2.compare(lift, t, cv2.CMP_GE)) for t in LIGHT_LEVELS]
    if darker:
        # Notes on a window are darker than the light behind them.
        drop = cv2.subtract(back[..., 0], lab[..., 0])
        out += [opened(cv2.compare(drop, t, cv2.CMP_GE)) for t in LIGHT_LEVELS]
    coloured = opened(cv2.compare(chroma, CHROMA_LEVEL, cv2.CMP_GE))
    out.append(coloured)
    # Hue splits notes of two colours that touch (_hue_candidates); it is read only where paper
    # is coloured.
    hue = cv2.bitwise_and(cv2.cvtColor(small, cv2.COLOR_BGR2HSV_FULL)[..., 0], coloured)
    return out, lab, hue, kernel


def _channel_sum(image: np.ndarray, *, first: int = 0) -> np.ndarray:
    """Return the sum of a uint8 image's channels from `first` on, at most 255."""
    channels = cv2.split(image)[first:]
    out = channels[0]
    for c in channels[1:]:
        out = cv2.add(out, c)
    return out


def _stands_out(lab: np.ndarray, quad: np.ndarray) -> bool:
    """Return True when the paper inside `quad` (reduced px) differs from the lighter surface
    around it: lighter (white notes) or in hue (coloured and pale ones).

    A patch of white board between tape and notes is rectangular and lighter than the median
    around it, but it is the board beyond its neighbours; a white or pale note is not.
    """
    centre = quad.mean(axis=0)
    h, w = lab.shape[:2]
    outer = centre + (quad - centre) * 1.5
    x0, y0 = np.maximum(np.floor(outer.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(outer.max(axis=0)).astype(int) + 1, (w, h))
    crop = lab[y0:y1, x0:x1]
    if crop.size == 0:
        return False

    def fill(scale: float, value: int = 255, m: np.ndarray | None = None) -> np.ndarray:
        m = np.zeros(crop.shape[:2], np.uint8) if m is None else m
        poly = centre + (quad - centre) * scale - (x0, y0)
        cv2.fillPoly(m, [np.round(poly).astype(np.int32)], value)
        return m

    inside, ring = fill(0.8), fill(1.1, 0, fill(1.5))
    if not cv2.countNonZero(inside) or not cv2.countNonZero(ring):
        return True
    paper = [_middle_of(crop, inside, c) for c in range(3)]
    # The surface around: the lighter part of the ring (board or wall, not tape, notes or shadow).
    light = crop[..., 0]
    least = np.percentile(light[ring > 0].astype(np.float32), 60)
    ring[light < least] = 0
    around = [_middle_of(crop, ring, c) for c in range(3)]
    # A coloured or pale note differs from it in hue, a white one in lightness (a darker one is
    # a shadow). Hue is told against the surface, not against grey: under warm light a white
    # board is as yellow as a pale note in daylight, and the white inside a letter on it is
    # no note.
    lighter = max(0.0, float(paper[0] - around[0]))
    return bool(lighter + abs(paper[1] - around[1]) + abs(paper[2] - around[2]) >= PALE_DIFFERENCE)


def _looks_like_paper(lab: np.ndarray, quad: np.ndarray) -> bool:
    """Return True when the outline `quad` (reduced px) may be a sheet of paper's: sharp.

    Paper lies flat on the wall, in focus, and its edge steps at once: across its outline, most
    of the change in colour (EDGE_SHARPNESS) is made within a few pixels, where the outline
    stands out at all (EDGE_LEVEL). A patch of sky or street through a window, out of focus,
    fades over many pixels.
    """
    h, w = lab.shape[:2]
    centre = quad.mean(axis=0)
    # Points along the sides, clear of the corners, and the outward normal at each.
    t = np.linspace(0.15, 0.85, 12)
    a, b = quad, np.roll(quad, -1, axis=0)
    pts = (a[:, None] + (b - a)[:, None] * t[None, :, None]).reshape(-1, 2)
    normal = (np.roll(quad, -1, axis=0) - quad)[:, ::-1] * (1, -1)
    normal = normal / np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    normal *= np.sign(np.sum(((a + b) / 2 - centre) * normal, axis=1))[:, None]
    normal = np.repeat(normal, len(t), axis=0)

    # The colour across the outline, EDGE_REACH pixels either side of it.
    d = np.arange(-EDGE_REACH, EDGE_REACH + 1, dtype=np.float64)
    at = np.clip(np.round(pts[:, None] + d[None, :, None] * normal[:, None]), 0, (w - 1, h - 1))
    at = at.astype(int)
    profile = lab[at[..., 1], at[..., 0]].astype(np.float32)
    total = np.abs(profile[:, -1] - profile[:, 0]).sum(axis=1)
    # The steepest change over EDGE_STEP pixels, wherever the edge lies near the outline.
    step = np.abs(profile[:, EDGE_STEP:] - profile[:, :-EDGE_STEP]).sum(axis=2).max(axis=1)
    clear = total >= EDGE_LEVEL
    if np.count_nonzero(clear) < 0.25 * len(total):
        return True
    return float(np.median(step[clear] / total[clear])) >= EDGE_SHARPNESS


@dataclass
class _Search:
    """Hold what one search of a photo knows: note sizes, what was found, what to leave out.

    `lo` and `hi` bound a note's sides (reduced px); `seen` holds the rounded rectangles of whole
    notes already found (most notes stand out in several masks, and one look at each is enough);
    `codes` are the centres (reduced px) of our codes, whose paper is not a plain note's. `photo`
    is the photo itself and `scale` the reduced copy's pixels per photo pixel: seams between
    notes are looked for in the photo, finer than the search. `size` is the reduced copy's
    (width, height). `scaled` says the photo's scale on the wall is known (a board's).
    """

    lo: float
    hi: float
    seen: set[tuple[int, ...]]
    codes: np.ndarray
    photo: np.ndarray
    scale: float
    size: tuple[int, int]
    scaled: bool = False
    # The boxes (x0, y0, x1, y1, reduced px) of the patches looked at for seams, and of those cut
    # with their rectangles.
    looked: list[tuple[int, int, int, int]] = field(default_factory=list)
    cut: list[tuple[int, int, int, int]] = field(default_factory=list)
    # The outlines (and minimum rectangles) that may be several notes, for _cut_patches.
    patches: list[tuple[np.ndarray, Any]] = field(default_factory=list)
    # The rectangle of the patch each piece (by its quad's id) was cut from.
    cut_from: dict[int, np.ndarray] = field(default_factory=dict)

    def was_cut(self, quad: np.ndarray) -> bool:
        """Return True when the quad (reduced px) covers a patch that was cut into notes."""
        box = (*quad.min(axis=0), *quad.max(axis=0))
        return any(_box_overlap(box, other) > SAME_PATCH for other in self.cut)

    def patch_of(self, quad: np.ndarray) -> np.ndarray:
        """Return the rectangle of the patch a quad was cut from, else the quad itself.

        Notes of one patch stand out from the wall together: a white note amid white notes
        differs from its neighbours only by the seams between them. (A board's own paper, cut
        along its tape into cells, stands out from the wall too: on a board each note must
        stand out on its own.)
        """
        return self.cut_from.get(id(quad), quad)

    def key(self, rect) -> tuple[int, ...]:
        """Return the rounded (centre, short side, long side) of a minimum rectangle."""
        (cx, cy), (rw, rh), _ = rect
        return (round(cx / 3), round(cy / 3), round(min(rw, rh) / 3), round(max(rw, rh) / 3))


def _hue_candidates(coloured, hue, kernel, search: _Search) -> list:
    """Return the candidates of each hue band within the coloured patches of a note's size.

    Each patch is looked at on its own crop: the hue bands cost what the patches' area does.
    A printed sticky alone is no patch to split.
    """
    contours, _ = cv2.findContours(coloured, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    h, w = coloured.shape
    out: list = []
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        if max(bw, bh) < search.lo:
            continue
        # A patch no larger than one note that holds one of our codes is that sticky alone.
        reach = max(bw, bh)
        if reach <= search.hi and _holds_code(search.codes, (x + bw / 2, y + bh / 2), reach, c):
            continue
        x0, y0, x1, y1 = max(x - 2, 0), max(y - 2, 0), min(x + bw + 2, w), min(y + bh + 2, h)
        crop = hue[y0:y1, x0:x1]
        for _, h0, h1 in _HUE_BANDS:
            band = cv2.morphologyEx(cv2.inRange(crop, max(1, h0), h1 - 1), cv2.MORPH_OPEN, kernel)
            out += _rectangles(band, search, offset=(x0, y0))
    return out


def _rectangles(
    mask: np.ndarray, search: _Search, *, offset: tuple[int, int] = (0, 0)
) -> list[tuple[np.ndarray, bool, float]]:
    """Return (quad in reduced px, partial, score) of every note-like outline in the mask.

    A whole note fills its minimum rectangle; a note partly covered (by a person, another note,
    the photo's edge) leaves a fragment whose outline still runs along most of its rectangle's
    sides. Anything else (heads, bodies, blobs of several notes) does neither. Two notes of one
    colour side by side are cut between their notches (_split_pair); a patch that may be more
    notes is kept in `search.patches` for _cut_patches. `mask` may be a crop of the reduced
    photo at `offset`.
    """
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE, offset=offset)
    out = []
    for c in contours:
        # An outline shorter than three of the smallest note's sides cannot be a note's.
        if len(c) < 3 * search.lo:
            continue
        rect = cv2.minAreaRect(c)
        if search.key(rect) in search.seen:
            continue
        # Two notes side by side, cut between their notches, else any number along their seams.
        (cx, cy), (rw, rh), ang = rect
        short, long_ = min(rw, rh), max(rw, rh)
        pair = (
            search.lo <= short
            and SPLIT_ASPECT * short <= long_ <= min(search.hi, MAX_ASPECT * short)
            and not _holds_code(search.codes, (cx, cy), long_, c)
            and _split_pair(c, (cx, cy), (rw, rh, ang), search)
        )
        if pair:
            out += pair
            continue
        if rw * rh >= SEAM_MIN_NOTES * search.lo * search.lo:
            search.patches.append((c, rect))
        out += _outline_candidates(c, rect, search, split=False)
    return out


def _cut_patches(candidates: list, search: _Search) -> list[tuple[np.ndarray, bool, float]]:
    """Return the notes of the patches that are several notes, cut along their seams.

    Only a patch that may hold two of the notes found is looked at: at least SEAM_FAMILY times
    their median size one way or the other (or any patch, without FAMILY_NOTES whole notes to
    tell the size by).
    """
    whole = [quad for quad, partial, _ in candidates if not partial]
    family = None
    if len(whole) >= FAMILY_NOTES:
        sides = [sorted(cv2.minAreaRect(q.astype(np.float32))[1]) for q in whole]
        family = np.median(np.array(sides), axis=0)
    # Seams are looked for where the notes' shorter side is SEAM_NOTE_PX, or finer.
    fine = float(SEAM_FINE)
    if family is not None:
        fine = float(np.clip(SEAM_NOTE_PX / max(1.0, family[0]), 1.0, SEAM_FINE))
    out: list = []
    for c, rect in search.patches:
        short, long_ = sorted(rect[1])
        # On a board (its scale known) notes that touch fill a cell at most: the board's own
        # paper, wider than the largest note, is no patch of notes.
        if search.scaled and short > search.hi:
            continue
        if (
            family is not None
            and short < SEAM_FAMILY * family[0]
            and long_ < SEAM_FAMILY * family[1]
        ):
            continue
        out += _seam_pieces(c, rect, search, fine=fine)
    return out


def _outline_candidates(
    c, rect, search: _Search, *, split: bool, area: float | None = None
) -> list:
    """Return [(quad, partial, score)] when the outline `c` (reduced px) is a note or a note's
    fragment, the two notes of a pair when `split` and it is one, or []. `area` is the paper's
    own area when the outline is drawn around it (a piece's hull), else the outline's."""
    (cx, cy), (rw, rh), ang = rect
    short, long_ = min(rw, rh), max(rw, rh)
    if short < search.lo or long_ > search.hi or long_ > MAX_ASPECT * short:
        return []
    key = search.key(rect)
    if key in search.seen or _holds_code(search.codes, (cx, cy), long_, c):
        return []
    if split and long_ >= SPLIT_ASPECT * short:
        pair = _split_pair(c, (cx, cy), (rw, rh, ang), search)
        if pair:
            return pair
    if area is None:
        area = cv2.contourArea(c)
    fill = area / max(1.0, rw * rh)
    if fill < MIN_FRAGMENT_FILL:
        return []
    corners = cv2.boxPoints(rect).astype(np.float64)
    pts = c.reshape(-1, 2)[:: max(1, len(c) // EDGE_SAMPLES)].astype(np.float64)
    support = _edge_support(pts, corners, search.size)
    whole = fill >= MIN_RECTANGULARITY and support >= MIN_SUPPORT
    if not whole and support < MIN_FRAGMENT_SUPPORT:
        return []
    if _corners_reached(c, corners, short) < MIN_CORNERS:
        return []
    quad = _quad_of(cv2.convexHull(c), corners) if whole else corners
    if whole:
        search.seen.add(key)
    return [(quad, not whole, fill * support)]


def _corners_reached(c, corners: np.ndarray, short: float) -> int:
    """Return how many of the rectangle's corners the outline passes within CORNER_REACH of its
    shorter side (at least 2 px): paper has corners, a magnet, a pin or a head has none."""
    pts = c.reshape(-1, 2).astype(np.float64)
    reach = max(2.0, CORNER_REACH * short)
    nearest = np.min(np.sum((pts[:, None, :] - corners[None]) ** 2, axis=2), axis=0)
    return int(np.count_nonzero(nearest <= reach * reach))


def _seam_pieces(c, rect, search: _Search, *, fine: float) -> list[tuple[np.ndarray, bool, float]]:
    """Return the notes of a patch of several notes of one colour, cut along their seams, or [].

    Notes that touch or overlap are one patch in the masks (the search paints thin lines over),
    but where one note meets the next the photo shows a seam: a thin line darker or lighter than
    the paper (the gap, a shadow, a paper edge) or a step in lightness (a curled note beside a
    flat one), and the patch's outline steps in on both sides (notes are never exactly in
    line). The patch is looked at in the photo, `fine` times finer than the search, turned
    square to its minimum rectangle: seams are the straight runs of such lines along and across
    it (_seams) and the places where both its long sides step (_steps). The patch is cut there,
    and kept cut only when the pieces that are notes (whole or fragments) cover SEAM_COVER of
    it: a line drawn across one note leaves a piece too thin to be one.
    """
    (_, _), (rw, rh), _ = rect
    x, y, bw, bh = cv2.boundingRect(c)
    x0, y0 = max(0, x - 2), max(0, y - 2)
    box = (x0, y0, min(search.size[0], x + bw + 2), min(search.size[1], y + bh + 2))
    # One look at a patch: the masks find most patches more than once.
    if any(_box_overlap(box, other) > SAME_PATCH for other in search.looked):
        return []
    search.looked.append(box)
    turned = _turned_patch(c, rect, box, search, fine)
    if turned is None:
        return []
    lab, patch, turn, f = turned
    lo = search.lo * f
    run = max(3, round(max(SEAM_RUN * lo, SEAM_PATCH_RUN * min(rw, rh) * f)))
    short, long_ = min(rw, rh), max(rw, rh)
    one = search.lo <= short and long_ <= min(search.hi, MAX_ASPECT * short)
    one = one and cv2.contourArea(c) >= MIN_RECTANGULARITY * rw * rh
    seams = _patch_seams(lab, patch, lo=lo, run=run, wall=not search.scaled, one=one)
    parts = cv2.bitwise_and(patch, cv2.bitwise_not(seams))
    trial = replace(search, seen=set(search.seen))
    out = _without_slivers(
        _pieces(parts, cv2.invertAffineTransform(turn), f, (x0, y0), trial), trial
    )
    if not out:
        return []
    # Notes cut apart tile their patch; a board, a wall or a window cut along its texture
    # leaves a few pieces of it. A patch that could be one note is kept whole unless its pieces
    # are clearly notes.
    covered = sum(area for _, area in out) / max(1, cv2.countNonZero(parts))
    if one:
        if len(out) < 2 or covered < SEAM_COVER:
            return []
    elif covered < SEAM_TILED:
        return []
    search.seen |= trial.seen
    search.cut.append(box)
    whole = cv2.boxPoints(rect).astype(np.float64)
    search.cut_from.update((id(quad), whole) for (quad, _, _), _ in out)
    return [cand for cand, _ in out]


def _patch_seams(
    lab: np.ndarray, patch: np.ndarray, *, lo: float, run: int, wall: bool, one: bool
) -> np.ndarray:
    """Return the seams of a patch turned square (_seam_pieces): _seams and _steps; off a board
    (`wall`) also with writing and things on the paper told from seams, seams carried to the
    paper's edge, shingled bands (_bands) and, when the patch cannot be `one` note, the seams
    across a block (_grid_seams). On a board, notes stuck in one cell are few and the cell's
    own edges bound them: its seams are looked for as ever.
    """
    look = _Look(lab, patch)
    if not wall:
        none = np.zeros_like(patch)
        return cv2.bitwise_or(_seams(look, run=run, gap=1, ink=none), _steps(patch, lo=lo))
    # A marker's stroke is at most twice the share of the smallest note the search paints over.
    stroke = max(5, round(2 * INK_STROKE_SHARE * lo)) | 1
    ink = _ink_mask(look, stroke)
    seams = _seams(look, run=run, gap=max(3, round(SEAM_GAP * lo)), ink=ink)
    seams = cv2.bitwise_or(seams, _steps(patch, lo=lo))
    # Around ink too: a stroke's edges are steps and lines.
    ink = cv2.dilate(ink, np.ones((stroke, stroke), np.uint8))
    across = look.across(ink)
    seams = cv2.bitwise_or(seams, _bands(across, lo=lo))
    if not one and _paper_block(look):
        along = look.across(ink, along=True)
        seams = cv2.bitwise_or(seams, _grid_seams(across, along, lo=lo))
    return seams


class _Look:
    """What _seams and _bands read of a patch turned square (long side along the rows), worked
    out once: its lightness, its chroma, the thin lines in it (darker or lighter than either
    side) and its steps in lightness down the columns and along the rows."""

    def __init__(self, lab: np.ndarray, patch: np.ndarray) -> None:
        self.lab, self.patch = lab, patch
        self.light = np.ascontiguousarray(lab[..., 0])
        self.chroma = _channel_sum(cv2.absdiff(lab, (0, 128, 128, 0)), first=1)
        k = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
        self.lines = cv2.max(
            cv2.morphologyEx(self.light, cv2.MORPH_BLACKHAT, k),
            cv2.morphologyEx(self.light, cv2.MORPH_TOPHAT, k),
        )
        # A step: the lightness two pixels after a seam less two before, averaged over five
        # along it (a shadow's edge or a curled note's is soft); first down the columns (seams
        # along the rows), then along the rows.
        self.steps = tuple(
            cv2.convertScaleAbs(cv2.filter2D(cv2.blur(self.light, size), cv2.CV_16S, kernel))
            for size, kernel in (((5, 1), _STEP_DOWN), ((1, 5), _STEP_DOWN.T))
        )

    def across(self, ink: np.ndarray, *, along: bool = False) -> _Across:
        """Return the evidence of seams across the patch off `ink`, as _bands reads it: seams
        across the rows, or (`along`) across the columns, the patch then turned a quarter."""
        inside = cv2.erode(self.patch, np.ones((5, 5), np.uint8))
        valid = cv2.bitwise_and(inside, cv2.bitwise_not(ink))
        if not along:
            evidence = cv2.bitwise_and(cv2.max(self.steps[1], self.lines), valid)
            return _Across(self.patch, evidence, valid)
        evidence = cv2.bitwise_and(cv2.max(self.steps[0], self.lines), valid)
        return _Across(self.patch.T.copy(), evidence.T.copy(), valid.T.copy())


def _turned_patch(c, rect, box, search: _Search, fine: float):
    """Return the patch of outline `c` (reduced px) within `box` as the photo shows it, turned
    square to its minimum rectangle `rect` with its long side along the rows: its Lab picture,
    its mask, the turn (an affine map from the crop, reduced px times f) and f, the fine px per
    reduced px; None when it is too small to look at.

    The photo is reduced by the whole factor that comes nearest to `fine` times the search's
    resolution without passing it.
    """
    (cx, cy), (rw, rh), ang = rect
    x0, y0, x1, y1 = box
    k = round(1.0 / search.scale)
    m = max(1, int(np.ceil(k / fine - 1e-9)))
    f = k / m
    crop = search.photo[y0 * k : y1 * k, x0 * k : x1 * k]
    h, w = crop.shape[0] // m, crop.shape[1] // m
    if h < 3 or w < 3:
        return None
    img = crop[: h * m, : w * m]
    if m > 1:
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    centre = ((cx - x0 + 0.5) * f - 0.5, (cy - y0 + 0.5) * f - 0.5)
    turn = cv2.getRotationMatrix2D(centre, ang + (90.0 if rh > rw else 0.0), 1.0)
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64) @ turn[:, :2].T + turn[:, 2]
    turn[:, 2] -= frame.min(axis=0)
    size = tuple(int(v) for v in np.ceil(np.ptp(frame, axis=0)) + 1)
    lab = cv2.cvtColor(cv2.warpAffine(img, turn, size, flags=cv2.INTER_LINEAR), cv2.COLOR_BGR2LAB)
    patch = np.zeros((h, w), np.uint8)
    outline = np.round((c.reshape(-1, 2) - (x0, y0) + 0.5) * f - 0.5).astype(np.int32)
    cv2.fillPoly(patch, [outline], 255)
    return lab, cv2.warpAffine(patch, turn, size, flags=cv2.INTER_NEAREST), turn, f


def _without_slivers(out: list, trial: _Search) -> list:
    """Return the pieces [((quad, partial, score), area)] less the slivers: a sliver cut off a
    note along a line on it is much narrower than the notes cut apart (SEAM_PIECE_SHARE)."""
    sides = [min(cv2.minAreaRect(q.astype(np.float32))[1]) for (q, _, _), _ in out]
    narrow = [side < SEAM_PIECE_SHARE * max(sides, default=0.0) for side in sides]
    for ((quad, partial, _), _), drop in zip(out, narrow, strict=True):
        if drop and not partial:
            trial.seen.discard(trial.key(cv2.minAreaRect(quad.astype(np.float32))))
    return [piece for piece, drop in zip(out, narrow, strict=True) if not drop]


def _pieces(parts: np.ndarray, back: np.ndarray, f: float, origin, trial: _Search) -> list:
    """Return [((quad, partial, score), area)] of the whole notes among the pieces of a patch
    cut along its seams (`parts`, turned square; `back` turns it back to the crop at `origin`,
    reduced px, f times finer)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        parts, connectivity=4, ltype=_label_type(parts)
    )
    if n <= 2:
        return []
    lo = trial.lo * f
    out: list = []
    # Specks are no notes.
    for i in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= 0.25 * lo * lo) + 1:
        x, y, bw, bh = stats[i, :4]
        piece = cv2.compare(labels[y : y + bh, x : x + bw], int(i), cv2.CMP_EQ)
        contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        outer = max(contours, key=len)
        # Writing that reaches a seam bites into the piece's outline: the outline is its hull's,
        # and the paper's area its own, less the holes off a board: strokes marked within it
        # are on the note.
        cv2.drawContours(piece, [outer], -1, 1, -1)
        area = int(stats[i, cv2.CC_STAT_AREA]) if trial.scaled else cv2.countNonZero(piece)
        cv2.fillConvexPoly(piece, cv2.convexHull(outer), 1)
        contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        pts = max(contours, key=len).reshape(-1, 2).astype(np.float64) + (x, y)
        pts = pts @ back[:, :2].T + back[:, 2]
        red = ((pts + 0.5) / f - 0.5 + origin).astype(np.float32).reshape(-1, 1, 2)
        paper = area / (f * f)
        found = _outline_candidates(red, cv2.minAreaRect(red), trial, split=True, area=paper)
        # A fragment is paper cut off by the photo's edge or a line, not a note cut apart.
        found = [cand for cand in found if not cand[1]]
        out += [(cand, area / len(found)) for cand in found]
    return out


def _holds_note(quad: np.ndarray, candidates: list) -> bool:
    """Return True when the quad holds the centre of a whole candidate less than half its size."""
    area = abs(_area(quad))
    outline = quad.astype(np.float32).reshape(-1, 1, 2)
    for other, partial, _ in candidates:
        if partial or abs(_area(other)) >= 0.5 * area:
            continue
        centre = tuple(float(v) for v in other.mean(axis=0))
        if cv2.pointPolygonTest(outline, centre, False) >= 0:
            return True
    return False


def _at_edge(quad: np.ndarray, size: tuple[int, int]) -> bool:
    """Return True when the quad (reduced px) reaches within EDGE_PX of the photo's edge."""
    return bool(
        quad.min() < EDGE_PX
        or np.any(quad.max(axis=0) > (size[0] - 1 - EDGE_PX, size[1] - 1 - EDGE_PX))
    )


def _box_overlap(a, b) -> float:
    """Return the intersection of two boxes (x0, y0, x1, y1) over their union."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _steps(patch: np.ndarray, *, lo: float) -> np.ndarray:
    """Return cuts across a patch turned square (long side along the rows) from where one long
    side steps in or out to where the other does: where one note of a row or column meets the
    next, out of line with it.

    A step is SEAM_STEP of the patch's width deep, at least SEAM_MIN_PX * SEAM_FINE pixels; none
    is looked for within half the smallest note (`lo`, px) of the patch's ends, and a cut runs
    no more askew than SEAM_SLANT.
    """
    m = patch > 0
    cols = np.flatnonzero(m.any(axis=0))
    out = np.zeros_like(patch)
    if len(cols) < 2 * lo:
        return out
    top = np.argmax(m, axis=0).astype(np.float64)
    bottom = (m.shape[0] - 1 - np.argmax(m[::-1], axis=0)).astype(np.float64)
    width = float(np.median(bottom[cols] - top[cols]))
    least = max(SEAM_MIN_PX * SEAM_FINE, SEAM_STEP * width)
    d = 2
    xs = np.arange(cols[0] + round(0.5 * lo), cols[-1] - round(0.5 * lo))
    if len(xs) == 0:
        return out

    def steps(side: np.ndarray) -> list[int]:
        at = xs[np.abs(side[xs + d] - side[xs - d]) >= least]
        # Each run of stepping columns is one step, at its middle.
        runs = np.split(at, np.flatnonzero(np.diff(at) > 1) + 1) if len(at) else []
        return [int(round(float(r.mean()))) for r in runs]

    unpaired = steps(bottom)
    for a in steps(top):
        near = [b for b in unpaired if abs(b - a) <= SEAM_SLANT * width]
        if not near:
            continue
        b = min(near, key=lambda b: abs(b - a))
        unpaired.remove(b)
        cv2.line(out, (a, int(top[a]) - 2), (b, int(bottom[b]) + 2), 255, 2)
    return out


def _ink_mask(look: _Look, stroke: int) -> np.ndarray:
    """Return where something lies on the paper of a patch of one paper: a marker's writing,
    a magnet, a pin, tape.

    Ink is INK_CONTRAST and SEAM_INK_DEPTH of the paper's lightness or more darker than the
    paper within `stroke` pixels (a closing wider than a marker's stroke): a shadow takes a
    share of the light off the paper it falls on, a deep one in a gap between two notes a fifth
    or so; ink, even a light colour on a darker paper, takes far more. Anything else differs from
    the patch's paper in hue by FOREIGN_CHROMA or more, over more than a thin line: a shadow or
    a curl darkens paper, it does not colour it.
    """
    lab, patch, light = look.lab, look.patch, look.light
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (stroke, stroke))
    paper = cv2.morphologyEx(light, cv2.MORPH_CLOSE, k)
    dark = cv2.subtract(paper, light)
    least = cv2.max(cv2.convertScaleAbs(paper, alpha=SEAM_INK_DEPTH), INK_CONTRAST)
    ink = cv2.compare(dark, least, cv2.CMP_GE)
    hue = (_median_of(lab, patch, channel=1), _median_of(lab, patch, channel=2))
    off = _channel_sum(cv2.absdiff(lab, (0, *hue, 0)), first=1)
    # The wall seen in a thin gap between two notes is no thing on them: lines are opened away.
    foreign = cv2.morphologyEx(
        cv2.compare(off, FOREIGN_CHROMA, cv2.CMP_GE), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)
    )
    ink = cv2.bitwise_or(ink, foreign)
    return cv2.dilate(ink, np.ones((3, 3), np.uint8))


def _not_writing(straight: np.ndarray, ink: np.ndarray, run: int) -> np.ndarray:
    """Return the straight runs (each at least `run` pixels long) less those that are mostly
    writing (`ink`): lines of writing, straight and long as they run, are no seams."""
    on_ink = cv2.bitwise_and(straight, ink)
    # Too little ink on them all for any run to be mostly ink.
    if cv2.countNonZero(on_ink) < SEAM_INK * run:
        return straight
    # The runs are thin and few: they are told apart within the box that holds them, and
    # their ink is counted where it lies.
    x, y, w, h = cv2.boundingRect(straight)
    runs = straight[y : y + h, x : x + w]
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        runs, connectivity=8, ltype=_label_type(runs)
    )
    at = cv2.findNonZero(on_ink[y : y + h, x : x + w]).reshape(-1, 2)
    inked = np.bincount(labels[at[:, 1], at[:, 0]], minlength=n)
    drop = inked >= SEAM_INK * stats[:, cv2.CC_STAT_AREA]
    drop[0] = False
    if not drop.any():
        return straight
    out = straight.copy()
    for i in np.flatnonzero(drop):
        bx, by, bw, bh = stats[i, :4]
        box = out[y + by : y + by + bh, x + bx : x + bx + bw]
        box[labels[by : by + bh, bx : bx + bw] == i] = 0
    return out


def _seams(look: _Look, *, run: int, gap: int, ink: np.ndarray) -> np.ndarray:
    """Return a mask of the seams within a patch turned square: straight runs of at least `run`
    pixels along its rows or its columns of thin lines or steps in lightness or colour, carried
    across gaps of up to `gap` pixels to the patch's edge or to the next run in line. Runs that
    lie mostly on `ink` (_ink_mask) are writing, or a magnet's edge (_not_writing)."""
    patch = look.patch
    # A line's lightness steps reach two pixels either side of it, past the ink's own.
    ink = cv2.dilate(ink, np.ones((5, 5), np.uint8))
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
    line = cv2.max(look.lines, cv2.morphologyEx(look.chroma, cv2.MORPH_BLACKHAT, k))
    inside = cv2.erode(patch, np.ones((3, 3), np.uint8))
    outside = cv2.bitwise_not(patch)
    out = np.zeros_like(patch)
    # Seams along the rows (a step down the columns), then along the columns.
    for step, along, wobble in zip(look.steps, ((run, 1), (1, run)), ((3, 1), (1, 3)), strict=True):
        evidence = cv2.max(line, step)
        level = max(SEAM_LEVEL, 3.0 * _median_of(evidence, inside))
        marked = cv2.compare(evidence, level, cv2.CMP_GE)
        marked = cv2.bitwise_and(marked, patch)
        # A seam slanted within the patch wobbles by a pixel or two along a run.
        marked = cv2.dilate(marked, np.ones(wobble, np.uint8))
        line_along = cv2.getStructuringElement(cv2.MORPH_RECT, along)
        straight = cv2.morphologyEx(marked, cv2.MORPH_OPEN, line_along)
        straight = _not_writing(straight, ink, run)
        # A seam runs from paper's edge to paper's edge, or to another seam: where it fades out
        # within `gap` of either (a faint shadow, a corner lifted), it is carried on.
        reach = (gap, 1) if along[1] == 1 else (1, gap)
        bridged = cv2.morphologyEx(
            cv2.bitwise_or(straight, outside),
            cv2.MORPH_CLOSE,
            cv2.getStructuringElement(cv2.MORPH_RECT, reach),
        )
        out = cv2.bitwise_or(out, cv2.bitwise_and(bridged, patch))
    return out


def _paper_block(look: _Look) -> bool:
    """Return True when a patch turned square may be a block of notes of one paper: nothing on
    it much lighter than it (less than BLOCK_LIGHTER of it), and it is lighter or more coloured
    than what is around it in its picture. A stretch of wall with notes on it, or the wall
    seen between notes, is neither."""
    light, patch, chroma = look.light, look.patch, look.chroma
    level = _median_of(light, patch)
    brighter = cv2.bitwise_and(cv2.compare(light, level + 3 * PALE_DIFFERENCE, cv2.CMP_GE), patch)
    if cv2.countNonZero(brighter) > BLOCK_LIGHTER * cv2.countNonZero(patch):
        return False
    # The turn leaves black corners, no part of the photo.
    around = cv2.bitwise_and(cv2.bitwise_not(patch), cv2.compare(light, 0, cv2.CMP_GT))
    if cv2.countNonZero(around) == 0:
        return True
    lighter = level >= _median_of(light, around) + PALE_DIFFERENCE
    return lighter or _median_of(chroma, patch) >= _median_of(chroma, around) + CHROMA_LEVEL


def _grid_seams(across: _Across, along: _Across, *, lo: float) -> np.ndarray:
    """Return the seams of a block of notes in rows and columns, turned square: where one column
    meets the next the seam runs across the whole block, faint as it may be at each note, and
    is looked for as _bands does, across the block and along it (`along`: turned a quarter)."""
    cuts = _bands(across, lo=lo, shown=0.0, slant=GRID_SLANT)
    turned = _bands(along, lo=lo, shown=0.0, slant=GRID_SLANT)
    return cv2.bitwise_or(cuts, np.ascontiguousarray(turned.T))


class _Across:
    """The evidence of seams across a patch turned square (`evidence`, uint8, nought off the
    paper and off what lies on it; `valid` where it counts), as _bands averages it across the
    patch along slanted lines.

    The sum along a slanted line through each column, each row read between two columns as a
    linear shear of the picture would read it, is read off the sheared picture for a small
    patch; for a large one it comes from the integral images of the evidence and of the
    evidence times its row: within a run of rows read between the same two columns, each row's
    share of the right one is linear in the row, and a slant costs what the columns do, not the
    pixels. Each slant's sums are kept for the next look (_grid_seams after _bands).
    """

    def __init__(self, patch: np.ndarray, evidence: np.ndarray, valid: np.ndarray) -> None:
        self.patch, self.evidence, self.valid = patch, evidence, valid
        self.rows = np.flatnonzero(patch.max(axis=1))
        self._integral: tuple[np.ndarray, np.ndarray] | None = None
        self._floats: tuple[np.ndarray, np.ndarray] | None = None
        self._sums: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def _sums_down(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the integral images of the evidence and where it counts, side by side over
        the patch's rows, and of both times their row."""
        if self._integral is None:
            r0, r1 = int(self.rows[0]), int(self.rows[-1]) + 1
            w = self.patch.shape[1]
            plain = np.empty((r1 - r0, 2 * w), np.uint8)
            plain[:, :w] = self.evidence[r0:r1]
            np.greater(self.valid[r0:r1], 0, out=plain[:, w:])
            ys = np.arange(r0, r1, dtype=np.float32)[:, None]
            # Whole numbers below 2**24: exact as single floats, and summed as doubles; the
            # plain sums fit 32 bits below 2**23 pixels.
            depth = cv2.CV_32S if plain.size < 1 << 23 else cv2.CV_64F
            self._integral = (
                cv2.integral(plain, sdepth=depth),
                cv2.integral(plain * ys, sdepth=cv2.CV_64F),
            )
        return self._integral

    def most(self, slant: float, width: float) -> float:
        """Return the most evidence a line slanted up to `slant` degrees across the patch's
        `width` rows can gather: the sum down a column of each row's most within the columns
        such a line passes through, at the column where it is highest."""
        reach = int(np.ceil(np.tan(np.deg2rad(slant)) * (0.5 * width + 1.0))) + 1
        near = cv2.dilate(self.evidence, np.ones((1, 2 * reach + 1), np.uint8))
        return float(cv2.reduce(near, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).max())

    def sums(self, s: float) -> tuple[np.ndarray, np.ndarray]:
        """Return the evidence and the weight where it counts summed along the line through
        each column at the middle row that moves -s columns a row down: the picture sheared by
        s about that row (cv2.warpAffine, linear), summed down its columns."""
        if s in self._sums:
            return self._sums[s]
        r0, r1 = int(self.rows[0]), int(self.rows[-1]) + 1
        h, w = self.patch.shape
        if (r1 - r0) * w < BAND_WARP_PX:
            # A small patch: the warp costs less than the integral images.
            shear = np.float32([[1, s, -s * 0.5 * (r0 + r1 - 1)], [0, 1, 0]])
            if self._floats is None:
                self._floats = (
                    self.evidence.astype(np.float32),
                    (self.valid > 0).astype(np.float32),
                )
            self._sums[s] = tuple(
                cv2.warpAffine(v, shear, (w, h), flags=cv2.INTER_LINEAR).sum(axis=0)
                for v in self._floats
            )
            return self._sums[s]
        plain_sums, moment_sums = self._sums_down()
        # The shear's coefficients as single floats, as the warp reads them.
        slope, offset = (float(v) for v in np.float32([s, -s * 0.5 * (r0 + r1 - 1)]))
        at = -(slope * np.arange(r0, r1, dtype=np.float64) + offset)
        left = np.floor(at).astype(np.int64)
        cut = np.flatnonzero(np.diff(left)) + 1
        starts, ends = np.r_[0, cut], np.r_[cut, r1 - r0]
        first = left[starts]
        # Each run's sums down the columns: differences of the integral along rows, then along
        # columns.
        plain = np.diff(plain_sums[ends] - plain_sums[starts], axis=1).astype(np.float64)
        moment = np.diff(moment_sums[ends] - moment_sums[starts], axis=1)
        right = (-offset - first)[:, None] * plain - slope * moment
        near = plain - right
        if len(first) > 1 and first[1] < first[0]:
            first, near, right = first[::-1], near[::-1], right[::-1]
        # Row j of `shifted` is read from column x + first[0] + j: its diagonal is the sum.
        runs, pad = len(first), int(max(abs(first[0]), abs(first[-1]))) + 2
        wide = w + 2 * pad
        shifted = np.zeros((runs + 1, 2, wide))
        shifted[:-1, :, pad : pad + w] = near.reshape(runs, 2, w)
        shifted[1:, :, pad : pad + w] += right.reshape(runs, 2, w)
        flat = shifted.reshape(-1)[pad + int(first[0]) :]
        diagonal = np.lib.stride_tricks.as_strided(
            flat, shape=(runs + 1, wide + w), strides=(8 * (2 * wide + 1), 8), writeable=False
        )
        line = diagonal.sum(axis=0)
        self._sums[s] = (line[:w], line[wide : wide + w])
        return self._sums[s]


def _bands(
    across: _Across,
    *,
    lo: float,
    shown: float = BAND_SHOWN,
    slant: float = BAND_SLANT,
) -> np.ndarray:
    """Return cuts across a long patch turned square (long side along the rows) where one note
    lies over the next: a column or row of notes of one paper, each stuck over the end of the
    one before (an affinity cluster), shows as bands.

    The edge of a note lying on another casts next to no shadow: it shows as a faint step in
    lightness or a faint line, too faint pixel by pixel (_seams), but the same all across the
    patch. The evidence (`across`: as _seams', off the ink and what lies on the paper) is
    averaged across the patch along lines slanted up to `slant` degrees either way; a cut is
    where that average is a peak of at least BAND_LEVEL and BAND_CONTRAST times its median
    along the patch, BAND_APART of the smallest note (`lo`, px) from the next and from the
    patch's ends, and `shown` of the patch's width: a note over another leaves at least half of
    it showing, else nobody could read it. With `shown` 0, any patch is looked at (_grid_seams).
    """
    patch, rows = across.patch, across.rows
    h, w = patch.shape
    if len(rows) == 0:
        return np.zeros_like(patch)
    width = float(rows[-1] - rows[0] + 1)
    if width < lo or (shown and w < SPLIT_ASPECT * width):
        return np.zeros_like(patch)
    # A line that gathers too little evidence for any average to reach BAND_LEVEL: none is cut
    # (the margin covers the warp's rounding).
    if across.most(slant, width) < BAND_LEVEL * BAND_ACROSS * width * (1 - 1e-3):
        return np.zeros_like(patch)
    cy = 0.5 * (rows[0] + rows[-1])
    slopes = [float(np.tan(np.deg2rad(deg))) for deg in np.arange(-slant, slant + 0.01, 1.5)]
    sums = [across.sums(s) for s in slopes]
    e, n = np.array([e for e, _ in sums]), np.array([n for _, n in sums])
    means = np.where(n >= BAND_ACROSS * width, e / np.maximum(n, 1.0), 0.0).astype(np.float32)
    # Each column's best slant: the first of the highest mean, none where no mean is above 0.
    top = means.argmax(axis=0)
    peak = means[top, np.arange(w)]
    best = np.where(peak > 0, peak, 0).astype(np.float32)
    best_slant = np.where(peak > 0, np.float32(slopes)[top], 0).astype(np.float32)
    out = np.zeros_like(patch)
    cols = np.flatnonzero(patch.max(axis=0))
    apart = max(3, round(BAND_APART * lo), round(shown * width))
    level = max(BAND_LEVEL, BAND_CONTRAST * float(np.median(best[cols])))
    # Peaks, strongest first, none within `apart` of a stronger one or of the patch's ends.
    taken: list[int] = []
    for x in np.argsort(-best):
        if best[x] < level:
            break
        if x < cols[0] + apart or x > cols[-1] - apart or any(abs(x - t) < apart for t in taken):
            continue
        taken.append(int(x))
        s = best_slant[x]
        top, bottom = (
            (x - s * (rows[0] - 2 - cy), rows[0] - 2),
            (x - s * (rows[-1] + 2 - cy), rows[-1] + 2),
        )
        cv2.line(out, (round(top[0]), int(top[1])), (round(bottom[0]), int(bottom[1])), 255, 2)
    return out


# The step across a seam along the rows: two rows after less two rows before.
_STEP_DOWN = np.array([[-1], [0], [0], [0], [1]], np.float32)


def _middle_of(values: np.ndarray, mask: np.ndarray, channel: int) -> float:
    """Return the median (np.median's: the mean of the middle two of an even count) of a uint8
    image's channel under a mask that is not empty."""
    hist = cv2.calcHist([values], [channel], mask, [256], [0, 256]).ravel()
    count = np.cumsum(hist)
    n = int(count[-1])
    low, high = np.searchsorted(count, [(n - 1) // 2, n // 2], side="right")
    return 0.5 * float(low + high)


def _label_type(mask: np.ndarray) -> int:
    """Return the narrowest type that holds the labels of a mask's connected parts."""
    return cv2.CV_16U if mask.size < 1 << 16 else cv2.CV_32S


def _median_of(values: np.ndarray, mask: np.ndarray, *, channel: int = 0) -> float:
    """Return the median of a uint8 image's values (of one channel) under a mask, 0 when the
    mask is empty."""
    hist = cv2.calcHist([values], [channel], mask, [256], [0, 256]).ravel()
    total = float(hist.sum())
    if total <= 0:
        return 0.0
    return float(np.searchsorted(np.cumsum(hist), total / 2.0))


def _split_pair(c, centre, rect, search: _Search) -> list[tuple[np.ndarray, bool, float]]:
    """Return the two whole notes of a patch that is two notes side by side, or [].

    Two notes of one colour that touch are one patch of paper; unless stuck exactly in line,
    they leave a notch on each long side where they meet (SEAM_DEPTH of the short side deep,
    within SEAM_MIDDLE of the middle). The patch is cut between the two notches, and kept cut
    only when both pieces are whole notes on their own.
    """
    c = np.round(c).astype(np.int32)
    try:
        hull = cv2.convexHull(c, returnPoints=False)
        defects = cv2.convexityDefects(c, hull)
    except cv2.error:
        return []
    if defects is None:
        return []
    rw, rh, ang = rect
    a = np.deg2rad(ang)
    axis = np.array([np.cos(a), np.sin(a)]) if rw >= rh else np.array([-np.sin(a), np.cos(a)])
    across = np.array([-axis[1], axis[0]])
    long_, short = max(rw, rh), min(rw, rh)
    pts = c.reshape(-1, 2).astype(np.float64)
    notches = {}
    for _, _, far, depth in defects.reshape(-1, 4):
        p = pts[far]
        along, side = float((p - centre) @ axis), float((p - centre) @ across)
        deep = depth / 256.0 >= max(SEAM_MIN_PX, SEAM_DEPTH * short)
        if not deep or abs(along) > SEAM_MIDDLE * long_:
            continue
        key = side > 0
        if key not in notches or depth > notches[key][1]:
            notches[key] = (p, depth)
    if len(notches) < 2:
        return []
    p, q = notches[True][0], notches[False][0]
    # The seam runs across the patch: notches far apart along it are not one seam's ends.
    if abs(float((q - p) @ axis)) > SEAM_SLANT * abs(float((q - p) @ across)):
        return []
    x, y, bw, bh = cv2.boundingRect(c)
    mask = np.zeros((bh + 2, bw + 2), np.uint8)
    cv2.drawContours(mask, [c], -1, 255, -1, offset=(1 - x, 1 - y))
    # The cut runs a little past both notches, so that it parts the patch for certain.
    d = (q - p) / max(1e-9, float(np.linalg.norm(q - p)))
    ends = np.round(np.array([p - 3 * d, q + 3 * d]) - (x - 1, y - 1)).astype(np.int32)
    cv2.line(mask, tuple(ends[0]), tuple(ends[1]), 0, 2)
    contours, _ = cv2.findContours(
        mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE, offset=(x - 1, y - 1)
    )
    trial = replace(search, seen=set(search.seen))
    pieces = [
        piece
        for part in contours
        if len(part) >= 3 * search.lo
        for piece in _outline_candidates(part, cv2.minAreaRect(part), trial, split=False)
    ]
    if len(pieces) != 2 or any(partial for _, partial, _ in pieces):
        return []
    search.seen |= trial.seen
    return pieces


def _holds_code(codes: np.ndarray, centre, reach: float, contour: np.ndarray) -> bool:
    """Return True when a code's centre lies inside the contour."""
    near = codes[np.abs(codes - centre).max(axis=1) <= reach] if len(codes) else codes
    return any(cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0 for x, y in near)


def _edge_support(pts: np.ndarray, rect: np.ndarray, size: tuple[int, int]) -> float:
    """Return the share of the outline's points that lie on the rectangle's sides.

    Points along the photo's border count as support: a note cut by the frame is a fragment
    (which find_notes leaves out).
    """
    tol = max(
        1.5, 0.03 * float(np.linalg.norm(rect[1] - rect[0]) + np.linalg.norm(rect[2] - rect[1])) / 2
    )
    p0 = rect[:, None, :]
    d = (rect[[1, 2, 3, 0]] - rect)[:, None, :]
    t = np.clip(((pts[None] - p0) * d).sum(axis=2) / np.maximum((d * d).sum(axis=2), 1e-9), 0, 1)
    off = pts[None] - (p0 + t[..., None] * d)
    best = np.sqrt((off * off).sum(axis=2)).min(axis=0)
    on = best <= tol
    w, h = size
    on |= (pts[:, 0] <= 1) | (pts[:, 1] <= 1) | (pts[:, 0] >= w - 2) | (pts[:, 1] >= h - 2)
    return float(np.count_nonzero(on)) / max(1, len(pts))


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


def _merge(
    cands: list[tuple[np.ndarray, bool, float]], accept=lambda quad: True
) -> list[tuple[np.ndarray, bool]]:
    """Return one candidate per note: whole ones before fragments, the best scored first.

    A candidate that `accept` refuses (a stretch of glass or board that is no note) is dropped
    before it can hide the notes on it.
    """
    cands = sorted(cands, key=lambda c: (c[1], -c[2]))
    kept: list[tuple[np.ndarray, bool, float]] = []
    boxes = np.zeros((0, 4))
    for quad, partial, score in cands:
        box = np.concatenate([quad.min(axis=0), quad.max(axis=0)])
        # Only candidates whose boxes meet can overlap: most pairs are ruled out at once.
        meet = (boxes[:, 0] < box[2]) & (boxes[:, 2] > box[0]) & (boxes[:, 1] < box[3])
        meet &= boxes[:, 3] > box[1]
        same = [
            i for i in np.flatnonzero(meet) if _overlap(quad, kept[i][0]) > SAME_CANDIDATE_OVERLAP
        ]
        # A small rectangle inside a note (a box drawn on it, the inside of a letter) scored
        # better than the note's own outline: the note takes its place.
        area = abs(_area(quad))
        inside = not partial and all(abs(_area(kept[i][0])) < INSIDE_SHARE * area for i in same)
        if (same and not inside) or not accept(quad):
            continue
        for i in sorted(same, reverse=True):
            del kept[i]
        boxes = np.delete(boxes, same, axis=0)
        kept.append((quad, partial, score))
        boxes = np.vstack([boxes, box])
    return [(q, p) for q, p, _ in kept]


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Return the intersection of two convex quads over the smaller's area."""
    inter, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    small = min(abs(_area(a)), abs(_area(b)))
    return float(inter) / small if small > 0 else 0.0


def _excluded(quad: np.ndarray, polys: list[np.ndarray], boxes: np.ndarray) -> bool:
    """Return True when the quad's centre lies in a polygon, or holds one's centre, or covers it.

    `boxes` holds each polygon's x0, y0, x1, y1: only those that meet the quad's are looked at.
    """
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    meet = (boxes[:, 0] <= hi[0]) & (boxes[:, 2] >= lo[0]) & (boxes[:, 1] <= hi[1])
    meet &= boxes[:, 3] >= lo[1]
    centre = tuple(float(v) for v in quad.mean(axis=0))
    outline = quad.astype(np.float32).reshape(-1, 1, 2)
    for i in np.flatnonzero(meet):
        p = polys[i]
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


def _describe(img: np.ndarray, q: np.ndarray, partial: bool) -> FoundNote:
    """Return the note of outline `q` (photo px) with its colour, ink and fingerprint."""
    picture = _analysis_picture(img, q)
    darkness = _darkness(picture)
    w = 0.5 * (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3]))
    h = 0.5 * (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1]))
    return FoundNote(
        quad=tuple((float(x), float(y)) for x, y in q),
        x=float(q[:, 0].mean()),
        y=float(q[:, 1].mean()),
        color=paper_color(picture),
        fingerprint=_fingerprint_of(darkness),
        ink=_share_of_ink(darkness),
        partial=partial,
        size_px=(float(w), float(h)),
    )


def _analysis_picture(img: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Return the note's flat picture at about ANALYSIS_PX or more along its longer side.

    Its colour and ink are read at INK_SIZE: a picture cut from a 12 MP photo at full size
    would cost more and say no more. The photo is reduced by a whole factor around the note first,
    which also keeps the warp from aliasing.
    """
    hh, ww = img.shape[:2]
    x0, y0 = np.maximum(np.floor(q.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(q.max(axis=0)).astype(int) + 2, (ww, hh))
    crop, local = img[y0:y1, x0:x1], q - (x0, y0)
    longest = max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[3] - q[0]))
    k = int(longest / ANALYSIS_PX)
    if k >= 2 and min(crop.shape[:2]) >= 2 * k:
        ch, cw = crop.shape[0] // k, crop.shape[1] // k
        crop = cv2.resize(crop[: ch * k, : cw * k], (cw, ch), interpolation=cv2.INTER_AREA)
        local = (local + 0.5) / k - 0.5
    return _warp(crop, local, None)


# Hue bands (OpenCV's full range, 0-255) that separate notes of different colours that touch.
_HUE_BANDS = (
    ("red", 0, 21),
    ("yellow", 21, 60),
    ("green", 60, 120),
    ("blue", 120, 190),
    ("pink", 190, 256),
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
    """Return the colour name (COLORS) of a note's paper: the median of its lighter half.

    Paper of little chroma (white, and pale notes) is "white".
    """
    # The paper's colour is the same at any size: 32 x 32 pixels tell it.
    picture = cv2.resize(picture, (32, 32), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(picture, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    light = lab[:, 0]
    paper = lab[light >= np.median(light)]
    a, b = float(np.median(paper[:, 1])) - 128, float(np.median(paper[:, 2])) - 128
    if np.hypot(a, b) < WHITE_CHROMA:
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


def _area(q: np.ndarray) -> float:
    """Return the polygon's signed area: positive when it runs clockwise on screen (y down)."""
    return float(cv2.contourArea(np.asarray(q, np.float32).reshape(-1, 1, 2), oriented=True))
