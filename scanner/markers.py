"""Detect ArUco markers; the only module that uses cv2.aruco.

Coordinates are photo pixels, origin top-left, x right, y down, at pixel centres. Marker corners
are in the marker's own order: top-left, top-right, bottom-right, bottom-left of the symbol.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from scanner.imageio import halved
from scanner.params import DEFAULT_PARAMS

# Marker detection cost grows with pixels; on a 12 MP photo the markers stay large enough when
# detected at this long side, and the corners are then refined at full resolution. Larger
# photos are halved until they fit: halving averages whole 2 x 2 blocks, which costs a
# twentieth of a resize to an arbitrary size. (scanner.params: a scan's own knobs.)
DETECT_LONG_SIDE = DEFAULT_PARAMS.detect_long_side
# Undecoded marker-sized quads looked at again, enlarged, per photo (about 20 ms on a 2-core
# machine).
RETRY_LIMIT = DEFAULT_PARAMS.marker_retries


@dataclass(frozen=True)
class Marker:
    """Describe one decoded marker: its id and corners (4x2 float photo px)."""

    id: int
    corners: np.ndarray

    # Markers are frozen: their centre and side are worked out once.
    @functools.cached_property
    def centre(self) -> tuple[float, float]:
        c = self.corners.mean(axis=0)
        return float(c[0]), float(c[1])

    @functools.cached_property
    def side(self) -> float:
        d = np.diff(np.vstack([self.corners, self.corners[:1]]), axis=0)
        return float(np.hypot(d[:, 0], d[:, 1]).mean())


_local = threading.local()


# Adaptive threshold windows (px). One window of 9 px reads the markers of a whole wall photo at
# 0.55 of the cost of the two below (the detector's cost is mostly one thresholding and contour
# search per window); the two, 7 and 17 px, also read blurred, noisy and compressed markers that
# the one misses (the benchmark's combined frames: 103 -> 107 of 109), so the second looks
# (unreadable cells, missing corners, small markers enlarged, undecoded quads) use both.
FAST_WINDOWS = (9,)
THOROUGH_WINDOWS = (7, 17)


def _detector(dictionary: str, thorough: bool = False) -> cv2.aruco.ArucoDetector:
    """Return this thread's detector for a dictionary; concurrent scans do not share one."""
    cache = _local.__dict__.setdefault("detectors", {})
    key = (dictionary, thorough)
    if key not in cache:
        cache[key] = _make_detector(dictionary, THOROUGH_WINDOWS if thorough else FAST_WINDOWS)
    return cache[key]


def _make_detector(dictionary: str, windows: tuple[int, ...]) -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    params.adaptiveThreshWinSizeMin = windows[0]
    params.adaptiveThreshWinSizeMax = windows[-1]
    params.adaptiveThreshWinSizeStep = max(1, windows[-1] - windows[0]) if len(windows) > 1 else 10
    # The perimeter floor admits 25 mm markers on a 1080p frame of a 2 m board.
    params.minMarkerPerimeterRate = 0.02
    # Sampling each cell with 8 px and ignoring its outer 30 % reads small, blurred or slanted
    # markers that the default 4 px and 13 % miss (measured on the benchmark's defocus and 35 deg
    # frames: 31 -> 40 of 43). At 5 px with 40 % ignored the first pass reads 5 % more markers on
    # the 1080p and 720p frames, but a few others no more (an off-grid sticky at 35 degrees, a
    # 10 px marker at 720p) that no second look reaches: the placements would drop.
    params.perspectiveRemovePixelPerCell = 8
    params.perspectiveRemoveIgnoredMarginPerCell = 0.3
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE
    d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary))
    return cv2.aruco.ArucoDetector(d, params)


def _detect_once(
    gray: np.ndarray, dictionary: str, thorough: bool = False
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Run the ArUco detector once; return corners (N x 4 x 2), ids (N,) and rejected quads.

    OpenCV 4 answers "nothing found" with ``ids=None`` and ids of shape N x 1; OpenCV 5 with an
    empty array and ids of shape N. Both become the same arrays here, so that no caller depends
    on the version's return shapes. Corners are float32 photo pixels, origin at the top-left
    pixel's centre.
    """
    corners, ids, rejected = _detector(dictionary, thorough).detectMarkers(gray)
    ids = np.zeros(0, dtype=np.int32) if ids is None else np.asarray(ids, dtype=np.int32).ravel()
    pts = np.asarray(corners, dtype=np.float32).reshape(-1, 4, 2)
    rej = [np.asarray(r, dtype=np.float32).reshape(4, 2) for r in rejected]
    return pts, ids, rej


def detect(
    gray: np.ndarray,
    *,
    dictionary: str,
    long_side: int = DETECT_LONG_SIDE,
    retries: int = RETRY_LIMIT,
    reduced: tuple[np.ndarray, float] | None = None,
    thorough: bool = False,
) -> tuple[list[Marker], list[np.ndarray]]:
    """Return the markers decoded in a grey photo and the marker-like quads that did not decode.

    Large photos are searched at a reduced size and the corners are then refined on the full
    resolution image. Quads of a marker's size that did not decode are looked at again,
    enlarged, at most `retries` of them (a count, not a time, so that a busy machine reads
    what an idle one does). Every marker's bits are checked once more with
    a clear margin between black and white, because a misread id would put a sticky where it
    is not. `reduced` is `halved(gray, long_side)` when the caller has it already. `thorough`
    searches with THOROUGH_WINDOWS, for second looks.
    """
    small, scale = reduced or halved(gray, long_side)
    pts, ids, rej = _detect_once(small, dictionary, thorough)
    markers: list[Marker] = []
    if len(ids):
        if scale < 1.0:
            pts = (pts + 0.5) / scale - 0.5
        pts = _refine(gray, pts, scale)
        markers = [Marker(id=int(i), corners=p) for i, p in zip(ids, pts, strict=True)]
    if scale < 1.0:
        rej = [(r + 0.5) / scale - 0.5 for r in rej]
    markers = _clear_ones(gray, markers, dictionary)
    markers, rej = _retry(gray, markers, rej, dictionary, retries)
    return markers, rej


def _dictionary(name: str):
    cache = _local.__dict__.setdefault("dictionaries", {})
    if name not in cache:
        cache[name] = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))
    return cache[name]


def detect_enlarged(
    gray: np.ndarray, *, dictionary: str, factor: float = 2.0
) -> tuple[list[Marker], list[np.ndarray]]:
    """Return the markers decoded on the photo enlarged `factor` times, corners in photo px.

    A marker of 10 to 16 px has under 3 px per cell: the contours and the sampled cells of a
    cubic enlargement read where the photo's own pixels do not.
    """
    big = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    found, rej = detect(
        big, dictionary=dictionary, long_side=max(big.shape), retries=0, thorough=True
    )
    back = [
        Marker(id=m.id, corners=((m.corners + 0.5) / factor - 0.5).astype(np.float32))
        for m in found
    ]
    return back, [(q + 0.5) / factor - 0.5 for q in rej]


def _retry(gray, markers, rej, dictionary, limit):
    """Look again at undecoded quads of a marker's size, enlarged so each cell gets 8 px."""
    if not markers or not rej or limit <= 0:
        return markers, rej
    # Sticky markers are the smallest markers on the wall; the cards' are larger.
    small = float(np.percentile([m.side for m in markers], 25))
    lo, hi = 0.6 * small, 1.5 * small
    h, w = gray.shape
    centres = np.array([m.corners.mean(axis=0) for m in markers])
    found_ids = {m.id for m in markers}
    tried = 0
    left = []
    for q in rej:
        s = _side(q)
        c = q.mean(axis=0)
        # Near a decoded marker lies its own sticky's QR code, which looks like a marker.
        if not lo <= s <= hi or np.min(np.linalg.norm(centres - c, axis=1)) < 2.2 * s:
            left.append(q)
            continue
        if tried >= limit:
            left.append(q)
            continue
        tried += 1
        r = s * 1.2
        x0, y0 = int(max(0, c[0] - r)), int(max(0, c[1] - r))
        x1, y1 = int(min(w, c[0] + r + 1)), int(min(h, c[1] + r + 1))
        f = float(np.clip(48.0 / max(s, 1.0), 1.5, 4.0))
        crop = cv2.resize(gray[y0:y1, x0:x1], None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
        crop_pts, crop_ids, _ = _detect_once(crop, dictionary, thorough=True)
        got = None
        for cc, i in zip(crop_pts, crop_ids, strict=True):
            pts = (cc + 0.5) / f - 0.5 + (x0, y0)
            if np.linalg.norm(pts.mean(axis=0) - c) < 0.5 * s and int(i) not in found_ids:
                got = Marker(id=int(i), corners=pts.astype(np.float32))
        if got is not None and _clear_ones(gray, [got], dictionary):
            markers.append(got)
            found_ids.add(got.id)
            centres = np.vstack([centres, got.corners.mean(axis=0)])
        else:
            left.append(q)
    return markers, left


def quad_side(q: np.ndarray) -> float:
    """Return a quad's mean side length."""
    return _side(q)


def quad_sides(quads: np.ndarray) -> np.ndarray:
    """Return the mean side length of each of K quads (K x 4 x 2)."""
    d = np.roll(quads, -1, axis=1) - quads
    return np.hypot(d[..., 0], d[..., 1]).mean(axis=1)


def _side(q: np.ndarray) -> float:
    d = np.diff(np.vstack([q, q[:1]]), axis=0)
    return float(np.hypot(d[:, 0], d[:, 1]).mean())


_CELL = 8


def _clear_ones(gray: np.ndarray, markers: list[Marker], dictionary: str) -> list[Marker]:
    """Return the markers whose cells match their id's pattern with a clear black/white margin."""
    if not markers:
        return []
    n = int(_dictionary(dictionary).markerSize) + 2
    cells = _cell_means_many(gray, [m.corners for m in markers], n)
    expect = np.stack([_pattern(dictionary, m.id) for m in markers])
    margins = _margin_many(cells, expect)
    return [m for m, margin in zip(markers, margins, strict=True) if margin > CLEAR_MARGIN]


# The darkest white cell must stay above the lightest black cell by this share of the contrast.
CLEAR_MARGIN = 0.15


def _cell_means_many(
    gray: np.ndarray, quads: list[np.ndarray], n: int, flags=cv2.INTER_LINEAR
) -> np.ndarray:
    """Return the mean grey of the middle of each of n x n cells of every quad (K x n x n).

    Each cell is sampled at the 4 x 4 middle pixels of an 8 x 8 pixel tile between the quad's
    corners, as a warp of the quad to a square would sample it; all quads are sampled in one
    remap.
    """
    if not quads:
        return np.zeros((0, n, n), np.float32)
    size = n * _CELL
    square = np.array([[0, 0], [size, 0], [size, size], [0, size]], dtype=np.float32) - 0.5
    hs = _homographies(square, np.asarray(quads, dtype=np.float64).reshape(-1, 4, 2))
    pts = hs @ _tile_points(n).T  # K x 3 x P, photo pixels (homogeneous)
    xy = (pts[:, :2] / pts[:, 2:3]).astype(np.float32)  # K x 2 x P
    h, w = gray.shape[:2]
    # Outside the photo reads black, as the warp's constant border does.
    sampled = cv2.remap(
        gray, xy[:, 0], xy[:, 1], flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    ).astype(np.float32)
    return sampled.reshape(len(quads), n, n, 16).mean(axis=3)


def _homographies(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Return the K homographies (K x 3 x 3) that take the 4 points `src` to each of `dst`."""
    k = len(dst)
    a = np.zeros((k, 8, 8))
    x, y = src[:, 0].astype(np.float64), src[:, 1].astype(np.float64)
    u, v = dst[:, :, 0], dst[:, :, 1]
    a[:, 0:4, 0], a[:, 0:4, 1], a[:, 0:4, 2] = x, y, 1.0
    a[:, 0:4, 6], a[:, 0:4, 7] = -x * u, -y * u
    a[:, 4:8, 3], a[:, 4:8, 4], a[:, 4:8, 5] = x, y, 1.0
    a[:, 4:8, 6], a[:, 4:8, 7] = -x * v, -y * v
    b = np.concatenate([u, v], axis=1)
    h = np.linalg.solve(a, b[:, :, None])[:, :, 0]
    return np.concatenate([h, np.ones((k, 1))], axis=1).reshape(k, 3, 3)


@functools.cache
def _tile_points(n: int) -> np.ndarray:
    """Return the sampled tile pixels (P x 3, homogeneous), cell by cell, row-major."""
    inner = np.arange(2, _CELL - 2, dtype=np.float64)
    cells = np.arange(n, dtype=np.float64) * _CELL
    ys = (cells[:, None, None, None] + inner[None, None, :, None]) * np.ones((1, n, 1, 4))
    xs = (cells[None, :, None, None] + inner[None, None, None, :]) * np.ones((n, 1, 4, 1))
    pts = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)], axis=1)
    return pts


@functools.cache
def _pattern(dictionary: str, marker_id: int) -> np.ndarray:
    """Return a marker's n x n cells, border included, True where white (do not change it)."""
    d = _dictionary(dictionary)
    n = int(d.markerSize) + 2
    expect = np.zeros((n, n), bool)
    bits = cv2.aruco.Dictionary.getBitsFromByteList(
        d.bytesList[marker_id : marker_id + 1], d.markerSize
    )
    expect[1:-1, 1:-1] = bits.reshape(d.markerSize, d.markerSize) > 0
    return expect


def _margin_many(cells: np.ndarray, expect: np.ndarray) -> np.ndarray:
    """Return, for K markers' cells (K x n x n) against their patterns (K x n x n), (darkest
    white - lightest black) / contrast, or -1 without a clear contrast."""
    k = len(cells)
    c = cells.reshape(k, -1).astype(np.float64)
    e = expect.reshape(k, -1)
    both = e.any(axis=1) & (~e).any(axis=1)
    # Rows without white (or black) cells get a dummy value; they answer -1 below.
    span = _median_where(c, e) - _median_where(c, ~e)
    gap = np.where(e, c, np.inf).min(axis=1) - np.where(e, -np.inf, c).max(axis=1)
    ok = both & (span > 8.0)
    return np.where(ok, gap / np.where(ok, span, 1.0), -1.0)


def _median_where(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return each row's median of the values where mask holds (K x m); NaN for none."""
    count = mask.sum(axis=1)
    ordered = np.sort(np.where(mask, values, np.inf), axis=1)
    rows = np.arange(len(values))
    lo = ordered[rows, np.maximum(count - 1, 0) // 2]
    hi = ordered[rows, np.minimum(count // 2, values.shape[1] - 1)]
    return np.where(count > 0, (lo + hi) / 2, np.nan)


def decode_quads(
    gray: np.ndarray, quads: list[np.ndarray], *, ids: list[int], dictionary: str
) -> list[Marker]:
    """Return the markers among marker-like quads that the detector could not decode.

    Each quad's cells are sampled between its corners (cubic, sub-pixel) and compared with the
    patterns of `ids` only (an event's issued markers), in each of the four turns. A quad is a
    marker when exactly one id and turn separates every white cell from every black cell with a
    clear margin (as every decoded marker must, `_clear_ones`), and no other does at all.
    """
    n = int(_dictionary(dictionary).markerSize) + 2
    if not ids or not quads:
        return []
    expect = np.stack([_pattern(dictionary, i) for i in ids])  # K x n x n, True = white
    turned = []
    for q in quads:
        q = np.asarray(q, dtype=np.float32).reshape(4, 2)
        turned.append(q[::-1].copy() if _signed_area(q) < 0 else q)
    cells = _cell_means_many(gray, turned, n, flags=cv2.INTER_CUBIC)
    # Starting the corners one later turns the sampled cells by a quarter: Q x 4 x n x n.
    views = np.stack([np.rot90(cells, turn, axes=(1, 2)) for turn in range(4)], axis=1)
    # Every quad in every turn against every id at once, a bounded number of quads at a time.
    per = max(1, _COMPARE_CELLS // (4 * expect.size))
    out = []
    for first in range(0, len(turned), per):
        for q, turn, k, margin in _separating(views[first : first + per], expect):
            if margin > CLEAR_MARGIN:
                corners = np.roll(turned[first + q], -turn, axis=0)
                out.append(Marker(id=ids[k], corners=corners))
    return out


# Cells compared at once in decode_quads (quads x turns x ids x cells): a few megabytes.
_COMPARE_CELLS = 1 << 19


def _separating(views: np.ndarray, expect: np.ndarray) -> list[tuple[int, int, int, float]]:
    """Return (quad, turn, id index, margin) of each quad that exactly one turn and id separates.

    `views` are Q x 4 x n x n cell means, `expect` K x n x n patterns. A pair separates when
    its darkest white cell is lighter than its lightest black one and `_margin_many` is positive.
    """
    q_n = len(views)
    c = views.reshape(q_n, 4, 1, -1)
    e = expect.reshape(1, 1, len(expect), -1)
    gap = np.where(e, c, np.inf).min(axis=3) - np.where(e, -np.inf, c).max(axis=3)
    qs, turns, ks = np.nonzero(gap > 0)  # rarely more than one per quad
    if not len(qs):
        return []
    margins = _margin_many(views[qs, turns], expect[ks])
    ok = margins > 0
    counts = np.bincount(qs[ok], minlength=q_n)
    return [
        (int(q), int(t), int(k), float(m))
        for q, t, k, m in zip(qs[ok], turns[ok], ks[ok], margins[ok], strict=True)
        if counts[q] == 1
    ]


def _signed_area(q: np.ndarray) -> float:
    """Return the quad's area, positive when its corners run clockwise on the photo (y down)."""
    x, y = q[:, 0].astype(np.float64), q[:, 1].astype(np.float64)
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def refined(gray: np.ndarray, quads: list[np.ndarray], scale: float = 1.0) -> list[np.ndarray]:
    """Return quads (photo px) with their corners refined on the photo to sub-pixel accuracy.

    `scale` is the size the quads were found at, as a share of the photo's.
    """
    if not quads:
        return []
    pts = np.asarray(quads, dtype=np.float32).reshape(-1, 4, 2)
    return list(_refine(gray, pts, scale))


def _refine(gray: np.ndarray, pts: np.ndarray, scale: float) -> np.ndarray:
    flat = pts.reshape(-1, 1, 2).astype(np.float32)
    side = np.linalg.norm(pts[:, 0] - pts[:, 1], axis=1).min() if len(pts) else 0
    # The window must stay inside the marker's outer black border (one cell of a 6-cell marker).
    win = int(max(2, min(side / 12.0, 2.0 / scale + 1)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.05)
    refined = cv2.cornerSubPix(gray, flat.copy(), (win, win), (-1, -1), criteria)
    # A corner that wandered off is worse than the unrefined one.
    moved = np.linalg.norm(refined - flat, axis=2).ravel()
    keep = moved <= max(1.5, 1.5 / scale)
    refined[~keep] = flat[~keep]
    return refined.reshape(-1, 4, 2)


def marker_text(dictionary: str, marker_id: int) -> str:
    """Return the text a marker is reported under: `marker:<dictionary>:<id>`."""
    return f"marker:{dictionary}:{marker_id}"
