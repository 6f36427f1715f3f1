"""Measure which fiducial the wall camera should read: dictionary, printed size and range.

Run `python -m benchmarks.marker_bench` (`--quick` for one sheet per setting). For every
dictionary, marker side (mm) and camera scale (photo px per mm on the wall) it photographs sheets
of sticky-like tiles: coloured paper, the marker with a one-cell white quiet zone, a small QR
code and pen strokes as distractors. Each photo has a random perspective (up to 25 deg yaw,
15 deg pitch), optical blur (sigma 0.3-0.9 px), sensor noise (sigma 5 levels) and JPEG (q 85).
A QR code of version 2 and of version 3 at the same sides, read with zxing-cpp, is measured
the same way for comparison. It writes `benchmarks/MARKERS.md` and `benchmarks/markers.json`.

Read rate: markers decoded with their own id within half a side of their true centre, out of
those placed. False positives: decodes with an id that is not at that place (a wrong id, or a
marker conjured from a QR code or handwriting). Geometry: sheet millimetres, origin top-left,
x right, y down; photo pixels with the origin at the top-left pixel's centre.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

from benchmarks.photographer import STICKY_COLOURS_BGR, qr_modules, scribble
from benchmarks.scan_bench import machine

HERE = Path(__file__).resolve().parent
DICTIONARIES = (
    "DICT_4X4_50",
    "DICT_4X4_250",
    "DICT_4X4_1000",
    "DICT_5X5_1000",
    "DICT_APRILTAG_36h11",
)
QR_KINDS = ("QR_V2", "QR_V3")
SIDES_MM = (20.0, 25.0, 30.0, 40.0)
SCALES = (0.6, 0.8, 1.0, 1.3, 2.0)
HI_PX_PER_MM = 6.0  # the sheet is drawn this sharp, then filtered down to the camera's scale
TILES = (4, 3)  # tiles across and down a sheet
# Payloads that need exactly QR version 2 and version 3 at error correction M.
QR_TEXTS = {"QR_V2": "HTTP://OS.EV/S/{code}", "QR_V3": "http://localhost:5000/s/{code}"}


class MarkerBenchError(Exception):
    """A marker benchmark that cannot run as asked."""


@dataclass(frozen=True)
class Cell:
    """Hold one setting's result: what was placed, read correctly and read wrongly."""

    code: str
    side_mm: float
    scale: float
    placed: int
    read: int
    false_positives: int
    ms_per_frame: float
    misreads: int = 0  # false positives that sit on another code: a wrong id, not a phantom

    @property
    def rate(self) -> float:
        """Return the fraction of placed codes read correctly."""
        return self.read / self.placed if self.placed else 0.0


def _dictionary(name: str):
    if not hasattr(cv2.aruco, name):
        raise MarkerBenchError(f"unknown ArUco dictionary {name!r}")
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))


def _detector(name: str) -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    # The sheets are small frames; keep the size floor from hiding small markers.
    params.minMarkerPerimeterRate = 0.01
    return cv2.aruco.ArucoDetector(_dictionary(name), params)


def _cells(name: str) -> int:
    """Return the cells along a marker's side, border included."""
    return _dictionary(name).markerSize + 2


def _random_code(rng: np.random.Generator) -> str:
    return "".join(rng.choice(list("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 6))


def _draw_qr(img: np.ndarray, text: str, x_mm: float, y_mm: float, side_mm: float, p: float):
    mods = qr_modules(text)
    n = mods.shape[0]
    quiet = 4 * side_mm / n
    pad = (round((x_mm - quiet) * p), round((y_mm - quiet) * p))
    pad_end = (round((x_mm + side_mm + quiet) * p), round((y_mm + side_mm + quiet) * p))
    cv2.rectangle(img, pad, pad_end, (255, 255, 255), -1)
    x0, y0 = round(x_mm * p), round(y_mm * p)
    x1, y1 = round((x_mm + side_mm) * p), round((y_mm + side_mm) * p)
    tile = np.where(mods, 0, 255).astype(np.uint8)
    img[y0:y1, x0:x1] = cv2.resize(tile, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)[
        ..., None
    ]


def render_sheet(
    code: str, side_mm: float, *, rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[str, tuple[float, float]]]]:
    """Draw a sheet of tiles, each holding one code of `side_mm`; return it and the truth.

    The truth lists each code's text (the marker id as a string, or the QR payload) and its
    centre in sheet millimetres. The image has HI_PX_PER_MM pixels per millimetre.
    """
    p = HI_PX_PER_MM
    tile = max(76.0, side_mm * 2.4)
    gap = 12.0
    cols, rows = TILES
    w_mm, h_mm = cols * tile + (cols + 1) * gap, rows * tile + (rows + 1) * gap
    sheet = np.full((round(h_mm * p), round(w_mm * p), 3), (205, 210, 214), np.uint8)
    truth = []
    if code.startswith("DICT_"):
        dictionary = _dictionary(code)
        ids = rng.choice(dictionary.bytesList.shape[0], cols * rows, replace=False)
    for k in range(cols * rows):
        c, r = k % cols, k // cols
        x0, y0 = gap + c * (tile + gap), gap + r * (tile + gap)
        colour = STICKY_COLOURS_BGR[int(rng.integers(len(STICKY_COLOURS_BGR)))]
        cv2.rectangle(
            sheet,
            (round(x0 * p), round(y0 * p)),
            (round((x0 + tile) * p), round((y0 + tile) * p)),
            colour,
            -1,
        )
        sticky_url = f"http://localhost:5000/s/{_random_code(rng)}"
        if code.startswith("DICT_"):
            cell = side_mm / _cells(code)
            mx, my = x0 + tile - cell - 3 - side_mm, y0 + cell + 3
            cv2.rectangle(
                sheet,
                (round((mx - cell) * p), round((my - cell) * p)),
                (round((mx + side_mm + cell) * p), round((my + side_mm + cell) * p)),
                (255, 255, 255),
                -1,
            )
            n = round(side_mm * p)
            marker = cv2.aruco.generateImageMarker(dictionary, int(ids[k]), n, borderBits=1)
            sheet[round(my * p) : round(my * p) + n, round(mx * p) : round(mx * p) + n] = marker[
                ..., None
            ]
            # The sticky's own QR code, a distractor for the marker detector.
            _draw_qr(sheet, sticky_url, x0 + tile - 26, y0 + tile - 26, 22.0, p)
            truth.append((str(int(ids[k])), (mx + side_mm / 2, my + side_mm / 2)))
            box = (x0 + 4, my + side_mm + 6, x0 + tile - 30, y0 + tile - 4)
        else:
            text = QR_TEXTS[code].format(code=_random_code(rng))
            qx, qy = x0 + tile - 4 * side_mm / 25 - 3 - side_mm, y0 + tile - side_mm - 8
            _draw_qr(sheet, text, qx, qy, side_mm, p)
            truth.append((text, (qx + side_mm / 2, qy + side_mm / 2)))
            box = (x0 + 4, y0 + 8, qx - 8, y0 + tile - 4)
        if box[2] - box[0] > 10 and box[3] - box[1] > 8:
            scribble(sheet, box, p, rng)
    return sheet, truth


def photograph_sheet(
    sheet: np.ndarray, scale: float, *, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Photograph a sheet at `scale` photo px per mm; return the photo and mm -> px homography."""
    p = HI_PX_PER_MM
    h_mm, w_mm = sheet.shape[0] / p, sheet.shape[1] / p
    yaw, pitch = math.radians(rng.uniform(-25, 25)), math.radians(rng.uniform(-15, 15))
    f = 1000.0
    ry = np.array(
        [[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]]
    )
    rx = np.array(
        [[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]]
    )
    rot = rx @ ry
    # Place the camera so that the sheet's centre is seen at `scale` px per mm.
    d = f / scale
    k = np.array([[f, 0, 0], [0, f, 0], [0, 0, 1]])
    centre = np.array([[1, 0, -w_mm / 2], [0, 1, -h_mm / 2], [0, 0, 1]])
    hom = k @ np.column_stack([rot[:, 0], rot[:, 1], [0, 0, d]]) @ centre
    corners = np.array([[0, 0], [w_mm, 0], [w_mm, h_mm], [0, h_mm]], dtype=np.float64)
    q = cv2.perspectiveTransform(corners[None], hom)[0]
    shift = np.array([[1, 0, 20 - q[:, 0].min()], [0, 1, 20 - q[:, 1].min()], [0, 0, 1]])
    hom = shift @ hom
    q = cv2.perspectiveTransform(corners[None], hom)[0]
    size = (int(q[:, 0].max()) + 20, int(q[:, 1].max()) + 20)
    # Low-pass the sharp sheet to the camera's sampling before warping it.
    blurred = cv2.GaussianBlur(sheet, (0, 0), 0.45 * p / scale)
    mm_per_hi = np.array([[1 / p, 0, 0.5 / p], [0, 1 / p, 0.5 / p], [0, 0, 1]])
    photo = cv2.warpPerspective(
        blurred,
        hom @ mm_per_hi,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(190, 196, 200),
    )
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.3, 0.9))
    noise = rng.standard_normal(photo.shape, dtype=np.float32) * np.float32(5.0)
    photo = np.clip(photo.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise MarkerBenchError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY), hom


def read(code: str, gray: np.ndarray) -> list[tuple[str, tuple[float, float]]]:
    """Return what a reader finds in the photo: (text, centre in photo px)."""
    if code.startswith("DICT_"):
        corners, ids, _ = _detector(code).detectMarkers(gray)
        if ids is None:
            return []
        return [
            (str(int(i)), tuple(np.asarray(c).reshape(4, 2).mean(axis=0)))
            for i, c in zip(ids.ravel(), corners, strict=True)
        ]
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    out = []
    for r in found:
        pos = r.position
        pts = [pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left]
        out.append((r.text, (sum(pt.x for pt in pts) / 4, sum(pt.y for pt in pts) / 4)))
    return out


def measure(code: str, side_mm: float, scale: float, *, sheets: int, seed: int) -> Cell:
    """Photograph `sheets` sheets of one setting and count correct and false reads."""
    placed = hits = false = misread = 0
    times = []
    for s in range(sheets):
        rng = np.random.default_rng([seed, s, int(side_mm * 10), int(scale * 10)])
        sheet, truth = render_sheet(code, side_mm, rng=rng)
        gray, hom = photograph_sheet(sheet, scale, rng=rng)
        t0 = time.perf_counter()
        found = read(code, gray)
        times.append((time.perf_counter() - t0) * 1000)
        centres = {
            text: cv2.perspectiveTransform(np.array([[c]], dtype=np.float64), hom)[0, 0]
            for text, c in truth
        }
        placed += len(truth)
        matched = set()
        for text, (x, y) in found:
            true = centres.get(text)
            if true is not None and text not in matched:
                if math.hypot(x - true[0], y - true[1]) <= side_mm * scale / 2:
                    matched.add(text)
                    continue
            false += 1
            near = min(math.hypot(x - c[0], y - c[1]) for c in centres.values())
            misread += near <= side_mm * scale / 2
        hits += len(matched)
    return Cell(code, side_mm, scale, placed, hits, false, float(np.median(times)), misread)


def markdown(cells: list[Cell], *, command: str, when: str, sheets: int) -> str:
    """Render the read-rate table and the conclusion as markdown."""
    codes = list(dict.fromkeys(c.code for c in cells))
    by = {(c.code, c.side_mm, c.scale): c for c in cells}
    lines = [
        "# Marker design benchmark",
        "",
        f"- date: {when}",
        f"- machine: {machine()}",
        f"- command: `{command}`",
        f"- {sheets} sheet(s) of {TILES[0] * TILES[1]} codes per setting",
        "",
        "Sticky-like tiles (coloured paper, one-cell white quiet zone, a 22 mm QR code and pen "
        "strokes beside each marker), photographed with up to 25 deg yaw and 15 deg pitch, optical "
        "blur sigma 0.3-0.9 px, noise sigma 5 and JPEG q85. Markers are read with OpenCV's "
        "ArucoDetector (default parameters, minMarkerPerimeterRate 0.01), QR codes with zxing-cpp. "
        "Scale is photo pixels per millimetre of wall at the sheet's centre: a 1080p webcam that "
        "frames a 1.6 m board gets about 0.8-1.0, a 720p one about 0.6.",
        "",
        "Each cell: read rate (false positives).",
        "",
    ]
    for side in SIDES_MM:
        lines += [
            f"## {side:.0f} mm",
            "",
            "| code | " + " | ".join(f"{s} px/mm" for s in SCALES) + " |",
            "|---|" + "---|" * len(SCALES),
        ]
        for code in codes:
            row = []
            for scale in SCALES:
                c = by.get((code, side, scale))
                row.append("" if c is None else f"{100 * c.rate:.0f}% ({c.false_positives})")
            lines.append(f"| {code} | " + " | ".join(row) + " |")
        lines.append("")
    lines += ["## Conclusion", "", conclusion(cells), ""]
    return "\n".join(lines)


def min_distance(name: str, n: int | None = None) -> int:
    """Return the least Hamming distance between two of the first `n` markers, any rotation."""
    d = _dictionary(name)
    n = n or d.bytesList.shape[0]
    bits = np.array(
        [
            cv2.aruco.Dictionary.getBitsFromByteList(d.bytesList[i : i + 1], d.markerSize)
            for i in range(n)
        ],
        dtype=bool,
    )
    flat = bits.reshape(n, -1)
    best = flat.shape[1]
    for k in range(4):
        turned = np.rot90(bits, k, axes=(1, 2)).reshape(n, -1)
        dist = (flat[:, None, :] != turned[None, :, :]).sum(axis=2)
        if k == 0:
            np.fill_diagonal(dist, flat.shape[1])
        best = min(best, int(dist.min()))
    return best


def conclusion(cells: list[Cell]) -> str:
    """Write which dictionary and size to print, decided from the measured cells."""

    def rate(code: str, sides: tuple[float, ...], scales: tuple[float, ...]) -> float:
        sel = [c for c in cells if c.code == code and c.side_mm in sides and c.scale in scales]
        placed = sum(c.placed for c in sel)
        return sum(c.read for c in sel) / placed if placed else 0.0

    def fp(code: str) -> int:
        return sum(c.false_positives for c in cells if c.code == code)

    misreads = sum(c.misreads for c in cells)
    phantoms = sum(c.false_positives for c in cells) - misreads

    measured = [d for d in DICTIONARIES if any(c.code == d for c in cells)]
    if not measured:
        return "No marker dictionary was measured."
    rows = [
        "| dictionary | ids | least distance (bits) | 25 mm @ 0.6 / 0.8 | 30 mm @ 0.6 / 0.8 "
        "| false positives |",
        "|---|---|---|---|---|---|",
    ]
    for d in measured:
        size = _dictionary(d).bytesList.shape[0]
        rows.append(
            f"| {d} | {size} | {min_distance(d)} "
            f"| {100 * rate(d, (25.0,), (0.6,)):.0f}% / {100 * rate(d, (25.0,), (0.8,)):.0f}% "
            f"| {100 * rate(d, (30.0,), (0.6,)):.0f}% / {100 * rate(d, (30.0,), (0.8,)):.0f}% "
            f"| {fp(d)} |"
        )
    # An event needs 4 corners, its headers and a few hundred stickies: at least 500 ids.
    roomy = [d for d in measured if _dictionary(d).bytesList.shape[0] >= 500] or measured
    best = max(roomy, key=lambda d: (rate(d, (25.0, 30.0), (0.6, 0.8)), -fp(d)))
    at_08 = [s for s in SIDES_MM if rate(best, (s,), (0.8,)) >= 0.95]
    at_06 = [s for s in SIDES_MM if rate(best, (s,), (0.6,)) >= 0.9]
    safe = sorted(
        (
            d
            for d in roomy
            if rate(d, (30.0,), (0.8,)) >= 0.97 and min_distance(d) > min_distance(best)
        ),
        key=min_distance,
        reverse=True,
    )
    safest = (
        f"Where the camera gets 0.8 px/mm or more, {safe[0]} (least distance "
        f"{min_distance(safe[0])} bits) reads {100 * rate(safe[0], (30.0,), (0.8,)):.0f}% at "
        "30 mm and would be the safer choice against misread ids."
        if safe
        else ""
    )
    qr_sides = [
        (q, s, sc)
        for q in QR_KINDS
        for s in SIDES_MM
        for sc in SCALES
        if rate(q, (s,), (sc,)) >= 0.9
    ]
    qr_first = min(qr_sides, key=lambda t: (t[2], t[1]), default=None)
    text = [
        "\n".join(rows),
        "",
        f"Use **{best}**: of the dictionaries with room for an event's ids it reads best where it "
        f"matters, at 25-30 mm and 0.6-0.8 px/mm "
        f"({100 * rate(best, (25.0, 30.0), (0.6, 0.8)):.0f}% of markers).",
        f"Print markers of **{at_08[0]:.0f} mm** when the camera gets 0.8 px/mm or more (a 1080p "
        "webcam framing a 1.6 m board)"
        if at_08
        else "No size reached 95% at 0.8 px/mm.",
        f"and **{at_06[0]:.0f} mm** for 0.6 px/mm (a 720p webcam, or a larger board)."
        if at_06
        else "and nothing reached 90% at 0.6 px/mm.",
        "Larger codes per marker (5x5, AprilTag 36h11) carry more error correction but have "
        "smaller cells at the same printed size, so they lose first at low resolution.",
        safest,
        "QR codes need about 3 px per module: at the sizes a sticky can carry, they read only "
        + (
            f"from {qr_first[2]} px/mm ({qr_first[0]} at {qr_first[1]:.0f} mm)."
            if qr_first
            else "at none of the measured scales."
        ),
        "DICT_4X4_50, _100 and _250 are the first ids of DICT_4X4_1000, with the same patterns. "
        "The 1000-id set has a least distance of "
        f"{min_distance('DICT_4X4_1000')} bits (its first 250 ids: "
        f"{min_distance('DICT_4X4_1000', 250)}), so a marker misread by two bits can turn into "
        f"another valid id (false positives above: {misreads} misread of another marker, "
        f"{phantoms} where no marker was). The scanner "
        "must accept only the ids that the manifest lists, and should confirm a sticky that "
        "appears in a cell before it moves it (a second scan, or its QR code where readable).",
    ]
    return "\n".join(text[:2]) + "\n" + " ".join(text[2:])


def main(argv: list[str] | None = None) -> int:
    """Run the marker benchmark from the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.marker_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one sheet per setting")
    parser.add_argument("--sheets", type=int, default=None, help="sheets per setting (10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE, help="where MARKERS.md goes")
    args = parser.parse_args(argv)
    sheets = args.sheets or (1 if args.quick else 10)
    command = "python -m benchmarks.marker_bench " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cells = []
    for code in DICTIONARIES + QR_KINDS:
        t0 = time.perf_counter()
        got = [
            measure(code, side, scale, sheets=sheets, seed=args.seed)
            for side in SIDES_MM
            for scale in SCALES
        ]
        cells += got
        placed = sum(c.placed for c in got)
        print(
            f"[{code}] {sum(c.read for c in got)}/{placed} read, "
            f"{sum(c.false_positives for c in got)} false, {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    text = markdown(cells, command=command.strip(), when=when, sheets=sheets)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "MARKERS.md").write_text(text)
    payload = {
        "date": when,
        "machine": machine(),
        "command": command.strip(),
        "cells": [asdict(c) | {"rate": round(c.rate, 4)} for c in cells],
    }
    (args.out / "markers.json").write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
