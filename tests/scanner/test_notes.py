"""Plain notes: laid out with printed stickies, photographed, scanned, compared with the truth."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import cv2
import numpy as np
import pytest

from benchmarks.photographer import (
    BoardSpec,
    Camera,
    NoteSpec,
    _paste,
    _shadow,
    make_board,
    note_art,
    photograph,
)
from scanner import (
    ScanResult,
    cut_note_views,
    find_notes,
    fingerprint_similarity,
    ink_fingerprint,
    note_picture,
    scan,
)
from scanner.notes import SAME_NOTE_SIMILARITY, _grid_of, ink_share
from scanner.views import HIDDEN_CELL_SHARE

A, B, C = "Hall A", "Hall B", "Hall C"
# The board's two printed stickies sit in Hall B at 11:00 and Hall C at 10:00.
TEN, ELEVEN = "2026-09-26T10:00", "2026-09-26T11:00"
NOTES = (
    NoteSpec("Rust for Pythonistas", "yellow", (76, 76), A, TEN, angle_deg=4.0, writing_seed=1),
    NoteSpec("Async all the way down", "pink", (100, 70), B, TEN, angle_deg=-6.0, writing_seed=2),
    NoteSpec("Maps with Python", "white", (90, 90), A, ELEVEN, angle_deg=2.0, writing_seed=3),
    NoteSpec("Game jams", "blue", (60, 60), C, ELEVEN, curl=1.0, writing_seed=4),
    NoteSpec("", "green", (76, 76), None, None, writing_seed=5),
)
SPEC = BoardSpec.grid(
    3,
    2,
    column_width_mm=165.0,
    row_height_mm=145.0,
    unevenness=0.1,
    n_stickies=2,
    n_person_stickies=1,
    n_unplaced=0,
    n_posters=0,
    notes=NOTES,
    px_per_mm=2.5,
)
CAMERA = Camera(width=1600, height=1200, hfov_deg=60.0, yaw_deg=4.0, pitch_deg=2.0)
# Another camera, from the other side and closer to the wall's own resolution.
OTHER_CAMERA = Camera(width=2400, height=1800, hfov_deg=62.0, yaw_deg=-9.0, pitch_deg=-3.0)


@cache
def _board(seed: int = 4):
    return make_board(SPEC, seed=seed)


@cache
def _shot(camera: Camera = CAMERA, seed: int = 4):
    return photograph(_board(), camera, seed=seed)


@cache
def _scan(camera: Camera = CAMERA) -> ScanResult:
    shot = _shot(camera)
    return scan(shot.image, shot.board.manifest)


def _truth_index(shot, note) -> int:
    """Return the index of the plain note whose outline holds the found note's centre."""
    for t in shot.notes:
        if cv2.pointPolygonTest(t.corners_px.astype(np.float32), (note.x, note.y), False) >= 0:
            return t.index
    return -1


def test_scan_finds_every_plain_note_in_its_cell():
    shot, result = _shot(), _scan()
    assert result.board_found
    found = sorted((_truth_index(shot, n), n.room, n.slot, n.color) for n in result.notes)
    assert found == [
        (0, A, TEN, "yellow"),
        (1, B, TEN, "pink"),
        (2, A, ELEVEN, "white"),
        (3, C, ELEVEN, "blue"),
        (4, None, None, "green"),
    ]
    assert not [w for w in result.warnings if w.startswith("plain note")]


def test_scan_keeps_printed_stickies_out_of_the_notes():
    shot, result = _shot(), _scan()
    assert sorted(s.code for s in result.stickies) == sorted(s.code for s in shot.stickies)
    for sticky in shot.stickies:
        outline = sticky.corners_px.astype(np.float32)
        assert not [
            n for n in result.notes if cv2.pointPolygonTest(outline, (n.x, n.y), False) >= 0
        ]


def test_scan_note_outline_matches_the_truth_within_seven_percent_of_its_side():
    shot, result = _shot(), _scan()
    for note in result.notes:
        truth = shot.notes[_truth_index(shot, note)]
        side = float(np.linalg.norm(truth.corners_px[1] - truth.corners_px[0]))
        err = np.linalg.norm(np.asarray(note.quad) - truth.corners_px, axis=1).max()
        # The outline is found on a copy of a third of the photo's size, and a note's shadow
        # stands off it by 1.5 mm: its corners are within a few millimetres.
        assert err <= 0.07 * side, (truth.index, err, side)


def test_scan_reads_ink_and_a_blank_note():
    shot, result = _shot(), _scan()
    ink = {_truth_index(shot, n): n.ink for n in result.notes}
    assert ink[4] < 0.002
    assert min(ink[i] for i in range(4)) > 0.01


def test_fingerprints_match_the_same_note_across_two_photographs():
    first, second = _scan(), _scan(OTHER_CAMERA)
    a = {_truth_index(_shot(), n): n.fingerprint for n in first.notes}
    b = {_truth_index(_shot(OTHER_CAMERA), n): n.fingerprint for n in second.notes}
    assert sorted(a) == sorted(b) == [0, 1, 2, 3, 4]
    written = [0, 1, 2, 3]
    for i in written:
        assert fingerprint_similarity(a[i], b[i]) >= SAME_NOTE_SIMILARITY, i
        for j in written:
            if j != i:
                assert fingerprint_similarity(a[i], b[j]) < SAME_NOTE_SIMILARITY, (i, j)
    # A blank note has no ink to tell it by.
    assert fingerprint_similarity(a[4], b[4]) == 0.0


def test_scan_times_the_notes_stage():
    assert "notes" in _scan().timings_dict()


def test_find_notes_without_a_board_sees_paper_on_a_plain_wall():
    wall = np.full((900, 1200, 3), (200, 205, 210), np.uint8)
    rng = np.random.default_rng(1)
    truth = []
    for k, (colour, (cx, cy)) in enumerate(
        [
            ((120, 230, 255), (250, 250)),
            ((200, 150, 255), (650, 300)),
            ((250, 251, 252), (950, 600)),
        ]
    ):
        side = 160 + 30 * k
        rect = ((cx, cy), (side, side), float(rng.uniform(-8, 8)))
        box = cv2.boxPoints(rect)
        cv2.fillPoly(wall, [np.round(box).astype(np.int32)], colour, cv2.LINE_AA)
        truth.append((cx, cy))
    notes = find_notes(cv2.GaussianBlur(wall, (3, 3), 0))
    assert [(round(n.x / 10), round(n.y / 10)) for n in notes] == [
        (round(x / 10), round(y / 10)) for x, y in truth
    ]
    assert [n.color for n in notes] == ["yellow", "pink", "white"]
    assert not any(n.partial for n in notes)


def _written_notes_on_a_wall(spots, *, side=150, extra=()):
    """Return a plain wall with yellow notes, written on, at `spots`; `extra` adds filled
    (colour, box) rectangles that are not notes."""
    wall = np.full((900, 1200, 3), (200, 205, 210), np.uint8)
    for k, (cx, cy) in enumerate(spots):
        box = cv2.boxPoints(((cx, cy), (side, side), 2.0 * k - 3.0))
        cv2.fillPoly(wall, [np.round(box).astype(np.int32)], (120, 230, 255), cv2.LINE_AA)
        cv2.putText(wall, "Idea", (cx - 50, cy), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (60, 40, 40), 3)
    for colour, box in extra:
        cv2.fillPoly(wall, [np.int32(box)], colour, cv2.LINE_AA)
    return cv2.GaussianBlur(wall, (3, 3), 0)


def test_find_notes_leaves_out_a_note_cut_by_the_photos_edge():
    # The fourth note runs off the photo's right edge: its outline and picture are unknown.
    wall = _written_notes_on_a_wall([(200, 200), (500, 220), (800, 200), (1150, 600)])
    assert [(round(n.x / 10), round(n.y / 10)) for n in find_notes(wall)] == [
        (20, 20),
        (80, 20),
        (50, 22),
    ]


def test_find_notes_knows_a_magnet_and_a_page_from_the_notes_around_them():
    # At 1.45 px/mm: 76 mm notes, a 20 mm magnet and an A4 page (210 x 297 mm).
    spots = [(150, 150), (400, 150), (650, 150), (150, 500), (400, 500)]
    magnet = ((40, 40, 220), [[640, 500], [669, 500], [669, 529], [640, 529]])
    page = ((245, 245, 245), [[850, 300], [1155, 300], [1155, 731], [850, 731]])
    # Alone, a blank magnet-sized square and a page-sized sheet are paper like any other.
    alone = find_notes(_written_notes_on_a_wall([], extra=[magnet, page]))
    assert sorted((round(n.x / 10), round(n.y / 10)) for n in alone) == [(65, 51), (100, 52)]
    # Among five notes written on, from one pad, they are a magnet and a printed page.
    notes = find_notes(_written_notes_on_a_wall(spots, side=110, extra=[magnet, page]))
    assert sorted((round(n.x / 10), round(n.y / 10)) for n in notes) == sorted(
        (round(x / 10), round(y / 10)) for x, y in spots
    )


def test_find_notes_leaves_out_what_is_excluded():
    wall = np.full((600, 800, 3), (200, 205, 210), np.uint8)
    cv2.rectangle(wall, (100, 100), (260, 260), (120, 230, 255), -1)
    cv2.rectangle(wall, (450, 150), (610, 310), (120, 230, 255), -1)
    marker = [(500.0, 200.0), (530.0, 200.0), (530.0, 230.0), (500.0, 230.0)]
    notes = find_notes(wall, exclude=[marker])
    assert [(round(n.x), round(n.y)) for n in notes] == [(180, 180)]


def test_note_quad_runs_clockwise_from_the_top_left():
    wall = np.full((600, 800, 3), (200, 205, 210), np.uint8)
    box = cv2.boxPoints(((400, 300), (240, 160), 12.0))
    cv2.fillPoly(wall, [np.round(box).astype(np.int32)], (120, 230, 255))
    (note,) = find_notes(wall)
    q = np.asarray(note.quad)
    assert q[0, 0] < q[1, 0] and q[0, 1] < q[3, 1]  # top-left, then top-right; bottom-left last
    w, h = note.size_px
    assert (round(w / 10), round(h / 10)) == (24, 16)
    picture = note_picture(wall, note.quad)
    assert picture.shape[1] > picture.shape[0]  # upright: as wide as the note is


def test_fingerprint_similarity_refuses_what_is_not_a_fingerprint():
    paper = np.full((120, 120, 3), (120, 230, 255), np.uint8)
    blank = ink_fingerprint(paper)
    assert ink_share(paper) == 0.0
    assert fingerprint_similarity(blank, blank) == 0.0
    assert fingerprint_similarity("", "") == 0.0
    assert fingerprint_similarity("zz" * 2048, blank) == 0.0
    cv2.putText(paper, "Hello", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (40, 40, 40), 3)
    written = ink_fingerprint(paper)
    assert fingerprint_similarity(written, written) == 1.0
    assert fingerprint_similarity(written, ink_fingerprint(cv2.resize(paper, (300, 300)))) >= (
        SAME_NOTE_SIMILARITY
    )


def test_cut_note_views_gives_a_picture_per_note_in_order():
    shot, result = _shot(), _scan()
    views = cut_note_views(shot.image, result)
    assert [v.index for v in views] == list(range(len(result.notes)))
    for view, note in zip(views, result.notes, strict=True):
        assert view.quad == note.quad
        assert view.image.ndim == 3 and min(view.image.shape[:2]) >= 32
        # No cell is hidden: every note is wholly in view.
        assert view.score.coverage == pytest.approx(1.0, abs=0.02)
        assert view.jpeg()[:2] == b"\xff\xd8"


def test_a_plain_note_does_not_hide_its_cell():
    result = _scan()
    assert {(n.room, n.slot) for n in result.notes} == {
        (A, TEN),
        (B, TEN),
        (A, ELEVEN),
        (C, ELEVEN),
        (None, None),
    }
    assert result.hidden_cells == ()
    assert [c.reason for c in result.cells] == [""] * 6


def test_a_person_in_front_of_a_plain_note_hides_its_cell():
    # One person stands in front of Hall A at 11:00, where the white note is; the rest of the
    # note still shows, and is found.
    camera = replace(CAMERA, people=1, people_at=(0.25,))
    shot = _shot(camera)
    result = scan(shot.image, shot.board.manifest)
    assert shot.hidden_cells == ((A, ELEVEN),)
    assert result.hidden_cells == ((A, ELEVEN),)
    assert [c.reason for c in result.cells if c.hidden] == ["covered"]
    assert sorted((n.room or "", n.slot or "") for n in result.notes) == [
        ("", ""),
        (A, TEN),
        (A, ELEVEN),
        (B, TEN),
        (C, ELEVEN),
    ]
    views = cut_note_views(shot.image, result)
    shares = {(n.room, n.slot): v.score.coverage for n, v in zip(result.notes, views, strict=True)}
    # The note behind the person counts as a sticky's in a hidden cell does; the others fully.
    assert shares.pop((A, ELEVEN)) == pytest.approx(HIDDEN_CELL_SHARE, abs=0.02)
    assert list(shares.values()) == pytest.approx([1.0] * 4, abs=0.02)


def test_fingerprints_are_parsed_once_and_kept():
    paper = np.full((120, 120, 3), (120, 230, 255), np.uint8)
    cv2.putText(paper, "Kept", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (40, 40, 40), 3)
    written = ink_fingerprint(paper)
    grid = _grid_of(written)
    assert grid.shape == (64, 64) and grid.dtype == np.int8 and not grid.flags.writeable
    assert int(grid.min()) >= -8 and int(grid.max()) <= 7
    # The same string again is the same parsed array; upper-case hex reads as lower-case.
    assert _grid_of(written) is grid
    assert fingerprint_similarity(written.upper(), written) == 1.0
    assert _grid_of(written[:-1] + "g") is None
    assert _grid_of("é" * 4096) is None


def _two_notes_side_by_side(turns, shift=(0, 0)):
    """Return a wall with two yellow 200 px notes side by side, touching, and written on."""
    wall = np.full((900, 1200, 3), (200, 205, 210), np.uint8)
    for (cx, cy), turn in zip(((500, 400), (700 + shift[0], 400 + shift[1])), turns, strict=True):
        box = cv2.boxPoints(((cx, cy), (200, 200), turn))
        cv2.fillPoly(wall, [np.round(box).astype(np.int32)], (120, 230, 255), cv2.LINE_AA)
        cv2.putText(wall, "ab", (cx - 40, cy), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (40, 40, 40), 3)
    return cv2.GaussianBlur(wall, (3, 3), 0)


def test_find_notes_parts_two_notes_of_one_colour_at_their_seam():
    def found(wall):
        return sorted((round(n.x / 10), round(n.y / 10), n.partial) for n in find_notes(wall))

    # Stuck a little askew or out of line, they leave a notch on each side where they meet.
    assert found(_two_notes_side_by_side((3.0, -4.0))) == [(50, 40, False), (71, 40, False)]
    assert found(_two_notes_side_by_side((0.0, 0.0), (0, 30))) == [(50, 40, False), (70, 43, False)]
    # Exactly in line, nothing tells them from one note twice as long.
    assert found(_two_notes_side_by_side((0.0, 0.0))) == [(60, 40, False)]


def _grid_of_notes(columns: int, rows: int, *, gap_mm: float, px_per_mm: float = 3.0):
    """Return a wall with a grid of yellow 76 mm notes, written on, `gap_mm` apart, and the
    notes' centres in wall px."""
    wall = np.full((round(330 * px_per_mm), round(420 * px_per_mm), 3), (205, 212, 216), np.uint8)
    centres = []
    titles = ("Rust", "Maps", "Async", "Docs", "Game jams", "Testing")
    for i in range(columns * rows):
        cx, cy = 100 + (76 + gap_mm) * (i % columns), 100 + (76 + gap_mm) * (i // columns)
        spec = NoteSpec(titles[i % len(titles)], "yellow", (76, 76), writing_seed=i + 1)
        corners = np.array([[-38, -38], [38, -38], [38, 38], [-38, 38]], np.float64) + (cx, cy)
        _shadow(wall, corners, px_per_mm, depth=0.2)
        _paste(wall, note_art(spec, px_per_mm=px_per_mm), (cx, cy), 0.0, px_per_mm)
        centres.append((cx * px_per_mm, cy * px_per_mm))
    return wall, centres


def test_find_notes_cuts_a_grid_of_touching_notes_along_their_seams():
    # Six notes of one colour stuck edge to edge, as on a tidy office wall: one patch of paper,
    # but the thin seams between them show in the photo.
    wall, centres = _grid_of_notes(3, 2, gap_mm=0.5)
    notes = find_notes(wall)
    assert len(notes) == 6
    for note, (x, y) in zip(
        sorted(notes, key=lambda n: (round(n.y / 100), n.x)), centres, strict=True
    ):
        assert abs(note.x - x) < 8 and abs(note.y - y) < 8
        assert note.size_px == pytest.approx((228, 228), abs=12)
        assert not note.partial


def test_scan_parts_touching_notes_and_keeps_long_notes_whole():
    notes = (
        # Two yellow notes that touch in one cell, one of them a little lower.
        NoteSpec("Rust", "yellow", (72, 72), A, TEN, 3.0, offset_mm=(-36.5, 0), writing_seed=1),
        NoteSpec("Async", "yellow", (72, 72), A, TEN, -4.0, offset_mm=(36.5, 4), writing_seed=2),
        # Notes twice as long as wide, which must stay whole.
        NoteSpec("Maps with Python", "pink", (130, 64), B, ELEVEN, angle_deg=2.0, writing_seed=3),
        NoteSpec("Game jams", "green", (140, 70), C, ELEVEN, angle_deg=-1.0, writing_seed=4),
    )
    board = make_board(replace(SPEC, notes=notes), seed=4)
    for camera in (CAMERA, Camera(width=1920, height=1080, hfov_deg=60.0, yaw_deg=-8.0)):
        shot = photograph(board, camera, seed=4)
        result = scan(shot.image, shot.board.manifest)
        found = sorted((_truth_index(shot, n), n.room, n.slot, n.color) for n in result.notes)
        assert found == [
            (0, A, TEN, "yellow"),
            (1, A, TEN, "yellow"),
            (2, B, ELEVEN, "pink"),
            (3, C, ELEVEN, "green"),
        ]
        assert result.hidden_cells == ()


def _notes_wall(notes, *, px_per_mm: float, size_mm=(420, 330), magnets=(), lines=(), wall=None):
    """Return a wall (painted, or the picture `wall`) with `notes` [(NoteSpec, (cx, cy) mm, turn
    deg, paper lift)] stuck on in order (each over the ones before, with its shadow), marker
    lines [((x0, y0), (x1, y1)) mm] and magnets [(centre mm, BGR)] over them, and each note's
    corners in wall px."""
    p = px_per_mm
    size = (round(size_mm[1] * p), round(size_mm[0] * p), 3)
    wall = np.full(size, (205, 212, 216), np.uint8) if wall is None else wall.copy()
    quads = []
    for spec, (cx, cy), turn, lift in notes:
        w, h = spec.size_mm
        box = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], np.float64) / 2
        a = np.deg2rad(turn)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        corners = box @ rot.T + (cx, cy)
        _shadow(wall, corners, p, depth=0.2)
        art = note_art(spec, px_per_mm=p)
        # Two pads of one colour are never quite the same paper.
        art = replace(art, image=cv2.add(art.image, (lift, lift, lift, 0)))
        _paste(wall, art, (cx, cy), turn, p)
        quads.append(corners * p)
    for ends in lines:
        a, b = (tuple(round(v * p) for v in end) for end in ends)
        cv2.line(wall, a, b, (60, 40, 30), round(1.2 * p), cv2.LINE_AA)
    for (mx, my), colour in magnets:
        cv2.circle(wall, (round((mx + 1) * p), round((my + 2) * p)), round(9 * p), (90, 90, 90), -1)
        cv2.circle(wall, (round(mx * p), round(my * p)), round(9 * p), colour, -1, cv2.LINE_AA)
    return cv2.GaussianBlur(wall, (3, 3), 0), quads


def _on_each(notes, quads) -> bool:
    """Return True when each found note's centre lies on its own one of the true quads."""
    hits = sorted(
        next(
            i
            for i, q in enumerate(quads)
            if cv2.pointPolygonTest(q.astype(np.float32), (n.x, n.y), False) >= 0
        )
        for n in notes
    )
    return hits == list(range(len(quads)))


def test_find_notes_takes_lines_of_writing_for_no_seam():
    # Six notes of one colour edge to edge, each with a line drawn right across it under its
    # title: the lines are ink, straight and long as they run, and the notes are cut at their
    # seams alone.
    titles = (
        "Web accessibility now",
        "Maps with Python",
        "Async all the way down",
        "Docs that people read",
        "Security for small teams",
        "Testing in production",
    )
    notes, lines = [], []
    for i, title in enumerate(titles):
        cx, cy = 100 + 76.5 * (i % 3), 100 + 76.5 * (i // 3)
        notes.append((NoteSpec(title, "yellow", (76, 76), writing_seed=i + 1), (cx, cy), 0.0, 0))
        lines.append(((cx - 33, cy + i + 12), (cx + 33, cy + i + 13)))
    wall, quads = _notes_wall(notes, px_per_mm=2.0, lines=lines)
    found = find_notes(wall)
    assert len(found) == 6
    assert _on_each(found, quads)
    assert not any(n.partial for n in found)


def test_find_notes_parts_notes_stuck_over_each_other_at_their_edges():
    # An affinity cluster: four yellow notes in a column, each stuck over the bottom quarter of
    # the one above, a little askew; the edge of a note on another shows only as a faint step.
    # A magnet holds one of them: its round outline is no edge of a note.
    notes = []
    for i, (dx, turn, lift) in enumerate(((0, 1.0, 0), (4, -1.5, 5), (-3, 2.0, -4), (2, -1.0, 3))):
        spec = NoteSpec(("Rust", "Maps", "Async", "Docs")[i], "yellow", (76, 76), writing_seed=i)
        notes.append((spec, (150 + dx, 70 + 57 * i), turn, lift))
    wall, quads = _notes_wall(notes, px_per_mm=1.5, magnets=[((165, 130), (40, 60, 220))])
    found = find_notes(wall)
    assert len(found) == 4
    assert _on_each(found, quads)


def test_find_notes_takes_a_blurred_light_patch_for_no_note():
    # A window: the street beyond is out of focus, and a patch of sky between two blurred shapes
    # is as light and as square as a white note; the note on the glass has a sharp edge.
    wall = np.full((900, 1200, 3), (150, 140, 130), np.uint8)
    sky = np.zeros_like(wall)
    cv2.rectangle(sky, (700, 300), (900, 500), (235, 225, 215), -1)
    sky = cv2.GaussianBlur(sky, (0, 0), 12)
    wall = cv2.max(wall, sky)
    notes = [(NoteSpec("Rust", "white", (76, 76), writing_seed=1), (100, 130), 2.0, -10)]
    wall, quads = _notes_wall(notes, px_per_mm=2.0, size_mm=(600, 450), wall=wall)
    found = find_notes(wall)
    assert len(found) == 1
    assert _on_each(found, quads)


def test_find_notes_cuts_a_block_of_notes_along_seams_that_run_across_it():
    # Twelve notes of one paper in rows and columns, edge to edge, each pad a shade apart, seen
    # far off: at each note a seam is a pixel's faint shadow, but the seams between rows and
    # between columns run straight across the whole block.
    titles = ("Rust", "Maps", "Async", "Docs", "Game jams", "Testing")
    for paper in ("yellow", "white"):
        rng = np.random.default_rng(3)
        notes = []
        for i in range(12):
            spec = NoteSpec(titles[i % 6], paper, (76, 76), writing_seed=i + 1)
            centre = (60 + 76.3 * (i % 4), 60 + 76.3 * (i // 4)) + rng.uniform(-0.5, 0.5, 2)
            notes.append((spec, centre, float(rng.uniform(-1, 1)), int(rng.integers(-3, 4))))
        wall, quads = _notes_wall(notes, px_per_mm=1.5)
        found = find_notes(wall)
        assert len(found) == 12
        assert _on_each(found, quads)
