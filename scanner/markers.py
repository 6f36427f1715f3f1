"""Detect ArUco markers; the only module that uses cv2.aruco.

Coordinates are photo pixels, origin top-left, x right, y down, at pixel centres. Marker corners
are in the marker's own order: top-left, top-right, bottom-right, bottom-left of the symbol.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

# Marker detection cost grows with pixels; on a 12 MP photo the markers stay large enough when
# detected at this long side, and the corners are then refined at full resolution.
DETECT_LONG_SIDE = 2304


@dataclass(frozen=True)
class Marker:
    """Describe one decoded marker: its id and corners (4x2 float photo px)."""

    id: int
    corners: np.ndarray

    @property
    def centre(self) -> tuple[float, float]:
        c = self.corners.mean(axis=0)
        return float(c[0]), float(c[1])

    @property
    def side(self) -> float:
        d = np.diff(np.vstack([self.corners, self.corners[:1]]), axis=0)
        return float(np.hypot(d[:, 0], d[:, 1]).mean())


@cache
def _detector(dictionary: str) -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    # Two threshold windows read every marker of a wall photo in our benchmarks at 2/3 of the
    # default three's cost; the perimeter floor admits 25 mm markers on a 1080p frame of a 2 m board.
    params.adaptiveThreshWinSizeMin = 7
    params.adaptiveThreshWinSizeMax = 17
    params.adaptiveThreshWinSizeStep = 10
    params.minMarkerPerimeterRate = 0.02
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE
    d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary))
    return cv2.aruco.ArucoDetector(d, params)


def detect(
    gray: np.ndarray, *, dictionary: str, long_side: int = DETECT_LONG_SIDE
) -> tuple[list[Marker], list[np.ndarray]]:
    """Return the markers decoded in a grey photo and the marker-like quads that did not decode.

    Large photos are searched at a reduced size and the corners are then refined on the full
    resolution image.
    """
    h, w = gray.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    small = gray
    if scale < 1.0:
        small = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    corners, ids, rejected = _detector(dictionary).detectMarkers(small)
    markers: list[Marker] = []
    if ids is not None:
        pts = np.asarray(corners, dtype=np.float32).reshape(-1, 4, 2)
        if scale < 1.0:
            pts = (pts + 0.5) / scale - 0.5
        pts = _refine(gray, pts, scale)
        markers = [Marker(id=int(i), corners=p) for i, p in zip(ids.ravel(), pts, strict=True)]
    rej = [np.asarray(r, dtype=np.float32).reshape(4, 2) for r in rejected]
    if scale < 1.0:
        rej = [(r + 0.5) / scale - 0.5 for r in rej]
    return markers, rej


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
