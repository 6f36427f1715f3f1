import numpy as np
import pytest
import qrcode

from scanner import DECODERS, ScanError
from scanner.decoders import chain, decode_qr

TEXT = "http://localhost:5000/s/7KQ2XM"


def _qr_image(text: str, *, module_px: int = 6, at=(40, 30), size=(300, 260)) -> np.ndarray:
    """Return a grey image with one QR code whose top-left module starts at `at` (x, y)."""
    q = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    q.add_data(text)
    q.make(fit=True)
    mods = np.array(q.get_matrix(), dtype=bool)
    tile = np.kron(
        np.where(mods, 0, 255).astype(np.uint8), np.ones((module_px, module_px), np.uint8)
    )
    img = np.full((size[1], size[0]), 255, np.uint8)
    x, y = at
    img[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
    return img, tile.shape[0]


@pytest.mark.parametrize("name", ["zxing", "zbar", "opencv"])
def test_decoder_reads_real_qr(name):
    img, side = _qr_image(TEXT)
    (fn,) = chain(name)
    found = fn(img)
    assert [c.text for c in found] == [TEXT]
    assert found[0].via == name
    # The centre of the symbol, in image pixels (origin top-left), within a module.
    centre = (40 + (side - 1) / 2, 30 + (side - 1) / 2)
    assert abs(found[0].x - centre[0]) < 6
    assert abs(found[0].y - centre[1]) < 6
    assert len(found[0].corners) == 4


@pytest.mark.parametrize("name", ["zxing", "zbar", "opencv"])
def test_decoder_reads_claim_keyed_qr_without_its_key(name):
    img, _ = _qr_image(f"{TEXT}?k=K3Y9AB")
    (fn,) = chain(name)
    assert [c.text for c in fn(img)] == [TEXT]


def test_decoders_listed():
    assert DECODERS == ("auto", "zxing", "zbar", "opencv")


def test_decode_qr_auto_reads_real_qr():
    img, _ = _qr_image(TEXT)
    assert [c.text for c in decode_qr(img, decoder="auto")] == [TEXT]


def test_decode_qr_blank_image_reads_nothing():
    assert decode_qr(np.full((100, 100), 255, np.uint8)) == []


def test_chain_unknown_decoder_raises():
    with pytest.raises(ScanError, match="^unknown decoder 'quirc'; choose one of auto, zxing"):
        chain("quirc")
