"""Faces in a photo are found and blurred beyond recognition, with a detector an installed package
ships."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from scanner.faces import NoFaceDetector, blur_faces, detector_name, find_faces

skimage_data = pytest.importorskip("skimage.data")


def astronaut() -> np.ndarray:
    """Return scikit-image's photograph of Eileen Collins (512 x 512) as BGR."""
    return cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)


def overlaps(box, area) -> bool:
    x, y, w, h = box
    ax, ay, aw, ah = area
    return x < ax + aw and ax < x + w and y < ay + ah and ay < y + h


# Her face in the photograph: x, y, width, height in pixels.
FACE = (180, 70, 90, 90)


def test_faces_detector_ships_with_opencv_or_scikit_image():
    expected = "opencv-haar" if hasattr(cv2, "CascadeClassifier") else "skimage-lbp"
    assert detector_name() == expected


def test_faces_astronaut_is_found():
    faces = find_faces(astronaut())
    assert [box for box in faces if overlaps(box, FACE)] == [faces[0]]


def test_faces_blurred_face_is_not_found_again_and_far_pixels_are_unchanged():
    photo = astronaut()
    blurred = blur_faces(photo)
    assert blurred.whole is False
    assert [box for box in find_faces(blurred.image) if overlaps(box, FACE)] == []
    x, y, w, h = FACE
    face_change = np.abs(
        blurred.image[y : y + h, x : x + w].astype(int) - photo[y : y + h, x : x + w]
    )
    assert face_change.mean() > 10
    # Her glove, lower left, is far from every face found.
    assert np.array_equal(blurred.image[300:360, 20:80], photo[300:360, 20:80])


def test_faces_blur_grows_each_box_by_half_its_size():
    photo = astronaut()
    blurred = blur_faces(photo)
    x, y, w, h = blurred.faces[0]
    changed = np.any(blurred.image != photo, axis=2)
    rows, cols = np.nonzero(changed[max(0, y - h) : y + 2 * h, max(0, x - w) : x + 2 * w])
    top, left = max(0, y - h), max(0, x - w)
    assert (top + rows.min(), left + cols.min()) <= (y - h // 2 + 1, x - w // 2 + 1)
    assert (top + rows.max(), left + cols.max()) >= (y + h + h // 2 - 2, x + w + w // 2 - 2)


def test_faces_boxes_sharing_most_of_one_are_one_face():
    from scanner.faces import _merged

    boxes = [(100, 100, 50, 50), (110, 105, 50, 50), (400, 400, 30, 30)]
    assert sorted(_merged(boxes)) == [(100, 100, 60, 55), (400, 400, 30, 30)]


def test_faces_without_a_detector_the_whole_photo_is_blurred(monkeypatch):
    import scanner.faces

    monkeypatch.setattr(scanner.faces, "_haar_cascades", lambda: None)
    monkeypatch.setattr(scanner.faces, "_lbp_cascade", lambda: None)
    photo = astronaut()
    blurred = blur_faces(photo)
    assert (blurred.whole, blurred.faces, detector_name()) == (True, (), None)
    assert (
        find_faces_or_none(photo)
        == "no face detector is installed: OpenCV 4 (its Haar cascades) or scikit-image"
    )
    # Blocks of 64 pixels, smoothed: hardly a pixel of her face is left as it was.
    x, y, w, h = FACE
    assert (
        np.count_nonzero(
            np.all(blurred.image[y : y + h, x : x + w] == photo[y : y + h, x : x + w], axis=2)
        )
        < 0.02 * w * h
    )


def find_faces_or_none(photo):
    try:
        find_faces(photo)
    except NoFaceDetector as exc:
        return str(exc)
    return None
