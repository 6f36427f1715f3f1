import numpy as np
import pytest

from scanner.board import complete_quad, frame_from_quad
from scanner.grid import INTERPOLATED, SEEN, UNKNOWN, build_grid, detect_transposed

# A wall 1000 mm wide and 1300 mm tall (between corner-marker centres), seen from the side.
W, H = 1000.0, 1300.0
H_TRUE = np.array([[0.9, 0.08, 300.0], [-0.05, 0.85, 120.0], [0.00012, -0.00005, 1.0]])


def to_photo(pts_mm):
    p = np.asarray(pts_mm, dtype=np.float64).reshape(-1, 2)
    q = np.hstack([p, np.ones((len(p), 1))]) @ H_TRUE.T
    return q[:, :2] / q[:, 2:3]


def square(cx, cy, side):
    h = side / 2
    return to_photo([(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)])


CORNERS_MM = {"tl": (0, 0), "tr": (W, 0), "br": (W, H), "bl": (0, H)}
ROOMS_MM = [(200.0 + 180 * i, -60.0) for i in range(5)]
SLOTS_MM = [(-70.0, 150.0 + 160 * j) for j in range(7)]


def _inputs(seen):
    corners = {n: tuple(to_photo([p])[0]) for n, p in CORNERS_MM.items() if n in seen}
    groups = [to_photo(ROOMS_MM), to_photo(SLOTS_MM)]
    upright = [square(x, y, 84) for n, (x, y) in CORNERS_MM.items() if n in seen]
    upright += [square(x, y, 40) for x, y in ROOMS_MM + SLOTS_MM]
    extent = upright + [square(500, 700, 25)]
    return corners, groups, upright, extent


def test_frame_from_quad_maps_corners_and_aspect():
    quad = to_photo(list(CORNERS_MM.values()))
    squares = [square(x, y, 40) for x, y in ROOMS_MM]
    frame = frame_from_quad(quad, squares)
    assert frame.aspect == pytest.approx(1.3, abs=1e-6)
    got = frame.board(to_photo([(0, 0), (W, 0), (W, H), (500, 650)]))
    assert got == pytest.approx(np.array([[0, 0], [1, 0], [1, 1.3], [0.5, 0.65]]), abs=1e-9)
    back = frame.photo(got)
    assert back == pytest.approx(to_photo([(0, 0), (W, 0), (W, H), (500, 650)]), abs=1e-6)


def test_frame_from_quad_not_convex_is_none():
    quad = to_photo([(0, 0), (W, H), (W, 0), (0, H)])
    assert frame_from_quad(quad, []) is None


@pytest.mark.parametrize("hidden", ["tl", "tr", "br", "bl"])
def test_complete_quad_one_corner_hidden_rebuilt_from_cards(hidden):
    corners, groups, upright, extent = _inputs({"tl", "tr", "br", "bl"} - {hidden})
    quad, why = complete_quad(corners, groups, upright, extent)
    assert why is None
    true = to_photo(list(CORNERS_MM.values()))
    assert quad == pytest.approx(true, abs=1e-6)


def test_complete_quad_two_diagonal_corners_rebuilt():
    corners, groups, upright, extent = _inputs({"tl", "br"})
    quad, why = complete_quad(corners, groups, upright, extent)
    assert why is None
    assert quad == pytest.approx(to_photo(list(CORNERS_MM.values())), abs=1e-6)


def test_complete_quad_bottom_corners_hidden_gives_true_frame():
    corners, groups, upright, extent = _inputs({"tl", "tr"})
    quad, why = complete_quad(corners, groups, upright, extent)
    assert why is None
    frame = frame_from_quad(quad, upright)
    # The outline stops past the farthest marker, but board coordinates are the true ones.
    got = frame.board(to_photo([(500, 650), (1000, 1100)]))
    assert got == pytest.approx(np.array([[0.5, 0.65], [1.0, 1.1]]), abs=1e-6)


def test_complete_quad_one_corner_and_cards_gives_true_frame():
    corners, groups, upright, extent = _inputs({"tl"})
    quad, why = complete_quad(corners, groups, upright, extent)
    assert why is None
    frame = frame_from_quad(quad, upright)
    mm = np.array([(0, 0), (W, 0), (0, H), (500, 650)])
    b = frame.board(to_photo(mm))
    # Board coordinates keep the wall's shape; only their unit is no longer the board's width.
    unit = np.linalg.norm(b[1] - b[0])
    assert (b - b[0]) / unit == pytest.approx(mm / W, abs=1e-6)


def test_complete_quad_no_corner_no_cards_is_none():
    corners, _, upright, extent = _inputs(set())
    quad, why = complete_quad(corners, [np.zeros((0, 2)), np.zeros((0, 2))], upright, extent)
    assert quad is None
    assert why == (
        "only 0 corner markers found (seen: none); need two, or two room and two slot cards"
    )


def _pts(xs, y, *, across=True):
    return {i: np.array([x, y] if across else [y, x]) for i, x in enumerate(xs) if x is not None}


def test_build_grid_uneven_columns_boundaries_are_midpoints():
    rooms = _pts([0.2, 0.3, 0.6, 0.7], 0.05)
    slots = _pts([0.2, 0.4, 0.5], 0.08, across=False)
    grid, warnings = build_grid(rooms=rooms, slots=slots, n_rooms=4, n_slots=3)
    assert warnings == []
    assert grid.transposed is False
    assert grid.columns.lo == pytest.approx((0.15, 0.25, 0.45, 0.65))
    assert grid.columns.hi == pytest.approx((0.25, 0.45, 0.65, 0.75))
    assert grid.rows.lo == pytest.approx((0.1, 0.3, 0.45))
    assert grid.rows.hi == pytest.approx((0.3, 0.45, 0.55))
    assert grid.columns.locate(0.5, margin=0.1) == ("in", 2)
    assert grid.columns.locate(0.46, margin=0.1) == ("doubt", 2)
    assert grid.columns.locate(0.9, margin=0.1) == ("outside", -1)


def test_build_grid_missing_inner_header_interpolated_not_shifted():
    rooms = _pts([0.2, None, 0.6, 0.7], 0.05)
    slots = _pts([0.2, 0.4, 0.5], 0.08, across=False)
    grid, _ = build_grid(rooms=rooms, slots=slots, n_rooms=4, n_slots=3)
    assert grid.columns.centres == pytest.approx((0.2, 0.4, 0.6, 0.7))
    assert grid.columns.status == (SEEN, INTERPOLATED, SEEN, SEEN)
    # Column 2 runs from 0.5 to 0.65 (halfway to the interpolated 0.4 and to 0.7).
    assert grid.columns.locate(0.64, margin=0.1) == ("doubt", 2)
    assert grid.columns.locate(0.6, margin=0.1) == ("in", 2)


def test_build_grid_missing_end_header_unknown():
    rooms = _pts([0.2, 0.3, 0.6, None], 0.05)
    slots = _pts([0.2, 0.4, 0.5], 0.08, across=False)
    grid, _ = build_grid(rooms=rooms, slots=slots, n_rooms=4, n_slots=3)
    assert grid.columns.status == (SEEN, SEEN, SEEN, UNKNOWN)
    # Column 3 is extrapolated to 0.75..1.05: never placed into.
    assert grid.columns.locate(0.9, margin=0.1) == ("unknown", 3)
    # Beyond the guessed edge nothing is outside: the edge itself is a guess.
    assert grid.columns.locate(1.1, margin=0.1) == ("unknown", 3)
    assert grid.columns.locate(3.0, margin=0.1) == ("unknown", 3)
    assert grid.columns.locate(0.0, margin=0.1) == ("outside", -1)


def test_build_grid_transposed_rooms_down_the_left():
    rooms = _pts([0.2, 0.4, 0.5], 0.08, across=False)
    slots = _pts([0.2, 0.3, 0.6, 0.7], 0.05)
    grid, _ = build_grid(rooms=rooms, slots=slots, n_rooms=3, n_slots=4)
    assert grid.transposed is True
    assert grid.columns.centres == pytest.approx((0.2, 0.3, 0.6, 0.7))
    assert grid.rows.centres == pytest.approx((0.2, 0.4, 0.5))
    assert grid.room_slot(3, 1) == (1, 3)


def test_detect_transposed_one_card_each():
    assert detect_transposed({0: np.array([0.3, 0.05])}, {0: np.array([0.05, 0.3])}) is False
    assert detect_transposed({0: np.array([0.05, 0.3])}, {0: np.array([0.3, 0.05])}) is True


def test_build_grid_out_of_order_header_dropped():
    rooms = _pts([0.2, 0.3, 0.9, 0.5, 0.6], 0.05)
    slots = _pts([0.2, 0.4, 0.5], 0.08, across=False)
    grid, warnings = build_grid(rooms=rooms, slots=slots, n_rooms=5, n_slots=3)
    assert warnings == ["room card 3 is out of order"]
    assert grid.columns.status == (SEEN, SEEN, INTERPOLATED, SEEN, SEEN)
    assert grid.columns.centres == pytest.approx((0.2, 0.3, 0.4, 0.5, 0.6))


def test_lens_undistort_distort_round_trip():
    from scanner.lens import Lens

    lens = Lens(k=-0.2, cx=959.5, cy=539.5, r0=1101.0)
    pts = np.array([[0.0, 0.0], [1919.0, 1079.0], [959.5, 539.5], [300.0, 800.0]])
    assert lens.distort(lens.undistort(pts)) == pytest.approx(pts, abs=1e-9)
    assert lens.undistort([(959.5, 539.5)])[0] == pytest.approx((959.5, 539.5))


def test_estimate_lens_straightens_bent_rows():
    from scanner.lens import Lens, estimate_lens

    true = Lens(k=-0.25, cx=959.5, cy=539.5, r0=float(np.hypot(1920, 1080) / 2))
    top = np.column_stack([np.linspace(300, 1600, 7), np.full(7, 150.0)])
    left = np.column_stack([np.full(6, 250.0), np.linspace(250, 950, 6)])
    lens, k = estimate_lens([true.distort(top), true.distort(left)], width=1920, height=1080)
    assert k == pytest.approx(-0.25, abs=0.005)


def test_estimate_lens_straight_rows_no_correction():
    from scanner.lens import estimate_lens

    top = np.column_stack([np.linspace(300, 1600, 7), np.full(7, 150.0) + [0, 1, -1, 0, 1, 0, -1]])
    left = np.column_stack([np.full(6, 250.0) + [1, 0, -1, 0, 1, 0], np.linspace(250, 950, 6)])
    lens, k = estimate_lens([top, left], width=1920, height=1080)
    assert (lens.identity, k) == (True, 0.0)


def test_build_grid_one_header_of_several_all_unknown():
    rooms = _pts([0.2, 0.3, 0.6, 0.7], 0.05)
    slots = _pts([None, None, 0.45, None], 0.08, across=False)
    grid, _ = build_grid(rooms=rooms, slots=slots, n_rooms=4, n_slots=4)
    assert grid.rows.status == (UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN)
    assert grid.rows.locate(0.45, margin=0.1)[0] == "unknown"


def test_build_grid_single_row_reaches_to_the_header_line():
    rooms = _pts([0.2, 0.3, 0.6, 0.7], 0.05)
    slots = _pts([0.25], 0.08, across=False)
    grid, _ = build_grid(rooms=rooms, slots=slots, n_rooms=4, n_slots=1)
    assert grid.rows.status == (SEEN,)
    assert grid.rows.lo == pytest.approx((0.15,))
    assert grid.rows.hi == pytest.approx((0.35,))
