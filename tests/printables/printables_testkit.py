"""Specs, real decoders and image helpers for the printables tests."""

from __future__ import annotations

import cv2
import numpy as np
import zxingcpp

from printables import CardSpec, KitSpec, StickySpec

BASE = "http://localhost:5000"
CODES = ["7KQ2XM", "3HV9TA", "P0W4ZD", "9RN6EF", "B8XJ2K", "M5T1QC", "Z2D7WG", "4YH8NP", "K1F3RS"]


def make_stickies(n: int, *, kind: str = "session", first_id: int = 12) -> list[StickySpec]:
    """Return `n` stickies with distinct codes, claim keys and marker ids from `first_id`.

    Each QR holds the sticky's page and its key, as the app prints them.
    """
    return [
        StickySpec(
            code=c,
            qr_text=f"{BASE}/s/{c}?k={c[::-1]}",
            marker_id=first_id + i,
            kind=kind if i % 2 == 0 else ("person" if kind == "session" else "session"),
            label="PyCon India Open Spaces",
            key=c[::-1],
        )
        for i, c in enumerate(CODES[:n])
    ]


def make_kit(n_rooms: int = 3, n_slots: int = 4) -> KitSpec:
    """Return a kit with corner ids 0-3, rooms then slots numbered from 4 in event order."""
    names = ["Hall A", "Salle Économie", "会议室", "Room 4", "Room 5", "Room 6", "Room 7"]
    corners = tuple(CardSpec("corner", k, i, "") for i, k in enumerate(["tl", "tr", "br", "bl"]))
    rooms = tuple(
        CardSpec(
            "room", names[i], 4 + i, names[i], f"{10 * (i + 1)} seats", f"{BASE}/rooms/{i + 1}"
        )
        for i in range(n_rooms)
    )
    slots = tuple(
        CardSpec(
            "slot",
            f"2026-09-26T{10 + i:02d}:00",
            4 + n_rooms + i,
            f"{10 + i:02d}:00–{10 + i:02d}:45",
            "Sat 26 Sep",
        )
        for i in range(n_slots)
    )
    return KitSpec("PyCon India Open Spaces", f"{BASE}/board", corners, rooms, slots)


def gray(img) -> np.ndarray:
    """Return an 8-bit grayscale array of a PIL image or an array."""
    a = np.asarray(img.convert("L") if hasattr(img, "convert") else img)
    return np.ascontiguousarray(a, dtype=np.uint8)


def read_qrs(img) -> list[str]:
    """Return the text of every QR code zxing-cpp finds in the image."""
    return [
        r.text for r in zxingcpp.read_barcodes(gray(img), formats=zxingcpp.BarcodeFormat.QRCode)
    ]


def read_markers(
    img, dictionary: str = "DICT_4X4_1000", *, subpixel: bool = False
) -> dict[int, np.ndarray]:
    """Return {marker id: 4x2 corners in pixels (tl, tr, br, bl)} for every marker found.

    Pixel coordinates have their origin at the centre of the top-left pixel.
    """
    d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary))
    params = cv2.aruco.DetectorParameters()
    if subpixel:
        params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(d, params)
    corners, ids, _ = detector.detectMarkers(gray(img))
    if ids is None:
        return {}
    found: dict[int, np.ndarray] = {}
    for c, i in zip(corners, ids.flatten(), strict=True):
        assert int(i) not in found, f"marker {int(i)} found twice"
        found[int(i)] = c.reshape(4, 2)
    return found


def shrink(img, px_per_mm: float, dpi: float):
    """Return `img` resampled from `dpi` to `px_per_mm`, as a camera at that range would see it."""
    scale = px_per_mm * 25.4 / dpi
    w, h = img.size
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), resample=4)


def pad(img, border: int, fill: int = 255):
    """Return a grayscale array of `img` with a `border` px margin of `fill` around it."""
    a = gray(img)
    return cv2.copyMakeBorder(a, border, border, border, border, cv2.BORDER_CONSTANT, value=fill)


def render_pdf(data: bytes, dpi: float) -> list:
    """Render every page of a PDF to a PIL image at `dpi` with pdfium."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[i].render(scale=dpi / 72).to_pil() for i in range(len(pdf))]
    finally:
        pdf.close()


def pdf_page_sizes(data: bytes) -> list[tuple[float, float]]:
    """Return (width, height) in points of every page of a PDF."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return [tuple(pdf[i].get_size()) for i in range(len(pdf))]
    finally:
        pdf.close()


def pdf_squares(data: bytes, *, min_side_mm: float) -> list[list[tuple[float, float, float]]]:
    """Return, per page, (x, y, side) in mm of every square path at least `min_side_mm` wide.

    Read from the PDF's drawing operations, origin at the page's top-left, y down: markers and QR
    symbols are each one filled path whose bounds are the code's outer square.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    to_mm = 25.4 / 72
    pdf = pdfium.PdfDocument(data)
    try:
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            height = page.get_size()[1]
            found = []
            for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH,)):
                left, bottom, right, top = obj.get_bounds()
                w, h = (right - left) * to_mm, (top - bottom) * to_mm
                if w >= min_side_mm and abs(w - h) < 1e-3:
                    found.append((left * to_mm, (height - top) * to_mm, w))
            pages.append(found)
        return pages
    finally:
        pdf.close()
