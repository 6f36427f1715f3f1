"""The synthetic photographer's truth matches its pixels, and its seeds are reproducible."""

import json

import cv2
import numpy as np
import pytest

from benchmarks import scan_bench
from benchmarks.photographer import (
    BoardSpec,
    Camera,
    aruco_dictionary,
    default_rooms,
    default_slots,
    make_board,
    photograph,
)

SPEC = BoardSpec(
    rooms=default_rooms(4),
    slots=default_slots(3),
    column_width_mm=130.0,
    n_stickies=6,
    n_person_stickies=2,
    n_posters=1,
    px_per_mm=3.0,
)
CAMERA = Camera(width=1600, height=1200, yaw_deg=12.0, pitch_deg=-6.0, k1=-0.1, noise_sigma=3.0)


@pytest.fixture(scope="module")
def board():
    return make_board(SPEC, seed=7)


def test_photograph_truth_marker_corners_match_detected_markers(board):
    shot = photograph(board, CAMERA, seed=3)
    ids = {s["code"]: s["marker_id"] for s in board.manifest["stickies"]}
    detector = cv2.aruco.ArucoDetector(
        aruco_dictionary("DICT_4X4_1000"), cv2.aruco.DetectorParameters()
    )
    corners, found, _ = detector.detectMarkers(shot.image)
    seen = {int(i): c.reshape(4, 2) for i, c in zip(found.ravel(), corners, strict=True)}
    errors = [
        float(np.abs(seen[ids[s.code]] - s.marker_corners_px).max())
        for s in shot.stickies
        if ids[s.code] in seen
    ]
    assert len(shot.stickies) == 8
    assert len(errors) == 8
    assert max(errors) < 1.5


def test_photograph_truth_centre_follows_marker_offset(board):
    shot = photograph(board, CAMERA, seed=3)
    offsets = {s["code"]: s["marker_offset"] for s in board.manifest["stickies"]}
    for s in board.stickies:
        m = s.marker_corners_mm
        x_axis, y_axis = m[1] - m[0], m[3] - m[0]
        ox, oy = offsets[s.code]
        centre = m.mean(axis=0) + ox * x_axis + oy * y_axis
        assert np.allclose(centre, s.centre_mm, atol=1e-3)
    wall = shot.photo_to_wall(np.array([t.centre_px for t in shot.stickies]))
    assert np.allclose(wall, [s.centre_mm for s in board.stickies], atol=1e-3)


def test_board_cell_at_truth_cells(board):
    cells = [board.cell_at(*s.centre_mm) for s in board.stickies]
    assert cells == [None if s.room is None else (s.room, s.slot) for s in board.stickies]
    assert [s.kind for s in board.stickies].count("person") == 2
    assert len(board.manifest["stickies"]) == 6 + 2 + 2


def test_photograph_same_seed_same_pixels(board):
    first = photograph(board, CAMERA, seed=11)
    again = photograph(make_board(SPEC, seed=7), CAMERA, seed=11)
    other = photograph(board, CAMERA, seed=12)
    assert np.array_equal(first.image, again.image)
    assert not np.array_equal(first.image, other.image)


@pytest.mark.slow
def test_scan_bench_quick_writes_results(tmp_path):
    argv = ["--quick", "--conditions", "webcam-720p", "--methods", "scanner,zxing-cpp,pyzbar"]
    frames = tmp_path / "frames"
    assert scan_bench.main([*argv, "--out", str(tmp_path), "--save-frames", str(frames)]) == 0
    data = json.loads((tmp_path / "results.json").read_text())
    assert [(r["condition"], r["method"], r["frames"]) for r in data["rows"]] == [
        ("webcam-720p", "scanner", 2),
        ("webcam-720p", "zxing-cpp", 2),
        ("webcam-720p", "pyzbar", 2),
    ]
    results = (tmp_path / "RESULTS.md").read_text()
    assert "| webcam-720p | pyzbar |" in results
    # Every placed sticky got a picture that matches the sticky on the wall.
    scanner_row = data["rows"][0]
    pictures = [p for f in scanner_row["frames_detail"] for p in f["pictures"]]
    assert len(pictures) == scanner_row["correct"] + scanner_row["wrong"]
    assert min(pictures) >= 0.75
    assert f"| webcam-720p | {len(pictures)} | {len(pictures)} |" in results
    assert sorted(p.name for p in frames.iterdir()) == [
        "webcam-720p-1.json",
        "webcam-720p-1.manifest.json",
        "webcam-720p-1.png",
        "webcam-720p-2.json",
        "webcam-720p-2.manifest.json",
        "webcam-720p-2.png",
    ]
    truth = json.loads((frames / "webcam-720p-1.json").read_text())
    assert (truth["condition"], truth["seed"], len(truth["stickies"])) == ("webcam-720p", 1, 43)


def test_handwrite_inks_only_the_writing_box():
    from benchmarks.photographer import handwrite

    img = np.full((300, 400, 3), 255, np.uint8)
    handwrite(img, "Rust for Pythonistas", (10.0, 10.0, 90.0, 70.0), 4.0, seed=1)
    inked = np.argwhere(img.min(axis=2) < 200)
    assert len(inked) > 500
    y0, x0 = inked.min(axis=0)
    y1, x1 = inked.max(axis=0)
    assert (x0, y0) >= (36, 36) and (x1, y1) <= (364, 290)
    assert tuple(img[tuple(inked[0])]) != (255, 255, 255)
