"""Measure the pictures the board keeps of handwritten stickies: whole views against views cut to
the writing (app.services.pictures.make_picture).

Run `python -m benchmarks.picture_bench` (about 3 minutes on two shared cores; `--quick` for a
smoke run). It writes `benchmarks/PICTURES.md`.

The samples are the title reader's benchmark writings (benchmarks.ocr_bench: handwriting fonts
and a marker-pen simulation, one to four lines, anywhere from over the printed prompt down,
photographed and rectified as the scanner's views are) at 2, 3 and 4 px/mm, a wall camera's
range. For each view:

- ink kept: the share of the writing's ink (the written sticky against the blank one, at 12
  px/mm, outside the painted key areas and marker) that lies inside the cut;
- magnification: how much taller the writing shows when the picture is given a fixed height on
  a page (the sticky's height over the cut's);
- CER: the title reader's character error rate (ocr_bench.cer) on the picture as stored, the
  whole view read in its writing area, the cut read whole;
- ms: CPU milliseconds to make and encode the picture.

Ratios, not absolute times, are what to compare: the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np

from app.services import pictures
from benchmarks import ocr_bench
from printables import get_template
from scanner import ocr

HERE = Path(__file__).resolve().parent
SCALES = (2.0, 3.0, 4.0)
STICKY = SimpleNamespace(code="7KQ2XM", batch=SimpleNamespace(template=ocr_bench.TEMPLATE))


def ink_mask_mm(w: ocr_bench.Writing) -> np.ndarray:
    """Return the writing's ink at HI_PX_PER_MM: dark on the written sticky, not on the blank one."""
    written = cv2.cvtColor(ocr_bench.written_sticky(w), cv2.COLOR_BGR2GRAY).astype(np.float32)
    blank = np.asarray(ocr_bench.blank_sticky().convert("L"), np.float32)
    paper = np.percentile(written, 90)
    return (written < 0.6 * paper) & (blank > 0.8 * 255)


def ink_kept(ink: np.ndarray, crop_mm, template) -> float | None:
    """Return the share of `ink` (outside the key areas and the marker) inside `crop_mm`."""
    p = ocr_bench.HI_PX_PER_MM
    shape = ink.shape
    hidden = pictures._key_mask(shape, template, p, p) | pictures._marker_mask(
        shape, template, p, p
    )
    ink = ink & ~hidden
    total = int(ink.sum())
    if not total:
        return None
    x0, y0, x1, y1 = (round(v * p) for v in crop_mm)
    return float(ink[y0:y1, x0:x1].sum()) / total


def whole_picture(view: np.ndarray, template) -> np.ndarray:
    """Return the whole view with its key areas painted over: the picture kept before cutting."""
    image = view.copy()
    sx = image.shape[1] / template.sticky_w_mm
    sy = image.shape[0] / template.sticky_h_mm
    image[pictures._key_mask(image.shape[:2], template, sx, sy)] = pictures.KEY_AREA_GREY
    return image


def read(image: np.ndarray, area: ocr.WritingArea) -> str | None:
    guess = ocr.recognise(image, box=area)
    return guess.text if guess else None


def measure(w: ocr_bench.Writing, template) -> dict:
    view = ocr_bench.picture_of(w)
    t0 = ocr_bench._cpu_seconds()
    data, shape = pictures.make_picture(STICKY, image=view, px_per_mm=w.px_per_mm)
    ms = (ocr_bench._cpu_seconds() - t0) * 1000
    cut = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    x0, y0, x1, y1 = shape.crop_mm
    whole_area = ocr_bench.area_for(ocr_bench.TEMPLATE)
    cut_area = ocr.WritingArea(box=(0.0, 0.0, 1.0, 1.0), keepout=(1.0, 1.0), width_mm=x1 - x0)
    whole_text = read(whole_picture(view, template), whole_area)
    cut_text = read(cut, cut_area if shape.cut else whole_area)
    row = {
        "px_per_mm": w.px_per_mm,
        "hand": w.hand,
        "lines": w.lines,
        "cut": shape.cut,
        "kept": ink_kept(ink_mask_mm(w), shape.crop_mm, template),
        "magnification": template.sticky_h_mm / (y1 - y0),
        "cer_whole": ocr_bench.cer(w.title, whole_text),
        "cer_cut": ocr_bench.cer(w.title, cut_text),
        "ms": ms,
        "bytes": len(data),
    }
    print(f"{w.hand} at {w.px_per_mm:g}: {whole_text!r} / {cut_text!r}", file=sys.stderr)
    return row


def summary(rows: list[dict]) -> dict:
    kept = [r["kept"] for r in rows if r["kept"] is not None]
    return {
        "n": len(rows),
        "cut": sum(r["cut"] for r in rows),
        "kept_median": statistics.median(kept) if kept else None,
        "kept_min": min(kept) if kept else None,
        "magnification": statistics.median(r["magnification"] for r in rows),
        "read_whole": sum(r["cer_whole"] <= ocr_bench.READ_CER for r in rows),
        "read_cut": sum(r["cer_cut"] <= ocr_bench.READ_CER for r in rows),
        "cer_whole": statistics.mean(r["cer_whole"] for r in rows),
        "cer_cut": statistics.mean(r["cer_cut"] for r in rows),
        "ms": statistics.median(r["ms"] for r in rows),
        "kb": statistics.median(r["bytes"] for r in rows) / 1024,
    }


def write_report(rows: list[dict], path: Path, *, samples: int) -> str:
    lines = [
        "# Sticky pictures cut to the writing",
        "",
        f"`python -m benchmarks.picture_bench` ({samples} writings of the title reader's benchmark).",
        "",
        "| px/mm | views | cut | ink kept (median, min) | writing shown larger | read whole | read cut "
        "| mean CER whole | mean CER cut | ms to make | kB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scale in [*SCALES, None]:
        chosen = [r for r in rows if scale is None or r["px_per_mm"] == scale]
        if not chosen:
            continue
        s = summary(chosen)
        kept = (
            f"{s['kept_median']:.1%}, {s['kept_min']:.1%}" if s["kept_median"] is not None else "-"
        )
        lines.append(
            f"| {'all' if scale is None else f'{scale:g}'} | {s['n']} | {s['cut']} | {kept} "
            f"| {s['magnification']:.2f}x | {s['read_whole']} | {s['read_cut']} "
            f"| {s['cer_whole']:.3f} | {s['cer_cut']:.3f} | {s['ms']:.0f} | {s['kb']:.0f} |"
        )
    table = "\n".join(lines)
    path.write_text(table + "\n", encoding="utf-8")
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 writings, a smoke run")
    parser.add_argument("--samples", type=int, default=36)
    parser.add_argument("--out", type=Path, default=HERE / "PICTURES.md")
    args = parser.parse_args(argv)
    samples = 6 if args.quick else args.samples
    ocr.set_threads(1)
    template = get_template(ocr_bench.TEMPLATE)
    writings = ocr_bench.sample_writings(
        samples, ocr_bench.available_hands(), SCALES, seed=25, titles=ocr_bench.TITLES
    )
    rows = [measure(w, template) for w in writings]
    print(write_report(rows, args.out, samples=samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
