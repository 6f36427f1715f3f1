"""The title reader's child process: low priority, restarted when it dies, same answers."""

import logging
import os

import cv2
import pytest
from ocr_samples import NOTE_76, handwritten, needs_engine, needs_hand

from scanner.ocr_process import NICE, TitleReader


def _niceness(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        # Field 19 is the nice value; the command name (field 2) may hold spaces.
        return int(f.read().rsplit(")", 1)[1].split()[16])


@needs_engine
@needs_hand("dkg")
def test_reader_reads_in_a_low_priority_child_and_restarts_it(tmp_path):
    path = tmp_path / "sticky.jpg"
    assert cv2.imwrite(str(path), handwritten("Open data", "dkg", 6.0, 2))
    reader = TitleReader()
    try:
        guess = reader.read(path, area=NOTE_76, px_per_mm=6.0)
        assert guess is not None and guess.text == "Open data"
        child = reader._proc
        assert child.pid != os.getpid()
        if os.path.exists(f"/proc/{child.pid}/stat"):
            assert _niceness(child.pid) == min(19, _niceness(os.getpid()) + NICE)
        child.kill()
        child.wait()
        # The next picture starts a new reader: the one that died cost only its own picture.
        assert reader.read(path, area=NOTE_76, px_per_mm=6.0).text == "Open data"
        assert reader._proc.pid != child.pid
    finally:
        reader.close()
    assert reader._proc is None


def test_reader_answers_coarse_pictures_and_missing_engines_without_a_child(tmp_path, caplog):
    reader = TitleReader(engine="reader-engine-not-installed")
    with caplog.at_level(logging.WARNING, logger="scanner.ocr"):
        assert reader.read(tmp_path / "x.jpg", area=NOTE_76, px_per_mm=1.0) is None
        assert caplog.records == []
        assert reader.read(tmp_path / "x.jpg", area=NOTE_76, px_per_mm=4.0) is None
        assert reader.read(tmp_path / "y.jpg", area=NOTE_76, px_per_mm=4.0) is None
    assert reader._proc is None
    assert [r.getMessage() for r in caplog.records] == [
        "text recognition with reader-engine-not-installed unavailable: not installed"
    ]


@needs_engine
def test_reader_unreadable_picture_gives_no_title_and_keeps_the_child(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"not a picture")
    reader = TitleReader()
    try:
        assert reader.read(path, area=NOTE_76, px_per_mm=4.0) is None
        first = reader._proc.pid
        assert reader.read(tmp_path / "missing.jpg", area=None, px_per_mm=4.0) is None
        assert reader._proc.pid == first
    finally:
        reader.close()


@pytest.mark.parametrize("timeout_s", [0.001])
@needs_engine
@needs_hand("dkg")
def test_reader_that_does_not_answer_in_time_is_replaced(tmp_path, timeout_s, caplog):
    path = tmp_path / "sticky.jpg"
    assert cv2.imwrite(str(path), handwritten("Open data", "dkg", 6.0, 2))
    reader = TitleReader(timeout_s=timeout_s)
    try:
        with caplog.at_level(logging.WARNING, logger="scanner.ocr_process"):
            assert reader.read(path, area=NOTE_76, px_per_mm=6.0) is None
        assert reader._proc is None
        assert "no answer within 0.001 s; starting a new reader" in caplog.text
    finally:
        reader.close()
