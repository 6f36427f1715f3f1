"""Photograph walls of plain sticky notes as phones do: offices and workshops, no board kit.

`make_wall(spec, seed)` lays out 4 to 40 notes on a background (a painted wall, a whiteboard, a
window, cork, kraft paper, a fabric partition, a dark wall), adds what such walls also hold (A4
printouts, tape, pins and magnets, a light switch, a door frame, a framed picture, marker
drawings, an arm at the frame's edge), photographs it with a 12 MP phone held off-axis, and
returns the photo with each note's truth. Wall coordinates are millimetres, origin at the top-left
of the rendered wall, x right, y down; photo coordinates are pixels, origin at the top-left
pixel's centre. The same spec and seed give the same pixels.

The notes' handwriting and shadows are `benchmarks.photographer`'s, and so is the camera
(`photograph`: perspective, light gradient, defocus); this module adds the papers (neon ones, each
pad a little different, marker titles, drawings, much small writing), the backgrounds, layouts and
distractors, and what a phone does after the lens (shake, exposure, white balance, vignetting,
noise, sharpening, JPEG, and the resampling to 1-3 MP that shared photos go through).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from benchmarks.photographer import (
    NOTE_COLOURS_BGR,
    NOTE_TEXTS,
    Art,
    Board,
    BoardSpec,
    Camera,
    NoteSpec,
    PlacedNote,
    _apply_h,
    _paste,
    _shadow,
    camera_homography,
    handwrite,
    photograph,
    picture_art,
    scribble,
)

BACKGROUNDS = ("paint", "whiteboard", "glass", "cork", "kraft", "fabric", "dark")
LAYOUTS = ("scattered", "grid", "touching", "clusters", "kanban")

# Paper (BGR): the photographer's notes, and neon papers (saturated beyond what a flat print is).
PAPER_BGR = {
    **NOTE_COLOURS_BGR,
    "neon pink": (150, 70, 255),
    "neon green": (80, 255, 170),
    "neon orange": (40, 130, 255),
    "neon yellow": (40, 255, 240),
}
# The colour name the finder reports for each paper (scanner.notes.COLORS).
PAPER_FAMILY = {
    "yellow": "yellow",
    "pink": "pink",
    "orange": "orange",
    "green": "green",
    "blue": "blue",
    "white": "white",
    "pale yellow": "white",
    "pale pink": "white",
    "pale blue": "white",
    "neon pink": "pink",
    "neon green": "green",
    "neon orange": "orange",
    "neon yellow": "yellow",
}
USUAL_PAPERS = ("yellow", "yellow", "pink", "orange", "green", "blue", "white", "pale yellow")
NEON_PAPERS = ("neon pink", "neon green", "neon orange", "neon yellow")
# Sizes of paper on such walls (w, h mm) and how common each is: 3 x 3 in mostly; 2 x 2 in,
# 3 x 5 in (either way up), 4 x 6 in, index cards (white) and A6 sheets.
SIZES_MM = (
    ((76.0, 76.0), 0.6),
    ((51.0, 51.0), 0.1),
    ((127.0, 76.0), 0.06),
    ((76.0, 127.0), 0.04),
    ((102.0, 152.0), 0.07),
    ((127.0, 76.0, "card"), 0.08),
    ((105.0, 148.0), 0.05),
)
# Marker ink (BGR): black, dark blue, red, dark green; titles are thick.
INKS_BGR = ((35, 35, 35), (110, 45, 25), (40, 40, 170), (60, 100, 30))
# A share of a note under something else below this is a corner's sliver, not a covered note.
COVERED_SHARE = 0.02
# The largest rendered wall, in pixels: the wall is drawn at about the photo's own scale.
MAX_WALL_PX = 30e6
# The wall is drawn at this multiple of the photo's scale at the notes' centre, so that the
# camera's sampling, not the wall's pixels, makes the photo's detail; and at least this scale.
WALL_OVERSAMPLE = 1.3
MIN_WALL_PX_PER_MM = 0.8
# The wall is rendered over the frame's footprint and this margin; a footprint that reaches far
# off (a steep angle) is cut at this many spans of the notes from them.
FOOTPRINT_MARGIN_MM = 40.0
FOOTPRINT_SPANS = 4.0


@dataclass(frozen=True)
class PhoneCamera:
    """Describe how the wall is photographed: a 12 MP phone, then shared at `long_side` px.

    Angles are drawn per photo up to the maxima; `fill` is the range of the share of the frame
    that the notes span along the frame's tighter axis. `white_balance` is "neutral", "warm"
    (tungsten light, yellowish), "cool" or "any". `long_side` None keeps the sensor's pixels.
    `arm` is the chance of an arm or shoulder at the frame's edge, `shake` of a hand's shake;
    `glare` the strength of the light band a glossy surface reflects (whiteboards and windows add
    their own); `sharpen` the phone's unsharp mask.
    """

    width: int = 4000
    height: int = 3000
    hfov_deg: float = 68.0
    max_yaw_deg: float = 15.0
    max_pitch_deg: float = 10.0
    max_roll_deg: float = 3.0
    fill: tuple[float, float] = (0.55, 0.9)
    long_side: int | None = 2048
    white_balance: str = "any"
    vignette: float = 0.25
    light_gradient: float = 0.2
    noise_sigma: float = 2.5
    defocus_px: float = 1.5
    jpeg_quality: int = 88
    sharpen: float = 0.35
    shake: float = 0.3
    arm: float = 0.0
    glare: float = 0.0


@dataclass(frozen=True)
class WallSpec:
    """Describe a wall of notes: what it is, how the notes are laid out, what else hangs on it.

    `layout` is one of LAYOUTS: "scattered", "grid" (gaps of 5-25 mm), "touching" (a dense grid of
    one paper, gaps of 0-2 mm), "clusters" (columns of notes each over the one above by 10-40 %)
    or "kanban" (columns under header labels). `papers` are PAPER_BGR names; `sizes` "mixed"
    (SIZES_MM) or "square" (76 mm). `distractors` name things that are not notes: "printout",
    "poster", "tape", "pins", "magnets", "switch", "door", "picture", "drawing".
    """

    background: str = "paint"
    layout: str = "scattered"
    n_notes: int = 12
    papers: tuple[str, ...] = USUAL_PAPERS
    sizes: str = "mixed"
    max_angle_deg: float = 6.0
    curl: float = 0.6
    distractors: tuple[str, ...] = ("printout", "tape")
    camera: PhoneCamera = field(default_factory=PhoneCamera)


@dataclass(frozen=True)
class WallNote:
    """Hold one note's truth in the photo.

    `quad_px` runs tl, tr, br, bl of the note as stuck (photo px); `in_frame`: all four corners in
    the photo; `covered`: the share of the note under later notes, tape, pins or an arm.
    """

    index: int
    paper: str
    family: str
    text: str
    size_mm: tuple[float, float]
    quad_px: np.ndarray
    centre_px: tuple[float, float]
    in_frame: bool
    covered: float


@dataclass(frozen=True)
class Wall:
    """Hold one photo of a wall of notes (BGR uint8), its truth and how it was taken.

    `others` holds the outlines (photo px) of the things that are not notes, by kind.
    """

    spec: WallSpec
    seed: int
    image: np.ndarray
    notes: tuple[WallNote, ...]
    others: tuple[tuple[str, np.ndarray], ...]
    camera: dict


@dataclass
class _Note:
    """A note to stick: its paper and size, where (wall mm), turned how much, and its ink."""

    paper: str
    size: tuple[float, float]
    centre: tuple[float, float]
    angle: float
    text: str = ""
    ink: str = "title"  # "title", "drawing", "much", "blank"
    curl: float = 0.0


@dataclass
class _Thing:
    """Something on the wall that is not a note: its kind, outline (wall mm) and drawing."""

    kind: str
    corners: np.ndarray
    over_notes: bool = False
    data: dict = field(default_factory=dict)

    def placement(self) -> tuple[np.ndarray, tuple[float, float], float]:
        """Return its centre (wall mm), (width, height) along its own edges, and its turn (deg)."""
        top, side = self.corners[1] - self.corners[0], self.corners[3] - self.corners[0]
        size = (float(np.linalg.norm(top)), float(np.linalg.norm(side)))
        return self.corners.mean(axis=0), size, math.degrees(math.atan2(top[1], top[0]))


# ----------------------------------------------------------------------------------------------
# Layouts (wall mm around the origin)


def _size(spec: WallSpec, rng: np.random.Generator) -> tuple[tuple[float, float], bool]:
    """Return a note's (w, h) and whether it is an index card (white)."""
    if spec.sizes != "mixed":
        return (76.0, 76.0), False
    weights = np.array([w for _, w in SIZES_MM])
    size = SIZES_MM[int(rng.choice(len(SIZES_MM), p=weights / weights.sum()))][0]
    return (size[0], size[1]), len(size) == 3


def _ink(rng: np.random.Generator) -> str:
    return str(rng.choice(["title"] * 6 + ["drawing", "much", "blank"]))


def _note(spec, rng, centre, *, paper=None, size=None, angle=None) -> _Note:
    s, card = _size(spec, rng)
    if size is not None:
        s, card = size, False
    return _Note(
        paper="white" if card else (paper or str(rng.choice(spec.papers))),
        size=s,
        centre=centre,
        angle=float(
            rng.uniform(-spec.max_angle_deg, spec.max_angle_deg) if angle is None else angle
        ),
        text=str(rng.choice(NOTE_TEXTS)),
        ink=_ink(rng),
        curl=float(rng.uniform(0, spec.curl)),
    )


def _scattered(spec: WallSpec, rng: np.random.Generator):
    """Return notes put up anywhere: on a jittered grid of 150-190 mm, a few spots left empty."""
    n = spec.n_notes
    cols = max(2, math.ceil(math.sqrt(n * 1.5)))
    rows = math.ceil(n / cols)
    spots = [(i, j) for j in range(rows + 1) for i in range(cols)]
    order = rng.permutation(len(spots))[:n]
    pitch = float(rng.uniform(165, 200))
    notes = []
    for k in order:
        i, j = spots[int(k)]
        c = (i * pitch + rng.uniform(-22, 22), j * pitch + rng.uniform(-22, 22))
        notes.append(_note(spec, rng, c))
    return notes, []


def _grid(spec: WallSpec, rng: np.random.Generator, *, touching: bool = False):
    """Return notes in rows and columns: gaps of 5-25 mm, or 0-2 mm of one paper (`touching`)."""
    n = spec.n_notes
    cols = max(2, math.ceil(math.sqrt(n * 1.4)))
    gap = float(rng.uniform(0, 2) if touching else rng.uniform(5, 25))
    paper = str(rng.choice(spec.papers))
    size = (76.0, 76.0) if touching or spec.sizes != "mixed" else None
    pitch = 76.0 + gap if size else 152.0 + gap
    notes = []
    for k in range(n):
        i, j = k % cols, k // cols
        jit = 0.6 if touching else 3.0
        c = (i * pitch + rng.uniform(-jit, jit), j * pitch + rng.uniform(-jit, jit))
        angle = rng.uniform(-1.2, 1.2) if touching else rng.uniform(-3, 3)
        note = _note(spec, rng, c, paper=paper if touching else None, size=size, angle=float(angle))
        if not size:
            # Mixed sizes in a grid: each note fills its cell from the top-left, as people align.
            w, h = note.size
            note.centre = (c[0] - (152.0 - w) / 2, c[1] - (152.0 - h) / 2)
        notes.append(note)
    return notes, []


def _clusters(spec: WallSpec, rng: np.random.Generator):
    """Return affinity clusters: columns of notes, each stuck over the bottom of the one above."""
    n = spec.n_notes
    per = int(rng.integers(4, 7))
    k = math.ceil(n / per)
    notes, things = [], []
    x = 0.0
    left = n
    for c in range(k):
        count = min(per, left) if c < k - 1 else left
        left -= count
        paper = str(rng.choice(spec.papers))
        y = 0.0
        col = []
        for r in range(count):
            size = (76.0, 76.0)
            overlap = float(rng.uniform(0.1, 0.4)) if r else 0.0
            y += 0.0 if r == 0 else size[1] * (1 - overlap)
            note = _note(
                spec,
                rng,
                (x + rng.uniform(-6, 6), y + rng.uniform(-2, 2)),
                paper=paper,
                size=size,
                angle=float(rng.uniform(-4, 4)),
            )
            col.append(note)
        notes += col
        x += float(rng.uniform(115, 150))
    return notes, things


def _kanban(spec: WallSpec, rng: np.random.Generator):
    """Return columns of notes under header labels: tape strips, printouts or marker words."""
    n = spec.n_notes
    k = int(np.clip(round(n / 4), 3, 5))
    heads = ("TO DO", "DOING", "REVIEW", "DONE", "IDEAS")
    kind = str(rng.choice(["tape", "printout", "letters"]))
    pitch = float(rng.uniform(150, 190)) if kind != "printout" else float(rng.uniform(230, 260))
    notes, things = [], []
    counts = np.bincount(rng.integers(0, k, n - k), minlength=k) + 1
    for c in range(k):
        x = c * pitch
        if kind == "printout":
            w, h = 210.0, 148.0
        elif kind == "tape":
            w, h = float(rng.uniform(120, 160)), 25.0
        else:
            w, h = 130.0, 45.0
        top = -50.0 - h / 2
        things.append(
            _Thing(
                f"header {kind}",
                _rect((x, top), (w, h), rng.uniform(-2, 2)),
                data={"text": heads[c]},
            )
        )
        y = 40.0
        for _ in range(int(counts[c])):
            note = _note(spec, rng, (x + rng.uniform(-8, 8), 0.0))
            note.centre = (note.centre[0], y + note.size[1] / 2)
            y += note.size[1] + float(rng.uniform(10, 30))
            notes.append(note)
    if rng.random() < 0.5:
        # Lanes taped between the columns, from above the headers to below the last note.
        bottom = max(n.centre[1] + n.size[1] / 2 for n in notes) + 30.0
        for c in range(k - 1):
            x = (c + 0.5) * pitch + float(rng.uniform(-4, 4))
            top = -120.0 if kind == "printout" else -90.0
            size = (bottom - top, 19.0)
            lane = _rect((x, (top + bottom) / 2), size, 90.0 + float(rng.uniform(-0.8, 0.8)))
            things.append(_Thing("lane tape", lane))
    return notes, things


def _rect(centre, size, angle_deg) -> np.ndarray:
    """Return the corners tl, tr, br, bl of a turned rectangle (wall mm)."""
    w, h = size
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    local = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    return local @ rot.T + np.asarray(centre, np.float64)


def _corners(note: _Note) -> np.ndarray:
    return _rect(note.centre, note.size, note.angle)


# ----------------------------------------------------------------------------------------------
# Backgrounds


def _field(h: int, w: int, cell_px: float, rng: np.random.Generator) -> np.ndarray:
    """Return smooth noise (about unit spread) varying over `cell_px` pixels."""
    gh, gw = max(2, round(h / cell_px) + 2), max(2, round(w / cell_px) + 2)
    coarse = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _grain(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((h, w), dtype=np.float32)


def surface(kind: str, h: int, w: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Return a bare wall of `kind` (one of BACKGROUNDS), `h` x `w` px at `p` px/mm, as BGR
    uint8, with nothing kept clear on it: the wall a printed board hangs on."""
    return _background(kind, h, w, p, rng, (0, 0, w, h))


def hung_art(kind: str, size_mm, p: float, rng: np.random.Generator) -> Art:
    """Return a "printout" or a "poster" of `size_mm` (w, h) as art to paste on a wall."""
    image = _printout(size_mm, p, rng) if kind == "printout" else _poster(size_mm, p, rng)
    return _art(image, size_mm)


def _background(kind: str, h: int, w: int, p: float, rng: np.random.Generator, keep) -> np.ndarray:
    """Return the bare wall, `h` x `w` px at `p` px/mm, as BGR uint8; the notes go in `keep`
    (x0, y0, x1, y1 px)."""
    if kind == "paint":
        base = np.array(rng.choice([(224, 229, 232), (214, 224, 230), (228, 228, 226)]), np.float32)
        # A roller's stipple (fine) and uneven coats (broad).
        tone = 2.0 * _field(h, w, 1.5 * p, rng) + 2.5 * _field(h, w, 300 * p, rng)
        img = base + tone[..., None]
    elif kind == "dark":
        base = np.array(rng.choice([(70, 72, 76), (90, 70, 45), (60, 85, 60)]), np.float32)
        tone = 2.0 * _field(h, w, 1.5 * p, rng) + 3.0 * _field(h, w, 300 * p, rng)
        img = base + tone[..., None]
    elif kind == "whiteboard":
        img = np.full((h, w, 3), (238, 240, 240), np.float32)
        img += 1.5 * _field(h, w, 200 * p, rng)[..., None]
        # Ghosts of wiped writing: faint grey smears.
        ghost = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(6, 14))):
            x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
            pts = [(x0, y0)]
            for _ in range(int(rng.integers(3, 9))):
                pts.append(
                    (pts[-1][0] + rng.uniform(-60, 90) * p, pts[-1][1] + rng.uniform(-25, 25) * p)
                )
            cv2.polylines(ghost, [np.array(pts, np.int32)], False, 1.0, max(1, round(8 * p)))
        ghost = cv2.GaussianBlur(ghost, (0, 0), 6 * p)
        img -= (14.0 * ghost)[..., None] * np.array([1.0, 0.9, 0.8], np.float32)
        # The board ends 150-400 mm beyond the notes: an aluminium frame, then the wall.
        m = rng.uniform(150, 400, 4) * p
        bx0, by0 = int(keep[0] - m[0]), int(keep[1] - m[1])
        bx1, by1 = int(keep[2] + m[2]), int(keep[3] + m[3])
        paint = _background("paint", h, w, p, rng, keep).astype(np.float32)
        inside = np.zeros((h, w, 1), np.float32)
        inside[max(by0, 0) : max(by1, 0), max(bx0, 0) : max(bx1, 0)] = 1
        img = img * inside + paint * (1 - inside)
        frame = max(1, round(18 * p))
        cv2.rectangle(img, (bx0, by0), (bx1, by1), (185, 188, 190), frame)
        cv2.rectangle(
            img,
            (bx0 - frame // 2, by0 - frame // 2),
            (bx1 + frame // 2, by1 + frame // 2),
            (140, 142, 145),
            max(1, frame // 6),
        )
    elif kind == "glass":
        # The street behind is out of focus: drawn at 0.5 px/mm, then enlarged.
        c = 0.5 / p
        far = _outdoors(max(2, round(h * c)), max(2, round(w * c)), 0.5, rng)
        img = cv2.resize(far, (w, h), interpolation=cv2.INTER_LINEAR)
        _mullions(img, p, rng, keep)
    elif kind == "cork":
        base = np.array((88, 138, 186), np.float32)
        tone = 14 * _grain(h, w, rng)
        tone = cv2.GaussianBlur(tone, (0, 0), 0.6 * p) * 2.2 + 3 * _field(h, w, 80 * p, rng)
        img = base + tone[..., None] * np.array([0.8, 1.0, 1.1], np.float32)
        # Dark granules.
        specks = (rng.random((h, w)) < 0.004).astype(np.float32)
        specks = cv2.GaussianBlur(specks, (0, 0), 0.8 * p) * 60
        img -= np.minimum(specks, 60)[..., None]
    elif kind == "kraft":
        base = np.array(rng.choice([(105, 150, 188), (115, 158, 195)]), np.float32)
        fibres = cv2.GaussianBlur(_grain(h, w, rng), (0, 0), sigmaX=3 * p, sigmaY=0.3 * p)
        # Fibres run along the roll; the paper's tone drifts in long streaks, not blots.
        streaks = cv2.resize(_field(max(2, h // 8), max(2, w // 32), 5 * p / 8, rng), (w, h))
        tone = 25 * fibres + 3 * streaks + 2 * _field(h, w, 150 * p, rng)
        img = base + tone[..., None]
        # Creases from the roll: soft light and dark streaks across.
        crease = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(4, 10))):
            y = rng.uniform(0, h)
            pts = np.array([[0, y], [w, y + rng.uniform(-80, 80) * p]], np.int32)
            cv2.polylines(crease, [pts], False, float(rng.choice([-1, 1])), max(1, round(2 * p)))
        img += 10 * cv2.GaussianBlur(crease, (0, 0), 3 * p)[..., None]
    elif kind == "fabric":
        base = np.array(rng.choice([(150, 138, 125), (135, 120, 95), (128, 128, 128)]), np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        period = max(2.0, 1.2 * p)
        weave = np.sin(xx * 2 * math.pi / period) * np.sin(yy * 2 * math.pi / period)
        tone = 6 * weave + 4 * _grain(h, w, rng) + 5 * _field(h, w, 60 * p, rng)
        img = base + tone[..., None]
    else:
        raise ValueError(f"unknown background {kind!r}; choose from {BACKGROUNDS}")
    return np.clip(img, 0, 255).astype(np.uint8)


def _outdoors(h: int, w: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Return a bright blurred street as seen through a window."""
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    sky = (1 - yy) * np.array((250, 238, 225), np.float32) + yy * np.array(
        (235, 225, 220), np.float32
    )
    img = np.broadcast_to(sky, (h, w, 3)).copy()
    horizon = h * rng.uniform(0.5, 0.8)
    x = 0.0
    while x < w:
        bw = rng.uniform(150, 500) * p
        top = horizon - rng.uniform(50, 500) * p
        colour = rng.uniform(175, 235) + rng.uniform(-12, 12, 3)
        cv2.rectangle(img, (int(x), int(top)), (int(x + bw), h), colour.tolist(), -1)
        # Windows of the building over the street.
        for wy in np.arange(top + 30 * p, h, 70 * p):
            for wx in np.arange(x + 20 * p, x + bw - 40 * p, 60 * p):
                cv2.rectangle(
                    img,
                    (int(wx), int(wy)),
                    (int(wx + 30 * p), int(wy + 40 * p)),
                    (colour * 0.7).tolist(),
                    -1,
                )
        x += bw + rng.uniform(0, 120) * p
    # Street trees: crowns over the street, their greens washed out by the light.
    for _ in range(int(rng.integers(1, 5))):
        c = (int(rng.uniform(0, w)), int(horizon + rng.uniform(-50, 200) * p))
        r = int(rng.uniform(60, 200) * p)
        green = (rng.uniform(110, 150), rng.uniform(170, 205), rng.uniform(130, 160))
        cv2.circle(img, c, r, green, -1)
    # Out of focus behind the glass, and brighter than the room.
    img = cv2.GaussianBlur(img, (0, 0), 25 * p)
    img = np.minimum(img * 1.08 + 12, 255)
    return img


def _mullions(img: np.ndarray, p: float, rng: np.random.Generator, keep) -> None:
    """Draw a window's aluminium bars between its panes, clear of `keep` (x0, y0, x1, y1 px):
    notes go on the glass, not across a bar."""
    h, w = img.shape[:2]
    bar = 50 * p
    pane = max(rng.uniform(900, 1300) * p, keep[2] - keep[0] + 2 * bar)
    start = keep[0] - rng.uniform(0.1, 1.0) * (pane - (keep[2] - keep[0])) - bar
    for x0 in np.arange(start - 3 * pane, w, pane):
        cv2.rectangle(img, (int(x0), 0), (int(x0 + bar), h), (150, 152, 155), -1)
        cv2.rectangle(img, (int(x0), 0), (int(x0 + 0.2 * bar), h), (175, 177, 180), -1)
    if rng.random() < 0.6:
        ty = (
            keep[1] - rng.uniform(1.5, 4) * bar
            if rng.random() < 0.5
            else keep[3] + rng.uniform(0.5, 3) * bar
        )
        cv2.rectangle(img, (0, int(ty)), (w, int(ty + bar)), (150, 152, 155), -1)


# ----------------------------------------------------------------------------------------------
# Notes and things


def _note_image(note: _Note, p: float, rng: np.random.Generator) -> np.ndarray:
    """Render a note: its paper (each pad a little different), marker ink, curl shade."""
    w, h = note.size
    img = np.empty((max(2, round(h * p)), max(2, round(w * p)), 3), np.float32)
    paper = np.array(PAPER_BGR[note.paper], np.float32) + rng.uniform(-6, 6, 3)
    img[:] = np.clip(paper, 0, 255)
    # Paper is not flat: a faint mottle.
    img += 1.5 * _field(img.shape[0], img.shape[1], 6 * p, rng)[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    f = min(w, h) / 76.0
    ink = np.array(INKS_BGR[int(rng.integers(len(INKS_BGR)))], np.float32)
    if note.ink == "title":
        # Marker titles fill the note: letters of about 9 mm on a 76 mm note.
        f *= 1.4
        box = (4.0 / f, 2.0 / f, (w - 4) / f, (h - 4) / f)
        alpha = _writing_alpha(img.shape, note.text, box, p * f, rng)
        # A marker's stroke is 1.5-2.5 mm wide: thicker than the font's.
        r = max(1, round(float(rng.uniform(0.3, 0.8)) * p))
        alpha = cv2.dilate(
            alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        )
        img = _blend(img, alpha, ink)
    elif note.ink == "much":
        for k in range(3):
            y0 = 4 + k * (h - 8) / 3
            scribble(img, (4, y0, w - 4, y0 + (h - 8) / 3), p, rng)
    elif note.ink == "drawing":
        _doodle(img, p, ink, rng)
    out = img
    if note.curl > 0:
        band = np.linspace(0.0, 1.0, img.shape[0], dtype=np.float32) ** 6
        shade = 1.0 - 0.35 * note.curl * band
        out = (img.astype(np.float32) * shade[:, None, None]).astype(np.uint8)
    return out


def _writing_alpha(shape, text: str, box, p: float, rng) -> np.ndarray:
    """Return the coverage (0-1) of `text` handwritten into `box` (mm), from handwrite's ink."""
    canvas = np.full(shape, 255, np.uint8)
    handwrite(canvas, text, box, p, seed=int(rng.integers(1 << 30)))
    gray = cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY).astype(np.float32)
    # handwrite's blue marker is gray ~ 52: full coverage there.
    return np.clip((255 - gray) / 200.0, 0, 1)


def _blend(img: np.ndarray, alpha: np.ndarray, ink: np.ndarray) -> np.ndarray:
    a = alpha[..., None]
    return (img.astype(np.float32) * (1 - a) + ink * a).astype(np.uint8)


def _doodle(img: np.ndarray, p: float, ink, rng: np.random.Generator) -> None:
    """Draw a marker sketch: a face, a box and arrow, a bar chart or a stick figure."""
    h, w = img.shape[:2]
    t = max(1, round(1.2 * p))
    col = tuple(float(v) for v in ink)
    kind = int(rng.integers(4))
    cx, cy = w // 2, h // 2
    if kind == 0:
        r = int(min(w, h) * 0.3)
        cv2.circle(img, (cx, cy), r, col, t, cv2.LINE_AA)
        cv2.circle(img, (cx - r // 3, cy - r // 4), max(1, r // 10), col, -1, cv2.LINE_AA)
        cv2.circle(img, (cx + r // 3, cy - r // 4), max(1, r // 10), col, -1, cv2.LINE_AA)
        cv2.ellipse(img, (cx, cy + r // 5), (r // 2, r // 3), 0, 20, 160, col, t, cv2.LINE_AA)
    elif kind == 1:
        cv2.rectangle(img, (int(w * 0.1), int(h * 0.3)), (int(w * 0.45), int(h * 0.7)), col, t)
        cv2.arrowedLine(img, (int(w * 0.5), cy), (int(w * 0.9), cy), col, t, cv2.LINE_AA, 0, 0.3)
    elif kind == 2:
        for i in range(4):
            x = int(w * (0.15 + 0.2 * i))
            cv2.rectangle(
                img,
                (x, int(h * rng.uniform(0.25, 0.7))),
                (x + int(w * 0.12), int(h * 0.85)),
                col,
                -1,
            )
    else:
        r = int(min(w, h) * 0.1)
        cv2.circle(img, (cx, int(h * 0.25)), r, col, t, cv2.LINE_AA)
        cv2.line(img, (cx, int(h * 0.25) + r), (cx, int(h * 0.65)), col, t, cv2.LINE_AA)
        cv2.line(img, (cx - r * 2, int(h * 0.45)), (cx + r * 2, int(h * 0.45)), col, t, cv2.LINE_AA)
        cv2.line(img, (cx, int(h * 0.65)), (cx - r * 2, int(h * 0.9)), col, t, cv2.LINE_AA)
        cv2.line(img, (cx, int(h * 0.65)), (cx + r * 2, int(h * 0.9)), col, t, cv2.LINE_AA)


def _art(image: np.ndarray, size_mm) -> Art:
    return Art(
        image=image,
        size_mm=size_mm,
        marker_corners_mm=np.zeros((4, 2)),
        qr_corners_mm=None,
        writing_box_mm=None,
    )


def _printout(size_mm, p: float, rng: np.random.Generator, title: str = "") -> np.ndarray:
    """Render an A4 printout: a heading, lines of text, a chart or a photo block."""
    w, h = size_mm
    img = np.full((round(h * p), round(w * p), 3), 246, np.uint8)
    y = 20.0
    if title:
        # A heading as big as fits the sheet's width.
        font, thick = cv2.FONT_HERSHEY_DUPLEX, max(1, round(3 * p))
        (tw, th), _ = cv2.getTextSize(title, font, 1.0, thick)
        fs = min((w - 30) * p / tw, 0.5 * h * p / th)
        org = (round(15 * p), round((h * p + fs * th) / 2))
        cv2.putText(img, title, org, font, fs, (30, 30, 30), thick, cv2.LINE_AA)
        return img
    cv2.rectangle(
        img,
        (round(18 * p), round(y * p)),
        (round((w - 60) * p), round((y + 9) * p)),
        (40, 40, 40),
        -1,
    )
    y += 20
    block = rng.random() < 0.6
    while y < h - 20:
        if block and 100 < y < 160:
            colour = tuple(int(v) for v in rng.integers(40, 220, 3))
            cv2.rectangle(
                img,
                (round(18 * p), round(y * p)),
                (round((w - 18) * p), round((y + 55) * p)),
                colour,
                -1,
            )
            y += 65
            continue
        end = w - 18 - rng.uniform(0, 60)
        cv2.rectangle(
            img,
            (round(18 * p), round(y * p)),
            (round(end * p), round((y + 2.2) * p)),
            (90, 90, 90),
            -1,
        )
        y += 6.5
    return img


def _poster(size_mm, p: float, rng: np.random.Generator) -> np.ndarray:
    """Render a poster: a coloured ground, a big title, a picture of shapes, lines of text."""
    w, h = size_mm
    ground = tuple(int(v) for v in rng.integers(60, 240, 3))
    img = np.full((round(h * p), round(w * p), 3), ground, np.uint8)
    ink = (20, 20, 20) if sum(ground) > 380 else (245, 245, 245)
    font, thick = cv2.FONT_HERSHEY_DUPLEX, max(1, round(4 * p))
    title = str(rng.choice(["HACK DAY", "OPEN HOUSE", "SAFETY FIRST", "Q3 GOALS", "MEETUP"]))
    (tw, th), _ = cv2.getTextSize(title, font, 1.0, thick)
    fs = (w - 40) * p / tw
    cv2.putText(
        img, title, (round(20 * p), round(20 * p + fs * th)), font, fs, ink, thick, cv2.LINE_AA
    )
    top = 50 + fs * th / p
    for _ in range(int(rng.integers(3, 7))):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        x0, y0 = rng.uniform(20, w - 120), rng.uniform(top, h * 0.7)
        if rng.random() < 0.5:
            r = round(rng.uniform(30, 90) * p)
            cv2.circle(img, (round(x0 * p), round(y0 * p)), r, colour, -1, cv2.LINE_AA)
        else:
            x1, y1 = x0 + rng.uniform(60, 200), y0 + rng.uniform(40, 160)
            cv2.rectangle(
                img, (round(x0 * p), round(y0 * p)), (round(x1 * p), round(y1 * p)), colour, -1
            )
    for k in range(int(rng.integers(3, 7))):
        y = h * 0.78 + k * 9.0
        if y > h - 12:
            break
        end = w - 20 - rng.uniform(0, 120)
        cv2.rectangle(
            img, (round(20 * p), round(y * p)), (round(end * p), round((y + 3) * p)), ink, -1
        )
    return img


def _header_tape(size_mm, p: float, rng, text: str) -> np.ndarray:
    w, h = size_mm
    colour = rng.choice([(170, 210, 225), (200, 140, 60), (60, 200, 240)])
    img = np.full((round(h * p), round(w * p), 3), colour, np.uint8)
    cv2.putText(
        img,
        text,
        (round(6 * p), round(h * 0.8 * p)),
        cv2.FONT_HERSHEY_SIMPLEX,
        h * 0.7 * p / 22.0,
        (30, 30, 30),
        max(1, round(2.2 * p)),
        cv2.LINE_AA,
    )
    return img


def _draw_letters(wall: np.ndarray, corners_mm: np.ndarray, text: str, p: float, ink) -> None:
    """Write a column's header straight on the wall in big marker capitals, filling its box."""
    x0, y0 = corners_mm.min(axis=0)
    x1, y1 = corners_mm.max(axis=0)
    font, thick = cv2.FONT_HERSHEY_SIMPLEX, max(1, round(3.5 * p))
    (tw, th), _ = cv2.getTextSize(text, font, 1.0, thick)
    fs = min((x1 - x0) * p / tw, (y1 - y0) * p / th)
    org = (round(x0 * p), round(y1 * p))
    cv2.putText(wall, text, org, font, fs, tuple(float(v) for v in ink), thick, cv2.LINE_AA)


def _pin(wall: np.ndarray, centre_mm, p: float, rng, *, radius_mm: float) -> None:
    """Draw a push pin's head or a round magnet: a coloured disc, a soft shadow, a highlight."""
    colours = [(40, 40, 200), (200, 80, 30), (40, 160, 40), (30, 200, 230), (30, 30, 30)]
    colour = tuple(int(v) for v in colours[int(rng.integers(len(colours)))])
    c = np.array(centre_mm) * p
    r = max(1.0, radius_mm * p)
    x0, y0 = np.floor(c - 2.5 * r).astype(int)
    x1, y1 = np.ceil(c + 2.5 * r).astype(int)
    hh, ww = wall.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, ww), min(y1, hh)
    if x1 <= x0 or y1 <= y0:
        return
    roi = wall[y0:y1, x0:x1].astype(np.float32)
    local = c - (x0, y0)
    shade = np.zeros(roi.shape[:2], np.float32)
    off = local + (0.15 * r, 0.3 * r)
    cv2.circle(shade, tuple(np.round(off * 16).astype(int)), round(r * 16), 1.0, -1, cv2.LINE_AA, 4)
    shade = cv2.GaussianBlur(shade, (0, 0), 0.25 * r + 0.5)
    roi *= 1 - 0.45 * shade[..., None]
    disc = np.zeros(roi.shape[:2], np.float32)
    cv2.circle(
        disc, tuple(np.round(local * 16).astype(int)), round(r * 16), 1.0, -1, cv2.LINE_AA, 4
    )
    # Lit from above: lighter at the top of the disc.
    yy = (np.arange(roi.shape[0], dtype=np.float32)[:, None] - local[1]) / r
    tone = np.array(colour, np.float32) * (1.15 - 0.25 * np.clip(yy, -1, 1))[..., None]
    roi = roi * (1 - disc[..., None]) + np.minimum(tone, 255) * disc[..., None]
    wall[y0:y1, x0:x1] = roi.astype(np.uint8)


def _marker_lines(wall: np.ndarray, notes: list[_Note], p: float, rng) -> list[np.ndarray]:
    """Draw marker boxes around groups of notes, arrows between them and a few words."""
    drawn = []
    ink = tuple(float(v) for v in INKS_BGR[int(rng.integers(len(INKS_BGR)))])
    t = max(1, round(1.8 * p))
    # Groups: notes whose columns lie close together, left to right.
    cs = np.array([n.centre for n in notes])
    order = np.argsort(cs[:, 0])
    cuts = [k + 1 for k in range(len(order) - 1) if cs[order[k + 1], 0] - cs[order[k], 0] > 60]
    groups = [g for g in np.split(order, cuts) if len(g)][:4]
    boxes = []
    for g in groups:
        if len(g) == 0:
            continue
        pts = np.vstack([_corners(notes[i]) for i in g])
        x0, y0 = pts.min(axis=0) - rng.uniform(12, 30)
        x1, y1 = pts.max(axis=0) + rng.uniform(12, 30)
        # A hand-drawn box: four slightly wobbly strokes.
        box = np.array(
            [[x0, y0], [x1, y0 + rng.uniform(-5, 5)], [x1 + rng.uniform(-5, 5), y1], [x0, y1]]
        )
        cv2.polylines(wall, [np.round(box * p).astype(np.int32)], True, ink, t, cv2.LINE_AA)
        boxes.append(box)
        drawn.append(box)
    for a, b in zip(boxes, boxes[1:], strict=False):
        s = (a[1] + a[2]) / 2 + (8, 0)
        e = (b[0] + b[3]) / 2 - (8, 0)
        cv2.arrowedLine(
            wall,
            tuple(np.round(s * p).astype(int)),
            tuple(np.round(e * p).astype(int)),
            ink,
            t,
            cv2.LINE_AA,
            0,
            0.08,
        )
    # A few words written on the board beside the groups.
    font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
    for box in boxes:
        word = str(rng.choice(["Ideas", "Risks", "Next steps", "Users", "Q3", "Why?", "MVP"]))
        org = np.round((box[0] + (rng.uniform(0, 40), -8)) * p).astype(int)
        cv2.putText(wall, word, tuple(org), font, 0.9 * p, ink, max(1, round(1.6 * p)), cv2.LINE_AA)
    return drawn


# ----------------------------------------------------------------------------------------------
# The wall and its photo


def _choose_camera(cam: PhoneCamera, rng: np.random.Generator) -> Camera:
    return Camera(
        width=cam.width,
        height=cam.height,
        hfov_deg=cam.hfov_deg,
        yaw_deg=float(rng.uniform(-cam.max_yaw_deg, cam.max_yaw_deg)),
        pitch_deg=float(rng.uniform(-cam.max_pitch_deg, cam.max_pitch_deg)),
        roll_deg=float(rng.uniform(-cam.max_roll_deg, cam.max_roll_deg)),
        fill=float(rng.uniform(*cam.fill)),
        jitter=0.03,
        defocus_px=float(rng.uniform(0, cam.defocus_px)),
        optical_sigma_px=0.7,
        noise_sigma=0.0,
        light_gradient=float(rng.uniform(0.5, 1.0) * cam.light_gradient),
        jpeg_quality=None,
    )


def _stub_board(corners_mm: np.ndarray, p: float, wall: np.ndarray, notes=()) -> Board:
    """Return a Board of no grid and no codes: a wall, its scale and the area to frame."""
    return Board(
        spec=BoardSpec(
            rooms=(), slots=(), n_stickies=0, n_person_stickies=0, n_unplaced=0, n_posters=0
        ),
        wall=wall,
        px_per_mm=p,
        manifest={},
        stickies=(),
        column_edges_mm=(),
        row_edges_mm=(),
        board_corners_mm=corners_mm,
        marker_corners_mm={},
        poster_texts=(),
        notes=tuple(notes),
    )


def make_wall(spec: WallSpec, seed: int) -> Wall:
    """Lay out, render and photograph a wall of notes; the same spec and seed, the same photo."""
    rng = np.random.default_rng(seed)
    layouts = {
        "scattered": _scattered,
        "grid": _grid,
        "touching": lambda s, r: _grid(s, r, touching=True),
        "clusters": _clusters,
        "kanban": _kanban,
    }
    if spec.layout not in layouts:
        raise ValueError(f"unknown layout {spec.layout!r}; choose from {LAYOUTS}")
    notes, things = layouts[spec.layout](spec, rng)
    pts = np.vstack([_corners(n) for n in notes] + [t.corners for t in things])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    area = np.array([lo, (hi[0], lo[1]), hi, (lo[0], hi[1])], np.float64)

    camera = _choose_camera(spec.camera, rng)
    photo_seed = int(rng.integers(1 << 30))
    # Where the frame falls on the wall: the wall is rendered there and a margin around it.
    hom, f = camera_homography(
        _stub_board(area, 1.0, np.zeros((1, 1, 3), np.uint8)),
        camera,
        np.random.default_rng(photo_seed),
    )
    w, h = camera.width, camera.height
    frame = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)
    foot = _apply_h(np.linalg.inv(hom), frame)
    span = max(np.ptp(area[:, 0]), np.ptp(area[:, 1]))
    foot = np.clip(foot, lo - FOOTPRINT_SPANS * span, hi + FOOTPRINT_SPANS * span)
    f0 = foot.min(axis=0) - FOOTPRINT_MARGIN_MM
    f1 = foot.max(axis=0) + FOOTPRINT_MARGIN_MM
    mid = area.mean(axis=0)
    q = _apply_h(hom, np.array([mid, mid + (1, 0), mid + (0, 1)]))
    photo_px_per_mm = min(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[0]))
    size_mm = f1 - f0
    p = float(
        min(WALL_OVERSAMPLE * photo_px_per_mm, math.sqrt(MAX_WALL_PX / (size_mm[0] * size_mm[1])))
    )
    p = max(p, MIN_WALL_PX_PER_MM)
    shift = -f0
    for n in notes:
        n.centre = (n.centre[0] + shift[0], n.centre[1] + shift[1])
    for t in things:
        t.corners = t.corners + shift
    area = area + shift
    wh, ww = round(size_mm[1] * p), round(size_mm[0] * p)

    wall = _background(
        spec.background, wh, ww, p, rng, (*(area.min(axis=0) * p), *(area.max(axis=0) * p))
    )
    things += _distractors(spec, notes, area, (size_mm[0], size_mm[1]), rng, things)
    on_top = _render(wall, spec, notes, things, p, rng)
    # The photographer reads only the notes' outlines: their truth in the photo.
    placed = [
        PlacedNote(
            index=i,
            spec=NoteSpec(text=n.text, color="white", size_mm=n.size, angle_deg=n.angle),
            room=None,
            slot=None,
            centre_mm=n.centre,
            corners_mm=_corners(n),
        )
        for i, n in enumerate(notes)
    ]
    board = _stub_board(area, p, wall, placed)
    shot = photograph(board, camera, seed=photo_seed)
    img = shot.image
    to_photo = lambda pts: _apply_h(shot.homography, pts)  # noqa: E731 (k1 is 0: no distortion)
    others = [(t.kind, to_photo(t.corners)) for t in things]

    img, arm = _after_lens(img, spec, camera, rng)
    if arm is not None:
        others.append(("arm", arm))
    scale = 1.0
    cam = spec.camera
    if cam.long_side is not None and cam.long_side < max(w, h):
        scale = cam.long_side / max(w, h)
        img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        img = _jpeg(img, max(60, cam.jpeg_quality - 6))
    truth = _truth(shot, notes, on_top, arm, scale, img.shape)
    return Wall(
        spec=spec,
        seed=seed,
        image=img,
        notes=truth,
        others=tuple((k, o * scale) for k, o in others),
        camera={
            "yaw_deg": round(camera.yaw_deg, 1),
            "pitch_deg": round(camera.pitch_deg, 1),
            "roll_deg": round(camera.roll_deg, 1),
            "fill": round(camera.fill, 2),
            "size": [img.shape[1], img.shape[0]],
            "wall_px_per_mm": round(p, 2),
        },
    )


def _distractors(
    spec: WallSpec, notes: list[_Note], area: np.ndarray, wall_mm, rng, taken: list[_Thing]
) -> list[_Thing]:
    """Place what else hangs on the wall: around the notes and clear of `taken` (headers), or
    over the notes (tape, pins)."""
    out: list[_Thing] = []
    lo, hi = area.min(axis=0), area.max(axis=0)

    boxes = [np.array([*t.corners.min(axis=0), *t.corners.max(axis=0)]) for t in taken]

    def beside(size):
        # Left, right, above or below the notes, within the rendered wall, clear of what hangs
        # there already (with a margin of 20 mm), if a spot is found.
        for _ in range(40):
            side = int(rng.integers(4))
            if side == 0:
                c = (lo[0] - size[0] / 2 - rng.uniform(30, 120), rng.uniform(lo[1], hi[1]))
            elif side == 1:
                c = (hi[0] + size[0] / 2 + rng.uniform(30, 120), rng.uniform(lo[1], hi[1]))
            elif side == 2:
                c = (rng.uniform(lo[0], hi[0]), lo[1] - size[1] / 2 - rng.uniform(30, 100))
            else:
                c = (rng.uniform(lo[0], hi[0]), hi[1] + size[1] / 2 + rng.uniform(30, 100))
            half = np.array(size) / 2
            box = np.array([*(np.array(c) - half), *(np.array(c) + half)])
            clear = all(
                box[0] > b[2] + 20 or box[2] < b[0] - 20 or box[1] > b[3] + 20 or box[3] < b[1] - 20
                for b in boxes
            )
            inside = 0 < box[0] and box[2] < wall_mm[0] and 0 < box[1] and box[3] < wall_mm[1]
            if clear and inside:
                break
        boxes.append(box)
        return c

    for kind in spec.distractors:
        if kind in ("printout", "poster"):
            size = (210.0, 297.0) if kind == "printout" else (420.0, 594.0)
            out.append(_Thing(kind, _rect(beside(size), size, rng.uniform(-2, 2))))
        elif kind == "picture":
            out.append(_Thing(kind, _rect(beside((240.0, 180.0)), (240.0, 180.0), 0.0)))
        elif kind == "switch":
            out.append(_Thing(kind, _rect(beside((86.0, 86.0)), (86.0, 86.0), 0.0)))
        elif kind == "door":
            x = (
                lo[0] - rng.uniform(150, 400)
                if rng.random() < 0.5
                else hi[0] + rng.uniform(150, 400)
            )
            out.append(_Thing(kind, _rect((x, wall_mm[1] / 2), (70.0, wall_mm[1] + 10), 0.0)))
            boxes.append(np.array([x - 35.0, -5.0, x + 35.0, wall_mm[1] + 5.0]))
        elif kind == "tape":
            for _ in range(int(rng.integers(2, 5))):
                size = (rng.uniform(60, 200), rng.uniform(19, 50))
                out.append(_Thing(kind, _rect(beside(size), size, rng.uniform(-30, 30))))
            # And a strip over the top of a note or two that would not stay up.
            for i in rng.choice(len(notes), size=min(2, len(notes)), replace=False):
                n = notes[int(i)]
                c = np.array(n.centre) + _rot(n.angle) @ (0, -n.size[1] / 2 + 8)
                out.append(
                    _Thing(
                        kind,
                        _rect(c, (rng.uniform(40, 60), 19.0), n.angle + rng.uniform(-4, 4)),
                        over_notes=True,
                    )
                )
        elif kind in ("pins", "magnets"):
            r = 5.0 if kind == "pins" else 11.0
            for i in range(len(notes)):
                if rng.random() < 0.5:
                    n = notes[i]
                    c = np.array(n.centre) + _rot(n.angle) @ (
                        rng.uniform(-8, 8),
                        -n.size[1] / 2 + r + 4,
                    )
                    out.append(_Thing(kind, _rect(c, (2 * r, 2 * r), 0.0), over_notes=True))
            for _ in range(int(rng.integers(3, 8))):
                c = (rng.uniform(lo[0] - 100, hi[0] + 100), rng.uniform(lo[1] - 100, hi[1] + 100))
                out.append(_Thing(kind, _rect(c, (2 * r, 2 * r), 0.0), over_notes=True))
        elif kind == "drawing":
            out.append(_Thing(kind, area.copy()))
        else:
            raise ValueError(f"unknown distractor {kind!r}")
    return out


def _rot(angle_deg: float) -> np.ndarray:
    a = math.radians(angle_deg)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def _render(
    wall, spec: WallSpec, notes: list[_Note], things: list[_Thing], p: float, rng
) -> list[np.ndarray]:
    """Draw things under the notes, the notes with their shadows, then things over them.

    Return the outlines (wall mm) of everything over the notes, in stacking order after them.
    """
    ink = INKS_BGR[int(rng.integers(len(INKS_BGR)))]
    for t in things:
        if t.over_notes:
            continue
        c, size, angle = t.placement()
        if t.kind in ("printout", "poster"):
            _shadow(wall, t.corners, p, depth=0.12)
            img = _printout(size, p, rng) if t.kind == "printout" else _poster(size, p, rng)
            _paste(wall, _art(img, size), c, angle, p)
        elif t.kind == "header printout":
            _shadow(wall, t.corners, p, depth=0.12)
            _paste(wall, _art(_printout(size, p, rng, title=t.data["text"]), size), c, angle, p)
        elif t.kind in ("tape", "header tape", "lane tape"):
            img = _header_tape(size, p, rng, t.data.get("text", ""))
            _paste(wall, _art(img, size), c, angle, p)
        elif t.kind == "header letters":
            _draw_letters(wall, t.corners, t.data["text"], p, ink)
        elif t.kind == "picture":
            _shadow(wall, t.corners, p, depth=0.3)
            _paste(wall, picture_art(px_per_mm=p, rng=rng), c, 0.0, p)
        elif t.kind == "switch":
            _shadow(wall, t.corners, p, depth=0.25)
            img = np.full((round(size[1] * p), round(size[0] * p), 3), (236, 240, 242), np.uint8)
            r0, r1 = round(30 * p), round(56 * p)
            cv2.rectangle(img, (r0, round(22 * p)), (r1, round(64 * p)), (222, 226, 228), -1)
            cv2.line(
                img,
                (r0, round(43 * p)),
                (r1, round(43 * p)),
                (200, 204, 206),
                max(1, round(0.8 * p)),
            )
            _paste(wall, _art(img, size), c, angle, p)
        elif t.kind == "door":
            x0, y0 = np.round(t.corners.min(axis=0) * p).astype(int)
            x1, y1 = np.round(t.corners.max(axis=0) * p).astype(int)
            tone = rng.choice([(238, 240, 242), (90, 130, 170)])
            cv2.rectangle(wall, (x0, y0), (x1, y1), tuple(int(v) for v in tone), -1)
            cv2.line(wall, (x0, y0), (x0, y1), (150, 150, 150), max(1, round(1.5 * p)))
            cv2.line(wall, (x1, y0), (x1, y1), (120, 120, 120), max(1, round(2 * p)))
        elif t.kind == "drawing":
            t.corners = np.vstack(_marker_lines(wall, notes, p, rng) or [t.corners])
    shadow = 0.04 if spec.background == "glass" else 0.2
    for n in notes:
        _shadow(wall, _corners(n), p, depth=shadow + 0.25 * n.curl)
        img = _note_image(n, p, rng)
        if spec.background == "glass":
            # Against the bright window the camera exposes for the light: paper is darker.
            img = (img.astype(np.float32) * 0.82).astype(np.uint8)
        _paste(wall, _art(img, n.size), n.centre, n.angle, p)
    over = []
    for t in things:
        if not t.over_notes:
            continue
        c, size, angle = t.placement()
        if t.kind == "tape":
            img = _header_tape(size, p, rng, "")
            img = (img.astype(np.float32) * 0.95 + 10).astype(np.uint8)
            _paste(wall, _art(img, size), c, angle, p)
        else:
            _pin(wall, c, p, rng, radius_mm=size[0] / 2)
        over.append(t.corners)
    return over


def _after_lens(img: np.ndarray, spec: WallSpec, camera: Camera, rng):
    """Add what the scene and the phone add after the lens: glare, an arm, shake, exposure,
    white balance, vignetting, noise, sharpening and JPEG.

    Return the photo and the arm's outline (photo px), or None without an arm.
    """
    h, w = img.shape[:2]
    cam = spec.camera
    out = img.astype(np.float32)
    glare = cam.glare + {"whiteboard": 0.8, "glass": 0.4}.get(spec.background, 0.0)
    if glare > 0:
        # A window or a ceiling light mirrored in gloss: a soft band across the frame.
        a = rng.uniform(0, math.pi)
        yy, xx = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
        d = (xx - rng.uniform(0.2, 0.8) * w) * math.cos(a) + (
            yy - rng.uniform(0.2, 0.8) * h
        ) * math.sin(a)
        band = np.exp(-(d**2) / (2 * (rng.uniform(0.04, 0.1) * w) ** 2)) * glare * 90
        out += cv2.resize(band, (w, h))[..., None]
    arm = None
    if rng.random() < cam.arm:
        parts = _arm_parts(w, h, rng)
        arm = cv2.convexHull(np.vstack([q for q, _ in parts]).astype(np.float32))[:, 0].astype(
            np.float64
        )
        for outline, colour in parts:
            mask = np.zeros((h, w), np.float32)
            cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1.0, cv2.LINE_AA)
            # Near the lens: out of focus, and lit unevenly.
            mask = cv2.GaussianBlur(mask, (0, 0), 0.004 * w)[..., None]
            tone = 1.0 + 0.12 * cv2.resize(_field(h // 8, w // 8, 30, rng), (w, h))[..., None]
            out = out * (1 - mask) + np.array(colour, np.float32) * tone * mask
    if rng.random() < cam.shake:
        # A hand's shake during the exposure: a short straight smear.
        n = max(3, round(rng.uniform(2, 6) * w / 4000) * 2 + 1)
        kernel = np.zeros((n, n), np.float32)
        a = rng.uniform(0, math.pi)
        c = (n - 1) / 2
        d = (c * math.cos(a), c * math.sin(a))
        cv2.line(
            kernel, (round(c - d[0]), round(c - d[1])), (round(c + d[0]), round(c + d[1])), 1.0
        )
        out = cv2.filter2D(out, -1, kernel / kernel.sum())
    # The phone's exposure: a little under or over.
    out *= float(rng.uniform(0.88, 1.1))
    wb = {"neutral": 0, "warm": 1, "cool": 2}.get(cam.white_balance, int(rng.integers(3)))
    # What is left of tungsten or daylight once the phone's white balance has corrected most of it.
    gains = ((1.0, 1.0, 1.0), (0.84, 0.97, 1.06), (1.08, 1.0, 0.92))[wb]
    out *= np.array(gains, np.float32)
    if cam.vignette > 0:
        yy, xx = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
        r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
        v = 1 - cam.vignette * r2
        out *= cv2.resize(v, (w, h))[..., None]
    if cam.noise_sigma > 0:
        noise = rng.standard_normal((h, w, 3), dtype=np.float32) * np.float32(cam.noise_sigma)
        out += noise
    if cam.sharpen > 0:
        # A phone's processing sharpens edges (and noise): an unsharp mask with a faint halo.
        out += cam.sharpen * (out - cv2.GaussianBlur(out, (0, 0), 1.5))
    img = np.clip(out, 0, 255).astype(np.uint8)
    return _jpeg(img, cam.jpeg_quality), arm


def _arm_parts(w: int, h: int, rng) -> list[tuple[np.ndarray, tuple]]:
    """Return the parts (outline in photo px, BGR) of a person at the frame's edge: a shoulder
    in a sweater, or an arm reaching in with its hand (someone pointing at a note)."""
    cloth = tuple(
        float(v) for v in rng.choice([(60, 50, 45), (150, 90, 40), (40, 40, 120), (120, 150, 190)])
    )
    skin = tuple(float(v) for v in rng.choice([(150, 175, 215), (110, 140, 190), (70, 95, 140)]))
    side = int(rng.integers(3))  # left, right, bottom
    if rng.random() < 0.4:
        # A shoulder and the back of a head: a rounded mass from the bottom corner.
        cx = rng.uniform(-0.05, 0.2) * w if side != 1 else rng.uniform(0.8, 1.05) * w
        axes = (int(rng.uniform(0.18, 0.3) * w), int(rng.uniform(0.2, 0.35) * h))
        body = cv2.ellipse2Poly((int(cx), h + axes[1] // 3), axes, 0, 0, 360, 6)
        return [(body.astype(np.float64), cloth)]
    start = {
        0: (-0.05 * w, rng.uniform(0.4, 1.0) * h),
        1: (1.05 * w, rng.uniform(0.4, 1.0) * h),
        2: (rng.uniform(0.2, 0.8) * w, 1.05 * h),
    }[side]
    aim = np.array((rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.6) * h))
    d = aim - start
    d /= np.linalg.norm(d)
    n = np.array((-d[1], d[0]))
    length = rng.uniform(0.25, 0.4) * w
    wid = rng.uniform(0.035, 0.05) * w
    tip = np.array(start) + d * length
    sleeve = np.array([start + n * wid * 1.2, tip + n * wid, tip - n * wid, start - n * wid * 1.2])
    hand_c = tip + d * wid * 1.3
    angle = math.degrees(math.atan2(d[1], d[0]))
    hand = cv2.ellipse2Poly(
        tuple(int(v) for v in hand_c), (int(wid * 1.5), int(wid * 0.8)), int(angle), 0, 360, 8
    )
    return [(hand.astype(np.float64), skin), (sleeve, cloth)]


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def _truth(
    shot, notes: list[_Note], on_top: list[np.ndarray], arm, scale: float, shape
) -> tuple[WallNote, ...]:
    """Return each note's truth in the final photo; coverage measured at a quarter of its size."""
    hh, ww = shape[:2]
    q = 0.25
    mh, mw = max(1, round(hh * q)), max(1, round(ww * q))
    quads = [s.corners_px * scale for s in shot.notes]
    over = [_apply_h(shot.homography, c) * scale for c in on_top]
    arm_mask = np.zeros((mh, mw), np.uint8)
    if arm is not None:
        cv2.fillPoly(arm_mask, [np.round(arm * scale * q).astype(np.int32)], 1)
    out = []
    for i, (n, quad) in enumerate(zip(notes, quads, strict=True)):
        mine = np.zeros((mh, mw), np.uint8)
        cv2.fillPoly(mine, [np.round(quad * q).astype(np.int32)], 1)
        cover = arm_mask.copy()
        for other in quads[i + 1 :] + over:
            cv2.fillPoly(cover, [np.round(other * q).astype(np.int32)], 1)
        area = int(mine.sum())
        covered = float((mine & cover).sum()) / area if area else 0.0
        in_frame = bool(np.all((quad >= 0) & (quad <= (ww - 1, hh - 1))))
        out.append(
            WallNote(
                index=i,
                paper=n.paper,
                family=PAPER_FAMILY[n.paper],
                text=n.text if n.ink == "title" else "",
                size_mm=n.size,
                quad_px=quad,
                centre_px=tuple(float(v) for v in quad.mean(axis=0)),
                in_frame=in_frame,
                covered=round(covered, 3) if covered >= COVERED_SHARE else 0.0,
            )
        )
    return tuple(out)


def with_camera(spec: WallSpec, **changes) -> WallSpec:
    """Return `spec` with its camera changed."""
    return replace(spec, camera=replace(spec.camera, **changes))
