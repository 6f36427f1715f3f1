"""The annotated photo's headline: whole inside the photo, with counts in the right number."""

import numpy as np
import pytest

from scanner import annotate
from scanner.annotate import TEXT_BG, _headline_text
from scanner.results import DecodedCode, ScanResult, SeenSticky


def _result(*, marker_side: float, board_found: bool = False, stickies=(), hidden=()):
    """Return a scan result whose one marker, low in the photo, sets the labels' size."""
    x0, y0 = 100.0, 500.0
    corners = (
        (x0, y0),
        (x0 + marker_side, y0),
        (x0 + marker_side, y0 + marker_side),
        (x0, y0 + marker_side),
    )
    marker = DecodedCode("marker:DICT_4X4_1000:0", "aruco", x0, y0, corners=corners)
    return ScanResult(
        board_found=board_found,
        stickies=tuple(stickies),
        hidden_cells=tuple(hidden),
        warnings=(),
        rejected=(),
        codes=(marker,),
    )


def _headline_box(out: np.ndarray) -> tuple[int, int, int, int]:
    """Return (top, left, bottom, right) of the white box behind the headline, in the top half."""
    white = np.all(out[: out.shape[0] // 2] == TEXT_BG, axis=2)
    ys, xs = np.nonzero(white)
    return int(ys.min()), int(xs.min()), int(ys.max()), int(xs.max())


@pytest.mark.parametrize(
    ("width", "height", "marker_side"),
    [(1280, 720, 100.0), (640, 480, 150.0), (4000, 3000, 40.0)],
    ids=["webcam, large markers", "small photo, long headline", "12 MP photo"],
)
def test_annotate_headline_is_whole_inside_the_photo(width, height, marker_side):
    photo = np.zeros((height, width, 3), np.uint8)
    out = annotate(photo, _result(marker_side=marker_side))
    margin = round(10 * max(1.0, max(width, height) / 1600.0))
    top, left, bottom, right = _headline_box(out)
    assert (top, left) == (margin, margin)
    assert right <= width - 1 - margin
    assert bottom < height // 2


@pytest.mark.parametrize(
    ("stickies", "hidden", "board_found", "text"),
    [
        (1, 1, True, "board found: 1 sticky, 1 hidden cell"),
        (3, 0, True, "board found: 3 stickies, 0 hidden cells"),
        (0, 2, False, "BOARD NOT FOUND: 0 stickies, 2 hidden cells"),
    ],
)
def test_annotate_headline_counts_in_the_right_number(stickies, hidden, board_found, text):
    seen = [
        SeenSticky(f"CODE{i}", "session", "Hall A", "2026-09-26T10:00", 50.0, 50.0, "marker")
        for i in range(stickies)
    ]
    cells = [("Hall A", f"2026-09-26T1{i}:00") for i in range(hidden)]
    result = _result(marker_side=30.0, board_found=board_found, stickies=seen, hidden=cells)
    assert _headline_text(result) == text
