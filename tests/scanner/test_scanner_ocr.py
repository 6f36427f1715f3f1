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
    # 76 mm square: rules from one marker cell under the marker (4.1667 + 25 + 4.1667 mm).
    assert [round(v * 76, 2) for v in area.box] == [2.0, 33.83, 74.0, 74.0]
    assert [round(v * 76, 2) for v in area.keepout] == [44.62, 44.62]
    assert area.width_mm == 76.0


def test_prepare_crop_blanks_the_qr_corner():
    img = np.full((760, 760, 3), 200, np.uint8)
    img[600:700, 600:700] = 0  # the QR code
    img[400:420, 100:300] = 20  # a pen stroke
    crop = ocr.prepare(img, area=NOTE_76, variant="crop")
    assert crop.shape == (402, 720, 3)
    assert int(crop.min()) == 20  # the stroke stays
    assert int(crop[-1, -1].min()) == 200  # the QR's corner is paper now


def test_prepare_upscale_enlarges_to_ten_px_per_mm():
    img = np.full((304, 304, 3), 200, np.uint8)  # 4 px/mm
    out = ocr.prepare(img, area=NOTE_76, variant="upscale")
    assert out.ndim == 2
    assert out.shape == (402, 720)  # 161 x 288 px at 4 px/mm, times 2.5


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
