"""Read the QR codes of a wall photo: the whole frame, then close crops where markers did not read.

Photo coordinates are pixels, origin at the top-left pixel's centre, x right, y down.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from scanner.manifest import Manifest
from scanner.markers import Marker, quad_sides
from scanner.params import DEFAULT_PARAMS, ScanParams
from scanner.results import DecodedCode

# QR crops around marker-like shapes the marker decoder could not read: ScanParams.qr_crops_per_mp
# and qr_crops_min (about 10 ms per megapixel on a 2-core machine). A count, not a time: a busy
# machine reads what an idle one does.
# A QR about as wide as its sticky's marker has ~29 modules; below ~1.3 px per module no crop,
# however enlarged, reads.
QR_MODULES = 29
MIN_PX_PER_MODULE = 1.3
# The whole frame is read at full resolution only when the stickies' QR codes have at least
# this many pixels per module there (zxing-cpp reads the test's close photos at 1.9; the 12 MP
# benchmark frames, at 1.5, give it nothing) and fewer than READ_REDUCED_PX_PER_MODULE on the
# reduced photo that the markers were found on; otherwise on the reduced photo, where large
# codes (posters, close stickies) read at a quarter of the cost. Below it, only an enlarged
# crop reads.
READ_FULL_PX_PER_MODULE = 1.7
READ_REDUCED_PX_PER_MODULE = 2.5


def read_qr(
    gray: np.ndarray,
    chain: Sequence,
    *,
    sticky_markers: Sequence[Marker],
    unknown_markers: Sequence[DecodedCode],
    candidates: Sequence[np.ndarray],
    manifest: Manifest,
    other_markers: Sequence[Marker] = (),
    every_card: bool = False,
    reduced: tuple[np.ndarray, float] | None = None,
    params: ScanParams = DEFAULT_PARAMS,
) -> tuple[list[DecodedCode], list[str]]:
    """Return the QR codes read and warnings about crops left unread.

    The whole frame is read with the chain's first decoder, on `reduced` (the photo halved, and
    its scale) unless the stickies' codes are legible only at full size, and not at all when
    no code on the wall can be legible and every card's marker was read (`every_card`); then
    crops around marker-like shapes that no marker or QR explains (`candidates`: undecoded quads;
    `unknown_markers`: markers the manifest does not know, perhaps misread stickies) are read
    with every decoder of the chain. A shape on or beside one of `other_markers` (the corner
    and header cards' markers) is part of its card.
    """
    ref = float(np.median([mk.side for mk in sticky_markers])) if sticky_markers else 0.0
    reads = []
    # A card whose marker was missed may still show its code.
    if _legible(ref) or not every_card:
        reads = dedupe(_whole_frame(gray, chain[0], ref, reduced))
    h, w = gray.shape
    limit = max(params.qr_crops_min, round(params.qr_crops_per_mp * h * w / 1e6))
    offsets = {s.marker_offset for s in manifest.stickies}
    reach = max((max(abs(a), abs(b)) for a, b in offsets), default=1.0) + 1.2
    known = [np.array(mk.centre) for mk in sticky_markers]
    known += [np.array((c.x, c.y)) for c in reads]
    cards = np.array([mk.centre for mk in other_markers]).reshape(-1, 2)
    card_sides = np.array([mk.side for mk in other_markers])
    spots = _crop_spots(ref, unknown_markers, candidates)
    warnings: list[str] = []
    crops = 0
    for centre, side in spots:
        if known and np.min(np.linalg.norm(np.asarray(known) - centre, axis=1)) < reach * side:
            continue
        if np.any(np.hypot(*(cards - centre).T) < CARD_REACH * card_sides):
            continue
        if crops >= limit:
            warnings.append("QR crop limit reached; some crops not read")
            break
        crops += 1
        got = decode_crop(gray, chain, centre, side * reach)
        reads += [g for g in got if g.text not in {r.text for r in reads}]
        known += [np.array((g.x, g.y)) for g in got]
    return reads, warnings


def _legible(ref: float) -> bool:
    """Say whether stickies whose markers have side `ref` (photo px; 0: none read) may show
    legible QR codes.

    A wall filmed from afar (a webcam across a 2 m board) shows neither the stickies' codes nor
    the smaller ones of the cards: when every card's marker was read too, the whole frame is
    not read for codes (a fifth of a 1080p scan), and a poster's code goes unreported.
    """
    return not ref or 0.9 * ref / QR_MODULES >= MIN_PX_PER_MODULE


# A shape closer to a card marker's centre than this many of its sides is part of the card.
CARD_REACH = 1.2


def _whole_frame(
    gray: np.ndarray, decode, ref: float, reduced: tuple[np.ndarray, float] | None
) -> list[DecodedCode]:
    """Read the whole frame, on the reduced photo unless only the full one shows the codes.

    `ref` is the sticky marker side in photo pixels (0: none read). Positions are photo pixels.
    A photo that was not reduced is read whole: a poster's code may need every pixel.
    """
    if reduced is None or reduced[1] >= 1.0:
        return decode(gray)
    small, scale = reduced
    px_per_module = 0.9 * ref / QR_MODULES
    if not ref or (
        px_per_module >= READ_FULL_PX_PER_MODULE
        and px_per_module * scale < READ_REDUCED_PX_PER_MODULE
    ):
        return decode(gray)
    return [_from_crop(g, 0, 0, scale) for g in decode(small)]


def _crop_spots(
    ref: float, unknown_markers: Sequence[DecodedCode], candidates: Sequence[np.ndarray]
) -> list[tuple[np.ndarray, float]]:
    """Return (centre, side) of the shapes worth a QR crop; `ref` is the sticky marker side."""
    spots = [(np.array((c.x, c.y)), _side(np.array(c.corners))) for c in unknown_markers]
    if len(candidates):
        quads = np.asarray(candidates, dtype=np.float64).reshape(-1, 4, 2)
        sides = quad_sides(quads)
        keep = (0.7 * ref <= sides) & (sides <= 1.4 * ref) if ref else sides >= 12
        spots += [(q.mean(axis=0), float(s)) for q, s in zip(quads[keep], sides[keep], strict=True)]
    # Small markers mean small QR codes: the markers alone must do.
    if not _legible(ref):
        spots = [sp for sp in spots if sp[1] >= MIN_PX_PER_MODULE * QR_MODULES / 0.9]
    return spots


def decode_crop(gray: np.ndarray, chain, centre: np.ndarray, radius: float) -> list[DecodedCode]:
    """Read QR codes in a square crop around `centre` (photo pixels), enlarged and sharpened.

    A crop decodes where the whole frame does not: the decoder sees the code large and alone.
    Positions come back in photo pixels.
    """
    h, w = gray.shape
    x0, y0 = int(max(0, centre[0] - radius)), int(max(0, centre[1] - radius))
    x1, y1 = int(min(w, centre[0] + radius + 1)), int(min(h, centre[1] + radius + 1))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return []
    crop = gray[y0:y1, x0:x1]
    # A QR about as wide as the marker has ~29 modules; give each at least 4 pixels.
    f = float(np.clip(4.0 * QR_MODULES / max(radius / 1.5, 1.0), 1.0, 4.0))
    if f > 1.0:
        crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    blur = cv2.GaussianBlur(crop, (0, 0), 1.0 * f)
    sharp = cv2.addWeighted(crop, 1.8, blur, -0.8, 0)
    for fn in chain:
        got = fn(sharp)
        if got:
            return [_from_crop(g, x0, y0, f) for g in got]
    return []


def _from_crop(g: DecodedCode, x0: int, y0: int, f: float) -> DecodedCode:
    """Return a code read in a crop (offset x0, y0; enlarged f times) in photo pixels."""
    return DecodedCode(
        text=g.text,
        via=g.via,
        x=x0 + (g.x + 0.5) / f - 0.5,
        y=y0 + (g.y + 0.5) / f - 0.5,
        corners=tuple((x0 + (a + 0.5) / f - 0.5, y0 + (b + 0.5) / f - 0.5) for a, b in g.corners),
    )


def dedupe(codes: Sequence[DecodedCode]) -> list[DecodedCode]:
    """Drop repeated reads of one symbol (same text, centres within a few pixels)."""
    out: list[DecodedCode] = []
    for c in codes:
        if any(o.text == c.text and abs(o.x - c.x) + abs(o.y - c.y) < 8.0 for o in out):
            continue
        out.append(c)
    return out


def _side(q: np.ndarray) -> float:
    d = np.diff(np.vstack([q, q[:1]]), axis=0)
    return float(np.hypot(d[:, 0], d[:, 1]).mean())
