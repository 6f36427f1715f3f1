"""Read the handwritten title on a flat, upright picture of a sticky.

The picture is the whole sticky, rectified square-on (pixel (0, 0) is the sticky's top-left
corner, x right, y down, the same number of pixels per mm across and down). The title is read from
the writing area only: a `WritingArea` holds it as fractions of the sticky's width and height,
computed from the template's millimetres by `writing_area`, so that this module needs no template
table of its own.

Reading goes: the writing area is cut out and divided by the paper's brightness; what the blank
sticky shows was printed is taken away when a blank is given (`drop_print`); the area is scaled
to READ_PX_PER_MM and read; the pieces are put back into lines of writing (`reading_lines`). A
reading that is not sure is tried again one line of writing at a time (`line_strips`).
Several views of one sticky can be read and voted (`read_views`).

Engines run offline with the models inside their packages; nothing is downloaded:

- `rapidocr`: RapidOCR 3 (PP-OCRv6 small detection and recognition, ONNX Runtime); the default,
  chosen on 2026-12-01 by an earlier benchmarks/ocr_bench.py against the two below; the current
  one measures it (benchmarks/OCR.md).
- `rapidocr-v4`: rapidocr_onnxruntime 1.4 (PP-OCRv4); kept for comparison.
- `tesseract`: the `tesseract` program from Debian's tesseract-ocr with its English LSTM model.

Engines are imported lazily inside functions. A missing engine or a failing one makes
`read_title` return None and logs once per engine and reason.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ENGINES = ("rapidocr", "rapidocr-v4", "tesseract")
DEFAULT_ENGINE = "rapidocr"
# Cumulative preprocessing steps; see `prepare`.
VARIANTS = ("sticky", "crop", "gray", "contrast", "binary", "upscale")
DEFAULT_VARIANT = "contrast"
UPSCALE_PX_PER_MM = 10.0
# The engine reads the writing area at this scale: marker letters some 20-40 px tall.
READ_PX_PER_MM = 4.0
# A picture coarser than this cannot hold a legible title (benchmarks/OCR.md).
MIN_PX_PER_MM = 1.5
# Recognised pieces lower than this share of the tallest piece are print (the prompt), not the title.
MIN_HEIGHT_SHARE = 0.45
# A reading less sure than this is tried again line by line (`line_strips`): the detector takes
# lines written close together for one block, which the recogniser cannot read as one line.
RESTRIP_BELOW = 0.9
# Two lines of writing part where the ink per row falls to this share of the lower peak beside
# it, within LINE_REACH_MM above and below; lines are at least LINE_MIN_MM apart and their ink
# at least LINE_INK_MM tall.
LINE_VALLEY = 0.5
LINE_REACH_MM = 12.0
LINE_MIN_MM = 4.0
LINE_INK_MM = 3.0
TESSERACT_TIMEOUT_S = 20

# Printed on the writing area of every sticky; never part of a handwritten title.
PROMPTS = ("session title", "name", "interests")


@dataclass(frozen=True)
class TitleGuess:
    """Hold a recognised title: `text` (one line) and `confidence` in 0..1."""

    text: str
    confidence: float

    @property
    def weight(self) -> float:
        """Return how much was read how surely: the confidence times the letters read."""
        return self.confidence * len(self.text.replace(" ", ""))


@dataclass(frozen=True)
class WritingArea:
    """Hold where a sticky's title is written, as fractions of the sticky (origin top-left).

    `box` is (x0, y0, x1, y1); `keepout` is the top-left corner of the QR code's corner, which
    runs to the bottom-right of `box` and holds no writing; `width_mm` is the sticky's width.
    """

    box: tuple[float, float, float, float]
    keepout: tuple[float, float]
    width_mm: float

    def pixels(self, width: int, height: int) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
        """Return `box` and `keepout` in pixels of a `width` x `height` picture."""
        x0, y0, x1, y1 = self.box
        kx, ky = self.keepout
        return (
            (round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height)),
            (round(kx * width), round(ky * height)),
        )


def writing_area(
    *,
    sticky_mm: tuple[float, float],
    margin_mm: float,
    marker_origin_mm: tuple[float, float],
    marker_side_mm: float,
    marker_cell_mm: float,
    qr_origin_mm: tuple[float, float],
    qr_side_mm: float,
) -> WritingArea:
    """Return the writing area of a sticky laid out as printables lays it out (all sizes in mm).

    Printables rules the writing area from one marker cell below the marker to the bottom margin,
    margin to margin, but people write over its prompt and above it, so the area starts just
    under the marker; the QR code and its quiet zone (4 modules, at most 4/21 of its side) sit
    in the bottom-right corner.
    """
    w, h = sticky_mm
    # Writing reaches over the prompt, above the first rule: read from just under the marker.
    top = marker_origin_mm[1] + marker_side_mm
    quiet = 4 * qr_side_mm / 21
    kx = qr_origin_mm[0] - quiet - 1.0
    ky = qr_origin_mm[1] - quiet - 1.0
    # Half a millimetre inside the margins: the sticky's edge is not part of the writing.
    box = (margin_mm / 2, top + 0.5, w - margin_mm / 2, h - margin_mm / 2)
    return WritingArea(
        box=(box[0] / w, box[1] / h, box[2] / w, box[3] / h),
        keepout=(kx / w, ky / h),
        width_mm=w,
    )


# ----------------------------------------------------------------------------------------------
# Preprocessing


def prepare(
    image: np.ndarray,
    *,
    area: WritingArea | None,
    variant: str,
    blank: np.ndarray | None = None,
) -> np.ndarray:
    """Return the picture an engine reads, after the cumulative steps up to `variant`.

    `sticky`: the picture as it comes. `crop`: the writing area, with the QR code's corner filled
    with the paper's colour. `gray`: grayscale. `contrast`: divided by the paper's blurred
    brightness (uneven light and coloured paper become white), what was printed taken away when
    `blank` is given (see `drop_print`), and stretched. `binary`: Otsu's threshold after
    `contrast`. `upscale`: `contrast` enlarged to UPSCALE_PX_PER_MM.

    `blank` is the sticky as printed, before anyone wrote on it (grayscale or BGR, any size of
    the same shape: it is scaled to the picture).
    """
    import cv2

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of: {', '.join(VARIANTS)}")
    img = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if variant == "sticky" or area is None:
        return img
    h, w = img.shape[:2]
    (x0, y0, x1, y1), (kx, ky) = area.pixels(w, h)
    crop = img[y0:y1, x0:x1].copy()
    paper = np.median(crop.reshape(-1, 3), axis=0)
    crop[max(0, ky - y0) :, max(0, kx - x0) :] = paper
    if variant == "crop":
        return crop
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    if variant == "gray":
        return gray
    px_per_mm = w / area.width_mm
    ratio = _paper_ratio(gray, px_per_mm)
    if blank is not None:
        ink = _darkness(img, px_per_mm)[y0:y1, x0:x1]
        printed = _blank_darkness(blank, (w, h))
        ratio = drop_print(ratio, ink, printed, (x0, y0, x1, y1), px_per_mm)
        ratio[max(0, ky - y0) :, max(0, kx - x0) :] = float(np.median(ratio))
    contrast = _stretch(ratio)
    if variant == "contrast":
        return contrast
    if variant == "binary":
        return _otsu(contrast)
    scale = max(1.0, UPSCALE_PX_PER_MM / px_per_mm)
    return cv2.resize(contrast, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def _paper_ratio(gray: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Divide by the paper's brightness (a blur wider than a stroke): paper 255, ink lower."""
    import cv2

    k = max(3, int(8 * px_per_mm) | 1)
    # A closing removes the ink before the blur, so the background is paper only.
    paper = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), k / 3)
    return np.clip(gray.astype(np.float32) / np.maximum(paper.astype(np.float32), 1) * 255, 0, 255)


def _stretch(ratio: np.ndarray) -> np.ndarray:
    """Stretch so that the darkest ink is 0 and the paper 255."""
    lo, hi = np.percentile(ratio, 1), np.percentile(ratio, 99.5)
    out = (ratio - lo) * (255.0 / max(hi - lo, 1.0))
    return np.clip(out, 0, 255).astype(np.uint8)


def _darkness(img: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Return how dark each pixel is against its paper, 0..255, in its darkest colour channel.

    Printed grey darkens every channel alike; coloured ink darkens some channels much more.
    """
    ratios = [_paper_ratio(img[:, :, c], px_per_mm) for c in range(img.shape[2])]
    return 255 - np.minimum.reduce(ratios)


def _blank_darkness(blank: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Return the blank sticky's darkness at the picture's `size` (w, h), as blurred as a photo."""
    import cv2

    gray = blank if blank.ndim == 2 else cv2.cvtColor(blank, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    return 255 - cv2.GaussianBlur(small, (0, 0), 0.7)


# How far the picture may sit from the blank (mm): the rectification's error.
PRINT_SEARCH_MM = 2.0
# Ink is this much darker than the print under it (0..255 levels), after allowing for blur.
PRINT_MARGIN = 40.0


def drop_print(
    ratio: np.ndarray,
    ink: np.ndarray,
    printed: np.ndarray,
    box: tuple[int, int, int, int],
    px_per_mm: float,
) -> np.ndarray:
    """Paint paper where the picture shows only what was printed there; keep ink that crosses it.

    `ratio` and `ink` (darkness) cover the writing `box` of the picture; `printed` is the blank's
    darkness over the whole sticky at the picture's scale. The blank is first aligned with the
    picture by the shift (within PRINT_SEARCH_MM) that best matches the printed rules and prompt.
    Then a pixel near print that is not clearly darker than the print near it becomes paper.
    """
    import cv2

    x0, y0, x1, y1 = box
    s = max(1, round(PRINT_SEARCH_MM * px_per_mm))
    padded = cv2.copyMakeBorder(printed, s, s, s, s, cv2.BORDER_CONSTANT, value=0)
    window = padded[y0 : y1 + 2 * s, x0 : x1 + 2 * s]
    # The printed lines are faint against ink: match on clipped darkness, so ink weighs no more.
    probe = np.minimum(ink, 120).astype(np.float32)
    if float(window.std()) < 1.0 or float(probe.std()) < 1.0:
        return ratio
    score = cv2.matchTemplate(window, probe, cv2.TM_CCORR_NORMED)
    _, _, _, (dx, dy) = cv2.minMaxLoc(score)
    here = window[dy : dy + (y1 - y0), dx : dx + (x1 - x0)]
    r = max(1, round(0.3 * px_per_mm))
    near = cv2.dilate(here, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    only_print = (near > 12) & (ink <= near * 1.3 + PRINT_MARGIN)
    out = ratio.copy()
    # The paper's own level (most of the area is paper), so that no lighter trace of the print
    # is left for the detector to find.
    out[only_print] = float(np.median(ratio))
    return out


def _otsu(gray: np.ndarray) -> np.ndarray:
    import cv2

    _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return out


# ----------------------------------------------------------------------------------------------
# Engines


@dataclass(frozen=True)
class _Piece:
    """Hold one recognised line or word: its text, score and box (x0, y0, x1, y1) in pixels.

    `ends` is the height of the middle of its left and of its right edge, when the engine gives
    a turned box (slanted writing); by default the box's middle.
    """

    text: str
    score: float
    box: tuple[float, float, float, float]
    ends: tuple[float, float] | None = None

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    def moved(self, dy: float) -> _Piece:
        """Return the piece `dy` pixels lower (read from a band of the picture)."""
        x0, y0, x1, y1 = self.box
        ends = None if self.ends is None else (self.ends[0] + dy, self.ends[1] + dy)
        return _Piece(self.text, self.score, (x0, y0 + dy, x1, y1 + dy), ends)

    def middle_at(self, x: float) -> float:
        """Return the height of the piece's middle line at `x`, extended beyond its ends."""
        x0, y0, x1, y1 = self.box
        left, right = self.ends or ((y0 + y1) / 2, (y0 + y1) / 2)
        slope = (right - left) / max(x1 - x0, 1.0)
        return left + slope * (x - x0)


_lock = threading.Lock()
_engines: dict[str, Any] = {}
_logged: set[tuple[str, str]] = set()
_threads = 1


def set_threads(n: int) -> None:
    """Use `n` threads in engines created from now on (one by default: the web app shares CPUs)."""
    global _threads
    _threads = n


def _log_once(engine: str, reason: str, exc: BaseException | None = None) -> None:
    key = (engine, reason)
    if key in _logged:
        return
    _logged.add(key)
    log.warning(
        "text recognition with %s unavailable: %s%s", engine, reason, f" ({exc})" if exc else ""
    )


def engine_available(engine: str) -> bool:
    """Return whether `engine` is installed (without loading its models)."""
    import importlib.util

    if engine == "rapidocr":
        return importlib.util.find_spec("rapidocr") is not None and _has_onnxruntime()
    if engine == "rapidocr-v4":
        return importlib.util.find_spec("rapidocr_onnxruntime") is not None and _has_onnxruntime()
    if engine == "tesseract":
        return shutil.which("tesseract") is not None
    return False


def engine_ready(engine: str) -> bool:
    """Return whether `engine` is installed; log once when it is not."""
    if engine_available(engine):
        return True
    _log_once(engine, "not installed")
    return False


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def _rapidocr():
    """Return a RapidOCR 3 engine on the models inside its package (never downloads)."""
    import rapidocr

    models = Path(rapidocr.__file__).resolve().parent / "models"

    def one(pattern: str) -> str:
        found = sorted(models.glob(pattern))
        if not found:
            raise FileNotFoundError(f"no {pattern} in {models}")
        return str(found[-1])

    params = {
        "Global.log_level": "critical",
        "Global.use_cls": False,
        "Global.model_root_dir": str(models),
        "Det.model_path": one("*_det_*.onnx"),
        "Rec.model_path": one("*_rec_*.onnx"),
        "Cls.model_path": one("*_cls_*.onnx"),
        # The picture comes at READ_PX_PER_MM: no resizing (which made marker writing too tall
        # to find), and no dilation, which joins lines written close together.
        "Det.limit_type": "max",
        "Det.limit_side_len": 2000,
        "Det.use_dilation": False,
        "EngineConfig.onnxruntime.intra_op_num_threads": _threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    # RapidOCR logs through its own handler; keep it to errors.
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return rapidocr.RapidOCR(params=params)


def _rapidocr_v4():
    """Return a rapidocr_onnxruntime (PP-OCRv4) engine on the models inside its package."""
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(use_cls=False, intra_op_num_threads=_threads, inter_op_num_threads=1)


def _engine(name: str):
    with _lock:
        if name not in _engines:
            _engines[name] = {"rapidocr": _rapidocr, "rapidocr-v4": _rapidocr_v4}[name]()
        return _engines[name]


def _box(points) -> tuple[float, float, float, float]:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())


def _ends(points) -> tuple[float, float] | None:
    """Return the middle heights of a quadrilateral's left and right edges (corners clockwise
    from the top-left, as the engines give them), or None for another shape."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) != 4:
        return None
    return (float(pts[0, 1] + pts[3, 1]) / 2, float(pts[1, 1] + pts[2, 1]) / 2)


def _piece(text: str, score: float, points) -> _Piece:
    return _Piece(text, float(score), _box(points), _ends(points))


def _run_rapidocr(img: np.ndarray) -> list[_Piece]:
    out = _engine("rapidocr")(img, use_cls=False)
    if out.txts is None or out.boxes is None:
        return []
    return [_piece(t, s, b) for t, s, b in zip(out.txts, out.scores, out.boxes, strict=True)]


def _run_rapidocr_v4(img: np.ndarray) -> list[_Piece]:
    result, _ = _engine("rapidocr-v4")(img, use_cls=False)
    return [_piece(t, s, b) for b, t, s in (result or [])]


def _run_tesseract(img: np.ndarray) -> list[_Piece]:
    import cv2

    exe = shutil.which("tesseract")
    if exe is None:
        raise FileNotFoundError("no tesseract program on PATH")
    ok, png = cv2.imencode(".png", img)
    if not ok:
        raise ValueError("cannot encode the picture for tesseract")
    env = dict(os.environ, OMP_THREAD_LIMIT=str(_threads))
    proc = subprocess.run(
        [exe, "stdin", "stdout", "-l", "eng", "--oem", "1", "--psm", "6", "tsv"],
        input=png.tobytes(),
        capture_output=True,
        timeout=TESSERACT_TIMEOUT_S,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace").strip()[:200])
    pieces = []
    for line in proc.stdout.decode(errors="replace").splitlines()[1:]:
        f = line.split("\t")
        if len(f) != 12 or f[0] != "5" or not f[11].strip():
            continue
        x, y, w, h = (float(v) for v in f[6:10])
        pieces.append(_Piece(f[11], max(0.0, float(f[10])) / 100, (x, y, x + w, y + h)))
    return pieces


RUNNERS = {"rapidocr": _run_rapidocr, "rapidocr-v4": _run_rapidocr_v4, "tesseract": _run_tesseract}


# ----------------------------------------------------------------------------------------------
# From pieces to a title

_KEEP = re.compile(r"[^0-9A-Za-z\u00C0-\u024F .,:;!?&+#@'\"()/-]")


def _clean(text: str) -> str:
    """Keep Latin letters, digits and common punctuation; full-width forms become ASCII."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(_KEEP.sub("", text).split())


def _is_prompt(text: str) -> bool:
    t = text.casefold().strip(" .:")
    return t in PROMPTS


def assemble(pieces: list[_Piece]) -> TitleGuess | None:
    """Join recognised pieces into one line of title text, in reading order.

    Pieces much lower than the tallest one are printed text (the prompt), not handwriting. The
    rest are put into lines (`reading_lines`): top to bottom, then left to right.
    """
    pieces = [p for p in pieces if _clean(p.text) and not _is_prompt(_clean(p.text))]
    if not pieces:
        return None
    tallest = max(p.height for p in pieces)
    pieces = [p for p in pieces if p.height >= MIN_HEIGHT_SHARE * tallest]
    lines = reading_lines(pieces)
    kept = [p for line in lines for p in line]
    text = " ".join(_clean(p.text) for p in kept).strip()
    if not text:
        return None
    weights = [len(_clean(p.text)) for p in kept]
    confidence = float(np.average([p.score for p in kept], weights=weights))
    return TitleGuess(text=text, confidence=round(min(1.0, max(0.0, confidence)), 3))


def reading_lines(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Return the pieces as lines of writing, top to bottom, each left to right.

    Going left to right, a piece joins the line whose last piece, extended along its own slant,
    passes closest to the piece's left end (within half the taller one's height) and ends
    before it; otherwise it starts a line. So pieces on one baseline join even when the writing
    slants or drifts, and a line that climbs to the right stays apart from the line above.
    """
    lines: list[list[_Piece]] = []
    for p in sorted(pieces, key=lambda q: q.box[0]):
        best, best_gap = None, None
        for line in lines:
            last = line[-1]
            if last.box[2] > p.box[0] + 0.5 * min(p.height, last.height):
                continue  # they overlap across: not one after the other on a line
            gap = abs(last.middle_at(p.box[0]) - p.middle_at(p.box[0]))
            if gap < 0.5 * max(p.height, last.height) and (best_gap is None or gap < best_gap):
                best, best_gap = line, gap
        if best is None:
            lines.append([p])
        else:
            best.append(p)
    return sorted(lines, key=lambda line: float(np.mean([q.middle_at(q.box[0]) for q in line])))


def recognise(
    image: np.ndarray,
    *,
    engine: str = DEFAULT_ENGINE,
    variant: str = DEFAULT_VARIANT,
    box: WritingArea | None = None,
    blank: np.ndarray | None = None,
) -> TitleGuess | None:
    """Read `image` with `engine` after `variant`, without what `blank` shows was printed;
    raise what the engine raises."""
    if engine not in RUNNERS:
        raise ValueError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    ready = prepare(image, area=box, variant=variant, blank=blank)
    run = RUNNERS[engine]
    if box is None or variant != DEFAULT_VARIANT:
        return assemble(run(ready))
    ready = at_reading_scale(ready, image.shape[1] / box.width_mm)
    guess = assemble(run(ready))
    if guess is not None and guess.confidence >= RESTRIP_BELOW:
        return guess
    strips = line_strips(ready, READ_PX_PER_MM)
    if len(strips) < 2:
        return guess
    by_line = assemble(
        [p.moved(y0 - pad) for y0, y1, pad in strips for p in run(_strip(ready, y0, y1, pad))]
    )
    if by_line is not None and (guess is None or by_line.weight > guess.weight):
        return by_line
    return guess


def line_strips(image: np.ndarray, px_per_mm: float) -> list[tuple[int, int, int]]:
    """Return the bands of rows (y0, y1, padding) that hold one line of writing each.

    `image` is the writing area prepared for reading (paper white, ink dark). Lines are parted
    where the count of ink pixels per row falls to a valley of at most LINE_VALLEY of the lower
    of the peaks within a line's height above and below it; lines are at least LINE_MIN_MM
    apart, and ink at least LINE_INK_MM tall lies on both sides of a parting. The padding is
    the paper to put above and below the band before reading it.
    """
    import cv2

    ink = (image < 128).sum(axis=1).astype(np.float32)
    k = max(3, int(1.2 * px_per_mm) | 1)
    profile = cv2.GaussianBlur(ink.reshape(-1, 1), (1, k), 0).ravel()
    reach = round(LINE_REACH_MM * px_per_mm)
    cuts: list[int] = []
    for y in np.flatnonzero((profile[1:-1] <= profile[:-2]) & (profile[1:-1] < profile[2:])) + 1:
        above = profile[max(0, y - reach) : y].max(initial=0.0)
        below = profile[y + 1 : y + 1 + reach].max(initial=0.0)
        if min(above, below) <= 0 or profile[y] > LINE_VALLEY * min(above, below):
            continue
        if cuts and y - cuts[-1] < LINE_MIN_MM * px_per_mm:
            if profile[y] < profile[cuts[-1]]:
                cuts[-1] = int(y)
            continue
        cuts.append(int(y))
    inked = np.flatnonzero(ink > 0.05 * max(float(ink.max()), 1.0))
    tall = LINE_INK_MM * px_per_mm
    edges = [0]
    for i, cut in enumerate(cuts):
        after = cuts[i + 1] if i + 1 < len(cuts) else image.shape[0]
        # A band of ink lower than a line's letters (dots, a stroke apart) is no line of its own.
        if min(_ink_span(inked, edges[-1], cut), _ink_span(inked, cut, after)) >= tall:
            edges.append(cut)
    edges.append(image.shape[0])
    pad = round(2 * px_per_mm)
    return [(a, b, pad) for a, b in zip(edges, edges[1:], strict=False)]


def _ink_span(inked: np.ndarray, y0: int, y1: int) -> int:
    """Return how many rows lie between the first and last inked row in y0..y1."""
    rows = inked[(inked >= y0) & (inked < y1)]
    return int(rows[-1] - rows[0] + 1) if len(rows) else 0


def _strip(image: np.ndarray, y0: int, y1: int, pad: int) -> np.ndarray:
    """Return rows y0..y1 of `image` with `pad` rows of paper above and below."""
    import cv2

    return cv2.copyMakeBorder(image[y0:y1], pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=255)


def at_reading_scale(image: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Return `image` (at `px_per_mm`) scaled to READ_PX_PER_MM, where the detector finds
    marker writing best (benchmarks/OCR.md)."""
    import cv2

    f = READ_PX_PER_MM / px_per_mm
    if abs(f - 1) < 0.05:
        return image
    return cv2.resize(
        image, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA
    )


def read_title(
    image: Any,
    *,
    area: WritingArea | None,
    engine: str = DEFAULT_ENGINE,
    variant: str = DEFAULT_VARIANT,
    px_per_mm: float | None = None,
    blank: Any = None,
) -> TitleGuess | None:
    """Return the handwritten title on a flat, upright picture of a whole sticky, or None.

    `image` is anything `scanner.load_image` takes. `area` is the sticky's writing area (None
    reads the whole picture). `blank`, when given, is the same sticky as printed (anything
    `scanner.load_image` takes): what was printed is taken away before reading (`drop_print`). `px_per_mm` is the resolution the camera had on the sticky when
    the picture was enlarged since (a view's score); by default the picture's own. None comes
    back when nothing legible is written, when the picture is too coarse (under
    MIN_PX_PER_MM), or when the engine is missing or fails; the last two are logged once per
    engine and reason.
    """
    from scanner.errors import ScanError
    from scanner.imageio import load_image

    try:
        img = load_image(image)
        blank_img = load_image(blank) if blank is not None else None
    except ScanError as exc:
        _log_once(engine, "the picture cannot be read", exc)
        return None
    if px_per_mm is None and area is not None:
        px_per_mm = img.shape[1] / area.width_mm
    if px_per_mm is not None and px_per_mm < MIN_PX_PER_MM:
        return None
    if not engine_ready(engine):
        return None
    try:
        return recognise(img, engine=engine, variant=variant, box=area, blank=blank_img)
    except Exception as exc:  # noqa: BLE001 - an engine failure must never reach the board
        _log_once(engine, f"failed: {type(exc).__name__}", exc)
        return None


# ----------------------------------------------------------------------------------------------
# Several views of one sticky


def _distance(a: str, b: str) -> int:
    """Return the edit distance between `a` and `b` (case-folded)."""
    a, b = a.casefold(), b.casefold()
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def vote(guesses: list[TitleGuess | None]) -> TitleGuess | None:
    """Return the reading most views agree with, its confidence scaled by how many agree.

    The chosen reading is the one nearest to all the others (least summed edit distance per
    character, higher confidence first among equals). A view agrees when its reading is within
    a quarter of the characters of it; a view that read nothing disagrees.
    """
    found = [g for g in guesses if g is not None]
    if not found:
        return None

    def spread(g: TitleGuess) -> tuple[float, float]:
        far = sum(_distance(g.text, o.text) / max(1, len(g.text)) for o in found)
        return (far, -g.confidence)

    best = min(found, key=spread)
    agree = [g for g in found if _distance(best.text, g.text) <= 0.25 * max(1, len(best.text))]
    share = len(agree) / len(guesses)
    confidence = float(np.mean([g.confidence for g in agree])) * share
    return TitleGuess(text=best.text, confidence=round(confidence, 3))


def read_views(
    images: list[np.ndarray],
    *,
    area: WritingArea | None,
    blank: np.ndarray | None = None,
    engine: str = DEFAULT_ENGINE,
    variant: str = DEFAULT_VARIANT,
) -> TitleGuess | None:
    """Read every view of one sticky and return the reading they agree on (`vote`)."""
    return vote(
        [recognise(img, engine=engine, variant=variant, box=area, blank=blank) for img in images]
    )
