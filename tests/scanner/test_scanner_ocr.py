"""Round trips for the title reader: write by hand, photograph, rectify, read, compare."""

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ocr_samples import HAND, NOTE_76, handwritten, needs_engine, needs_hand

from benchmarks.ocr_bench import cer, photograph_sticky, sticky_with_title
from scanner import ocr


def test_writing_area_note_76_matches_the_printed_rules():
    area = NOTE_76
    # 76 mm square: rules from one marker cell under the marker (4.1667 + 25 + 4.1667 mm), but
    # writing reaches over the prompt and above it: read from half a mm under the marker.
    assert [round(v * 76, 2) for v in area.box] == [2.0, 29.67, 74.0, 74.0]
    assert [round(v * 76, 2) for v in area.keepout] == [44.62, 44.62]
    assert area.width_mm == 76.0


def test_prepare_crop_blanks_the_qr_corner():
    img = np.full((760, 760, 3), 200, np.uint8)
    img[600:700, 600:700] = 0  # the QR code
    img[400:420, 100:300] = 20  # a pen stroke
    crop = ocr.prepare(img, area=NOTE_76, variant="crop")
    assert crop.shape == (443, 720, 3)
    assert int(crop.min()) == 20  # the stroke stays
    assert int(crop[-1, -1].min()) == 200  # the QR's corner is paper now


def test_prepare_upscale_enlarges_to_ten_px_per_mm():
    img = np.full((304, 304, 3), 200, np.uint8)  # 4 px/mm
    out = ocr.prepare(img, area=NOTE_76, variant="upscale")
    assert out.ndim == 2
    assert out.shape == (442, 720)  # 177 x 288 px at 4 px/mm, times 2.5


def test_prepare_unknown_variant_raises():
    with pytest.raises(ValueError, match="unknown variant 'sepia'"):
        ocr.prepare(np.zeros((10, 10, 3), np.uint8), area=None, variant="sepia")


def test_assemble_orders_lines_and_drops_print():
    p = ocr._Piece
    pieces = [
        p("for beginners", 0.8, (10, 90, 200, 140)),
        p("session title", 0.99, (5, 0, 60, 15)),
        p("Rust", 0.9, (10, 30, 80, 80)),
        p("7KQ", 0.9, (100, 5, 130, 18)),  # small print, not handwriting
        p("代", 0.9, (150, 30, 190, 80)),
    ]
    guess = ocr.assemble(pieces)
    # Confidence weighs each piece by its letters: (4 * 0.9 + 13 * 0.8) / 17.
    assert guess == ocr.TitleGuess(text="Rust for beginners", confidence=0.824)


def test_assemble_nothing_written_returns_none():
    assert ocr.assemble([ocr._Piece("session title", 0.99, (5, 0, 60, 15))]) is None


def test_read_title_coarse_picture_returns_none():
    assert ocr.read_title(np.full((76, 76, 3), 200, np.uint8), area=NOTE_76) is None


def test_read_title_enlarged_coarse_picture_returns_none(caplog):
    img = np.full((608, 608, 3), 200, np.uint8)
    with caplog.at_level(logging.WARNING, logger="scanner.ocr"):
        assert ocr.read_title(img, area=NOTE_76, engine="no-such-engine", px_per_mm=1.0) is None
    assert caplog.records == []


def test_read_title_missing_engine_returns_none_and_logs_once(caplog):
    img = np.full((608, 608, 3), 200, np.uint8)
    with caplog.at_level(logging.WARNING, logger="scanner.ocr"):
        assert ocr.read_title(img, area=NOTE_76, engine="no-such-engine") is None
        assert ocr.read_title(img, area=NOTE_76, engine="no-such-engine") is None
    assert [r.getMessage() for r in caplog.records] == [
        "text recognition with no-such-engine unavailable: not installed"
    ]


def test_read_title_not_an_image_returns_none():
    assert ocr.read_title(b"not a picture", area=NOTE_76) is None


def test_import_scanner_ocr_loads_no_engine():
    code = (
        "import sys, scanner.ocr; "
        "print(sorted(m for m in ('rapidocr', 'onnxruntime', 'flask') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@needs_engine
@needs_hand("dkg")
def test_read_title_close_up_reads_exactly():
    guess = ocr.read_title(handwritten("Open data", "dkg", 8.0, 2), area=NOTE_76)
    assert guess.text == "Open data"
    assert guess.confidence > 0.8


@needs_engine
@needs_hand("humor-sans")
def test_read_title_capitals_read_as_capitals():
    guess = ocr.read_title(handwritten("Open data", "humor-sans", 8.0, 1), area=NOTE_76)
    assert guess.text == "OPEN DATA"


@needs_engine
@needs_hand("femkeklaver")
def test_read_title_two_words_at_six_px_per_mm():
    guess = ocr.read_title(handwritten("Board games", "femkeklaver", 6.0, 4), area=NOTE_76)
    assert guess.text == "Board games"


@needs_engine
def test_read_title_marker_two_lines_in_order():
    guess = ocr.read_title(handwritten("Local-first apps", "marker", 8.0, 6), area=NOTE_76)
    assert guess.text == "Local-first apps"


@needs_engine
@needs_hand("kristi")
def test_read_title_cursive_at_four_px_per_mm_within_cer():
    title = "Career change into tech"
    guess = ocr.read_title(handwritten(title, "kristi", 4.0, 5), area=NOTE_76)
    assert cer(title, guess.text) <= 0.25


@needs_engine
def test_read_title_blank_sticky_returns_none():
    flat, _ = sticky_with_title(" ", HAND["marker"], seed=9)
    assert ocr.read_title(photograph_sticky(flat, px_per_mm=8.0, seed=9), area=NOTE_76) is None


@pytest.mark.slow
@needs_engine
def test_read_title_loads_models_without_network(tmp_path):
    # A fresh interpreter whose sockets refuse to connect: the models must come from the package.
    picture = tmp_path / "sticky.png"
    import cv2

    cv2.imwrite(str(picture), handwritten("Local-first apps", "marker", 8.0, 6))
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('no network in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from ocr_samples import NOTE_76\n"
        "from scanner import ocr\n"
        f"print(ocr.read_title({str(picture)!r}, area=NOTE_76).text)\n"
    )
    root = Path(__file__).parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "Local-first apps"


def _blank_with_print():
    """Return a blank note-76 at 4 px/mm (gray): white paper, a grey rule and a grey prompt."""
    blank = np.full((304, 304), 255, np.uint8)
    blank[168:170, 8:296] = 200  # the first rule, 42 mm down
    blank[137:143, 16:60] = 150  # the prompt
    return blank


def test_prepare_drop_print_paints_print_over_and_keeps_ink_that_crosses_it():
    blank = _blank_with_print()
    # The picture: the same print on yellow paper, 2 px (half a mm) off, and a pen stroke that
    # crosses the rule.
    img = np.full((304, 304, 3), (130, 235, 255), np.uint8)
    shifted = np.roll(blank, (2, 1), axis=(0, 1))
    img[shifted < 255] = (np.array([130, 235, 255]) * (shifted[shifted < 255, None] / 255)).astype(
        np.uint8
    )
    img[150:190, 100:106] = (40, 30, 30)  # the stroke
    img[200:230, 40:160] = (40, 30, 30)  # more writing, lower down
    noise = np.random.default_rng(1).normal(0, 3, img.shape)
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    kept = ocr.prepare(img, area=NOTE_76, variant="contrast")
    dropped = ocr.prepare(img, area=NOTE_76, variant="contrast", blank=blank)
    top = round(29.67 * 4)
    rule = 170 - top, slice(20, 90)  # the rule's row, left of the stroke
    assert kept[rule].max() < 200  # read as is, the rule is there
    assert dropped[rule].min() >= 200  # taken away
    assert dropped[139 - top, 20:56].min() >= 200  # and so is the prompt
    stroke = dropped[170 - top, 93:97]  # where the stroke crosses the rule (x from 8 px)
    assert stroke.max() < 60


def test_prepare_drop_print_without_print_changes_nothing():
    img = np.full((304, 304, 3), 220, np.uint8)
    img[150:190, 100:106] = 30
    blank = np.full((304, 304), 255, np.uint8)
    assert np.array_equal(
        ocr.prepare(img, area=NOTE_76, variant="contrast", blank=blank),
        ocr.prepare(img, area=NOTE_76, variant="contrast"),
    )


def test_reading_lines_slanted_lines_in_reading_order():
    p = ocr._Piece
    pieces = [
        # "open data": the second line, climbing to the right, its "data" as high as "with".
        p("data", 0.9, (120, 40, 200, 80), ends=(62, 58)),
        p("open", 0.9, (10, 55, 100, 95), ends=(76, 66)),
        # "Maps with": the first line, falling to the right.
        p("with", 0.9, (110, 10, 190, 50), ends=(28, 32)),
        p("Maps", 0.9, (5, 0, 100, 45), ends=(20, 26)),
    ]
    lines = ocr.reading_lines(pieces)
    assert [[q.text for q in line] for line in lines] == [["Maps", "with"], ["open", "data"]]
    assert ocr.assemble(pieces).text == "Maps with open data"


def test_reading_lines_four_lines_and_a_word_apart():
    p = ocr._Piece
    pieces = [
        p("back", 0.9, (10, 160, 80, 190)),
        p("From", 0.9, (10, 10, 80, 40)),
        p("monolith", 0.9, (90, 12, 200, 42)),
        p("to micro-", 0.9, (10, 60, 150, 90)),
        p("services and", 0.9, (12, 110, 190, 140)),
    ]
    guess = ocr.assemble(pieces)
    assert guess.text == "From monolith to micro- services and back"


def test_vote_takes_the_reading_most_views_agree_with():
    g = ocr.TitleGuess
    guess = ocr.vote([g("Open data", 0.9), g("Opem data", 0.8), g("Qpen dat", 0.7), None])
    assert guess.text == "Open data"
    # Three views of four agree (within a quarter of the letters): 0.8 x 3/4.
    assert guess.confidence == 0.6
    assert ocr.vote([None, None]) is None


@needs_engine
@needs_hand("dkg")
def test_read_title_writing_over_the_prompt_and_first_rule_reads_every_line():
    from benchmarks.ocr_bench import Writing, blank_gray, picture_of

    w = Writing(
        title="Maps with open data",
        hand="dkg",
        case="as typed",
        lines=2,
        size_mm=10.0,
        pitch=1.25,
        top_mm=0.55,  # the first line's letters stand on the prompt and reach above it
        left_mm=1.0,
        slant=0.1,
        drift_deg=(-2.0, 2.0),
        crossed=False,
        bleed_mm=0.0,
        px_per_mm=8.0,
        seed=3,
    )
    picture = picture_of(w)
    guess = ocr.read_title(picture, area=NOTE_76, blank=blank_gray(8.0))
    # Both lines, in order (the engine may add a comma).
    assert cer(w.title, guess.text) <= 0.1
    assert guess.text.replace(",", "") == "Maps with open data"


@pytest.mark.slow
@needs_engine
@needs_hand("dkg")
def test_ocr_bench_quick_writes_its_report(tmp_path):
    import json

    from benchmarks import ocr_bench

    out, data = tmp_path / "OCR.md", tmp_path / "ocr.json"
    assert ocr_bench.main(["--quick", "--jobs", "1", "--out", str(out), "--json", str(data)]) == 0
    result = json.loads(data.read_text())
    # 6 writings read three ways, 4 more read the chosen way, 2 read from one view and from three.
    assert len(result["rows"]) == 6 * 3 + 4 + 2 * 2
    assert result["chosen"] in ("printed, read as is", "printed, print taken away")
    report = out.read_text()
    for heading in (
        "## 1. What is printed where people write",
        "**Held-out styles:**",
        "## 4. Precision of the suggestions shown",
        "## 5. Wall scales: one view or three",
    ):
        assert heading in report


def test_line_strips_parts_lines_that_touch_and_keeps_one_line_whole():
    page = np.full((180, 288), 255, np.uint8)  # a writing area at 4 px/mm
    page[20:60, 10:200] = 0  # a line of writing 10 mm tall
    page[62:100, 10:180] = 0  # the next, 0.5 mm below it
    page[58:66, 40:48] = 0  # a letter of the first line touches the second
    strips = ocr.line_strips(page, 4.0)
    assert len(strips) == 2
    (a0, a1, pad), (b0, b1, _) = strips
    assert (a0, pad, b1) == (0, 8, 180)
    assert a1 == b0 and 58 <= a1 <= 66  # parted in the gap where the letter touches
    one = np.full((180, 288), 255, np.uint8)
    one[20:60, 10:200] = 0
    one[30:34, 10:200] = 255  # 2.5 mm of ink apart (dots, a stroke) are no line of their own
    assert len(ocr.line_strips(one, 4.0)) == 1


@needs_engine
@needs_hand("dkg")
def test_read_title_lines_written_close_together_read_one_by_one():
    """Two lines in a bleeding marker, 1.16 ems apart: the detector takes them for one block,
    which reads as nothing; read a line at a time, both are read, in order."""
    from benchmarks.ocr_bench import Writing, picture_of

    w = Writing(
        title="3D printing",
        hand="dkg",
        case="as typed",
        lines=2,
        size_mm=9.6,
        pitch=1.16,
        top_mm=0.97,
        left_mm=2.0,
        slant=-0.01,
        drift_deg=(-1.4, 1.3),
        crossed=False,
        bleed_mm=0.31,
        px_per_mm=4.0,
        seed=1100325,
    )
    picture = picture_of(w)
    area = NOTE_76
    ready = ocr.at_reading_scale(ocr.prepare(picture, area=area, variant="contrast"), 4.0)
    assert ocr.assemble(ocr._run_rapidocr(ready)) is None  # read whole, nothing
    assert len(ocr.line_strips(ready, ocr.READ_PX_PER_MM)) == 2
    guess = ocr.read_title(picture, area=area)
    assert guess.text.split()[0] == "3D" and cer(w.title, guess.text) <= 0.1
