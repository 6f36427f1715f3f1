"""Fixtures for the scanner tests."""

import pytest
from scanner_shots import CLOSE, CLOSE_CAMERA, shot_of


@pytest.fixture
def small_shot():
    return shot_of()


@pytest.fixture
def close_shot():
    """Return a photo close enough for the stickies' QR codes to read (about 3 px per module)."""
    return shot_of(CLOSE, CLOSE_CAMERA, seed=2)


@pytest.fixture
def close_up():
    """Return a function that photographs one printed sticky from close, without a board.

    It returns (photo, manifest, flat): the BGR photo, a manifest that issues the sticky, and the
    sticky's flat rendering at 8 px/mm; the photo shows it at about 5 px/mm.
    """
    import cv2
    import numpy as np

    from printables import StickySpec, get_template, sticky_image

    def make(template="note-76", *, tilt=0.15, turn_deg=12.0, blur=0.0, shift=(0.0, 0.0)):
        t = get_template(template)
        spec = StickySpec(
            code="7KQ2XM", qr_text="http://localhost:5000/s/7KQ2XM", marker_id=12, kind="session"
        )
        rgb = np.asarray(sticky_image(spec, template=template, dpi=8 * 25.4))
        flat = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        # Yellow paper: white takes the paper's colour, ink stays dark.
        flat = (flat.astype(np.float32) * (np.array([130, 235, 255], np.float32) / 255)).astype(
            np.uint8
        )
        h, w = flat.shape[:2]
        photo_w, photo_h = 1600, 1200
        a = np.deg2rad(turn_deg)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64) - (w / 2, h / 2)
        # 8 px/mm printed, about 5 px/mm in the photo: a phone held close.
        dst = 0.6 * src @ rot.T
        # A tilt: the bottom edge nearer the camera than the top.
        dst[2:] *= 1 + tilt
        dst[:2] *= 1 - tilt / 2
        dst += (photo_w / 2 + shift[0], photo_h / 2 + shift[1])
        hmg = cv2.getPerspectiveTransform(
            (src + (w / 2, h / 2)).astype(np.float32), dst.astype(np.float32)
        )
        photo = np.full((photo_h, photo_w, 3), (150, 160, 170), np.uint8)
        cv2.warpPerspective(
            flat,
            hmg,
            (photo_w, photo_h),
            photo,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_TRANSPARENT,
        )
        if blur:
            photo = cv2.GaussianBlur(photo, (0, 0), blur)
        noise = np.random.default_rng(1).normal(0, 2.0, photo.shape)
        photo = np.clip(photo + noise, 0, 255).astype(np.uint8)
        manifest = {
            "event": {"name": "Close-up", "slug": "close", "base_url": "http://localhost:5000"},
            "rooms": [{"name": "Hall A", "marker_id": 4}],
            "slots": [{"start": "2026-09-26T10:00", "end": "2026-09-26T10:45", "marker_id": 5}],
            "stickies": [
                {
                    "code": spec.code,
                    "kind": "session",
                    "qr": spec.qr_text,
                    "marker_id": spec.marker_id,
                    "marker_offset": list(t.marker_offset),
                    "outline": [list(c) for c in t.marker_outline],
                    "marker_mm": t.marker_side_mm,
                    "qr_outline": [list(c) for c in t.marker_qr_outline],
                }
            ],
        }
        return photo, manifest, flat

    return make
