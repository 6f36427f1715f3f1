"""The QR code as SVG: drawn back into pixels, it decodes to the text it was given."""

from __future__ import annotations

import re

import numpy as np
import pytest
import zxingcpp

from printables import PrintError, qr_svg


def rasterize(svg: str, scale: int = 4) -> np.ndarray:
    """Draw the SVG's module runs (``M x y h n v1 h-n z``) as a white-on-black grey image."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    image = np.full((size * scale, size * scale), 255, np.uint8)
    for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", svg):
        x, y, n = int(x), int(y), int(n)
        image[y * scale : (y + 1) * scale, x * scale : (x + n) * scale] = 0
    return image


def test_qr_svg_decodes_to_its_text():
    text = "http://192.168.1.23:5000/camera?pair=IjdLUTJYTSI.Zx4k9A.abcDEF-123_xyz"
    svg = qr_svg(text, title="Pair <this> phone")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ')
    assert 'aria-label="Pair &lt;this> phone"' in svg
    assert "style=" not in svg
    assert qr_svg(text, css_class="qr").startswith('<svg class="qr" xmlns=')
    (found,) = zxingcpp.read_barcodes(rasterize(svg))
    assert found.text == text


def test_qr_svg_empty_text_raises():
    with pytest.raises(PrintError, match="QR text is empty"):
        qr_svg("")
