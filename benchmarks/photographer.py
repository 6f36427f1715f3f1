"""Lay out a synthetic sticky board and photograph it with a simulated camera.

Two steps, both seeded so that the same seed gives the same pixels:

- `make_board(spec, seed=...)` renders the wall once, in millimetres scaled to `spec.px_per_mm`,
  with corner cards, header cards, an uneven hand-taped grid, rotated stickies with handwriting,
  person stickies in a people area below the grid and a few stray posters. Stickies and cards
  are printables' own images (`sticky_image`, `card_image`), printed on coloured paper. It
  returns the wall image, the scanner manifest (docs/contracts.md) and the ground truth.
- `photograph(board, camera, seed=...)` warps the wall into a photo: perspective, radial lens
  distortion, defocus, noise, uneven light, shadow, glare, people in front and JPEG compression.
  It returns the BGR photo and the truth mapped into photo pixels.

Coordinates: wall positions are millimetres, origin at the top-left of the wall image, x right,
y down. Wall and photo pixels have their origin at the top-left pixel's centre, so the wall point
(x mm, y mm) lies at wall pixel (x * px_per_mm - 0.5, y * px_per_mm - 0.5). Angles are degrees,
positive turns clockwise on the image (x right, y down).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import cv2
import numpy as np
import qrcode

from printables import (
    CardSpec,
    StickySpec,
    card_image,
    card_marker_rect,
    card_size,
    get_template,
    sticky_image,
)

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE_URL = "http://localhost:5000"
DEFAULT_DICTIONARY = "DICT_4X4_1000"
CORNER_NAMES = ("tl", "tr", "br", "bl")

# Cells at least this much covered by people count as hidden in the truth.
HIDDEN_CELL_FRACTION = 0.2

WALL_MARGIN_MM = 80.0
CORNER_CARD = card_size("corner")
HEADER_CARD = card_size("room")
# Bands around the grid: the corner cards sit where the header bands meet, outside the grid.
HEADER_BAND_MM = CORNER_CARD[1] + 5.0  # room headers (slot headers when transposed)
LEFT_BAND_MM = CORNER_CARD[0] + 5.0  # slot headers (room headers when transposed)
PEOPLE_GAP_MM = 45.0
PEOPLE_AREA_MM = 130.0

WALL_BGR = (196, 204, 210)
BOARD_BGR = (236, 240, 242)
TAPE_BGR = (170, 120, 60)
STICKY_COLOURS_BGR = ((130, 235, 255), (160, 210, 255), (210, 240, 170), (240, 200, 255))
# Plain notes' paper (BGR) by the colour name the scanner reports (scanner.notes.COLORS); the pale
# ones are the hard case on a white board.
NOTE_COLOURS_BGR = {
    "yellow": (120, 230, 255),
    "pink": (200, 150, 255),
    "orange": (80, 170, 255),
    "green": (150, 235, 170),
    "blue": (240, 200, 140),
    "white": (250, 251, 252),
    "pale yellow": (205, 245, 255),
    "pale pink": (230, 225, 255),
    "pale blue": (252, 238, 220),
}
NOTE_TEXTS = (
    "Testing in production",
    "Rust for Pythonistas",
    "Async all the way down",
    "Type hints: love or hate",
    "Packaging in 2026",
    "Teaching kids to code",
    "Data pipelines that last",
    "Burnout and open source",
    "Web accessibility now",
    "Static sites are back",
    "Home automation hacks",
    "GraphQL vs REST",
    "Our first PyPI release",
    "Refactoring legacy code",
    "Mentoring juniors",
    "Security for small teams",
    "Notebooks in prod?",
    "Docs that people read",
    "Maps with Python",
    "Speed up your tests",
    "Remote pairing tips",
    "Music from code",
    "Game jams",
    "Hiring without whiteboards",
)


@dataclass(frozen=True)
class NoteSpec:
    """Describe one plain note (paper without our codes) to put on the board.

    `color` names a paper in NOTE_COLOURS_BGR; `size_mm` is (width, height). It sits in the cell
    of `room` and `slot`, `offset_mm` from the cell's centre, or in the people area below the
    grid when both are None. `curl` (0 to 1) lifts its bottom edge: a shaded band and a deeper
    shadow. `writing` is the text handwritten on it ("" for a blank note), `writing_seed` the
    hand's wobble: one text and seed give the same ink wherever the note goes.
    """

    text: str
    color: str = "yellow"
    size_mm: tuple[float, float] = (76.0, 76.0)
    room: str | None = None
    slot: str | None = None
    angle_deg: float = 0.0
    offset_mm: tuple[float, float] = (0.0, 0.0)
    curl: float = 0.0
    writing_seed: int = 0


@dataclass(frozen=True)
class PlacedNote:
    """Hold one plain note on the wall: its spec, cell and corners (tl, tr, br, bl, wall mm)."""

    index: int
    spec: NoteSpec
    room: str | None
    slot: str | None
    centre_mm: tuple[float, float]
    corners_mm: np.ndarray


class PhotographerError(Exception):
    """A board or camera that cannot be laid out or rendered as asked."""


# ----------------------------------------------------------------------------------------------
# Specs and results


@dataclass(frozen=True)
class BoardSpec:
    """Describe a wall board in millimetres.

    Columns run across the top and rows down the left. Rooms are the columns and slots the rows,
    unless `transposed`. Column widths and row heights vary by +-`unevenness` around their means,
    as a hand-taped grid does, unless given explicitly. `missing_headers` names rooms (by name) and
    slots (by start) whose header card is absent; `missing_corners` names corner cards ("tl", ...).
    With `claim_keys` each sticky's QR holds a claim key after "?", as the app prints it; the
    manifest lists the QR text without it, as the app's does.
    """

    rooms: tuple[str, ...]
    slots: tuple[str, ...]
    transposed: bool = False
    column_width_mm: float = 120.0
    row_height_mm: float = 100.0
    unevenness: float = 0.2
    column_widths_mm: tuple[float, ...] | None = None
    row_heights_mm: tuple[float, ...] | None = None
    n_stickies: int = 20
    n_person_stickies: int = 3
    n_unplaced: int = 2
    n_posters: int = 2
    # Framed pictures hung on the wall around the board (the wall's margin grows to hold them).
    n_pictures: int = 0
    # The wall the board hangs on: "" for plain grey paint, or a surface of benchmarks.walls
    # ("paint", "cork", "kraft", "fabric", "whiteboard", "dark"), SURROUND_MM of it on every
    # side; its pictures are then printouts and posters as well as framed pictures.
    surround: str = ""
    missing_headers: tuple[str, ...] = ()
    missing_corners: tuple[str, ...] = ()
    max_rotation_deg: float = 8.0
    px_per_mm: float = 3.0
    dictionary: str = DEFAULT_DICTIONARY
    template: str = "note-76"
    base_url: str = BASE_URL
    claim_keys: bool = False
    # Plain notes: `notes` as given, and `n_notes` more laid out at random in cells without a
    # printed sticky (sizes within `note_sizes_mm`, colours from `note_colors`, turned by up to
    # `max_rotation_deg`); `n_note_overlaps` of them are stuck half over another note.
    notes: tuple[NoteSpec, ...] = ()
    n_notes: int = 0
    n_note_overlaps: int = 0
    note_colors: tuple[str, ...] = ("yellow", "pink", "orange", "green", "blue", "white")
    note_sizes_mm: tuple[float, float] = (50.0, 125.0)
    note_curl: float = 0.0

    @classmethod
    def grid(cls, rooms: int, slots: int, **changes) -> BoardSpec:
        """Return the spec of a board of `rooms` x `slots` with default names, and `changes`."""
        return cls(rooms=default_rooms(rooms), slots=default_slots(slots), **changes)


@dataclass(frozen=True)
class PlacedSticky:
    """Hold one sticky on the wall: identity, cell and geometry in wall millimetres.

    `room` and `slot` are None for a person sticky off the grid. Corners run tl, tr, br, bl in
    the sticky's (or marker's) own frame.
    """

    code: str
    kind: str
    marker_id: int
    room: str | None
    slot: str | None
    centre_mm: tuple[float, float]
    angle_deg: float
    corners_mm: np.ndarray
    marker_corners_mm: np.ndarray
    qr_corners_mm: np.ndarray
    # What the scanner reports and the manifest lists (a printed claim key left out).
    qr_text: str


@dataclass(frozen=True)
class Board:
    """Hold a rendered wall, its manifest and its ground truth (wall millimetres)."""

    spec: BoardSpec
    wall: np.ndarray
    px_per_mm: float
    manifest: dict
    stickies: tuple[PlacedSticky, ...]
    column_edges_mm: tuple[float, ...]
    row_edges_mm: tuple[float, ...]
    board_corners_mm: np.ndarray
    marker_corners_mm: dict[int, np.ndarray]
    poster_texts: tuple[str, ...]
    notes: tuple[PlacedNote, ...] = ()
    _blurred: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def size_mm(self) -> tuple[float, float]:
        """Return the wall's width and height in millimetres."""
        h, w = self.wall.shape[:2]
        return w / self.px_per_mm, h / self.px_per_mm

    @property
    def truth(self) -> dict[str, tuple[str | None, str | None]]:
        """Map each sticky code on the wall to its (room, slot), (None, None) off the grid."""
        return {s.code: (s.room, s.slot) for s in self.stickies}

    def cell_at(self, x_mm: float, y_mm: float) -> tuple[str, str] | None:
        """Return the (room, slot) of the cell holding the wall point, None off the grid."""
        cols, rows = self.column_edges_mm, self.row_edges_mm
        if not (cols[0] <= x_mm < cols[-1] and rows[0] <= y_mm < rows[-1]):
            return None
        i = int(np.searchsorted(cols, x_mm, side="right")) - 1
        j = int(np.searchsorted(rows, y_mm, side="right")) - 1
        if self.spec.transposed:
            return self.spec.rooms[j], self.spec.slots[i]
        return self.spec.rooms[i], self.spec.slots[j]

    def cell_corners_mm(self, room: str, slot: str) -> np.ndarray:
        """Return the cell's corners tl, tr, br, bl in wall millimetres."""
        r, s = self.spec.rooms.index(room), self.spec.slots.index(slot)
        i, j = (s, r) if self.spec.transposed else (r, s)
        x0, x1 = self.column_edges_mm[i], self.column_edges_mm[i + 1]
        y0, y1 = self.row_edges_mm[j], self.row_edges_mm[j + 1]
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


@dataclass(frozen=True)
class Camera:
    """Describe a camera and the scene in front of the wall.

    `fill` is the fraction of the frame that the board spans along its tighter axis. `yaw_deg`
    turns the camera about the wall's vertical axis, `pitch_deg` about its horizontal axis.
    `k1` is the radial distortion on normalised coordinates, n_ideal = n_photo (1 - k1 r^2): to
    first order OpenCV's first coefficient; negative is barrel and one-to-one over any frame.
    `defocus_px` is the radius of the disk blur in photo pixels, `noise_sigma` the sensor noise
    in 8-bit levels. `light_gradient` darkens one side of the frame by that fraction,
    `shadow` the centre of a soft blob, `glare` adds a saturated bright blob. `people` stand in
    front of the board. `jpeg_quality` None keeps the raw frame.
    """

    width: int = 1920
    height: int = 1080
    hfov_deg: float = 66.0
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    fill: float = 0.94
    jitter: float = 0.02
    k1: float = 0.0
    defocus_px: float = 0.0
    optical_sigma_px: float = 0.5
    noise_sigma: float = 2.0
    light_gradient: float = 0.0
    shadow: float = 0.0
    glare: float = 0.0
    people: int = 0
    # Where people stand: the middle of each, as a share of the board's width in the photo
    # (the rest stand anywhere).
    people_at: tuple[float, ...] = ()
    jpeg_quality: int | None = 92

    @classmethod
    def phone_12mp(cls, **changes) -> Camera:
        """Return a 4000 x 3000 phone camera, mildly off-axis."""
        base = dict(width=4000, height=3000, hfov_deg=68.0, yaw_deg=8.0, pitch_deg=5.0)
        return cls(**(base | changes))

    @classmethod
    def webcam_1080p(cls, **changes) -> Camera:
        """Return a 1920 x 1080 webcam, square to the wall."""
        base = dict(width=1920, height=1080, hfov_deg=70.0, yaw_deg=3.0, pitch_deg=2.0)
        return cls(**(base | changes))


@dataclass(frozen=True)
class StickyInPhoto:
    """Hold one sticky's truth in photo pixels.

    `in_frame`: all four sticky corners lie inside the photo. `occluded`: the fraction of the
    sticky covered by people. `visible`: in frame and not covered at all.
    """

    code: str
    kind: str
    room: str | None
    slot: str | None
    centre_px: tuple[float, float]
    corners_px: np.ndarray
    marker_corners_px: np.ndarray
    qr_centre_px: tuple[float, float]
    in_frame: bool
    occluded: float
    visible: bool


@dataclass(frozen=True)
class NoteInPhoto:
    """Hold one plain note's truth in photo pixels.

    `corners_px` run tl, tr, br, bl of the note as stuck. `in_frame`: all four corners inside the
    photo. `occluded`: the share covered by people; `covered`: the share under notes stuck over
    it. `visible`: in frame and covered by neither.
    """

    index: int
    color: str
    text: str
    room: str | None
    slot: str | None
    centre_px: tuple[float, float]
    corners_px: np.ndarray
    in_frame: bool
    occluded: float
    covered: float
    visible: bool


@dataclass(frozen=True)
class Shot:
    """Hold one photo of a board and its truth in photo pixels.

    `homography` maps wall millimetres to undistorted photo pixels; lens distortion (`k1`, about
    the photo centre, focal length `focal_px`) then maps those to the photo's pixels.
    """

    image: np.ndarray
    camera: Camera
    board: Board
    homography: np.ndarray
    focal_px: float
    stickies: tuple[StickyInPhoto, ...]
    hidden_cells: tuple[tuple[str, str], ...]
    people_mask: np.ndarray = field(repr=False)
    notes: tuple[NoteInPhoto, ...] = ()

    @property
    def visible_codes(self) -> frozenset[str]:
        """Return the codes of the stickies fully in frame and not covered."""
        return frozenset(s.code for s in self.stickies if s.visible)

    def photo_to_wall(self, points_px: np.ndarray) -> np.ndarray:
        """Map photo pixels (N x 2) to wall millimetres (N x 2), undoing lens distortion."""
        pts = np.asarray(points_px, dtype=np.float64).reshape(-1, 2)
        und = _undistort(pts, self.camera, self.focal_px)
        return _apply_h(np.linalg.inv(self.homography), und)

    def truth_json(self) -> dict:
        """Return the truth as plain JSON values (photo pixels)."""
        return {
            "camera": {k: getattr(self.camera, k) for k in self.camera.__dataclass_fields__.keys()},
            "homography_mm_to_px": self.homography.tolist(),
            "focal_px": self.focal_px,
            "hidden_cells": [list(c) for c in self.hidden_cells],
            "stickies": [
                {
                    "code": s.code,
                    "kind": s.kind,
                    "room": s.room,
                    "slot": s.slot,
                    "x": round(s.centre_px[0], 2),
                    "y": round(s.centre_px[1], 2),
                    "marker_corners": np.round(s.marker_corners_px, 2).tolist(),
                    "qr_centre": [round(v, 2) for v in s.qr_centre_px],
                    "in_frame": s.in_frame,
                    "occluded": round(s.occluded, 3),
                    "visible": s.visible,
                }
                for s in self.stickies
            ],
        }


# ----------------------------------------------------------------------------------------------
# Artwork: stickies and cards as images with their geometry in their own millimetres


@dataclass(frozen=True)
class Art:
    """Hold a printed item as an image and its geometry in its own millimetres (origin top-left)."""

    image: np.ndarray
    size_mm: tuple[float, float]
    marker_corners_mm: np.ndarray
    qr_corners_mm: np.ndarray | None
    writing_box_mm: tuple[float, float, float, float] | None


def aruco_dictionary(name: str):
    """Return the OpenCV ArUco dictionary named like `DICT_4X4_1000`."""
    try:
        return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))
    except AttributeError as exc:
        raise PhotographerError(f"unknown ArUco dictionary {name!r}") from exc


def qr_modules(text: str) -> np.ndarray:
    """Return the QR code of `text` as a boolean module matrix, True dark, no quiet zone."""
    qr = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    return np.array(qr.get_matrix(), dtype=bool)


def _square_corners(x: float, y: float, side: float) -> np.ndarray:
    return np.array([[x, y], [x + side, y], [x + side, y + side], [x, y + side]], dtype=np.float64)


def _paint_qr(img: np.ndarray, text: str, x_mm: float, y_mm: float, side_mm: float, p: float):
    mods = qr_modules(text)
    x0, y0, x1, y1 = (round(v * p) for v in (x_mm, y_mm, x_mm + side_mm, y_mm + side_mm))
    tile = np.where(mods, 0, 255).astype(np.uint8)
    tile = cv2.resize(tile, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
    img[y0:y1, x0:x1] = tile[..., None]


def _pil_to_bgr(image, tint=(255, 255, 255)) -> np.ndarray:
    """Convert an RGB PIL image to BGR, printed on paper of colour `tint` (BGR)."""
    bgr = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)
    if tint == (255, 255, 255):
        return bgr
    # Ink on coloured paper: white takes the paper's colour, black stays black.
    return (bgr.astype(np.float32) * (np.array(tint, np.float32) / 255.0)).astype(np.uint8)


def sticky_art(
    *, sticky: StickySpec, template: str, dictionary: str, px_per_mm: float, colour
) -> Art:
    """Render a sticky with printables, on paper of `colour`, with its geometry in its own mm."""
    t = get_template(template)
    img = sticky_image(
        sticky, template=template, dpi=px_per_mm * 25.4, marker_dictionary=dictionary
    )
    mx, my = t.marker_origin
    qx, qy = t.qr_origin
    # Handwriting goes below the marker block and left of the QR's quiet zone.
    top = my + t.marker_side_mm + t.marker_cell_mm + 3.0
    return Art(
        image=_pil_to_bgr(img, colour),
        size_mm=(t.sticky_w_mm, t.sticky_h_mm),
        marker_corners_mm=_square_corners(mx, my, t.marker_side_mm),
        qr_corners_mm=_square_corners(qx, qy, t.qr_side_mm),
        writing_box_mm=(t.margin_mm, top, qx - 4 * t.qr_side_mm / 21 - 2.0, t.sticky_h_mm - 4.0),
    )


def card_art(*, card: CardSpec, dictionary: str, px_per_mm: float) -> Art:
    """Render a kit card with printables, with its marker's corners in the card's own mm."""
    img = card_image(card, dpi=px_per_mm * 25.4, marker_dictionary=dictionary)
    x, y, side = card_marker_rect(card.role)
    return Art(
        image=_pil_to_bgr(img),
        size_mm=card_size(card.role),
        marker_corners_mm=_square_corners(x, y, side),
        qr_corners_mm=None,
        writing_box_mm=None,
    )


def poster_art(*, text: str, px_per_mm: float, rng: np.random.Generator) -> Art:
    """Render a stray poster: a QR code that is not in the manifest, with a title bar."""
    p = px_per_mm
    w, h = 80.0, 100.0
    img = np.full((round(h * p), round(w * p), 3), 255, np.uint8)
    colour = tuple(int(v) for v in rng.integers(40, 200, 3))
    cv2.rectangle(img, (0, 0), (img.shape[1], round(22 * p)), colour, -1)
    _paint_qr(img, text, 15.0, 32.0, 50.0, p)
    return Art(
        image=img,
        size_mm=(w, h),
        marker_corners_mm=np.zeros((4, 2)),
        qr_corners_mm=_square_corners(15.0, 32.0, 50.0),
        writing_box_mm=None,
    )


PICTURE_MM = (240.0, 180.0)
PICTURE_GAP_MM = 40.0


SURROUND_MM = 650.0


def _wall_margin(spec: BoardSpec) -> float:
    """Return how much wall (mm) shows on every side of the board."""
    margin = WALL_MARGIN_MM
    if spec.n_pictures:
        margin = PICTURE_MM[0] + 2 * PICTURE_GAP_MM
    return max(margin, SURROUND_MM) if spec.surround else margin


def _wall_surface(kind: str, shape: tuple[int, int], p: float, rng) -> np.ndarray:
    """Return the bare wall (BGR uint8, `shape` px at `p` px/mm): grey paint with a faint
    low-frequency texture, or a surface of benchmarks.walls."""
    h, w = shape
    if kind:
        from benchmarks import walls  # walls builds on this module

        return walls.surface(kind, h, w, p, rng)
    wall = np.empty((h, w, 3), np.uint8)
    wall[:] = WALL_BGR
    tex = rng.normal(0, 4.0, (max(2, h // 40), max(2, w // 40)))
    tex = cv2.resize(tex.astype(np.float32), (w, h))
    return np.clip(wall.astype(np.float32) + tex[..., None], 0, 255).astype(np.uint8)


def _surround_art(p: float, rng: np.random.Generator) -> Art:
    """Return what hangs on a wall around a board: a framed picture, a printout or a poster."""
    from benchmarks import walls

    kind = rng.choice(("picture", "printout", "poster"))
    if kind == "picture":
        return picture_art(px_per_mm=p, rng=rng)
    return walls.hung_art(str(kind), PICTURE_MM[::-1] if kind == "printout" else PICTURE_MM, p, rng)


def picture_art(*, px_per_mm: float, rng: np.random.Generator) -> Art:
    """Render a framed picture: a black frame around busy shapes, lines, text and squares."""
    p = px_per_mm
    w, h = PICTURE_MM
    img = np.empty((round(h * p), round(w * p), 3), np.uint8)
    img[:] = tuple(int(v) for v in rng.integers(120, 250, 3))
    for _ in range(14):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        x1, y1 = x0 + rng.uniform(10, 90), y0 + rng.uniform(10, 70)
        if rng.random() < 0.5:
            cv2.rectangle(
                img, (round(x0 * p), round(y0 * p)), (round(x1 * p), round(y1 * p)), colour, -1
            )
        else:
            r = round(rng.uniform(8, 40) * p)
            cv2.circle(img, (round(x0 * p), round(y0 * p)), r, colour, -1)
    # Small dark squares and a checkerboard: shapes a marker search looks at twice.
    for _ in range(6):
        x0, y0, side = rng.uniform(10, w - 40), rng.uniform(10, h - 40), rng.uniform(12, 30)
        cv2.rectangle(
            img,
            (round(x0 * p), round(y0 * p)),
            (round((x0 + side) * p), round((y0 + side) * p)),
            (20, 20, 20),
            -1,
        )
        inner = side / 3
        cv2.rectangle(
            img,
            (round((x0 + inner) * p), round((y0 + inner) * p)),
            (round((x0 + 2 * inner) * p), round((y0 + 2 * inner) * p)),
            (235, 235, 235),
            -1,
        )
    cell = 8.0
    cx, cy = rng.uniform(20, w - 60), rng.uniform(20, h - 60)
    for i in range(5):
        for j in range(5):
            if (i + j) % 2 == 0:
                a = (round((cx + i * cell) * p), round((cy + j * cell) * p))
                b = (round((cx + (i + 1) * cell) * p), round((cy + (j + 1) * cell) * p))
                cv2.rectangle(img, a, b, (15, 15, 15), -1)
    cv2.putText(
        img,
        "EXHIBIT",
        (round(12 * p), round((h - 14) * p)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.4 * p,
        (10, 10, 10),
        max(1, round(0.8 * p)),
    )
    frame = round(8 * p)
    cv2.rectangle(img, (0, 0), (img.shape[1] - 1, img.shape[0] - 1), (25, 25, 25), frame)
    return Art(
        image=img,
        size_mm=(w, h),
        marker_corners_mm=np.zeros((4, 2)),
        qr_corners_mm=np.zeros((4, 2)),
        writing_box_mm=None,
    )


def _picture_spots(board_mm, margin: float, n: int) -> list[tuple[float, float]]:
    """Return the centres (wall mm) of n pictures around a board at (margin, margin)."""
    bw, bh = board_mm
    w, h = PICTURE_MM
    g = PICTURE_GAP_MM
    left, right = margin - g - w / 2, margin + bw + g + w / 2
    top, bottom = margin - g - h / 2, margin + bh + g + h / 2
    rows = [margin + h / 2 + k * (h + g) for k in range(max(1, int(bh // (h + g))))]
    cols = [margin + w / 2 + k * (w + g) for k in range(max(1, int(bw // (w + g))))]
    spots = [(left, y) for y in rows] + [(right, y) for y in rows]
    spots += [(x, top) for x in cols] + [(x, bottom) for x in cols]
    order = np.argsort([(i * 7919) % 101 for i in range(len(spots))], kind="stable")
    return [spots[i] for i in order[:n]]


def scribble(img: np.ndarray, box_mm, p: float, rng: np.random.Generator) -> None:
    """Write two or three lines of pen strokes into `box_mm` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box_mm
    ink = tuple(int(v) for v in rng.choice([(90, 30, 20), (20, 20, 20), (30, 30, 150)]))
    lines = int(rng.integers(2, 4))
    for k in range(lines):
        base = y0 + (k + 0.8) * (y1 - y0) / (lines + 0.3)
        if rng.random() < 0.5:
            word = "".join(rng.choice(list("abcdefghiklmnoprstuvwy  "), int(rng.integers(6, 12))))
            org = (round((x0 + rng.uniform(0, 6)) * p), round(base * p))
            font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
            cv2.putText(img, word, org, font, 0.075 * p, ink, max(1, round(0.5 * p)), cv2.LINE_AA)
            continue
        x = x0 + rng.uniform(0, 8)
        pts = []
        while x < x1 - 3:
            pts.append((x * p, (base - rng.uniform(0, 5)) * p))
            x += rng.uniform(0.8, 2.5)
        if len(pts) > 1:
            arr = np.round(np.array(pts)).astype(np.int32)
            cv2.polylines(img, [arr], False, ink, max(1, round(0.5 * p)), cv2.LINE_AA)


# A handwriting font from Debian (fonts-dkg-handwriting); without it OpenCV's script font stands in.
HANDWRITING_FONT = "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf"


def handwrite(img: np.ndarray, text: str, box_mm, p: float, *, seed: int = 0) -> None:
    """Write `text` into `box_mm` (x0, y0, x1, y1) as a marker pen would: letters about 6 mm
    high, words wrapped onto the sticky's lines 9 mm apart, each line a little crooked."""
    from pathlib import Path

    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = box_mm
    ink = (20, 40, 110)  # RGB: a blue marker
    size = round(8.5 * p)
    font = (
        ImageFont.truetype(HANDWRITING_FONT, size)
        if Path(HANDWRITING_FONT).is_file()
        else ImageFont.load_default(size)
    )
    layer = Image.new("L", (img.shape[1], img.shape[0]), 0)
    draw = ImageDraw.Draw(layer)
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=font) > (x1 - x0) * p:
            lines.append(line)
            line = word
        else:
            line = trial
    if line:
        lines.append(line)
    for k, words in enumerate(lines):
        base = y0 + 7.5 + 9.0 * k
        if base > y1 + 2:
            break
        row = Image.new("L", layer.size, 0)
        origin = ((x0 + rng.uniform(0, 2)) * p, base * p)
        ImageDraw.Draw(row).text(origin, words, font=font, fill=255, anchor="ls")
        # A hand drifts: turn the line by up to 2 degrees about its start.
        row = row.rotate(float(rng.uniform(-2, 2)), resample=Image.BILINEAR, center=origin)
        layer = Image.fromarray(np.maximum(np.asarray(layer), np.asarray(row)))
    alpha = np.asarray(layer, np.float32)[..., None] / 255.0
    bgr = np.array(ink[::-1], np.float32)
    img[:] = (img * (1 - alpha) + bgr * alpha).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# The wall


def default_rooms(n: int) -> tuple[str, ...]:
    """Return `n` room names: "Hall A", "Hall B", ..."""
    return tuple(f"Hall {chr(ord('A') + i)}" if i < 26 else f"Room {i + 1}" for i in range(n))


def default_slots(n: int, *, start: str = "2026-09-26T10:00", minutes: int = 60) -> tuple[str, ...]:
    """Return `n` slot starts, `minutes` apart, as "YYYY-MM-DDTHH:MM"."""
    t0 = datetime.fromisoformat(start)
    return tuple((t0 + timedelta(minutes=minutes * i)).strftime("%Y-%m-%dT%H:%M") for i in range(n))


def _codes(rng: np.random.Generator, n: int) -> list[str]:
    seen: set[str] = set()
    out = []
    while len(out) < n:
        code = "".join(rng.choice(list(CROCKFORD), 6))
        if code not in seen:
            seen.add(code)
            out.append(code)
    return out


def _uneven(mean: float, n: int, unevenness: float, rng: np.random.Generator) -> np.ndarray:
    return mean * (1.0 + rng.uniform(-unevenness, unevenness, n))


def _paste(wall: np.ndarray, art: Art, centre_mm, angle_deg: float, p: float) -> np.ndarray:
    """Paste `art` into `wall` turned by `angle_deg` about its centre; return its 2x3 mm affine.

    The returned affine maps the art's own millimetres to wall millimetres.
    """
    w_mm, h_mm = art.size_mm
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    cx, cy = centre_mm
    # art mm -> wall mm: rotate about the art centre, then move the centre to centre_mm
    rot = np.array([[c, -s], [s, c]])
    t = np.array([cx, cy]) - rot @ np.array([w_mm / 2, h_mm / 2])
    a_mm = np.hstack([rot, t[:, None]])
    # art px -> wall px, with pixel centres at integer coordinates on both sides
    a_px = a_mm.copy()
    a_px[:, 2] = p * (rot @ np.array([0.5 / p, 0.5 / p]) + t) - 0.5
    corners = (
        a_mm[:, :2] @ np.array([[0, 0], [w_mm, 0], [w_mm, h_mm], [0, h_mm]]).T + t[:, None]
    ).T * p
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 2
    hh, ww = wall.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, ww), min(y1, hh)
    if x1 <= x0 or y1 <= y0:
        return a_mm
    local = a_px.copy()
    local[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    flags = cv2.INTER_LINEAR
    patch = cv2.warpAffine(art.image, local, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    ones = np.full(art.image.shape[:2], 255, np.uint8)
    mask = cv2.warpAffine(ones, local, size, flags=flags, borderValue=0)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    roi = wall[y0:y1, x0:x1].astype(np.float32)
    wall[y0:y1, x0:x1] = (alpha * patch + (1 - alpha) * roi).astype(np.uint8)
    return a_mm


def _map_affine(a_mm: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ a_mm[:, :2].T + a_mm[:, 2]


def _header_marker_offset() -> list[float]:
    """Return the vector from a header card's marker centre to the card's centre, in sides."""
    x, y, side = card_marker_rect("room")
    w, h = card_size("room")
    return [round((w / 2 - x - side / 2) / side, 4), round((h / 2 - y - side / 2) / side, 4)]


def make_board(spec: BoardSpec, *, seed: int) -> Board:
    """Lay out and render the wall described by `spec`; the same seed gives the same pixels."""
    rng = np.random.default_rng(seed)
    p = spec.px_per_mm
    aruco_dictionary(spec.dictionary)  # fail early on an unknown name
    n_cols, n_rows = (
        (len(spec.slots), len(spec.rooms))
        if spec.transposed
        else (len(spec.rooms), len(spec.slots))
    )
    if n_cols == 0 or n_rows == 0:
        raise PhotographerError("a board needs at least one room and one slot")
    if spec.n_stickies > n_cols * n_rows:
        raise PhotographerError(
            f"{spec.n_stickies} stickies do not fit into {n_cols * n_rows} cells"
        )
    widths = np.array(
        spec.column_widths_mm
        if spec.column_widths_mm
        else _uneven(spec.column_width_mm, n_cols, spec.unevenness, rng)
    )
    heights = np.array(
        spec.row_heights_mm
        if spec.row_heights_mm
        else _uneven(spec.row_height_mm, n_rows, spec.unevenness, rng)
    )
    if len(widths) != n_cols or len(heights) != n_rows:
        raise PhotographerError("column_widths_mm and row_heights_mm must match the grid")

    margin = _wall_margin(spec)
    bx = by = margin
    gx, gy = bx + LEFT_BAND_MM, by + HEADER_BAND_MM
    col_edges = gx + np.concatenate([[0.0], np.cumsum(widths)])
    row_edges = gy + np.concatenate([[0.0], np.cumsum(heights)])
    people_y0 = row_edges[-1] + PEOPLE_GAP_MM
    board_w = col_edges[-1] + LEFT_BAND_MM - bx
    board_h = people_y0 + PEOPLE_AREA_MM + HEADER_BAND_MM - by
    wall_w, wall_h = board_w + 2 * margin, board_h + 2 * margin

    wall = _wall_surface(spec.surround, (round(wall_h * p), round(wall_w * p)), p, rng)
    cv2.rectangle(
        wall,
        (round(bx * p), round(by * p)),
        (round((bx + board_w) * p), round((by + board_h) * p)),
        BOARD_BGR,
        -1,
    )
    # Hand-laid tape along the cell boundaries, slightly crooked.
    tape = max(1, round(4 * p))
    for x in col_edges:
        dx = rng.uniform(-3, 3)
        pt0 = (round((x + dx) * p), round((gy - 10) * p))
        pt1 = (round((x - dx) * p), round(row_edges[-1] * p))
        cv2.line(wall, pt0, pt1, TAPE_BGR, tape)
    for y in row_edges:
        dy = rng.uniform(-3, 3)
        pt0 = (round((gx - 10) * p), round((y + dy) * p))
        pt1 = (round(col_edges[-1] * p), round((y - dy) * p))
        cv2.line(wall, pt0, pt1, TAPE_BGR, tape)

    marker_corners: dict[int, np.ndarray] = {}
    # Corner cards at the board's outer corners.
    half_w, half_h = CORNER_CARD[0] / 2 + 2, CORNER_CARD[1] / 2 + 2
    corner_centres = {
        "tl": (bx + half_w, by + half_h),
        "tr": (bx + board_w - half_w, by + half_h),
        "br": (bx + board_w - half_w, by + board_h - half_h),
        "bl": (bx + half_w, by + board_h - half_h),
    }
    for marker_id, name in enumerate(CORNER_NAMES):
        card = CardSpec(role="corner", key=name, marker_id=marker_id, title="")
        angle = rng.uniform(-2, 2)
        if name in spec.missing_corners:
            continue
        art = card_art(card=card, dictionary=spec.dictionary, px_per_mm=p)
        a_mm = _paste(wall, art, corner_centres[name], angle, p)
        marker_corners[marker_id] = _map_affine(a_mm, art.marker_corners_mm)

    # Marker ids: corners 0-3, then rooms, slots and stickies, in that order.
    next_id = 4
    room_ids = list(range(next_id, next_id + len(spec.rooms)))
    next_id += len(spec.rooms)
    slot_ids = list(range(next_id, next_id + len(spec.slots)))
    next_id += len(spec.slots)
    room_cards = [
        CardSpec(
            role="room",
            key=name,
            marker_id=room_ids[i],
            title=name,
            qr_text=f"{spec.base_url}/rooms/{i + 1}",
        )
        for i, name in enumerate(spec.rooms)
    ]
    slot_cards = [
        CardSpec(
            role="slot",
            key=start,
            marker_id=slot_ids[i],
            title=start[11:],
            subtitle=datetime.fromisoformat(start).strftime("%a %d %b"),
        )
        for i, start in enumerate(spec.slots)
    ]

    col_names = spec.slots if spec.transposed else spec.rooms
    row_names = spec.rooms if spec.transposed else spec.slots
    col_cards = slot_cards if spec.transposed else room_cards
    row_cards = room_cards if spec.transposed else slot_cards
    header_w, header_h = HEADER_CARD
    for i, card in enumerate(col_cards):
        centre = (
            (col_edges[i] + col_edges[i + 1]) / 2 + rng.uniform(-5, 5),
            gy - header_h / 2 - 5 + rng.uniform(-3, 3),
        )
        angle = rng.uniform(-3, 3)
        if card.key in spec.missing_headers:
            continue
        art = card_art(card=card, dictionary=spec.dictionary, px_per_mm=p)
        a_mm = _paste(wall, art, centre, angle, p)
        marker_corners[card.marker_id] = _map_affine(a_mm, art.marker_corners_mm)
    for j, card in enumerate(row_cards):
        centre = (
            gx - header_w / 2 - 5 + rng.uniform(-3, 3),
            (row_edges[j] + row_edges[j + 1]) / 2 + rng.uniform(-5, 5),
        )
        angle = rng.uniform(-3, 3)
        if card.key in spec.missing_headers:
            continue
        art = card_art(card=card, dictionary=spec.dictionary, px_per_mm=p)
        a_mm = _paste(wall, art, centre, angle, p)
        marker_corners[card.marker_id] = _map_affine(a_mm, art.marker_corners_mm)

    n_total = spec.n_stickies + spec.n_person_stickies + spec.n_unplaced
    codes = _codes(rng, n_total + spec.n_posters)
    sticky_ids = list(range(next_id, next_id + n_total))
    kinds = ["session"] * spec.n_stickies + ["person"] * spec.n_person_stickies
    kinds += [str(k) for k in rng.choice(["session", "person"], spec.n_unplaced)]

    cells = [(i, j) for j in range(n_rows) for i in range(n_cols)]
    chosen = rng.permutation(len(cells))[: spec.n_stickies]
    # People area: a row of spots for person stickies and posters, left to right.
    spot_w = 100.0
    n_spots = int((col_edges[-1] - gx) // spot_w)
    if spec.n_person_stickies + spec.n_posters > n_spots:
        raise PhotographerError("the people area is too small for the person stickies and posters")
    spots = rng.permutation(n_spots)

    stickies: list[PlacedSticky] = []
    manifest_stickies = []
    for k in range(n_total):
        code, kind, marker_id = codes[k], kinds[k], sticky_ids[k]
        qr_text = f"{spec.base_url}/s/{code}"
        printed = f"{qr_text}?k={code[::-1]}" if spec.claim_keys else qr_text
        colour = STICKY_COLOURS_BGR[int(rng.integers(len(STICKY_COLOURS_BGR)))]
        art = sticky_art(
            sticky=StickySpec(code=code, qr_text=printed, marker_id=marker_id, kind=kind),
            template=spec.template,
            dictionary=spec.dictionary,
            px_per_mm=p,
            colour=colour,
        )
        w_mm, h_mm = art.size_mm
        mc = art.marker_corners_mm.mean(axis=0)
        side = float(np.linalg.norm(art.marker_corners_mm[1] - art.marker_corners_mm[0]))
        offset = ((w_mm / 2 - mc[0]) / side, (h_mm / 2 - mc[1]) / side)
        manifest_stickies.append(
            {
                "code": code,
                "kind": kind,
                "qr": qr_text,
                "marker_id": marker_id,
                "marker_offset": [round(offset[0], 4), round(offset[1], 4)],
                "outline": [list(c) for c in get_template(spec.template).marker_outline],
                "marker_mm": get_template(spec.template).marker_side_mm,
                "qr_outline": [list(c) for c in get_template(spec.template).marker_qr_outline],
            }
        )
        if k >= spec.n_stickies + spec.n_person_stickies:
            continue  # issued, not on the wall
        if art.writing_box_mm is not None:
            img = art.image.copy()
            scribble(img, art.writing_box_mm, p, rng)
            art = Art(
                img, art.size_mm, art.marker_corners_mm, art.qr_corners_mm, art.writing_box_mm
            )
        angle = rng.uniform(-spec.max_rotation_deg, spec.max_rotation_deg)
        if k < spec.n_stickies:
            i, j = cells[chosen[k]]
            cw_, ch_ = widths[i], heights[j]
            # Keep the sticky inside its cell, give or take a few millimetres, as people do.
            a = math.radians(angle)
            bbox_w = w_mm * abs(math.cos(a)) + h_mm * abs(math.sin(a))
            bbox_h = w_mm * abs(math.sin(a)) + h_mm * abs(math.cos(a))
            slack_x = max(3.0, (cw_ - bbox_w) / 2 + 4.0)
            slack_y = max(3.0, (ch_ - bbox_h) / 2 + 4.0)
            centre = (
                (col_edges[i] + col_edges[i + 1]) / 2 + rng.uniform(-slack_x, slack_x),
                (row_edges[j] + row_edges[j + 1]) / 2 + rng.uniform(-slack_y, slack_y),
            )
            room, slot = (
                (row_names[j], col_names[i]) if spec.transposed else (col_names[i], row_names[j])
            )
        else:
            spot = spots[k - spec.n_stickies]
            centre = (
                gx + (spot + 0.5) * spot_w + rng.uniform(-8, 8),
                people_y0 + PEOPLE_AREA_MM / 2 + rng.uniform(-10, 10),
            )
            room = slot = None
        a_mm = _paste(wall, art, centre, angle, p)
        stickies.append(
            PlacedSticky(
                code=code,
                kind=kind,
                marker_id=marker_id,
                room=room,
                slot=slot,
                centre_mm=(float(centre[0]), float(centre[1])),
                angle_deg=float(angle),
                corners_mm=_map_affine(
                    a_mm, np.array([[0, 0], [w_mm, 0], [w_mm, h_mm], [0, h_mm]], dtype=np.float64)
                ),
                marker_corners_mm=_map_affine(a_mm, art.marker_corners_mm),
                qr_corners_mm=_map_affine(a_mm, art.qr_corners_mm),
                qr_text=qr_text,
            )
        )
        marker_corners[marker_id] = stickies[-1].marker_corners_mm

    # Posters: QR codes that are not in the manifest. One holds a sticky link never issued.
    poster_texts = []
    for k in range(spec.n_posters):
        text = (
            f"{spec.base_url}/s/{codes[n_total + k]}" if k == 0 else f"https://example.org/talk/{k}"
        )
        art = poster_art(text=text, px_per_mm=p, rng=rng)
        spot = spots[spec.n_person_stickies + k]
        centre = (gx + (spot + 0.5) * spot_w, people_y0 + PEOPLE_AREA_MM / 2)
        _paste(wall, art, centre, rng.uniform(-4, 4), p)
        poster_texts.append(text)

    # Pictures hung around the board, close to its edges and corner cards.
    for centre in _picture_spots((board_w, board_h), margin, spec.n_pictures):
        art = _surround_art(p, rng) if spec.surround else picture_art(px_per_mm=p, rng=rng)
        _paste(wall, art, centre, rng.uniform(-3, 3), p)

    manifest = {
        "event": {"name": "Synthetic Open Space", "slug": "synthetic", "base_url": spec.base_url},
        "marker_dictionary": spec.dictionary,
        "header_marker_offset": _header_marker_offset(),
        "corners": {name: i for i, name in enumerate(CORNER_NAMES)},
        "rooms": [
            {"name": name, "marker_id": room_ids[i], "qr": f"{spec.base_url}/rooms/{i + 1}"}
            for i, name in enumerate(spec.rooms)
        ],
        "slots": [
            {
                "start": start,
                "end": (datetime.fromisoformat(start) + timedelta(minutes=45)).strftime(
                    "%Y-%m-%dT%H:%M"
                ),
                "marker_id": slot_ids[i],
            }
            for i, start in enumerate(spec.slots)
        ],
        "stickies": manifest_stickies,
    }
    board_corners = np.array(
        [[bx, by], [bx + board_w, by], [bx + board_w, by + board_h], [bx, by + board_h]]
    )
    layout = _Layout(col_names, row_names, col_edges, row_edges, gx, people_y0, spec.transposed)
    specs = list(spec.notes) + _random_notes(spec, layout, stickies, seed=seed)
    notes = _put_notes(wall, specs, layout, p)
    # A board with plain notes says so, as an event with them does (the scanner looks for them).
    manifest["plain_notes"] = bool(notes)
    return Board(
        spec=spec,
        wall=wall,
        px_per_mm=p,
        manifest=manifest,
        stickies=tuple(stickies),
        column_edges_mm=tuple(float(v) for v in col_edges),
        row_edges_mm=tuple(float(v) for v in row_edges),
        board_corners_mm=board_corners,
        marker_corners_mm=marker_corners,
        poster_texts=tuple(poster_texts),
        notes=tuple(notes),
    )


# ----------------------------------------------------------------------------------------------
# Plain notes


@dataclass(frozen=True)
class _Layout:
    """Hold where the grid lies on the wall, for laying out plain notes (wall mm)."""

    col_names: tuple[str, ...]
    row_names: tuple[str, ...]
    col_edges: np.ndarray
    row_edges: np.ndarray
    grid_x: float
    people_y0: float
    transposed: bool

    def cell(self, room: str, slot: str) -> tuple[float, float, float, float]:
        """Return the cell's x0, y0, x1, y1."""
        col, row = (slot, room) if self.transposed else (room, slot)
        i, j = self.col_names.index(col), self.row_names.index(row)
        return self.col_edges[i], self.row_edges[j], self.col_edges[i + 1], self.row_edges[j + 1]


def note_art(note: NoteSpec, *, px_per_mm: float) -> Art:
    """Render a plain note: paper of its colour, its text handwritten, its curl shaded."""
    p = px_per_mm
    w, h = note.size_mm
    img = np.empty((round(h * p), round(w * p), 3), np.uint8)
    img[:] = NOTE_COLOURS_BGR[note.color]
    if note.text:
        # People write to fill the note: letters grow with it (6 mm high on a 76 mm note).
        f = min(w, h) / 76.0
        box = (4.0 / f, 2.0 / f, (w - 4.0) / f, (h - 4.0) / f)
        handwrite(img, note.text, box, p * f, seed=note.writing_seed)
    if note.curl > 0:
        # The curled bottom band turns away from the light.
        band = np.linspace(0.0, 1.0, img.shape[0], dtype=np.float32) ** 6
        shade = 1.0 - 0.35 * note.curl * band
        img[:] = (img.astype(np.float32) * shade[:, None, None]).astype(np.uint8)
    return Art(
        image=img,
        size_mm=(w, h),
        marker_corners_mm=np.zeros((4, 2)),
        qr_corners_mm=None,
        writing_box_mm=None,
    )


def _random_notes(
    spec: BoardSpec, layout: _Layout, stickies: list[PlacedSticky], *, seed: int
) -> list[NoteSpec]:
    """Return `spec.n_notes` notes in cells without a printed sticky, a few overlapping."""
    if not spec.n_notes:
        return []
    # A generator of their own: boards without plain notes keep every pixel they had.
    rng = np.random.default_rng(seed + 7919)
    taken = {(s.room, s.slot) for s in stickies}
    free = [(room, slot) for slot in spec.slots for room in spec.rooms if (room, slot) not in taken]
    if spec.n_notes - spec.n_note_overlaps > len(free):
        raise PhotographerError(f"{spec.n_notes} plain notes do not fit into {len(free)} cells")
    order = rng.permutation(len(free))
    out: list[NoteSpec] = []
    lo, hi = spec.note_sizes_mm
    for k in range(spec.n_notes - spec.n_note_overlaps):
        room, slot = free[order[k]]
        x0, y0, x1, y1 = layout.cell(room, slot)
        side = float(rng.uniform(lo, hi))
        aspect = float(rng.choice([1.0, 1.0, 1.0, 1.5, 1 / 1.5]))
        w, h = (side, side / aspect) if aspect >= 1 else (side * aspect, side)
        w, h = max(w, lo), max(h, lo)
        # Fit the note's turned outline into its cell, less a margin, as people stick them.
        angle = float(rng.uniform(-spec.max_rotation_deg, spec.max_rotation_deg))
        a = math.radians(angle)
        bw = w * abs(math.cos(a)) + h * abs(math.sin(a))
        bh = w * abs(math.sin(a)) + h * abs(math.cos(a))
        fit = min(1.0, (x1 - x0 - 14) / bw, (y1 - y0 - 14) / bh)
        w, h, bw, bh = w * fit, h * fit, bw * fit, bh * fit
        slack_x, slack_y = max(0.0, (x1 - x0 - bw) / 2 - 7), max(0.0, (y1 - y0 - bh) / 2 - 7)
        out.append(
            NoteSpec(
                text="" if rng.random() < 0.1 else str(rng.choice(NOTE_TEXTS)),
                color=str(rng.choice(list(spec.note_colors))),
                size_mm=(round(w, 1), round(h, 1)),
                room=room,
                slot=slot,
                angle_deg=angle,
                offset_mm=(
                    float(rng.uniform(-slack_x, slack_x)),
                    float(rng.uniform(-slack_y, slack_y)),
                ),
                curl=float(rng.uniform(0, spec.note_curl)),
                writing_seed=int(rng.integers(1 << 30)),
            )
        )
    for _ in range(spec.n_note_overlaps):
        # Half over another note of the same cell, shifted down and aside.
        base = out[int(rng.integers(len(out)))]
        w, h = base.size_mm
        out.append(
            NoteSpec(
                text=str(rng.choice(NOTE_TEXTS)),
                color=str(
                    rng.choice([c for c in spec.note_colors if c != base.color] or [base.color])
                ),
                size_mm=base.size_mm,
                room=base.room,
                slot=base.slot,
                angle_deg=float(rng.uniform(-spec.max_rotation_deg, spec.max_rotation_deg)),
                offset_mm=(
                    base.offset_mm[0] + float(rng.choice([-1, 1])) * 0.45 * w,
                    base.offset_mm[1] + 0.4 * h,
                ),
                curl=float(rng.uniform(0, spec.note_curl)),
                writing_seed=int(rng.integers(1 << 30)),
            )
        )
    return out


def _put_notes(
    wall: np.ndarray, specs: list[NoteSpec], layout: _Layout, p: float
) -> list[PlacedNote]:
    """Stick the notes on the wall in order, each with a soft shadow; return where they are."""
    out = []
    spot = 0
    for i, note in enumerate(specs):
        w, h = note.size_mm
        if note.room is not None and note.slot is not None:
            x0, y0, x1, y1 = layout.cell(note.room, note.slot)
            centre = ((x0 + x1) / 2 + note.offset_mm[0], (y0 + y1) / 2 + note.offset_mm[1])
        else:
            # The people area, from its right end leftwards: person stickies fill it from anywhere.
            centre = (
                layout.col_edges[-1] - 60.0 - 110.0 * spot + note.offset_mm[0],
                layout.people_y0 + PEOPLE_AREA_MM / 2 + note.offset_mm[1],
            )
            spot += 1
        a = math.radians(note.angle_deg)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        local = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
        corners = local @ rot.T + centre
        _shadow(wall, corners, p, depth=0.18 + 0.25 * note.curl)
        _paste(wall, note_art(note, px_per_mm=p), centre, note.angle_deg, p)
        out.append(
            PlacedNote(
                index=i,
                spec=note,
                room=note.room,
                slot=note.slot,
                centre_mm=(float(centre[0]), float(centre[1])),
                corners_mm=corners,
            )
        )
    return out


def _shadow(wall: np.ndarray, corners_mm: np.ndarray, p: float, *, depth: float) -> None:
    """Darken the wall under a note's outline shifted down and right, softly: paper stands off."""
    shifted = (corners_mm + (0.8, 1.5)) * p
    x0, y0 = np.floor(shifted.min(axis=0) - 6 * p).astype(int)
    x1, y1 = np.ceil(shifted.max(axis=0) + 6 * p).astype(int)
    hh, ww = wall.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, ww), min(y1, hh)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.fillPoly(mask, [np.round((shifted - (x0, y0)) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
    mask = cv2.GaussianBlur(mask, (0, 0), 1.2 * p)
    roi = wall[y0:y1, x0:x1].astype(np.float32)
    wall[y0:y1, x0:x1] = (roi * (1.0 - depth * mask[..., None])).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# The camera


def _apply_h(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    q = np.hstack([pts, np.ones((len(pts), 1))]) @ h.T
    return q[:, :2] / q[:, 2:3]


def _distort(pts_u: np.ndarray, camera: Camera, f: float) -> np.ndarray:
    """Map undistorted photo px to photo px: solve r_u = r_d (1 - k1 r_d^2) by Newton steps."""
    c = np.array([(camera.width - 1) / 2, (camera.height - 1) / 2])
    n = (pts_u - c) / f
    r_u = np.sqrt((n**2).sum(axis=-1, keepdims=True))
    r_d = r_u.copy()
    for _ in range(20):
        r_d -= (r_d - camera.k1 * r_d**3 - r_u) / (1 - 3 * camera.k1 * r_d**2)
    scale = np.divide(r_d, r_u, out=np.ones_like(r_u), where=r_u > 0)
    return c + f * n * scale


def _undistort(pts_d: np.ndarray, camera: Camera, f: float) -> np.ndarray:
    """Map photo px to undistorted photo px: n_u = n_d (1 - k1 |n_d|^2), exact and one-to-one."""
    c = np.array([(camera.width - 1) / 2, (camera.height - 1) / 2])
    nd = (pts_d - c) / f
    r2 = (nd**2).sum(axis=-1, keepdims=True)
    return c + f * nd * (1 - camera.k1 * r2)


def _wall_to_photo(pts_mm: np.ndarray, h: np.ndarray, camera: Camera, f: float) -> np.ndarray:
    return _distort(_apply_h(h, pts_mm), camera, f)


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def camera_homography(
    board: Board, camera: Camera, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Return the homography wall mm -> undistorted photo px and the focal length in px.

    The camera looks at the board's centre from the distance at which the board spans `fill`
    of the frame, then the view shifts by up to `jitter` of the frame.
    """
    f = (camera.width / 2) / math.tan(math.radians(camera.hfov_deg) / 2)
    k = np.array([[f, 0, (camera.width - 1) / 2], [0, f, (camera.height - 1) / 2], [0, 0, 1]])
    rot = _rotation(camera.yaw_deg, camera.pitch_deg, camera.roll_deg)
    centre = board.board_corners_mm.mean(axis=0)
    to_centre = np.array([[1, 0, -centre[0]], [0, 1, -centre[1]], [0, 0, 1]])
    d = 2000.0
    for _ in range(6):
        h = k @ np.column_stack([rot[:, 0], rot[:, 1], [0, 0, d]]) @ to_centre
        q = _apply_h(h, board.board_corners_mm)
        span = max(np.ptp(q[:, 0]) / camera.width, np.ptp(q[:, 1]) / camera.height)
        d *= span / camera.fill
    h = k @ np.column_stack([rot[:, 0], rot[:, 1], [0, 0, d]]) @ to_centre
    q = _apply_h(h, board.board_corners_mm)
    # Centre the board's outline in the frame, then jitter it.
    mid = (q.min(axis=0) + q.max(axis=0)) / 2
    shift = np.array([(camera.width - 1) / 2, (camera.height - 1) / 2]) - mid
    shift += rng.uniform(-camera.jitter, camera.jitter, 2) * (camera.width, camera.height)
    t = np.array([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1]])
    return t @ h, f


def _rounded_rect(x0, y0, x1, y1, r) -> np.ndarray:
    pts = []
    for cx, cy, a0 in (
        (x1 - r, y0 + r, 270),
        (x1 - r, y1 - r, 0),
        (x0 + r, y1 - r, 90),
        (x0 + r, y0 + r, 180),
    ):
        pts.extend(cv2.ellipse2Poly((int(cx), int(cy)), (int(r), int(r)), 0, a0, a0 + 90, 10))
    return np.array(pts, dtype=np.int32)


def _disk_kernel(radius: float) -> np.ndarray:
    n = int(math.ceil(radius))
    yy, xx = np.mgrid[-n : n + 1, -n : n + 1]
    # Anti-aliased disk: a pixel's weight is how much of it lies inside the radius.
    k = np.clip(radius + 0.5 - np.hypot(xx, yy), 0, 1).astype(np.float32)
    return k / k.sum()


def photograph(board: Board, camera: Camera, *, seed: int) -> Shot:
    """Photograph `board` with `camera`; the same seed gives the same pixels."""
    rng = np.random.default_rng(seed)
    w, h = camera.width, camera.height
    hom, f = camera_homography(board, camera, rng)
    p = board.px_per_mm

    # Sampling the wall at less than its resolution aliases: low-pass it first, like optics do.
    centre = board.board_corners_mm.mean(axis=0)
    q = _apply_h(hom, np.array([centre, centre + (1, 0), centre + (0, 1)]))
    scale = (
        min(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[0])) / p
    )  # photo px per wall px
    sigma = round(max(0.0, 0.45 / scale - 0.2), 1) if scale < 1 else 0.0
    wall = board._blurred.get(sigma)
    if wall is None:
        wall = cv2.GaussianBlur(board.wall, (0, 0), sigma) if sigma > 0 else board.wall
        board._blurred[sigma] = wall

    # The source coordinates on a coarse grid, then upsampled: the mapping is smooth.
    step = 8
    gw, gh = -(-w // step), -(-h // step)
    gx, gy = np.meshgrid(
        np.arange(gw) * step + (step - 1) / 2, np.arange(gh) * step + (step - 1) / 2
    )
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    src_mm = _apply_h(np.linalg.inv(hom), _undistort(pts, camera, f))
    src_px = (src_mm * p - 0.5).astype(np.float32)
    map_x = cv2.resize(src_px[:, 0].reshape(gh, gw), (gw * step, gh * step))[:h, :w]
    map_y = cv2.resize(src_px[:, 1].reshape(gh, gw), (gw * step, gh * step))[:h, :w]
    img = cv2.remap(wall, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    # People in front of the board: dark rounded bodies with heads, reaching the frame's bottom.
    outline = _wall_to_photo(board.board_corners_mm, hom, camera, f)
    bx0, by0 = outline.min(axis=0)
    bx1, by1 = outline.max(axis=0)
    people_mask = np.zeros((h, w), np.uint8)
    for i in range(camera.people):
        body_w = rng.uniform(0.10, 0.16) * (bx1 - bx0)
        x_mid = rng.uniform(bx0 + body_w / 2, bx1 - body_w / 2)
        if i < len(camera.people_at):
            x_mid = bx0 + camera.people_at[i] * (bx1 - bx0)
        top = rng.uniform(by0 + 0.35 * (by1 - by0), by0 + 0.7 * (by1 - by0))
        colour = tuple(int(v) for v in rng.integers(20, 90, 3))
        body = _rounded_rect(x_mid - body_w / 2, top, x_mid + body_w / 2, h + body_w, body_w * 0.3)
        head_r = int(body_w * 0.33)
        head = (int(x_mid + rng.uniform(-0.1, 0.1) * body_w), int(top - head_r * 0.9))
        for target, value in ((img, colour), (people_mask, 255)):
            cv2.fillPoly(target, [body], value, cv2.LINE_AA)
            cv2.circle(target, head, head_r, value, -1, cv2.LINE_AA)

    # Light: a gradient across the frame, a soft shadow, a glare spot; coarse, then upsampled.
    lx, ly = np.meshgrid(np.linspace(0, 1, gw), np.linspace(0, 1, gh))
    light = np.ones((gh, gw), np.float32)
    if camera.light_gradient:
        a = rng.uniform(0, 2 * math.pi)
        t = (lx - 0.5) * math.cos(a) + (ly - 0.5) * math.sin(a)
        t = (t - t.min()) / max(np.ptp(t), 1e-9)
        light *= (1 - camera.light_gradient * t).astype(np.float32)
    if camera.shadow:
        sx, sy, sr = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.12, 0.25)
        r2 = ((lx - sx) * w / h) ** 2 + (ly - sy) ** 2
        light *= (1 - camera.shadow * np.exp(-r2 / (2 * sr**2))).astype(np.float32)
    glare = np.zeros((gh, gw), np.float32)
    if camera.glare:
        sx, sy, sr = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.04, 0.08)
        r2 = ((lx - sx) * w / h) ** 2 + (ly - sy) ** 2
        glare = (camera.glare * 400 * np.exp(-r2 / (2 * sr**2))).astype(np.float32)
    if camera.light_gradient or camera.shadow or camera.glare:
        light_full = cv2.resize(light, (gw * step, gh * step))[:h, :w]
        out = img.astype(np.float32) * light_full[..., None]
        if camera.glare:
            out += cv2.resize(glare, (gw * step, gh * step))[:h, :w, None]
        img = np.clip(out, 0, 255).astype(np.uint8)

    if camera.defocus_px > 0:
        img = cv2.filter2D(img, -1, _disk_kernel(camera.defocus_px))
    if camera.optical_sigma_px > 0:
        img = cv2.GaussianBlur(img, (0, 0), camera.optical_sigma_px)
    if camera.noise_sigma > 0:
        noise = rng.standard_normal(img.shape, dtype=np.float32) * np.float32(camera.noise_sigma)
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if camera.jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(camera.jpeg_quality)])
        if not ok:
            raise PhotographerError("JPEG encoding failed")
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)

    # Truth in photo pixels; occlusion measured on a quarter-resolution people mask.
    small = cv2.resize(people_mask, (-(-w // 4), -(-h // 4)), interpolation=cv2.INTER_AREA) > 0
    truth = []
    for s in board.stickies:
        corners = _wall_to_photo(s.corners_mm, hom, camera, f)
        in_frame = bool(np.all((corners >= 0) & (corners <= (w - 1, h - 1))))
        occluded = _covered_fraction(small, corners / 4)
        truth.append(
            StickyInPhoto(
                code=s.code,
                kind=s.kind,
                room=s.room,
                slot=s.slot,
                centre_px=tuple(
                    float(v) for v in _wall_to_photo(np.array([s.centre_mm]), hom, camera, f)[0]
                ),
                corners_px=corners,
                marker_corners_px=_wall_to_photo(s.marker_corners_mm, hom, camera, f),
                qr_centre_px=tuple(
                    float(v)
                    for v in _wall_to_photo(
                        s.qr_corners_mm.mean(axis=0, keepdims=True), hom, camera, f
                    )[0]
                ),
                in_frame=in_frame,
                occluded=occluded,
                visible=in_frame and occluded == 0.0,
            )
        )
    notes = _notes_in_photo(board, small, lambda pts: _wall_to_photo(pts, hom, camera, f), (w, h))
    hidden = []
    if camera.people:
        for room in board.spec.rooms:
            for slot in board.spec.slots:
                corners = _wall_to_photo(board.cell_corners_mm(room, slot), hom, camera, f)
                if _covered_fraction(small, corners / 4) >= HIDDEN_CELL_FRACTION:
                    hidden.append((room, slot))
    return Shot(
        image=img,
        camera=camera,
        board=board,
        homography=hom,
        focal_px=f,
        stickies=tuple(truth),
        hidden_cells=tuple(hidden),
        people_mask=people_mask,
        notes=notes,
    )


def _notes_in_photo(board: Board, small: np.ndarray, to_photo, size) -> tuple[NoteInPhoto, ...]:
    """Return each plain note's truth in the photo; `small` is the quarter-size people mask."""
    w, h = size
    out = []
    for note in board.notes:
        corners = to_photo(note.corners_mm)
        in_frame = bool(np.all((corners >= 0) & (corners <= (w - 1, h - 1))))
        occluded = _covered_fraction(small, corners / 4)
        covered = 0.0
        area = note.spec.size_mm[0] * note.spec.size_mm[1]
        for other in board.notes[note.index + 1 :]:
            inter, _ = cv2.intersectConvexConvex(
                note.corners_mm.astype(np.float32), other.corners_mm.astype(np.float32)
            )
            covered += float(inter) / area
        out.append(
            NoteInPhoto(
                index=note.index,
                color=note.spec.color,
                text=note.spec.text,
                room=note.room,
                slot=note.slot,
                centre_px=tuple(float(v) for v in to_photo(np.array([note.centre_mm]))[0]),
                corners_px=corners,
                in_frame=in_frame,
                occluded=occluded,
                covered=min(1.0, covered),
                visible=in_frame and occluded == 0.0 and covered == 0.0,
            )
        )
    return tuple(out)


def _covered_fraction(mask: np.ndarray, polygon: np.ndarray) -> float:
    """Return the fraction of `polygon` (mask pixels) that `mask` covers, 0 outside the mask."""
    hh, ww = mask.shape
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int)
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, ww), min(y1, hh)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    local = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(local, [np.round(polygon - (x0, y0)).astype(np.int32)], 1)
    area = int(local.sum())
    if area == 0:
        return 0.0
    return float((mask[y0:y1, x0:x1] & (local > 0)).sum()) / area
