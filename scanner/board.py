"""Map the photo onto the board plane.

Board coordinates: origin at the centre of the top-left corner marker, x toward the top-right
corner marker, y toward the bottom-left one, in units of the board's width (the distance between
the two top corner-marker centres). So the corner markers sit at (0, 0), (1, 0), (1, a), (0, a)
where a is the board's height/width ratio, and a distance means the same length along x and y.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from scanner.lens import Lens
from scanner.manifest import CORNER_NAMES

_UNIT = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])


@dataclass(frozen=True)
class BoardFrame:
    """Convert between photo pixels and board coordinates (see the module docstring).

    `to_board` and `to_photo` are homographies between board coordinates and undistorted photo
    pixels; `lens` maps those to the photo's own pixels. `quad` holds the corner-marker centres
    tl, tr, br, bl in undistorted photo pixels.
    """

    to_board: np.ndarray
    to_photo: np.ndarray
    aspect: float
    quad: np.ndarray
    lens: Lens = Lens()

    def board(self, pts: Iterable[Sequence[float]] | np.ndarray) -> np.ndarray:
        """Return photo points (N x 2 px) as board points (N x 2)."""
        return _apply(self.to_board, self.lens.undistort(pts))

    def photo(self, pts: Iterable[Sequence[float]] | np.ndarray) -> np.ndarray:
        """Return board points (N x 2) as photo points (N x 2 px)."""
        return self.lens.distort(_apply(self.to_photo, pts))

    def photo_quad(self) -> np.ndarray:
        """Return the board outline (tl, tr, br, bl) in photo pixels."""
        return self.lens.distort(self.quad)

    def warp(self, image: np.ndarray, to_out: np.ndarray, size: tuple[int, int], *, flags: int):
        """Return the board region `to_out` (board -> output px, 3x3) maps onto `size` (w, h)."""
        w, h = size
        if self.lens.identity:
            return cv2.warpPerspective(image, to_out @ self.to_board, (w, h), flags=flags)
        # The lens bends straight lines: sample the mapping on a coarse grid, interpolate it
        # bilinearly to every output pixel, and remap.
        step = 8
        gw, gh = -(-(w - 1) // step) + 1, -(-(h - 1) // step) + 1
        gx, gy = np.meshgrid(np.arange(gw) * step, np.arange(gh) * step)
        out_pts = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float64)
        src = self.photo(_apply(np.linalg.inv(to_out), out_pts))
        ax, ay = _interp_matrix(w, gw, step), _interp_matrix(h, gh, step)
        map_x = (ay @ src[:, 0].reshape(gh, gw) @ ax.T).astype(np.float32)
        map_y = (ay @ src[:, 1].reshape(gh, gw) @ ax.T).astype(np.float32)
        return cv2.remap(image, map_x, map_y, flags)


def _interp_matrix(n: int, g: int, step: int) -> np.ndarray:
    """Return the n x g matrix that interpolates g samples, `step` apart, onto n positions."""
    t = np.arange(n) / step
    j0 = np.minimum(np.floor(t).astype(int), g - 2) if g > 1 else np.zeros(n, int)
    frac = t - j0
    a = np.zeros((n, g))
    a[np.arange(n), j0] = 1.0 - frac
    if g > 1:
        a[np.arange(n), j0 + 1] = frac
    return a


def _apply(h: np.ndarray, pts) -> np.ndarray:
    p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    if not len(p):
        return p
    q = np.hstack([p, np.ones((len(p), 1))]) @ h.T
    return q[:, :2] / q[:, 2:3]


def complete_quad(
    corners: dict[str, tuple[float, float]],
    header_groups: Sequence[np.ndarray],
    upright: Sequence[np.ndarray] = (),
    extent: Sequence[np.ndarray] = (),
) -> tuple[np.ndarray | None, str | None]:
    """Return the board corners (tl, tr, br, bl; photo px), rebuilding hidden ones.

    Every marker on the wall is a square, however it is turned, so the marker outlines (`extent`:
    all known markers' corners) fix the view of the wall plane up to a rotation, a scale and a
    shift (a metric rectification). The board's axes then come from the seen corners, or from the
    cards taped upright (`upright`: corner and header markers) and the rows of header cards
    (`header_groups`: room card centres and slot card centres); the board is a rectangle in the
    rectified plane. With two corners of one edge seen, the far edge is unknown and the outline
    runs to just beyond the farthest marker, which is all a scan needs; with fewer corners still,
    the header cards alone set the axes and the outline is the markers' extent (board coordinates
    then keep their orientation and evenness, only their unit is no longer the board's width).
    Returns (None, reason) when neither two corners nor two cards of each kind are seen, or the
    markers do not fix the view.
    """
    seen = [n for n in CORNER_NAMES if n in corners]
    if len(seen) == 4:
        return np.array([corners[n] for n in CORNER_NAMES], dtype=np.float64), None
    cards = [np.asarray(g).reshape(-1, 2) for g in header_groups]
    if len(seen) < 2 and not (len(upright) >= 4 and all(len(g) >= 2 for g in cards)):
        names = ", ".join(seen) or "none"
        return None, (
            f"only {len(seen)} corner marker{'s' if len(seen) != 1 else ''} found (seen: {names}); "
            "need two, or two room and two slot cards"
        )
    squares = [np.asarray(q, dtype=np.float64).reshape(4, 2) for q in extent]
    if len(squares) < 4:
        return None, "corner markers missing and too few markers to rebuild them"
    m = _wall_plane(corners, squares)
    if m is None:
        return None, "corner markers missing and the markers do not agree on the wall's plane"
    r = {n: _apply(m, [corners[n]])[0] for n in seen}
    axis = _axis_from_corners(r)
    if axis is None:
        axis = _axis_from_cards(m, upright, header_groups)
    if axis is None:
        return None, "corner markers missing and nothing shows the board's axes"
    ang = float(np.arctan2(axis[1], axis[0]))
    cs, sn = np.cos(-ang), np.sin(-ang)
    rot = np.array([[cs, -sn, 0], [sn, cs, 0], [0, 0, 1]])
    return _outline(rot @ m, corners, seen, squares)


def _wall_plane(corners, squares: list[np.ndarray]) -> np.ndarray | None:
    """Return the homography that makes every marker square (the wall plane up to a similarity),
    or None when the markers do not agree on it."""
    allp = np.vstack(squares + [np.array(list(corners.values()), dtype=np.float64).reshape(-1, 2)])
    c = allp.mean(axis=0)
    s = max(float(np.ptp(allp, axis=0).max()), 1.0) / 2
    norm = np.array([[1 / s, 0, -c[0] / s], [0, 1 / s, -c[1] / s], [0, 0, 1]])
    rect, spread = _rectify([_apply(norm, q) for q in squares])
    if rect is None or spread > 0.08:
        return None
    return rect @ norm


def _axis_from_corners(r: dict[str, np.ndarray]) -> np.ndarray | None:
    """Return the board's x axis in the rectified plane from two seen corners of one edge."""
    axis = None
    for a_, b_ in (("tl", "tr"), ("bl", "br")):
        if a_ in r and b_ in r:
            axis = r[b_] - r[a_]
    for a_, b_ in (("tl", "bl"), ("tr", "br")):
        if axis is None and a_ in r and b_ in r:
            d = r[b_] - r[a_]
            axis = np.array([d[1], -d[0]])
    return axis


def _axis_from_cards(m: np.ndarray, upright, header_groups) -> np.ndarray | None:
    """Return the board's x axis from the cards taped upright and the rows of header cards."""
    tops = [_apply(m, q[1:2])[0] - _apply(m, q[0:1])[0] for q in upright]
    tops += [_apply(m, q[2:3])[0] - _apply(m, q[3:4])[0] for q in upright]
    for g in header_groups:
        g = np.asarray(g, dtype=np.float64).reshape(-1, 2)
        if len(g) < 2:
            continue
        gr = _apply(m, g)
        d = gr[-1] - gr[0]
        if tops and abs(d @ np.mean(tops, axis=0)) < 0.7 * np.linalg.norm(d) * np.linalg.norm(
            np.mean(tops, axis=0)
        ):
            d = np.array([d[1], -d[0]])  # a column of cards: turn it to the x axis
        tops.append(d / max(np.linalg.norm(d), 1e-12) * np.linalg.norm(tops[0]) if tops else d)
    if not tops:
        return None
    return np.mean([t / max(np.linalg.norm(t), 1e-12) for t in tops], axis=0)


def _outline(
    full: np.ndarray, corners, seen: list[str], squares: list[np.ndarray]
) -> tuple[np.ndarray | None, str | None]:
    """Return the board's outline in the photo: a rectangle in the board's own axes (``full``)
    through the seen corners, reaching just past the farthest marker where corners are missing."""
    r = {n: _apply(full, [corners[n]])[0] for n in seen}
    marks = _apply(full, np.vstack(squares))
    lo, hi = marks.min(axis=0), marks.max(axis=0)
    pad = 0.03 * (hi - lo)

    def side(names, k, far):
        vals = [r[n][k] for n in names if n in r]
        return float(np.mean(vals)) if vals else far

    left = side(("tl", "bl"), 0, lo[0] - pad[0])
    right = side(("tr", "br"), 0, hi[0] + pad[0])
    top = side(("tl", "tr"), 1, lo[1] - pad[1])
    bottom = side(("bl", "br"), 1, hi[1] + pad[1])
    if right <= left or bottom <= top:
        return None, "the corner markers seen do not form a board"
    box = np.array([[left, top], [right, top], [right, bottom], [left, bottom]])
    quad = _apply(np.linalg.inv(full), box)
    for n in seen:  # seen corners stay where they were seen
        quad[CORNER_NAMES.index(n)] = corners[n]
    return quad, None


def _rectify(squares: Sequence[np.ndarray]) -> tuple[np.ndarray | None, float]:
    """Return a homography that makes the quadrilaterals square, and their median misfit.

    The homography is affine-times-projective, [[a, b, 0], [0, 1, 0], [0, 0, 1]] @
    [[1, 0, 0], [0, 1, 0], [l1, l2, 1]] = [[a, b, 0], [0, 1, 0], [l1, l2, 1]]: a rectification
    up to a similarity, which is all that squares can tell. Solved by Gauss-Newton with robust
    weights, from a frontal view; the residuals of a step's nine parameter sets (the point and
    its central differences) are worked out in one pass.
    """
    flat = np.stack(squares).reshape(-1, 2)  # 4N x 2
    p = np.array([1.0, 0.0, 0.0, 0.0])
    weights = np.ones(len(flat) // 2)
    shifts = np.vstack([np.zeros(4), 1e-6 * np.eye(4), -1e-6 * np.eye(4)])
    for it in range(30):
        r, plus, minus = np.split(_square_misfits(flat, p + shifts), [1, 5])
        r = r[0]
        if it in (5, 10, 15):
            per = np.hypot(r[0::2], r[1::2])
            scale = max(2.5 * float(np.median(per)), 1e-3)
            weights = np.repeat(1.0 / (1.0 + (per / scale) ** 2), 2)
        jac = ((plus - minus) / 2e-6).T
        jw = jac * weights[:, None]
        step = np.linalg.lstsq(jw.T @ jac + 1e-9 * np.eye(4), -jw.T @ r, rcond=None)[0]
        p = p + step
        if np.abs(step).max() < 1e-10:
            break
    if not np.all(np.isfinite(p)) or p[0] <= 0:
        return None, float("inf")
    r = _square_misfits(flat, p[None])[0]
    a, b, l1, l2 = p
    return np.array([[a, b, 0.0], [0.0, 1.0, 0.0], [l1, l2, 1.0]]), float(
        np.median(np.hypot(r[0::2], r[1::2]))
    )


def _square_misfits(flat: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Return, for each parameter set (M x 4: a, b, l1, l2), how far each mapped quadrilateral
    (`flat`: 4N x 2 corners) is from a square: M x 2N, relative to its size."""
    a, b, l1, l2 = (params[:, k : k + 1] for k in range(4))
    x, y = flat[:, 0], flat[:, 1]
    w = l1 * x + l2 * y + 1.0
    t = np.stack([(a * x + b * y) / w, y / w], axis=2).reshape(len(params), -1, 4, 2)
    e1 = ((t[:, :, 1] - t[:, :, 0]) + (t[:, :, 2] - t[:, :, 3])) / 2
    e2 = ((t[:, :, 3] - t[:, :, 0]) + (t[:, :, 2] - t[:, :, 1])) / 2
    # A square's down edge is its right edge turned by 90 degrees (y down).
    turned = np.stack([-e1[..., 1], e1[..., 0]], axis=2)
    size = (np.linalg.norm(e1, axis=2) + np.linalg.norm(e2, axis=2))[..., None] / 2
    return ((e2 - turned) / np.maximum(size, 1e-12)).reshape(len(params), -1)


def frame_from_quad(quad: np.ndarray, squares: Sequence[np.ndarray]) -> BoardFrame | None:
    """Build the board frame from the corner quad (photo px) and marker outlines on the wall.

    The width/height ratio of the board comes from the marker outlines: every marker is a square
    on the wall, so the ratio is the one that makes them square again.
    """
    if not _convex(quad) or cv2.contourArea(quad.astype(np.float32)) < 100.0:
        return None
    h_unit = _four_point(quad, _UNIT)
    ratios = []
    if len(squares):
        # Every outline in one mapping and one pass: the cost is per call, not per square.
        unit = _apply(h_unit, np.concatenate([np.asarray(q).reshape(4, 2) for q in squares]))
        ratios = _square_ratios(unit.reshape(-1, 4, 2))
    aspect = float(np.median(ratios)) if len(ratios) else _quad_aspect(quad)
    scale = np.diag([1.0, aspect, 1.0])
    to_board = scale @ h_unit
    return BoardFrame(to_board=to_board, to_photo=np.linalg.inv(to_board), aspect=aspect, quad=quad)


def _four_point(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Return the homography taking four points onto four others, solved in float64."""
    a = np.zeros((8, 8))
    b = np.zeros(8)
    for i, ((x, y), (u, v)) in enumerate(zip(src, dst, strict=True)):
        a[2 * i] = (x, y, 1, 0, 0, 0, -u * x, -u * y)
        a[2 * i + 1] = (0, 0, 0, x, y, 1, -v * x, -v * y)
        b[2 * i], b[2 * i + 1] = u, v
    h = np.linalg.solve(a, b)
    return np.append(h, 1.0).reshape(3, 3)


def _square_ratios(quads: np.ndarray) -> np.ndarray:
    """Return the y stretch that makes each quadrilateral (K x 4 x 2, unit-square coordinates)
    a square; quads that no stretch makes one are left out."""
    e1 = np.roll(quads, -1, axis=1) - quads  # to the next corner
    e2 = np.roll(quads, 1, axis=1) - quads  # to the previous corner
    p1, q1, p2, q2 = e1[..., 0], e1[..., 1], e2[..., 0], e2[..., 1]
    # Perpendicular sides: p1*p2 + b*q1*q2 = 0; equal sides: p1^2 - p2^2 + b*(q1^2 - q2^2) = 0.
    a1, c1 = q1 * q2, p1 * p2
    a2, c2 = q1 * q1 - q2 * q2, p1 * p1 - p2 * p2
    num = -(a1 * c1 + a2 * c2).sum(axis=1)
    den = (a1 * a1 + a2 * a2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(den > 0, num / np.where(den > 0, den, 1.0), -1.0)
    return np.sqrt(b[b > 0])


def _quad_aspect(quad: np.ndarray) -> float:
    top = np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])
    side = np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])
    return float(side / top) if top > 0 else 1.0


def _convex(quad: np.ndarray) -> bool:
    signs = []
    for i in range(4):
        a, b, c = quad[i], quad[(i + 1) % 4], quad[(i + 2) % 4]
        u, v = b - a, c - b
        signs.append(u[0] * v[1] - u[1] * v[0])
    return all(s > 0 for s in signs) or all(s < 0 for s in signs)
