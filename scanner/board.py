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

from scanner.manifest import CORNER_NAMES

_UNIT = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])


@dataclass(frozen=True)
class BoardFrame:
    """Convert between photo pixels and board coordinates (see the module docstring)."""

    to_board: np.ndarray
    to_photo: np.ndarray
    aspect: float
    quad: np.ndarray  # corner-marker centres tl, tr, br, bl in photo px

    def board(self, pts: Iterable[Sequence[float]] | np.ndarray) -> np.ndarray:
        """Return photo points (N x 2 px) as board points (N x 2)."""
        return _apply(self.to_board, pts)

    def photo(self, pts: Iterable[Sequence[float]] | np.ndarray) -> np.ndarray:
        """Return board points (N x 2) as photo points (N x 2 px)."""
        return _apply(self.to_photo, pts)


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
    """Return the board corners (tl, tr, br, bl; photo px), rebuilding hidden ones from the cards.

    Lines that are parallel on the wall meet, in the photo, in a vanishing point: one for the
    board's x direction (its top and bottom edges, the row of header cards across the top, the
    top and bottom edges of every upright card's marker) and one for its y direction. A hidden
    corner lies where the edges through its seen neighbours, aimed at those points, cross. With
    only two neighbouring corners seen, the board's far edge is unknown; the outline then runs
    to just beyond the farthest marker seen, which is all the scan needs. `header_groups` are
    the centres of the room cards and of the slot cards, `upright` the corners of the markers on
    cards taped upright (corner and header cards), `extent` every marker's corners. Returns
    (None, reason) when the corners seen do not fix the board.
    """
    seen = [n for n in CORNER_NAMES if n in corners]
    if len(seen) == 4:
        return np.array([corners[n] for n in CORNER_NAMES], dtype=np.float64), None
    if len(seen) < 2:
        names = ", ".join(seen) or "none"
        return None, (
            f"only {len(seen)} corner marker{'s' if len(seen) != 1 else ''} found (seen: {names}); "
            "need two"
        )
    vx, vy = _vanishing_points(corners, header_groups, upright)
    if vx is None or vy is None:
        return None, "corner markers missing and too few header cards to rebuild them"
    p = {n: _h(corners[n]) for n in seen}
    # Each corner's two edges: toward the x vanishing point and toward the y one.
    for _ in range(2):
        for n in CORNER_NAMES:
            if n in p:
                continue
            across = {"tl": "tr", "tr": "tl", "br": "bl", "bl": "br"}[n]  # shares the x edge
            down = {"tl": "bl", "bl": "tl", "tr": "br", "br": "tr"}[n]  # shares the y edge
            if across in p and down in p:
                q = np.cross(np.cross(p[across], vx), np.cross(p[down], vy))
                if abs(q[2]) > 1e-12:
                    p[n] = q / q[2]
    if len(p) == 4:
        return np.array([p[n][:2] for n in CORNER_NAMES], dtype=np.float64), None
    # Two neighbouring corners: build an affine-correct frame on the seen edge, then close the
    # outline beyond the farthest marker.
    a_name, b_name = [n for n in CORNER_NAMES if n in p]
    pair = {a_name, b_name}
    if pair in ({"tl", "tr"}, {"bl", "br"}):
        o = p["tl"] if "tl" in p else p["bl"]
        e = p["tr"] if "tr" in p else p["br"]
        v_along, v_other = vx, vy
    else:
        o = p["tl"] if "tl" in p else p["tr"]
        e = p["bl"] if "bl" in p else p["br"]
        v_along, v_other = vy, vx
    # e ~ a * v_along + o: solve for a in the least-squares sense.
    m = np.column_stack([v_along, o])
    coef, *_ = np.linalg.lstsq(m, e, rcond=None)
    a, c = coef
    if abs(c) < 1e-12:
        return None, "the seen board edge points at its own vanishing point"
    a /= c
    h_inv = np.column_stack([a * v_along, a * v_other, o])
    h = np.linalg.inv(h_inv)
    pts = np.vstack([np.asarray(q, dtype=np.float64).reshape(-1, 2) for q in extent])
    ref = _apply(h, np.array([e[:2] / e[2]]))[0]
    # The outline closes a little beyond the marker farthest from the seen edge.
    local_y = _apply(h, pts)[:, 1]
    far = float(local_y[np.argmax(np.abs(local_y))]) * 1.05
    if abs(far) < 1e-9:
        return None, "no marker beyond the seen board edge"
    corners_local = np.array([[0, 0], [ref[0], 0], [ref[0], far], [0, far]])
    q = _apply(h_inv, corners_local)
    # corners_local runs o, e, e + far, o + far; put them in tl, tr, br, bl order.
    o_name = a_name if np.allclose(p[a_name], o) else b_name
    e_name = b_name if o_name == a_name else a_name
    named = {o_name: q[0], e_name: q[1]}
    opposite = {"tl": "br", "tr": "bl", "br": "tl", "bl": "tr"}
    # The far corner of e is the one opposite o, and the far corner of o is opposite e.
    named[opposite[o_name]] = q[2]
    named[opposite[e_name]] = q[3]
    return np.array([named[n] for n in CORNER_NAMES], dtype=np.float64), None


def _h(p: Sequence[float]) -> np.ndarray:
    return np.array([p[0], p[1], 1.0])


def _vanishing_points(corners, header_groups, upright):
    """Return the vanishing points (homogeneous, photo px) of the board's x and y directions."""
    pts = [np.asarray(v, dtype=np.float64) for v in corners.values()]
    pts += [np.asarray(q, dtype=np.float64).reshape(-1, 2) for q in upright]
    allp = np.vstack([np.asarray(p).reshape(-1, 2) for p in pts]) if pts else np.zeros((1, 2))
    c = allp.mean(axis=0)
    s = max(float(np.ptp(allp, axis=0).max()), 1.0) / 2
    t = np.array([[1 / s, 0, -c[0] / s], [0, 1 / s, -c[1] / s], [0, 0, 1]])

    def seg(p1, p2, weight):
        a, b = t @ _h(p1), t @ _h(p2)
        ln = np.cross(a, b)
        n = np.hypot(ln[0], ln[1])
        if n < 1e-12:
            return None
        length = float(np.linalg.norm(a[:2] - b[:2]))
        return ln / n, weight * length**2

    fam: dict[str, list] = {"x": [], "y": []}
    for a_, b_, f in (("tl", "tr", "x"), ("bl", "br", "x"), ("tl", "bl", "y"), ("tr", "br", "y")):
        if a_ in corners and b_ in corners:
            fam[f].append(seg(corners[a_], corners[b_], 4.0))
    x_dir = []
    for q in upright:
        q = np.asarray(q, dtype=np.float64)
        fam["x"] += [seg(q[0], q[1], 1.0), seg(q[3], q[2], 1.0)]
        fam["y"] += [seg(q[0], q[3], 1.0), seg(q[1], q[2], 1.0)]
        x_dir.append((q[1] - q[0]) + (q[2] - q[3]))
    xd = np.sum(x_dir, axis=0) if x_dir else None
    for g in header_groups:
        g = np.asarray(g, dtype=np.float64).reshape(-1, 2)
        if len(g) < 2:
            continue
        ln = _fit_line(g)
        d = np.array([ln[1], -ln[0]])
        if xd is None:
            continue
        cos = abs(d @ xd) / (np.linalg.norm(xd) + 1e-12)
        spread = float(np.ptp(g @ d))
        end0, end1 = g.mean(axis=0) - d * spread / 2, g.mean(axis=0) + d * spread / 2
        fam["x" if cos > 0.7 else "y"].append(seg(end0, end1, 4.0))
    out = []
    for f in ("x", "y"):
        items = [it for it in fam[f] if it is not None]
        if len(items) < 2:
            out.append(None)
            continue
        m = sum(w * np.outer(ln, ln) for ln, w in items)
        _, vecs = np.linalg.eigh(m)
        v = np.linalg.solve(t, vecs[:, 0])
        out.append(v)
    return out[0], out[1]


def _fit_line(pts: np.ndarray) -> np.ndarray:
    """Return the least-squares line a*x + b*y + c = 0 through photo points (a, b unit length)."""
    p = np.asarray(pts, dtype=np.float64)
    c = p.mean(axis=0)
    _, _, vt = np.linalg.svd(p - c)
    d = vt[0]
    n = np.array([-d[1], d[0]])
    return np.array([n[0], n[1], -n @ c])


def frame_from_quad(quad: np.ndarray, squares: Sequence[np.ndarray]) -> BoardFrame | None:
    """Build the board frame from the corner quad (photo px) and marker outlines on the wall.

    The width/height ratio of the board comes from the marker outlines: every marker is a square
    on the wall, so the ratio is the one that makes them square again.
    """
    if not _convex(quad) or cv2.contourArea(quad.astype(np.float32)) < 100.0:
        return None
    h_unit = _four_point(quad, _UNIT)
    ratios = []
    for sq in squares:
        r = _square_ratio(_apply(h_unit, sq))
        if r is not None:
            ratios.append(r)
    aspect = float(np.median(ratios)) if ratios else _quad_aspect(quad)
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


def _square_ratio(q: np.ndarray) -> float | None:
    """Return the y stretch that makes the quadrilateral q (unit-square coordinates) a square."""
    num = 0.0
    den = 0.0
    for i in range(4):
        e1 = q[(i + 1) % 4] - q[i]
        e2 = q[(i + 3) % 4] - q[i]
        p1, q1 = e1
        p2, q2 = e2
        # Perpendicular sides: p1*p2 + b*q1*q2 = 0; equal sides: p1^2 - p2^2 + b*(q1^2 - q2^2) = 0.
        for a, c in ((q1 * q2, p1 * p2), (q1 * q1 - q2 * q2, p1 * p1 - p2 * p2)):
            num -= a * c
            den += a * a
    if den <= 0:
        return None
    b = num / den
    if b <= 0:
        return None
    return float(np.sqrt(b))


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
