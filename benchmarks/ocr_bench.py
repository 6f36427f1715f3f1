"""Measure which text recogniser reads a handwritten sticky title, and with which preprocessing.

Run `python -m benchmarks.ocr_bench` (`--quick` for a smoke run). It writes `benchmarks/OCR.md`
and `benchmarks/ocr.json`.

Each sample is a printed note-76 session sticky (printables' own image, on coloured paper) with a
realistic session title, 2 to 40 characters, written on its rules in one or two lines with one of
several handwriting fonts from Debian packages, or with a marker-pen simulation (a plain sans font
drawn letter by letter with thick strokes, each letter turned, scaled and lifted a little). Every
title is turned by up to 3 degrees and inked black, blue, red or green. The sticky is then
photographed at a scale of 1 to 8 px/mm: turned by up to 10 degrees and seen off-axis (perspective),
low-passed to the scale, blurred by the optics, darkened unevenly, given sensor noise and JPEG
compressed, and rectified back to a flat, upright picture at that scale from corners that carry a
small pose error, as the scanner's sticky pictures are.

The score is the character error rate (CER): the edit distance between the recognised text and the
title over the title's length, on case-folded text with runs of white space (and the line break)
made one space. A title counts as read at CER <= 0.25. Times are CPU milliseconds per sticky on
one thread, preprocessing included.

Stage 1 tries every engine with every preprocessing variant on a subset; stage 2 runs each
engine's best variant on every font, scale and title.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from benchmarks.photographer import STICKY_COLOURS_BGR, _disk_kernel, _pil_to_bgr
from printables import StickySpec, get_template, sticky_image
from scanner import ocr

HERE = Path(__file__).resolve().parent
HI_PX_PER_MM = 12.0  # the sticky is drawn this sharp, then photographed down to each scale
TEMPLATE = "note-76"
DICTIONARY = "DICT_4X4_1000"
SCALES = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
READ_CER = 0.25

# Session titles as people write them on an open-space wall: 2 to 40 characters.
TITLES = (
    "Go",
    "UX",
    "Vim tips",
    "Burnout",
    "Board games",
    "Open data",
    "Rust for beginners",
    "Home automation",
    "Climate tech",
    "Accessibility",
    "Remote work",
    "Mentoring",
    "Data viz",
    "3D printing",
    "WebAssembly",
    "Lightning talks",
    "Python typing",
    "CSS Grid",
    "Kubernetes in prod",
    "Local-first apps",
    "GraphQL vs REST",
    "Privacy by design",
    "Security basics",
    "Music and code",
    "Career change into tech",
    "Open source funding",
    "Kids learning to code",
    "Testing legacy code",
    "Bike repair",
    "Zero waste office",
    "How to run an open space",
    "Machine learning on small data",
    "What I wish I knew as a junior dev",
    "Self-hosting email in 2026",
    "Event sourcing war stories",
    "Mechanical keyboards",
    "Public transport apps",
    "From monolith to microservices and back",
    "Sketchnoting for developers",
    "Ask me anything: databases",
)

INKS_BGR = ((25, 25, 25), (140, 50, 20), (30, 30, 170), (40, 110, 30))
INK_WEIGHTS = (0.5, 0.3, 0.1, 0.1)


@dataclass(frozen=True)
class Hand:
    """Describe one handwriting style: a font file, extra stroke width, letter-by-letter jitter."""

    name: str
    path: str
    stroke_mm: float
    jitter: bool = False
    package: str = ""


HANDS = (
    Hand(
        "dkg",
        "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
        0.25,
        package="fonts-dkg-handwriting",
    ),
    Hand("breip", "/usr/share/fonts/truetype/breip/Breip.ttf", 0.25, package="fonts-breip"),
    Hand(
        "femkeklaver",
        "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf",
        0.2,
        package="fonts-femkeklaver",
    ),
    Hand(
        "humor-sans",
        "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
        0.2,
        package="fonts-humor-sans",
    ),
    Hand(
        "bwht-learn",
        "/usr/share/fonts/opentype/bwht/BecauseWeLearn-Regular.otf",
        0.25,
        package="fonts-bwht",
    ),
    Hand(
        "dancing-script",
        "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf",
        0.15,
        package="fonts-dancingscript",
    ),
    Hand("kristi", "/usr/share/fonts/truetype/kristi/Kristi.ttf", 0.15, package="fonts-kristi"),
    Hand(
        "marker",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        0.55,
        jitter=True,
        package="fonts-dejavu-core",
    ),
)


NOTES = """\
The engines, all offline with their models inside a package:

- `rapidocr`: RapidOCR 3.10 from PyPI. Its 27 MB wheel carries PP-OCRv6 small detection (9.9 MB)
  and recognition (21 MB) models as ONNX, run by onnxruntime (about 15 MB more). The app names the
  model files inside the package, so no download code runs (a test refuses the network and reads
  a title); 3.11 may stop carrying them, so pyproject pins 3.10. Its recogniser covers Chinese
  and Latin script; the reader keeps Latin letters, digits and common punctuation.
- `rapidocr-v4`: rapidocr_onnxruntime 1.4.4 (PP-OCRv4, models in its 15 MB wheel). It requires
  `opencv-python`, which would displace the project's `opencv-python-headless`; it was measured
  installed without its dependencies.
- `tesseract`: Tesseract 5.3 from Debian (`tesseract-ocr`, `tesseract-ocr-eng`, LSTM model), run
  as a program on the prepared picture with `--psm 6` (one block of text). Trained on print, it
  reads print-like capitals and fails on most joined or loose handwriting.
- Not tried: EasyOCR and PaddleOCR fetch their models from the network on first use.

What the app does with it: the scanner's sticky pictures are stored at 2 to 8 px/mm; after a new
best picture is stored, one background thread per server process reads its writing area
(`scanner/ocr.py`, `app/services/recognition.py`) with the chosen engine and preprocessing and
keeps the text as the sticky's suggested title. Pictures whose camera saw less than 1.5 px/mm are
not read (even when stored enlarged): at 1 px/mm only print-like capitals come out, and the rest
is garbage (the 1 px/mm column), which would make a poor suggestion. A suggestion is shown as "looks like: ..." and prefills the claim form and the transcription queue;
a person confirms it.

Limits of the measurement: the handwriting is eight fonts and a jittered sans, not people's hands;
real marker writing varies more (slant, size, joined letters, crossings-out), so expect real
close-ups to read somewhat worse than the table. The photographs are synthetic (see the module
docstring), and the pictures are rectified with a small, random pose error."""


class OcrBenchError(Exception):
    """A benchmark that cannot run as asked."""


def area_for(template: str = TEMPLATE) -> ocr.WritingArea:
    """Return the writing area of `template`, as the board reads it."""
    from app.services.recognition import writing_area

    return writing_area(template)


def available_hands() -> tuple[Hand, ...]:
    """Return the handwriting styles whose font file is installed."""
    return tuple(h for h in HANDS if os.path.exists(h.path))


# ----------------------------------------------------------------------------------------------
# Writing a title on a sticky


def split_title(title: str, widths: tuple[float, float], measure) -> list[str]:
    """Split `title` into one line, or two at the space that best fits the two lines' widths."""
    words = title.split()
    best, best_fit = [title], measure(title) / widths[0]
    if best_fit <= 1:
        return best
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        fit = max(measure(a) / widths[0], measure(b) / widths[1])
        if fit < best_fit:
            best, best_fit = [a, b], fit
    return best


def _draw_jittered(draw, xy, text, font, fill, stroke, rng, size_px):
    """Draw `text` letter by letter, each turned, scaled and lifted a little, as a marker does."""
    x, y = xy
    for ch in text:
        adv = font.getlength(ch)
        if ch != " ":
            scale = rng.uniform(0.9, 1.1)
            f = font.font_variant(size=max(4, round(size_px * scale)))
            box = f.getbbox(ch, stroke_width=stroke)
            w, h = box[2] - box[0] + 4, box[3] - box[1] + 4
            tile = Image.new("L", (w, h), 0)
            ImageDraw.Draw(tile).text(
                (2 - box[0], 2 - box[1]), ch, font=f, fill=255, stroke_width=stroke, stroke_fill=255
            )
            tile = tile.rotate(rng.uniform(-7, 7), resample=Image.BICUBIC, expand=True)
            dy = rng.uniform(-0.06, 0.06) * size_px
            ox = x + box[0] - (tile.width - w) / 2
            oy = y + box[1] - (tile.height - h) / 2 + dy
            draw.bitmap((round(ox), round(oy)), tile, fill=fill)
        x += adv * rng.uniform(0.98, 1.12)


def write_title(
    image: Image.Image,
    title: str,
    hand: Hand,
    *,
    px_per_mm: float,
    rng: np.random.Generator,
    template: str = TEMPLATE,
    ink=None,
) -> list[str]:
    """Write `title` by hand onto a sticky `image` (RGB, whole sticky); return its lines.

    The first line sits on the first rule across the whole width; a second line sits on the next
    rule, left of the QR code's quiet zone, as a person writes around it.
    """
    t = get_template(template)
    area = area_for(template)
    p = px_per_mm
    x0, y0, x1, y1 = (
        v * s for v, s in zip(area.box, (t.sticky_w_mm, t.sticky_h_mm) * 2, strict=True)
    )
    y0 -= 0.5  # the rules count from the area's top
    right2 = area.keepout[0] * t.sticky_w_mm - 1.0
    line_h = 10.0  # a little more than the rule pitch: marker writing is large
    size_px = round(9.0 * p)
    font = ImageFont.truetype(hand.path, size_px)
    stroke = max(0, round(hand.stroke_mm * p))
    width = (x1 - x0 - 2) * p, (right2 - x0 - 2) * p
    lines = split_title(title, width, lambda s: font.getlength(s) + 2 * stroke)
    need = max((font.getlength(s) + 2 * stroke) / w for s, w in zip(lines, width, strict=False))
    if need > 1:
        size_px = max(4, int(size_px / need))
        font = ImageFont.truetype(hand.path, size_px)
    ink = ink or INKS_BGR[int(rng.choice(len(INKS_BGR), p=INK_WEIGHTS))]
    layer = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(layer)
    asc, _ = font.getmetrics()
    for k, line in enumerate(lines):
        base = y0 + (k + 1) * line_h - 0.6 + rng.uniform(-0.5, 0.5)
        x = (x0 + 1 + rng.uniform(0, 2)) * p
        y = base * p - asc
        if hand.jitter:
            _draw_jittered(draw, (x, y), line, font, 255, stroke, rng, size_px)
        else:
            draw.text((x, y), line, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
    # The whole title turns a little about its middle, as a hand does.
    cx, cy = (x0 + x1) / 2 * p, (y0 + line_h) * p
    layer = layer.rotate(rng.uniform(-3, 3), resample=Image.BICUBIC, center=(cx, cy))
    rgb = ink[::-1]
    ink_img = Image.new("RGB", image.size, rgb)
    # Marker ink is nearly opaque: the paper shows through only a little.
    alpha = layer.point(lambda v: int(v * 0.92))
    image.paste(ink_img, (0, 0), alpha)
    return lines


def sticky_with_title(title: str, hand: Hand, *, seed: int, template: str = TEMPLATE):
    """Return a flat BGR sticky at HI_PX_PER_MM with `title` written on it, and its lines."""
    rng = np.random.default_rng(seed)
    spec = StickySpec(
        code="7KQ2XM", qr_text="http://localhost:5000/s/7KQ2XM", marker_id=42, kind="session"
    )
    img = sticky_image(
        spec, template=template, dpi=HI_PX_PER_MM * 25.4, marker_dictionary=DICTIONARY
    )
    colour = STICKY_COLOURS_BGR[int(rng.integers(len(STICKY_COLOURS_BGR)))]
    # Print on coloured paper first, then write on it with ink.
    paper = Image.fromarray(cv2.cvtColor(_pil_to_bgr(img, colour), cv2.COLOR_BGR2RGB))
    lines = write_title(paper, title, hand, px_per_mm=HI_PX_PER_MM, rng=rng, template=template)
    return cv2.cvtColor(np.asarray(paper), cv2.COLOR_RGB2BGR), lines


# ----------------------------------------------------------------------------------------------
# Photographing a sticky and rectifying it back


def photograph_sticky(flat_hi: np.ndarray, *, px_per_mm: float, seed: int) -> np.ndarray:
    """Photograph a flat sticky drawn at HI_PX_PER_MM and rectify it to `px_per_mm`.

    The sticky is turned by up to 10 degrees and seen with up to 12 degrees of perspective; the
    photo is low-passed to its scale, blurred (optics sigma 0.4-0.8 px, sometimes a defocus disk
    of up to 1 px), lit unevenly, noised (sigma 2-4 levels) and JPEG compressed (q 80-92). The
    corners used to rectify carry a pose error of sigma 0.3 photo px, as from the marker's pose.
    """
    rng = np.random.default_rng(seed)
    h_hi, w_hi = flat_hi.shape[:2]
    s = px_per_mm / HI_PX_PER_MM
    w, h = w_hi * s, h_hi * s
    pad = 0.25 * max(w, h)
    src = np.float32([[0, 0], [w_hi, 0], [w_hi, h_hi], [0, h_hi]])
    # Turn the sticky, then squeeze one side for perspective.
    a = math.radians(rng.uniform(-10, 10))
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    quad = (src * s - (w / 2, h / 2)) @ rot.T
    tilt_x, tilt_y = (math.tan(math.radians(rng.uniform(-12, 12))) * 0.5 for _ in range(2))
    persp = 1 + tilt_x * quad[:, 0] / w + tilt_y * quad[:, 1] / h
    quad = quad / persp[:, None] + (w / 2 + pad, h / 2 + pad)
    size = (round(w + 2 * pad), round(h + 2 * pad))
    hom = cv2.getPerspectiveTransform(src, np.float32(quad))
    sigma = max(0.0, 0.45 / s - 0.2)
    src_img = cv2.GaussianBlur(flat_hi, (0, 0), sigma) if sigma > 0 else flat_hi
    wall = (196, 204, 210)
    photo = cv2.warpPerspective(
        src_img, hom, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=wall
    )
    if rng.random() < 0.3:
        photo = cv2.filter2D(photo, -1, _disk_kernel(rng.uniform(0.5, 1.0)))
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.4, 0.8))
    gy, gx = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    t = (gx / size[0] - 0.5) * math.cos(ang) + (gy / size[1] - 0.5) * math.sin(ang)
    light = 1 - rng.uniform(0.0, 0.25) * (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    photo = photo.astype(np.float32) * light[..., None]
    photo += rng.standard_normal(photo.shape).astype(np.float32) * rng.uniform(2, 4)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(80, 93))])
    if not ok:
        raise OcrBenchError("JPEG encoding failed")
    photo = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    seen = np.float32(quad + rng.normal(0, 0.3, quad.shape))
    out_w, out_h = round(w), round(h)
    flat = np.float32([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]])
    back = cv2.getPerspectiveTransform(seen, flat)
    return cv2.warpPerspective(
        photo, back, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


# ----------------------------------------------------------------------------------------------
# Scoring


def normalise(text: str) -> str:
    """Case-fold `text` and make every run of white space one space."""
    return " ".join(text.casefold().split())


def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance between `a` and `b`."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(truth: str, guess: str | None) -> float:
    """Return the character error rate of `guess` against `truth`, capped at 1."""
    t, g = normalise(truth), normalise(guess or "")
    return min(1.0, edit_distance(t, g) / max(1, len(t)))


# ----------------------------------------------------------------------------------------------
# Running


@dataclass(frozen=True)
class Sample:
    title: str
    hand: str
    px_per_mm: float
    seed: int
    image: np.ndarray


def make_samples(titles, hands, scales, *, seed: int) -> list[Sample]:
    """Render every title in every hand and photograph it at every scale."""
    out = []
    for ti, title in enumerate(titles):
        for hi, hand in enumerate(hands):
            s = seed * 100_000 + ti * 100 + hi
            flat, _ = sticky_with_title(title, hand, seed=s)
            for scale in scales:
                img = photograph_sticky(flat, px_per_mm=scale, seed=s * 10 + int(scale * 10))
                out.append(Sample(title, hand.name, scale, s, img))
    return out


def _cpu_seconds() -> float:
    """Return the CPU time of this process and its finished children (tesseract runs as one).

    CPU time rather than wall time: the machine is shared, and one thread's CPU time is what a
    sticky costs on an idle core.
    """
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run(engine: str, variant: str, samples: list[Sample], box) -> list[dict]:
    """Read every sample with `engine` after `variant`; return one row per sample."""
    rows = []
    for smp in samples:
        t0 = _cpu_seconds()
        guess = ocr.recognise(smp.image, engine=engine, variant=variant, box=box)
        ms = (_cpu_seconds() - t0) * 1000
        rows.append(
            {
                "engine": engine,
                "variant": variant,
                "hand": smp.hand,
                "px_per_mm": smp.px_per_mm,
                "title": smp.title,
                "text": guess.text if guess else None,
                "cer": round(cer(smp.title, guess.text if guess else None), 4),
                "ms": round(ms, 1),
            }
        )
    return rows


def _task(job):
    engine, variant, samples, box = job
    ocr.set_threads(1)
    rows = run(engine, variant, samples, box)
    print(f"{engine} {variant}: {len(rows)} stickies read", file=sys.stderr, flush=True)
    return rows


def _run_all(pairs, samples, box, jobs: int) -> list[dict]:
    """Run every (engine, variant) pair on `samples`, in `jobs` processes; keep the pairs' order."""
    work = [(e, v, samples[i::jobs], box) for e, v in pairs for i in range(jobs)]
    if jobs == 1:
        results = [_task(w) for w in work]
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_task, work))
    return [row for rows in results for row in rows]


def summarise(rows: list[dict], key) -> dict:
    """Group rows by `key(row)`: mean CER, share read at CER <= 0.25, median ms, count."""
    groups: dict = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    return {
        k: {
            "cer": float(np.mean([r["cer"] for r in g])),
            "read": float(np.mean([r["cer"] <= READ_CER for r in g])),
            "ms": float(np.median([r["ms"] for r in g])),
            "n": len(g),
        }
        for k, g in groups.items()
    }


def _ocr_versions() -> dict:
    out = {}
    for name in ("rapidocr", "rapidocr_onnxruntime", "onnxruntime"):
        try:
            from importlib.metadata import version

            out[name] = version(name)
        except Exception:  # noqa: BLE001 - absent is a fine answer here
            out[name] = None
    try:
        import subprocess

        out["tesseract"] = subprocess.run(
            ["tesseract", "--version"], capture_output=True, text=True, check=False
        ).stdout.split("\n")[0]
    except OSError:
        out["tesseract"] = None
    return out


def _fmt_cell(v: dict | None) -> str:
    if not v:
        return "-"
    return f"{v['cer']:.2f} / {v['read'] * 100:.0f}%"


def write_report(result: dict, path: Path) -> None:
    """Write OCR.md from a result dictionary."""
    stage1, stage2 = result["stage1"], result["stage2"]
    engines = result["engines"]
    variants = result["variants"]
    hands = result["hands"]
    scales = result["scales"]
    lines = [
        "# Reading handwritten sticky titles (OCR)",
        "",
        f"Run `python -m benchmarks.ocr_bench` ({result['when']}, {result['machine']}; "
        f"{result['seconds']:.0f} s). Engines: "
        + ", ".join(
            v if v.startswith(k) else f"{k} {v}"
            for k, v in result["versions"].items()
            if v and k != "pytesseract"
        )
        + ".",
        "",
        "Each sample is a printed note-76 session sticky on coloured paper with a session title "
        "(2-40 characters, one or two lines) written in one of the handwriting styles below, "
        "photographed at the scale given (px per mm on the sticky: a 1080p webcam framing a 2 m "
        "board gets about 1, a phone at arm's length 8 or more), then rectified to a flat picture "
        "at that scale as the scanner's sticky pictures are (benchmarks/ocr_bench.py says how). "
        "Cells give the mean character error rate (CER, case-folded, white space collapsed) / the "
        f"share of titles read with CER <= {READ_CER}. Times are CPU milliseconds per sticky on one thread "
        "(the machine is shared, so wall time would measure the neighbours), preprocessing "
        "included.",
        "",
        "Handwriting styles: "
        + ", ".join(f"`{h['name']}` ({h['package']})" for h in hands)
        + ". `marker` is a marker-pen simulation: DejaVu Sans drawn letter by letter with "
        "0.55 mm of extra stroke, each letter turned by up to 7 degrees, scaled by 0.9-1.1 and "
        "lifted a little.",
        "",
        "## Stage 1: preprocessing, every engine",
        "",
        f"{stage1['n_titles']} titles x {len(hands)} styles at "
        + " and ".join(f"{s:g}" for s in stage1["scales"])
        + " px/mm. Variants are cumulative: `sticky` is the whole picture as it comes; `crop` "
        "cuts it to the writing area and blanks the QR code's corner; `gray` adds grayscale; "
        "`contrast` divides by the paper's blurred brightness and stretches; `binary` adds Otsu's "
        "threshold to that; `upscale` is `contrast` enlarged to 10 px/mm.",
        "",
        "| engine | variant | " + " | ".join(f"{s:g} px/mm" for s in stage1["scales"]) + " | ms |",
        "|---|---|" + "---|" * len(stage1["scales"]) + "---|",
    ]
    for e in engines:
        for v in variants:
            cells = [_fmt_cell(stage1["by"].get(f"{e}|{v}|{s:g}")) for s in stage1["scales"]]
            ms = stage1["ms"].get(f"{e}|{v}")
            lines.append(f"| {e} | {v} | " + " | ".join(cells) + f" | {ms:.0f} |")
    lines += [
        "",
        "## Stage 2: each engine with its best variant, by scale",
        "",
        f"{stage2['n_titles']} titles x {len(hands)} styles x {len(scales)} scales per engine.",
        "",
        "| engine (variant) | " + " | ".join(f"{s:g}" for s in scales) + " | ms p50 | ms p90 |",
        "|---|" + "---|" * len(scales) + "---|---|",
    ]
    for e in engines:
        v = stage2["best"][e]
        cells = [_fmt_cell(stage2["by_scale"].get(f"{e}|{s:g}")) for s in scales]
        t = stage2["ms"][e]
        lines.append(f"| {e} ({v}) | " + " | ".join(cells) + f" | {t[0]:.0f} | {t[1]:.0f} |")
    for e in engines:
        lines += [
            "",
            f"### {e} ({stage2['best'][e]}) by style and scale",
            "",
            "| style | " + " | ".join(f"{s:g}" for s in scales) + " |",
            "|---|" + "---|" * len(scales),
        ]
        for h in hands:
            cells = [_fmt_cell(stage2["by_hand"].get(f"{e}|{h['name']}|{s:g}")) for s in scales]
            lines.append(f"| {h['name']} | " + " | ".join(cells) + " |")
    lines += ["", "## Choice", "", result["choice"], "", NOTES, ""]
    if result.get("examples"):
        lines += [
            "## Stage 3: every title at 8 px/mm (chosen engine)",
            "",
            f"Each of the {result['stage3']['n_titles']} titles once, in the styles in turn: "
            f"{result['stage3']['read'] * 100:.0f}% read with CER <= {READ_CER}, mean CER "
            f"{result['stage3']['cer']:.2f}.",
            "",
            "| title | style | read | CER |",
            "|---|---|---|---|",
        ]
        for ex in result["examples"]:
            lines.append(f"| {ex['title']} | {ex['hand']} | {ex['text'] or ''} | {ex['cer']:.2f} |")
        lines.append("")
    path.write_text("\n".join(line for line in lines if line is not None) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few samples, a smoke test")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", default=",".join(ocr.ENGINES))
    parser.add_argument("--out", type=Path, default=HERE / "OCR.md")
    parser.add_argument("--json", type=Path, default=HERE / "ocr.json")
    parser.add_argument("--jobs", type=int, default=1, help="processes, each on one thread")
    parser.add_argument("--save", type=Path, help="write every sample's picture here as PNG")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite OCR.md from the JSON of the last run"
    )
    args = parser.parse_args(argv)
    if args.report_only:
        write_report(json.loads(args.json.read_text()), args.out)
        return 0

    hands = available_hands()[::3] if args.quick else available_hands()
    if not hands:
        raise OcrBenchError("no handwriting font installed; see HANDS for the Debian packages")
    engines = [e for e in args.engines.split(",") if ocr.engine_available(e)]
    missing = set(args.engines.split(",")) - set(engines)
    if missing:
        print(f"not installed, skipped: {', '.join(sorted(missing))}", file=sys.stderr)
    if not engines:
        raise OcrBenchError("no OCR engine installed")
    ocr.set_threads(1)
    box = area_for(TEMPLATE)
    started = time.perf_counter()

    t1 = TITLES[::20] if args.quick else TITLES[6::20]
    s1_scales = (3.0, 8.0)
    samples1 = make_samples(t1, hands, s1_scales, seed=args.seed)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for i, smp in enumerate(samples1):
            cv2.imwrite(str(args.save / f"{i:03d}-{smp.hand}-{smp.px_per_mm:g}.png"), smp.image)
    rows1 = _run_all([(e, v) for e in engines for v in ocr.VARIANTS], samples1, box, args.jobs)
    by1 = summarise(rows1, lambda r: f"{r['engine']}|{r['variant']}|{r['px_per_mm']:g}")
    ms1 = {
        k: v["ms"] for k, v in summarise(rows1, lambda r: f"{r['engine']}|{r['variant']}").items()
    }
    # The best variant reads the most titles at 8 px/mm, then at 3, then has the lower CER.
    best = {}
    for e in engines:

        def score(v, e=e):
            a, b = by1[f"{e}|{v}|8"], by1[f"{e}|{v}|3"]
            return (a["read"] + b["read"], -(a["cer"] + b["cer"]))

        best[e] = max(ocr.VARIANTS, key=score)

    # A short, a middling and a long title (39 characters, two lines).
    t2 = TITLES[::10] if args.quick else (TITLES[5], TITLES[18], TITLES[37])
    scales = (1.0, 3.0, 8.0) if args.quick else SCALES
    samples2 = make_samples(t2, hands, scales, seed=args.seed + 1)
    rows2 = _run_all([(e, best[e]) for e in engines], samples2, box, args.jobs)
    by_scale = summarise(rows2, lambda r: f"{r['engine']}|{r['px_per_mm']:g}")
    by_hand = summarise(rows2, lambda r: f"{r['engine']}|{r['hand']}|{r['px_per_mm']:g}")
    ms2 = {}
    for e in engines:
        t = [r["ms"] for r in rows2 if r["engine"] == e]
        ms2[e] = (float(np.percentile(t, 50)), float(np.percentile(t, 90)))

    chosen = max(engines, key=lambda e: (by_scale[f"{e}|8"]["read"], -by_scale[f"{e}|8"]["cer"]))

    # Stage 3: every title once at 8 px/mm, the styles in turn, with the chosen engine.
    t3 = TITLES[::8] if args.quick else TITLES
    samples3 = [
        make_samples((title,), (hands[i % len(hands)],), (8.0,), seed=args.seed + 2 + i)[0]
        for i, title in enumerate(t3)
    ]
    rows3 = _run_all([(chosen, best[chosen])], samples3, box, args.jobs)
    close = summarise(rows3, lambda r: "all")["all"]
    verdict = "meets" if close["read"] >= 0.7 else "misses"
    choice = (
        f"**{chosen}** with `{best[chosen]}` preprocessing: it reads {close['read'] * 100:.0f}% of "
        f"the {len(t3)} close-up titles of stage 3 (8 px/mm) with CER <= {READ_CER} (mean CER "
        f"{close['cer']:.2f}), which "
        f"{verdict} the target of 70%, at {ms2[chosen][0]:.0f} ms per sticky (p50, one thread)."
    )
    examples = rows3
    result = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "seconds": time.perf_counter() - started,
        "versions": _ocr_versions(),
        "engines": engines,
        "variants": list(ocr.VARIANTS),
        "hands": [{"name": h.name, "package": h.package} for h in hands],
        "scales": list(scales),
        "stage1": {
            "n_titles": len(t1),
            "scales": list(s1_scales),
            "by": by1,
            "ms": ms1,
        },
        "stage2": {
            "n_titles": len(t2),
            "best": best,
            "by_scale": by_scale,
            "by_hand": by_hand,
            "ms": ms2,
        },
        "stage3": {"n_titles": len(t3), "cer": close["cer"], "read": close["read"]},
        "chosen": chosen,
        "choice": choice,
        "examples": examples,
        "rows": rows1 + rows2 + rows3,
    }
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    write_report(result, args.out)
    print(choice)
    return 0


if __name__ == "__main__":
    sys.exit(main())
