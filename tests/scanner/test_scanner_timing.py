"""Per-stage timings: every scan says where its time went, stage by stage."""

from dataclasses import replace

import numpy as np
from scanner_shots import SMALL_CAMERA, shot_of

from scanner import Manifest, StageTime, scan, scan_frames, timings_dict
from scanner.timing import Stopwatch

STAGES = (
    "decode",
    "markers",
    "qr",
    "locate",
    "grid",
    "stickies",
    "placement",
    "cells",
    "closeup",
)


def test_scan_of_a_board_with_plain_notes_times_their_search_last(small_shot):
    manifest = Manifest.from_dict({**small_shot.board.manifest, "plain_notes": True})
    result = scan(small_shot.image, manifest)
    assert tuple(t.stage for t in result.timings) == (*STAGES, "notes")


def test_scan_of_printed_stickies_alone_skips_the_plain_note_search(small_shot):
    # The manifest of a board without plain notes says so (its default): no stage, no notes.
    result = scan(small_shot.image, Manifest.from_dict(small_shot.board.manifest))
    assert "notes" not in {t.stage for t in result.timings}
    assert result.notes == ()


def test_scan_times_every_stage_in_order(small_shot):
    result = scan(small_shot.image, Manifest.from_dict(small_shot.board.manifest))
    assert tuple(t.stage for t in result.timings) == STAGES
    assert all(t.wall_ms >= 0.0 and t.cpu_ms >= 0.0 for t in result.timings)
    # Finding the markers reads every pixel: it is never free.
    assert dict((t.stage, t.wall_ms) for t in result.timings)["markers"] > 0.0


def test_scan_timings_do_not_make_two_results_differ(small_shot):
    manifest = Manifest.from_dict(small_shot.board.manifest)
    first, second = scan(small_shot.image, manifest), scan(small_shot.image, manifest)
    assert first == second
    assert "timings" not in first.to_dict()


def test_scan_without_a_board_times_the_stages_it_ran(small_shot):
    blank = np.full_like(small_shot.image, 200)
    result = scan(blank, Manifest.from_dict(small_shot.board.manifest))
    assert result.board_found is False
    assert tuple(t.stage for t in result.timings) == ("decode", "markers", "qr", "locate")


def test_scan_frames_times_the_fusing_first():
    still = replace(SMALL_CAMERA, jitter=0.0)
    frames = [shot_of(camera=still, seed=3).image, shot_of(camera=still, seed=3).image]
    board = shot_of(camera=still, seed=3).board
    result = scan_frames(frames, Manifest.from_dict(board.manifest))
    assert tuple(t.stage for t in result.timings) == ("fuse", *STAGES)


def test_timings_dict_rounds_and_adds_a_total():
    timings = (StageTime("markers", 12.345, 20.04), StageTime("qr", 1.0, 0.5))
    assert timings_dict(timings) == {
        "markers": {"wall_ms": 12.3, "cpu_ms": 20.0},
        "qr": {"wall_ms": 1.0, "cpu_ms": 0.5},
        "total": {"wall_ms": 13.3, "cpu_ms": 20.5},
    }
    assert timings_dict(()) == {}


def test_stopwatch_adds_up_a_stage_run_twice():
    clock = Stopwatch()
    for _ in range(2):
        with clock.stage("locate"):
            sum(range(20000))
    with clock.stage("cells"):
        pass
    (locate, cells) = clock.times()
    assert (locate.stage, cells.stage) == ("locate", "cells")
    assert locate.cpu_ms > 0.0 and locate.wall_ms > 0.0
