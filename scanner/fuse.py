"""Fuse several frames of a still wall into one photo with less noise.

Photo coordinates are pixels, origin at the top-left pixel's centre, x right, y down. A camera
on a wall mount shakes by a fraction of a pixel between frames; each frame is shifted onto the
first (phase correlation, sub-pixel) before the frames are averaged, so the average stays sharp
while the sensor noise falls with the square root of the number of frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from scanner.errors import ScanError
from scanner.imageio import load_image

# A frame shifted by more than this (px) from the first, or matching it poorly, is not of the
# same still view (someone walked past, the camera moved): it is left out.
MAX_SHIFT_PX = 3.0
MIN_RESPONSE = 0.2


def fuse_frames(images: Sequence[Any]) -> tuple[np.ndarray, int]:
    """Return the average of the frames aligned to the first (BGR uint8) and how many were used.

    `images` are anything load_image accepts, all of one size; the first is the reference.
    """
    if not images:
        raise ScanError("no frames to fuse")
    frames = [load_image(i) for i in images]
    ref = frames[0]
    if any(f.shape != ref.shape for f in frames):
        raise ScanError("frames to fuse must all have the same size")
    ref_gray = _window(ref)
    total = ref.astype(np.float32)
    used = 1
    for f in frames[1:]:
        (dx, dy), response = cv2.phaseCorrelate(ref_gray, _window(f))
        if response < MIN_RESPONSE or np.hypot(dx, dy) > MAX_SHIFT_PX:
            continue
        m = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]])
        h, w = ref.shape[:2]
        total += cv2.warpAffine(
            f.astype(np.float32), m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
        )
        used += 1
    return np.clip(total / used + 0.5, 0, 255).astype(np.uint8), used


def _window(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
