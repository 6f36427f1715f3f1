"""Find the faces in a photo of the wall and blur them beyond recognition.

Pure: OpenCV, and scikit-image where OpenCV has no cascade classifier; no web framework, no
database. Every detector is one that ships inside an installed package: nothing is downloaded.

- OpenCV 4.x ships Haar cascades in ``cv2.data.haarcascades``: frontal faces, and profile faces
  looking either way (the profile cascade finds faces turned to one side; the photo is mirrored to
  find the others).
- OpenCV 5 has neither the cascade classifier nor the cascades; scikit-image's LBP cascade of
  frontal faces (``skimage.data.lbp_frontal_face_cascade_filename``) takes their place.
- Without either, ``find_faces`` raises NoFaceDetector, and ``blur_faces`` blurs the whole photo:
  a photo is never shown with its faces unblurred because no detector was there.

Boxes are ``(x, y, w, h)`` in photo pixels, origin at the top-left corner, x right, y down.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import cv2
import numpy as np

from scanner.errors import ScanError

# A face this small (in photo pixels) shows nobody: a 1080p camera framing a 2 m board sees a face
# about 150 pixels tall.
MIN_FACE = 24
# Faces are looked for in a copy this many pixels across at most, which finds a face 24 pixels
# tall in it, 36 in a 4K photo.
DETECT_SIDE = 1280
# Each box is grown by this share of its size on every side: hair, ears, chin and a detector's
# box a little off all end up inside the blur.
GROW = 0.5
# The blurred area becomes blocks of this share of its size before it is smoothed: no detail of a
# face survives, so the blur cannot be undone.
BLOCK = 1 / 8


class NoFaceDetector(ScanError):
    """Neither OpenCV's cascade classifier nor scikit-image is installed."""


@dataclass(frozen=True)
class Blurred:
    """A photo with its faces blurred: the BGR image, the face boxes found (before they were grown)
    and whether the whole photo was blurred for want of a detector."""

    image: np.ndarray
    faces: tuple[tuple[int, int, int, int], ...]
    whole: bool = False


def detector_name() -> str | None:
    """Return which detector ``find_faces`` uses here ("opencv-haar", "skimage-lbp"), or None."""
    if _haar_cascades() is not None:
        return "opencv-haar"
    if _lbp_cascade() is not None:
        return "skimage-lbp"
    return None


def find_faces(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Return the boxes of the faces in a BGR or grey photo, largest first.

    Raise NoFaceDetector when no detector is installed.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = gray
    if scale < 1.0:
        small = cv2.resize(
            gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
    small = cv2.equalizeHist(small)
    haar = _haar_cascades()
    if haar is not None:
        boxes = _find_haar(haar, small)
    else:
        lbp = _lbp_cascade()
        if lbp is None:
            raise NoFaceDetector(
                "no face detector is installed: OpenCV 4 (its Haar cascades) or scikit-image"
            )
        boxes = _find_lbp(lbp, small)
    found = [
        (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
        for x, y, w, h in boxes
    ]
    return sorted(_merged(found), key=lambda b: (-b[2] * b[3], b))


def _merged(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Return the boxes with each group that shares most of the smaller one's area made one box
    around them all: one face found by the frontal and the profile cascade is one face."""
    merged: list[tuple[int, int, int, int]] = []
    for box in sorted(set(boxes)):
        for i, other in enumerate(merged):
            if _shared(box, other) >= 0.5:
                x0, y0 = min(box[0], other[0]), min(box[1], other[1])
                x1 = max(box[0] + box[2], other[0] + other[2])
                y1 = max(box[1] + box[3], other[1] + other[3])
                merged[i] = (x0, y0, x1 - x0, y1 - y0)
                break
        else:
            merged.append(box)
    return merged


def _shared(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Return the share of the smaller box's area that lies in both boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / min(a[2] * a[3], b[2] * b[3])


def blur_faces(image: np.ndarray, *, find_in: np.ndarray | None = None) -> Blurred:
    """Return a copy of a BGR photo with every face blurred, each box grown by GROW.

    Faces are looked for in ``find_in`` (default: ``image``), a photo of the same size: the photo
    as taken when ``image`` has drawings on it. Without a face detector the whole photo is
    blurred.
    """
    if find_in is None:
        find_in = image
    if find_in.shape[:2] != image.shape[:2]:
        raise ScanError(
            f"faces looked for in a {find_in.shape[1]}x{find_in.shape[0]} photo cannot be "
            f"blurred in a {image.shape[1]}x{image.shape[0]} one"
        )
    out = image.copy()
    try:
        faces = find_faces(find_in)
    except NoFaceDetector:
        height, width = image.shape[:2]
        _blur(out, 0, 0, width, height)
        return Blurred(image=out, faces=(), whole=True)
    height, width = image.shape[:2]
    for x, y, w, h in faces:
        x0 = max(0, int(x - GROW * w))
        y0 = max(0, int(y - GROW * h))
        x1 = min(width, int(np.ceil(x + w + GROW * w)))
        y1 = min(height, int(np.ceil(y + h + GROW * h)))
        _blur(out, x0, y0, x1, y1)
    return Blurred(image=out, faces=tuple(faces))


def _blur(image: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    """Blur the area [x0, x1) x [y0, y1) of ``image`` in place: blocks, then a Gaussian blur."""
    area = image[y0:y1, x0:x1]
    h, w = area.shape[:2]
    if h == 0 or w == 0:
        return
    side = max(4, round(max(w, h) * BLOCK))
    blocks = cv2.resize(area, (max(1, w // side), max(1, h // side)), interpolation=cv2.INTER_AREA)
    blocky = cv2.resize(blocks, (w, h), interpolation=cv2.INTER_NEAREST)
    kernel = side | 1
    area[:] = cv2.GaussianBlur(blocky, (kernel, kernel), 0)


def _find_haar(cascades, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    frontal, profile = cascades
    found = [tuple(b) for b in _detect(frontal, gray)]
    found += [tuple(b) for b in _detect(profile, gray)]
    width = gray.shape[1]
    mirrored = cv2.flip(gray, 1)
    found += [(width - x - w, y, w, h) for x, y, w, h in _detect(profile, mirrored)]
    return [tuple(int(v) for v in box) for box in found]


def _detect(cascade, gray: np.ndarray):
    boxes = cascade.detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=4, minSize=(MIN_FACE, MIN_FACE)
    )
    return [] if len(boxes) == 0 else boxes


def _find_lbp(cascade, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    height, width = gray.shape
    found = cascade.detect_multi_scale(
        img=gray,
        scale_factor=1.15,
        step_ratio=1.2,
        min_size=(MIN_FACE, MIN_FACE),
        max_size=(min(height, width), min(height, width)),
    )
    return [(int(d["c"]), int(d["r"]), int(d["width"]), int(d["height"])) for d in found]


@functools.cache
def _haar_cascades():
    """Return OpenCV's frontal and profile face cascades, or None where OpenCV has none (5.x)."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not hasattr(cv2, "CascadeClassifier") or not folder:
        return None
    paths = [
        os.path.join(folder, name)
        for name in ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
    ]
    if not all(os.path.isfile(p) for p in paths):
        return None
    cascades = tuple(cv2.CascadeClassifier(p) for p in paths)
    if any(c.empty() for c in cascades):
        return None
    return cascades


@functools.cache
def _lbp_cascade():
    """Return scikit-image's LBP cascade of frontal faces, or None without scikit-image."""
    try:
        from skimage.data import lbp_frontal_face_cascade_filename
        from skimage.feature import Cascade
    except ImportError:
        return None
    return Cascade(lbp_frontal_face_cascade_filename())
