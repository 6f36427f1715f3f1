"""Undo a wide-angle lens's barrel or pincushion distortion, estimated from the header cards.

One-parameter division model about the photo's centre: an undistorted point is
p_u = c + (p - c) / (1 + k * r^2), r = |p - c| / r0, with c the photo's centre and r0 half its
diagonal; all points are photo pixels (origin top-left). Rows of header cards are straight on the
wall, so k is the value that makes them straight in the photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A distortion is only modelled when it straightens the header rows this much better than none;
# below that the bend is within the cards' own placement error.
MIN_GAIN = 4.0
K_RANGE = (-0.45, 0.45)


@dataclass(frozen=True)
class Lens:
    """Map between distorted photo pixels and undistorted ones (see the module docstring)."""

    k: float = 0.0
    cx: float = 0.0
    cy: float = 0.0
    r0: float = 1.0

    @property
    def identity(self) -> bool:
        return self.k == 0.0

    def undistort(self, pts) -> np.ndarray:
        """Return photo points (N x 2 px) with the distortion removed."""
        p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        if self.identity:
            return p.copy()
        d = p - (self.cx, self.cy)
        r2 = (d**2).sum(axis=1, keepdims=True) / self.r0**2
        return (self.cx, self.cy) + d / (1.0 + self.k * r2)

    def distort(self, pts) -> np.ndarray:
        """Return undistorted points (N x 2 px) as they appear in the photo."""
        p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        if self.identity:
            return p.copy()
        d = p - (self.cx, self.cy)
        ru = np.hypot(d[:, 0], d[:, 1]) / self.r0
        # Solve ru = rd / (1 + k rd^2) for the root nearest ru.
        disc = np.clip(1.0 - 4.0 * self.k * ru**2, 0.0, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            rd = np.where(
                np.abs(self.k * ru) > 1e-12, (1.0 - np.sqrt(disc)) / (2.0 * self.k * ru), ru
            )
            scale = np.where(ru > 1e-12, rd / ru, 1.0)
        return (self.cx, self.cy) + d * scale[:, None]


def estimate_lens(
    rows: Sequence[np.ndarray], *, width: int, height: int, noise: float = 0.0
) -> tuple[Lens, float]:
    """Return the lens that makes each group of points (one header row each) most nearly straight.

    `rows` are groups of photo points that lie on straight lines on the wall; `noise` is how far
    (px, RMS) a point may sit off its line by placement alone. A bend within that noise is not
    corrected: with few cards, k would only fit their placement. Returns the lens (identity when
    no distortion is evident) and its k.
    """
    groups = [np.asarray(g, dtype=np.float64).reshape(-1, 2) for g in rows]
    groups = [g for g in groups if len(g) >= 4]
    base = Lens(0.0, (width - 1) / 2, (height - 1) / 2, float(np.hypot(width, height) / 2))
    if not groups:
        return base, 0.0

    def misfit(k: float) -> float:
        lens = Lens(k, base.cx, base.cy, base.r0)
        total = 0.0
        for g in groups:
            u = lens.undistort(g)
            c = u.mean(axis=0)
            # The smallest singular value: the spread of the points across their best line.
            s = np.linalg.svd(u - c, compute_uv=False)
            total += float(s[-1] ** 2)
        return total

    n_points = sum(len(g) for g in groups)
    if np.sqrt(misfit(0.0) / n_points) <= noise:
        return base, 0.0
    lo, hi = K_RANGE
    ks = np.linspace(lo, hi, 19)
    vals = [misfit(k) for k in ks]
    i = int(np.argmin(vals))
    a, b = ks[max(i - 1, 0)], ks[min(i + 1, len(ks) - 1)]
    # Golden-section search in the bracket around the best sample.
    g = (np.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = misfit(c), misfit(d)
    for _ in range(30):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = misfit(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = misfit(d)
    k = (a + b) / 2
    if misfit(k) * MIN_GAIN > misfit(0.0) or abs(k) < 0.01:
        return base, 0.0
    return Lens(float(k), base.cx, base.cy, base.r0), float(k)
