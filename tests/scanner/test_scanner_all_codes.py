"""`decode_all` (behind `openspaces scan --all-codes`) on photos of single QR codes.

It must read at least every code zxing-cpp reads on its own from the same photo. The photos are phone
shots of one printed sticky: rendered by printables, warped, blurred, noised and JPEG-compressed.
"""

import cv2
import numpy as np
import pytest
import zxingcpp

from printables import StickySpec, sticky_image
from scanner import decode_all


def phone_photo(seed: int) -> np.ndarray:
    """Photograph one 76 mm sticky on a desk at 2.5-5 px/mm, tilted, blurred and compressed."""
    rng = np.random.default_rng(seed)
    code = "".join(rng.choice(list("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 6))
    art = sticky_image(
        StickySpec(
            code=code,
            qr_text=f"http://localhost:5000/s/{code}",
            marker_id=40 + seed,
            kind="session",
        ),
        dpi=200,
    )
    sticky = cv2.cvtColor(np.asarray(art.convert("RGB")), cv2.COLOR_RGB2BGR)
    h, w = sticky.shape[:2]
    scale = rng.uniform(2.5, 5.0) / (200 / 25.4)
    size = (1600, 1200)
    centre = np.array(size) / 2 + rng.uniform(-150, 150, 2)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    half = np.array([w, h]) * scale / 2
    dst = np.float32(
        [
            centre + np.array([sx, sy]) * half + rng.uniform(-0.12, 0.12, 2) * half
            for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
    )
    angle = np.deg2rad(rng.uniform(-30, 30))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = np.float32((dst - centre) @ rot.T + centre)
    desk = np.full((size[1], size[0], 3), (90, 110, 130), np.uint8)
    warped = cv2.warpPerspective(sticky, cv2.getPerspectiveTransform(src, dst), size)
    mask = cv2.warpPerspective(
        np.full((h, w), 255, np.uint8), cv2.getPerspectiveTransform(src, dst), size
    )
    photo = np.where(mask[..., None] > 0, warped, desk)
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.4, 1.6))
    photo = np.clip(photo + rng.normal(0, rng.uniform(2, 8), photo.shape), 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 90))])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


@pytest.mark.parametrize("seed", range(12))
def test_decode_all_reads_every_code_zxing_reads_alone(seed):
    photo = phone_photo(seed)
    alone = {
        r.text for r in zxingcpp.read_barcodes(photo) if r.format == zxingcpp.BarcodeFormat.QRCode
    }
    ours = {c.text for c in decode_all(photo) if not c.text.startswith("marker:")}
    assert alone <= ours


def test_decode_all_crop_reads_a_qr_the_whole_frame_does_not():
    photo = phone_photo(6)  # blurred enough that zxing-cpp alone reads nothing
    assert zxingcpp.read_barcodes(photo) == []
    texts = sorted(c.text for c in decode_all(photo))
    assert texts[1] == "marker:DICT_4X4_1000:46"
    assert texts[0].startswith("http://localhost:5000/s/")
