"""Round trips for the scanner's reach: small markers, a remembered board, fused still frames."""

from dataclasses import replace

import cv2
import numpy as np
import pytest
from scanner_shots import SMALL, SMALL_CAMERA, shot_of

from benchmarks.photographer import make_board, photograph
from scanner import BoardView, Manifest, ScanError, markers, scan, scan_frames

# A 400 px wide photo of the small board: its sticky markers are about 9 px across.
TINY_CAMERA = replace(SMALL_CAMERA, width=400, height=300)
# One person in front of the slot cards down the board's left edge.
BLOCKING_CAMERA = replace(SMALL_CAMERA, people=1, people_at=(0.08,))


def _truth(shot):
    return {s.code: (s.room, s.slot) for s in shot.stickies if s.visible}


def _placed(result):
    return {s.code: (s.room, s.slot) for s in result.stickies}


def test_scan_markers_of_nine_pixels_every_sticky_in_its_cell():
    shot = shot_of(SMALL, TINY_CAMERA, 3)
    manifest = Manifest.from_dict(shot.board.manifest)
    gray = cv2.cvtColor(shot.image, cv2.COLOR_BGR2GRAY)
    plain, _ = markers.detect(gray, dictionary=manifest.marker_dictionary)
    sticky_ids = {s.marker_id for s in manifest.stickies}
    result = scan(shot.image, manifest)
    assert _placed(result) == _truth(shot)
    assert len(_truth(shot)) == 7
    # One detection pass at the photo's own size reads fewer (5 of the 7 with one threshold window).
    assert len([m for m in plain if m.id in sticky_ids]) < 7


def _drawn_marker(marker_id: int, side_px: float, turn: int = 0):
    """Return a blurred grey photo of one marker `side_px` across, turned `turn` quarters.

    Also returns its outline from the photo's top-left corner clockwise, and its corners in the
    marker's own order (tl, tr, br, bl of the symbol).
    """
    d = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_1000)
    big = cv2.aruco.generateImageMarker(d, marker_id, 60)
    big = np.rot90(big, turn).copy()
    canvas = np.full((120, 120), 235, np.uint8)
    canvas[30:90, 30:90] = big
    f = side_px / 60.0
    small = cv2.resize(canvas, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 0.6)
    c = 30 * f - 0.5
    s = 60 * f
    quad = np.float32([[c, c], [c + s, c], [c + s, c + s], [c, c + s]])
    return small, quad, np.roll(quad, turn, axis=0)


def test_decode_quads_reads_a_ten_pixel_marker_turned():
    gray, outline, own = _drawn_marker(17, 10.0, turn=1)
    got = markers.decode_quads(gray, [outline], ids=[3, 17, 40], dictionary="DICT_4X4_1000")
    assert [m.id for m in got] == [17]
    # The corners come back in the marker's own order, whichever corner the quad began with.
    assert np.allclose(got[0].corners, own)


def test_decode_quads_ids_not_issued_never_read():
    gray, outline, _ = _drawn_marker(17, 10.0)
    assert markers.decode_quads(gray, [outline], ids=[3, 40], dictionary="DICT_4X4_1000") == []


def test_refined_outline_reads_a_blurred_twelve_pixel_marker_its_contour_missed():
    d = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_1000)
    canvas = np.full((120, 120), 235, np.uint8)
    canvas[30:90, 30:90] = cv2.aruco.generateImageMarker(d, 17, 60)
    gray = cv2.GaussianBlur(cv2.resize(canvas, (24, 24), interpolation=cv2.INTER_AREA), (0, 0), 1.2)
    # The outline a contour leaves on the light side of the marker's edge: 0.8 px out.
    outline = np.float32([[5.5, 5.5], [17.5, 5.5], [17.5, 17.5], [5.5, 17.5]])
    contour = outline + 0.8 * np.float32([[-1, -1], [1, -1], [1, 1], [-1, 1]])
    ids = [3, 17, 40]
    assert markers.decode_quads(gray, [contour], ids=ids, dictionary="DICT_4X4_1000") == []
    (refined,) = markers.refined(gray, [contour])
    assert np.abs(refined - outline).max() < 0.3
    got = markers.decode_quads(gray, [refined], ids=ids, dictionary="DICT_4X4_1000")
    assert [m.id for m in got] == [17]


def _blocked_shots(seed=3, *, clear_jitter_seed=None):
    """Return (clear view, view with a person in front of the slot cards) of one camera."""
    board = make_board(SMALL, seed=seed)
    blocked = photograph(board, BLOCKING_CAMERA, seed=seed)
    clear = photograph(board, SMALL_CAMERA, seed=clear_jitter_seed or seed)
    return clear, blocked


@pytest.fixture(scope="module")
def blocked_pair():
    return _blocked_shots()


def test_scan_covered_slot_cards_unknown_without_a_previous_view(blocked_pair):
    _, blocked = blocked_pair
    result = scan(blocked.image, Manifest.from_dict(blocked.board.manifest))
    assert "slot card 2026-09-26T11:00 not found" in result.warnings
    assert len(_placed(result)) < len(_truth(blocked))


def test_scan_covered_slot_cards_remembered_from_the_previous_view(blocked_pair):
    clear, blocked = blocked_pair
    manifest = Manifest.from_dict(blocked.board.manifest)
    first = scan(clear.image, manifest)
    result = scan(blocked.image, manifest, previous=first)
    assert _placed(result) == _truth(blocked)
    assert "slot card 2026-09-26T11:00 hidden; its place remembered" in result.warnings
    assert not any(w.endswith("not found") for w in result.warnings)
    # The next scan can remember as much: the recalled cards are part of the new view.
    assert {mid for mid, _ in result.view.markers} == {mid for mid, _ in first.view.markers}
    assert isinstance(result.view, BoardView)


def test_scan_moved_camera_remembers_nothing(blocked_pair):
    _, blocked = blocked_pair
    manifest = Manifest.from_dict(blocked.board.manifest)
    # Another seed shifts the camera by up to 2 % of the frame.
    moved, _ = _blocked_shots(clear_jitter_seed=9)
    result = scan(blocked.image, manifest, previous=scan(moved.image, manifest))
    assert "the board moved since the previous view; nothing remembered" in result.warnings
    assert "slot card 2026-09-26T11:00 not found" in result.warnings


def test_scan_frames_fuses_noisy_still_frames():
    board = make_board(SMALL, seed=3)
    camera = replace(SMALL_CAMERA, jitter=0.0, noise_sigma=10.0)
    frames = [photograph(board, camera, seed=30 + k) for k in range(3)]
    result = scan_frames([f.image for f in frames], Manifest.from_dict(board.manifest))
    assert _placed(result) == _truth(frames[0])
    assert result.warnings[-1] == "fused 3 of 3 frames"


def test_scan_frames_of_two_sizes_refused():
    shot = shot_of()
    with pytest.raises(ScanError, match="same size"):
        scan_frames([shot.image, shot.image[:-2]], Manifest.from_dict(shot.board.manifest))
