"""Cut every read sticky out of a photo as a flat, upright, square-on picture of its paper.

Pure: OpenCV and numpy, no web framework and no database. Photo coordinates are pixels, origin at
the top-left pixel's centre, x right, y down. A view's own pixels have the same convention; its
pixel (i, j) shows the sticky point ((i + 0.5) / px_per_mm, (j + 0.5) / px_per_mm) in mm from
the sticky's top-left corner.

The sticky's outline comes from its marker's four corners in the photo and the manifest's
`outline` (the sticky's corners in marker sides, in the marker's frame): a homography from the
marker's square to its corners carries the outline into the photo. A sticky whose marker was not
read, or whose manifest entry has no outline, gives no view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from scanner.imageio import load_image
from scanner.manifest import Manifest
from scanner.markers import marker_text
from scanner.notes import note_picture
from scanner.params import DEFAULT_PARAMS, ScanParams
from scanner.results import Point, ScanResult

# A view is drawn at the photo's own resolution on the sticky, within these bounds: below the
# lower one the warp aliases, above the upper one pixels add bytes and no legibility.
MIN_VIEW_PX_PER_MM = 2.0
MAX_VIEW_PX_PER_MM = 8.0
# A sticky read in a cell the scan reports hidden may be partly covered: its view counts this much
# of what showed.
HIDDEN_CELL_SHARE = 0.5
# A pixel this bright in every channel is glare, not paper.
GLARE_LEVEL = 250
# A plain note of unknown scale is taken for the usual 76 mm sticky note.
NOTE_GUESS_MM = 76.0
# The manifest may omit the marker's printed side; printables' 76 mm note has 25 mm.
DEFAULT_MARKER_MM = 25.0


@dataclass(frozen=True)
class ViewScore:
    """Say how good one view of a sticky is.

    `px_per_mm`: photo pixels per millimetre of the sticky (the square root of the outline's area
    in the photo over its printed area). `sharpness`: 0 (a flat blur) to 1, how much of the view's
    fine detail survives a further blur. `glare`: the fraction of the view's pixels saturated.
    `coverage`: the fraction of the outline's area inside the photo and not in a hidden cell.
    """

    px_per_mm: float
    sharpness: float
    glare: float
    coverage: float

    @property
    def quality(self) -> float:
        """Return one number that orders views of a sticky: higher is better.

        Resolution counts up to the most a view stores; blur, glare and a cut-off or hidden part
        scale it down, so a sharp close-up beats a blurred one and a whole sticky beats half.
        """
        resolution = min(self.px_per_mm, MAX_VIEW_PX_PER_MM)
        return round(
            resolution * (0.25 + 0.75 * self.sharpness) * (1.0 - self.glare) * self.coverage**2, 4
        )

    def to_dict(self) -> dict:
        return {
            "px_per_mm": round(self.px_per_mm, 3),
            "sharpness": round(self.sharpness, 3),
            "glare": round(self.glare, 4),
            "coverage": round(self.coverage, 3),
            "quality": self.quality,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ViewScore:
        """Build a score from its dict; raise ValueError naming the first bad field."""
        values = {}
        for name in ("px_per_mm", "sharpness", "glare", "coverage"):
            v = d.get(name) if isinstance(d, Mapping) else None
            if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
                raise ValueError(f"score.{name} must be a number, got {v!r}")
            if v < 0 or (name != "px_per_mm" and v > 1):
                raise ValueError(f"score.{name} {v} is out of range")
            values[name] = float(v)
        return cls(**values)


def _jpeg(view, quality: int = 85) -> bytes:
    """Return the view as JPEG bytes."""
    ok, buf = cv2.imencode(".jpg", view.image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV encodes any BGR uint8 image
        raise ValueError("cannot encode the view as JPEG")
    return buf.tobytes()


@dataclass(frozen=True)
class StickyView:
    """Hold one sticky's picture: its code, the BGR image, its score and outline in the photo.

    `image` is upright and square-on, `px_per_mm` view pixels per millimetre of the sticky;
    `quad` is the sticky's outline in photo pixels (tl, tr, br, bl of the sticky).
    """

    code: str
    image: np.ndarray = field(repr=False, compare=False)
    score: ViewScore
    px_per_mm: float
    quad: tuple[Point, Point, Point, Point]

    jpeg = _jpeg


def cut_views(
    image: Any,
    manifest: Manifest | Mapping,
    result: ScanResult,
    *,
    params: ScanParams = DEFAULT_PARAMS,
) -> list[StickyView]:
    """Return a view of every sticky in `result` whose marker was read, best read first per code.

    `image` is the photo the result came from (anything load_image accepts), `manifest` the one
    it was scanned with, `params` the scan's knobs (`view_min_coverage`). Works without a board:
    a close-up of a few stickies gives their views.
    """
    if not isinstance(manifest, Manifest):
        manifest = Manifest.from_dict(manifest)
    img = load_image(image)
    by_text = {
        marker_text(manifest.marker_dictionary, s.marker_id): s
        for s in manifest.stickies
        if s.outline is not None
    }
    qr_reads: dict[str, list] = {}
    for c in result.codes:
        if len(c.corners) == 4:
            qr_reads.setdefault(c.text, []).append(c.corners)
    hidden = [np.asarray(c.quad, np.float32) for c in result.cells if c.hidden]
    views: dict[str, StickyView] = {}
    for code in result.codes:
        entry = by_text.get(code.text)
        if entry is None or len(code.corners) != 4:
            continue
        view = cut_view(
            img,
            marker_corners=code.corners,
            outline=entry.outline,
            marker_mm=entry.marker_mm or DEFAULT_MARKER_MM,
            code=entry.code,
            hidden=hidden,
            qr_outline=entry.qr_outline,
            qr_corners=qr_reads.get(entry.qr, ()),
            min_coverage=params.view_min_coverage,
        )
        if view is None:
            continue
        kept = views.get(entry.code)
        if kept is None or view.score.quality > kept.score.quality:
            views[entry.code] = view
    return [views[c] for c in sorted(views)]


def cut_view(
    img: np.ndarray,
    *,
    marker_corners,
    outline,
    marker_mm: float,
    code: str,
    hidden=(),
    qr_outline=None,
    qr_corners=(),
    min_coverage: float = DEFAULT_PARAMS.view_min_coverage,
) -> StickyView | None:
    """Return the view of one sticky from its marker's corners, or None when too little shows.

    `marker_corners` are the marker's tl, tr, br, bl in photo pixels; `outline` the sticky's
    corners in marker sides in the marker's frame; `hidden` photo-pixel polygons that hide what
    lies behind them. A hidden polygon around the marker itself did not hide it: it only scales
    the coverage by HIDDEN_CELL_SHARE, so that a view from a clear scan wins over it. When the sticky's QR was read (`qr_corners`: the corners of each read,
    in any order) and `qr_outline` places it in the marker's frame, its corners pin the far side
    of the sticky; otherwise the marker alone gives an affine pose, since a marker's perspective
    is too small to measure and extrapolating a guess of it bends the whole sticky. Less of the
    sticky than `min_coverage` in frame and unhidden is not a picture of it: None.
    """
    corners = np.asarray(marker_corners, np.float64).reshape(4, 2)
    out = np.asarray(outline, np.float64).reshape(4, 2)
    to_photo = _pose(corners, qr_outline, qr_corners)
    quad = cv2.perspectiveTransform(out[None], to_photo)[0]
    w_mm = float(np.linalg.norm(out[1] - out[0])) * marker_mm
    h_mm = float(np.linalg.norm(out[3] - out[0])) * marker_mm
    area_px = abs(_area(quad))
    if w_mm <= 0 or h_mm <= 0 or area_px < 16:
        return None
    px_per_mm = float(np.sqrt(area_px / (w_mm * h_mm)))
    centre = tuple(float(v) for v in corners.mean(axis=0))
    around = [
        cv2.pointPolygonTest(np.asarray(h, np.float32).reshape(-1, 1, 2), centre, False) >= 0
        for h in hidden
    ]
    coverage = _coverage(
        quad, img.shape[1], img.shape[0], [h for h, a in zip(hidden, around, strict=True) if not a]
    )
    if coverage < min_coverage:
        return None
    if any(around):
        coverage *= HIDDEN_CELL_SHARE
    scale = float(np.clip(px_per_mm, MIN_VIEW_PX_PER_MM, MAX_VIEW_PX_PER_MM))
    vw, vh = max(1, round(w_mm * scale)), max(1, round(h_mm * scale))
    target = np.array([[-0.5, -0.5], [vw - 0.5, -0.5], [vw - 0.5, vh - 0.5], [-0.5, vh - 0.5]])
    to_view = cv2.getPerspectiveTransform(quad.astype(np.float32), target.astype(np.float32))
    # Shrinking through a warp aliases: smooth the photo to the view's pixel pitch first.
    src = img
    if px_per_mm > scale * 1.5:
        sigma = 0.5 * px_per_mm / scale
        x0, y0 = np.floor(quad.min(axis=0) - 4 * sigma).astype(int)
        x1, y1 = np.ceil(quad.max(axis=0) + 4 * sigma).astype(int)
        h, w = img.shape[:2]
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        src = img[y0:y1, x0:x1]
        src = cv2.GaussianBlur(src, (0, 0), sigma)
        shift = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
        to_view = to_view @ shift
    view = cv2.warpPerspective(
        src, to_view, (vw, vh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    gray = cv2.cvtColor(view, cv2.COLOR_BGR2GRAY)
    score = ViewScore(
        px_per_mm=px_per_mm,
        sharpness=_sharpness(gray),
        glare=cv2.countNonZero(cv2.inRange(view, (GLARE_LEVEL,) * 3, (255,) * 3)) / (vw * vh),
        coverage=coverage,
    )
    return StickyView(
        code=code,
        image=view,
        score=score,
        px_per_mm=scale,
        quad=tuple((float(x), float(y)) for x, y in quad),
    )


@dataclass(frozen=True)
class NoteView:
    """Hold one plain note's picture: its index in `ScanResult.notes`, the BGR image, its score.

    `image` is upright and square-on (scanner.notes.note_picture), `px_per_mm` view pixels per
    millimetre of the note (0.0 when the photo's scale is unknown), `quad` the note's outline in
    photo pixels (clockwise from its top-left), as in the note.
    """

    index: int
    image: np.ndarray = field(repr=False, compare=False)
    score: ViewScore
    px_per_mm: float
    quad: tuple[Point, Point, Point, Point]

    jpeg = _jpeg


def cut_note_views(
    image: Any, result: ScanResult, *, px_per_mm: float | None = None
) -> list[NoteView]:
    """Return a picture of every plain note in `result`, in the order of `result.notes`.

    `image` is the photo the result came from (anything load_image accepts). `px_per_mm` is the
    photo's scale on the wall (scanner.notes.board_scale) when known: the score's resolution is
    then the photo's pixels per mm on the note; without it, the note is taken as 76 mm wide.
    Coverage counts what of the note lies in the photo and outside the cells the scan reports
    hidden, as for sticky views; a hidden cell around the note's centre (a person in front of it,
    glare: a note's own paper does not hide its cell) scales it by HIDDEN_CELL_SHARE instead.
    """
    img = load_image(image)
    hidden = [np.asarray(c.quad, np.float32) for c in result.cells if c.hidden]
    out = []
    for i, note in enumerate(result.notes):
        quad = np.asarray(note.quad, np.float64)
        picture = note_picture(img, note.quad, px_per_mm=px_per_mm)
        side_px = float(np.sqrt(abs(_area(quad))))
        photo_scale = px_per_mm if px_per_mm else side_px / NOTE_GUESS_MM
        ph, pw = picture.shape[:2]
        gray = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
        around = [
            cv2.pointPolygonTest(h.reshape(-1, 1, 2), (note.x, note.y), False) >= 0 for h in hidden
        ]
        coverage = _coverage(
            quad,
            img.shape[1],
            img.shape[0],
            [h for h, a in zip(hidden, around, strict=True) if not a],
        )
        score = ViewScore(
            px_per_mm=float(photo_scale),
            sharpness=_sharpness(gray),
            glare=cv2.countNonZero(cv2.inRange(picture, (GLARE_LEVEL,) * 3, (255,) * 3))
            / max(1, pw * ph),
            coverage=coverage * (HIDDEN_CELL_SHARE if any(around) else 1.0),
        )
        view_scale = pw / max(1e-9, float(np.linalg.norm(quad[1] - quad[0])) / photo_scale)
        out.append(
            NoteView(
                index=i,
                image=picture,
                score=score,
                px_per_mm=float(view_scale) if px_per_mm else 0.0,
                quad=note.quad,
            )
        )
    return out


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Return the normalised correlation of two pictures of one sticky, -1 to 1.

    Both are turned grey and brought to the smaller one's size; 1 means the same pattern of
    light and dark, whatever the brightness and contrast.
    """
    ga = a if a.ndim == 2 else cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)
    gb = b if b.ndim == 2 else cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)
    h, w = min(ga.shape[0], gb.shape[0]), min(ga.shape[1], gb.shape[1])
    ga = cv2.resize(ga, (w, h), interpolation=cv2.INTER_AREA).astype(np.float64)
    gb = cv2.resize(gb, (w, h), interpolation=cv2.INTER_AREA).astype(np.float64)
    ga -= ga.mean()
    gb -= gb.mean()
    den = float(np.sqrt((ga * ga).sum() * (gb * gb).sum()))
    return float((ga * gb).sum() / den) if den > 0 else 0.0


UNIT_SQUARE = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])


def _pose(corners: np.ndarray, qr_outline, qr_corners) -> np.ndarray:
    """Return the 3x3 map from the marker's frame (marker sides) to photo pixels."""
    ones = np.hstack([UNIT_SQUARE, np.ones((4, 1))])
    affine, *_ = np.linalg.lstsq(ones, corners, rcond=None)
    to_photo = np.vstack([affine.T, [0.0, 0.0, 1.0]])
    if qr_outline is None:
        return to_photo
    qr_frame = np.asarray(qr_outline, np.float64).reshape(4, 2)
    # Matching wants the best guess of where the QR is, perspective included.
    guess = cv2.getPerspectiveTransform(UNIT_SQUARE.astype(np.float32), corners.astype(np.float32))
    predicted = cv2.perspectiveTransform(qr_frame[None], guess)[0]
    side = float(np.linalg.norm(corners[1] - corners[0]))
    for read in qr_corners:
        pts = np.asarray(read, np.float64).reshape(-1, 2)
        if len(pts) != 4:
            continue
        # Decoders differ in where they start the corners: match each to the nearest predicted.
        d = np.linalg.norm(predicted[:, None, :] - pts[None, :, :], axis=2)
        order = d.argmin(axis=1)
        if len(set(order.tolist())) != 4 or d[np.arange(4), order].max() > 0.5 * side:
            continue
        src = np.vstack([UNIT_SQUARE, qr_frame])
        dst = np.vstack([corners, pts[order]])
        h, _ = cv2.findHomography(src, dst, 0)
        if h is not None:
            return h
    return to_photo


def _area(q: np.ndarray) -> float:
    x, y = q[:, 0], q[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _coverage(quad: np.ndarray, width: int, height: int, hidden) -> float:
    """Return the fraction of the outline's area inside the frame and outside `hidden`."""
    x0, y0 = np.floor(quad.min(axis=0)).astype(int)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 1
    # Rasterise at a pitch that keeps the count near 2,500 cells whatever the sticky's size.
    step = max(1.0, float(np.sqrt((x1 - x0) * (y1 - y0) / 2500.0)))
    nx, ny = max(2, int((x1 - x0) / step)), max(2, int((y1 - y0) / step))
    scale = np.array([nx / (x1 - x0), ny / (y1 - y0)])
    poly = np.round((quad - (x0, y0)) * scale * 16).astype(np.int32)
    mask = np.zeros((ny, nx), np.uint8)
    cv2.fillPoly(mask, [poly], 1, shift=4)
    total = int(mask.sum())
    if total == 0:
        return 0.0
    xs = x0 + (np.arange(nx) + 0.5) / scale[0]
    ys = y0 + (np.arange(ny) + 0.5) / scale[1]
    inside = np.outer((ys >= -0.5) & (ys <= height - 0.5), (xs >= -0.5) & (xs <= width - 0.5))
    seen = mask.astype(bool) & inside
    for poly_px in hidden:
        hp = np.round((np.asarray(poly_px, np.float64) - (x0, y0)) * scale * 16).astype(np.int32)
        hmask = np.zeros_like(mask)
        cv2.fillPoly(hmask, [hp], 1, shift=4)
        seen &= ~hmask.astype(bool)
    return float(seen.sum()) / total


def _sharpness(gray: np.ndarray) -> float:
    """Return 0 to 1: the share of the view's pixel-to-pixel variation that a blur takes away.

    After Crete et al.'s no-reference blur metric: a sharp picture loses much of its fine
    variation to a 9-pixel box blur, an already blurred one little.
    """
    g = gray.astype(np.float32)
    if min(g.shape) < 12:
        return 0.0
    scores = []
    for axis, ksize in ((0, (1, 9)), (1, (9, 1))):
        b = cv2.blur(g, ksize)
        if axis == 0:
            d_f, d_b = cv2.absdiff(g[1:], g[:-1]), cv2.absdiff(b[1:], b[:-1])
        else:
            d_f, d_b = cv2.absdiff(g[:, 1:], g[:, :-1]), cv2.absdiff(b[:, 1:], b[:, :-1])
        s_f = float(cv2.sumElems(d_f)[0])
        if s_f <= 0:
            return 0.0
        gain = cv2.max(cv2.subtract(d_f, d_b), 0.0)
        scores.append(float(cv2.sumElems(gain)[0]) / s_f)
    return float(np.clip(min(scores), 0.0, 1.0))
