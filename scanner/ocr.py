"""Read the handwritten title on a flat, upright picture of a sticky.

The picture is the whole sticky, rectified square-on (pixel (0, 0) is the sticky's top-left
corner, x right, y down, the same number of pixels per mm across and down). The title is read from
the writing area only: a `WritingArea` holds it as fractions of the sticky's width and height,
computed from the template's millimetres by `writing_area`, so that this module needs no template
table of its own.

Engines run offline with the models inside their packages; nothing is downloaded:

- `rapidocr`: RapidOCR 3 (PP-OCRv6 small detection and recognition, ONNX Runtime); the default,
  chosen by benchmarks/ocr_bench.py (benchmarks/OCR.md).
- `rapidocr-v4`: rapidocr_onnxruntime 1.4 (PP-OCRv4); only for the benchmark.
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
# A picture coarser than this cannot hold a legible title (benchmarks/OCR.md).
MIN_PX_PER_MM = 1.5
# Recognised pieces lower than this share of the tallest piece are print (the prompt), not the title.
MIN_HEIGHT_SHARE = 0.45
TESSERACT_TIMEOUT_S = 20

# Printed on the writing area of every sticky; never part of a handwritten title.
PROMPTS = ("session title", "name", "interests")


@dataclass(frozen=True)
class TitleGuess:
    """Hold a recognised title: `text` (one line) and `confidence` in 0..1."""

    text: str
    confidence: float


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
    margin to margin; the QR code and its quiet zone (4 modules, at most 4/21 of its side) sit
    in the bottom-right corner.
    """
    w, h = sticky_mm
    top = marker_origin_mm[1] + marker_side_mm + marker_cell_mm
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


def prepare(image: np.ndarray, *, area: WritingArea | None, variant: str) -> np.ndarray:
    """Return the picture an engine reads, after the cumulative steps up to `variant`.

    `sticky`: the picture as it comes. `crop`: the writing area, with the QR code's corner filled
    with the paper's colour. `gray`: grayscale. `contrast`: divided by the paper's blurred
    brightness (uneven light and coloured paper become white) and stretched. `binary`: Otsu's
    threshold after `contrast`. `upscale`: `contrast` enlarged to UPSCALE_PX_PER_MM.
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
    contrast = _flatten(gray, px_per_mm)
    if variant == "contrast":
        return contrast
    if variant == "binary":
        return _otsu(contrast)
    scale = max(1.0, UPSCALE_PX_PER_MM / px_per_mm)
    return cv2.resize(contrast, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def _flatten(gray: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Divide by the paper's brightness (a blur wider than a stroke) and stretch to 0..255."""
    import cv2

    k = max(3, int(8 * px_per_mm) | 1)
    # A closing removes the ink before the blur, so the background is paper only.
    paper = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), k / 3)
    flat = gray.astype(np.float32) / np.maximum(paper.astype(np.float32), 1) * 255
    lo, hi = np.percentile(flat, 1), np.percentile(flat, 99.5)
    out = (flat - lo) * (255.0 / max(hi - lo, 1.0))
    return np.clip(out, 0, 255).astype(np.uint8)


def _otsu(gray: np.ndarray) -> np.ndarray:
    import cv2

    _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return out


# ----------------------------------------------------------------------------------------------
# Engines


@dataclass(frozen=True)
class _Piece:
    """Hold one recognised line or word: its text, score and box (x0, y0, x1, y1) in pixels."""

    text: str
    score: float
    box: tuple[float, float, float, float]


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


def _run_rapidocr(img: np.ndarray) -> list[_Piece]:
    out = _engine("rapidocr")(img, use_cls=False)
    if out.txts is None or out.boxes is None:
        return []
    return [
        _Piece(t, float(s), _box(b))
        for t, s, b in zip(out.txts, out.scores, out.boxes, strict=True)
    ]


def _run_rapidocr_v4(img: np.ndarray) -> list[_Piece]:
    result, _ = _engine("rapidocr-v4")(img, use_cls=False)
    return [_Piece(t, float(s), _box(b)) for b, t, s in (result or [])]


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
    """Join recognised pieces into one line of title text, top to bottom and left to right.

    Pieces much lower than the tallest one are printed text (the prompt), not handwriting.
    """
    pieces = [p for p in pieces if _clean(p.text) and not _is_prompt(_clean(p.text))]
    if not pieces:
        return None
    tallest = max(p.box[3] - p.box[1] for p in pieces)
    pieces = [p for p in pieces if p.box[3] - p.box[1] >= MIN_HEIGHT_SHARE * tallest]
    # Lines: pieces whose vertical middles lie within half the tallest height of each other.
    pieces.sort(key=lambda p: (p.box[1] + p.box[3]) / 2)
    lines: list[list[_Piece]] = []
    for p in pieces:
        mid = (p.box[1] + p.box[3]) / 2
        if lines:
            last = lines[-1]
            last_mid = np.mean([(q.box[1] + q.box[3]) / 2 for q in last])
            if abs(mid - last_mid) < tallest / 2:
                last.append(p)
                continue
        lines.append([p])
    words = [_clean(p.text) for line in lines for p in sorted(line, key=lambda q: q.box[0])]
    text = " ".join(words).strip()
    if not text:
        return None
    kept = [p for line in lines for p in line]
    weights = [len(_clean(p.text)) for p in kept]
    confidence = float(np.average([p.score for p in kept], weights=weights))
    return TitleGuess(text=text, confidence=round(min(1.0, max(0.0, confidence)), 3))


def recognise(
    image: np.ndarray,
    *,
    engine: str = DEFAULT_ENGINE,
    variant: str = DEFAULT_VARIANT,
    box: WritingArea | None = None,
) -> TitleGuess | None:
    """Read `image` with `engine` after `variant`; raise what the engine raises."""
    if engine not in RUNNERS:
        raise ValueError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    return assemble(RUNNERS[engine](prepare(image, area=box, variant=variant)))


def read_title(
    image: Any,
    *,
    area: WritingArea | None,
    engine: str = DEFAULT_ENGINE,
    variant: str = DEFAULT_VARIANT,
    px_per_mm: float | None = None,
) -> TitleGuess | None:
    """Return the handwritten title on a flat, upright picture of a whole sticky, or None.

    `image` is anything `scanner.load_image` takes. `area` is the sticky's writing area (None
    reads the whole picture). `px_per_mm` is the resolution the camera had on the sticky when
    the picture was enlarged since (a view's score); by default the picture's own. None comes
    back when nothing legible is written, when the picture is too coarse (under
    MIN_PX_PER_MM), or when the engine is missing or fails; the last two are logged once per
    engine and reason.
    """
    from scanner.errors import ScanError
    from scanner.imageio import load_image

    try:
        img = load_image(image)
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
        return recognise(img, engine=engine, variant=variant, box=area)
    except Exception as exc:  # noqa: BLE001 - an engine failure must never reach the board
        _log_once(engine, f"failed: {type(exc).__name__}", exc)
        return None
