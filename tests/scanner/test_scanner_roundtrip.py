"""Round trips: printables' stickies and cards, photographed by the benchmark's photographer."""

import subprocess
import sys
from dataclasses import replace

import cv2
import numpy as np
import pytest
from scanner_shots import SMALL, SMALL_CAMERA, shot_of

from benchmarks.photographer import default_rooms
from scanner import Manifest, ScanError, annotate, decode_all, scan


def _truth(shot):
    return {s.code: (s.room, s.slot) for s in shot.stickies if s.visible}


def _placed(result):
    return {s.code: (s.room, s.slot) for s in result.stickies}


def _scan(shot):
    return scan(shot.image, Manifest.from_dict(shot.board.manifest))


def test_scan_small_board_every_sticky_in_its_cell(small_shot):
    result = _scan(small_shot)
    assert result.board_found is True
    assert _placed(result) == _truth(small_shot)
    assert len(_truth(small_shot)) == 7
    assert result.hidden_cells == ()
    assert result.warnings == ()
    # From this far no code on the wall is legible and every card's marker was read: the frame
    # is not read for codes, so the poster's goes unreported.
    assert result.rejected == ()


def test_scan_from_afar_reads_the_frame_for_codes_when_a_card_marker_is_missing(small_shot):
    manifest = Manifest.from_dict(small_shot.board.manifest)
    card = f"marker:{manifest.marker_dictionary}:{manifest.rooms[0].marker_id}"
    seen = next(c for c in _scan(small_shot).codes if c.text == card)
    img = small_shot.image.copy()
    q = np.asarray(seen.corners, dtype=np.float32)
    c = q.mean(axis=0)
    cv2.fillConvexPoly(img, np.round((q - c) * 1.4 + c).astype(np.int32), (250, 250, 250))
    result = scan(img, manifest)
    assert card not in {c.text for c in result.codes}
    assert [c.text for c in result.rejected] == list(small_shot.board.poster_texts)


def test_scan_sticky_position_is_its_centre(small_shot):
    result = _scan(small_shot)
    truth = {s.code: s.centre_px for s in small_shot.stickies}
    for s in result.stickies:
        assert abs(s.x - truth[s.code][0]) < 4.0
        assert abs(s.y - truth[s.code][1]) < 4.0
        assert s.via == "marker"


def test_scan_person_sticky_off_grid(small_shot):
    result = _scan(small_shot)
    people = [s for s in result.stickies if s.kind == "person"]
    assert [(s.room, s.slot) for s in people] == [(None, None)]


def test_scan_transposed_board_every_sticky_in_its_cell():
    shot = shot_of(replace(SMALL, transposed=True))
    result = _scan(shot)
    assert result.transposed is True
    assert _placed(result) == _truth(shot)


def test_scan_uneven_columns_every_sticky_in_its_cell():
    shot = shot_of(replace(SMALL, column_widths_mm=(85.0, 170.0, 110.0)))
    result = _scan(shot)
    assert _placed(result) == _truth(shot)


def test_scan_missing_inner_header_never_shifts_a_column():
    spec = replace(SMALL, rooms=default_rooms(4), n_stickies=8, missing_headers=("Hall B",))
    shot = shot_of(spec, seed=5)
    result = _scan(shot)
    truth = _truth(shot)
    placed = _placed(result)
    assert {c: truth[c] for c in placed} == placed  # nothing wrong
    assert {c for c, cell in truth.items() if cell[0] != "Hall B"} <= set(placed)
    hall_b = {(r, s) for r, s in result.hidden_cells if r == "Hall B"}
    assert hall_b == {("Hall B", slot) for slot in SMALL.slots}
    assert "room card Hall B not found" in result.warnings


def test_scan_hidden_corner_uses_header_cards():
    shot = shot_of(replace(SMALL, missing_corners=("tr",)))
    result = _scan(shot)
    assert result.board_found is True
    assert result.warnings == ("corner marker tr not found; used header cards",)
    assert _placed(result) == _truth(shot)


def test_scan_both_bottom_corners_hidden_still_places():
    shot = shot_of(replace(SMALL, missing_corners=("bl", "br")))
    result = _scan(shot)
    assert result.board_found is True
    assert _placed(result) == _truth(shot)


def test_scan_people_in_front_hide_their_cells_and_place_nothing_wrong():
    camera = replace(SMALL_CAMERA, people=1)
    shot = shot_of(SMALL, camera, seed=3)
    result = _scan(shot)
    truth = {s.code: (s.room, s.slot) for s in shot.stickies}
    placed = _placed(result)
    assert {c: truth[c] for c in placed} == placed
    assert shot.hidden_cells  # the person really covers cells
    assert set(shot.hidden_cells) <= set(result.hidden_cells)


def test_scan_no_board_is_not_an_error():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    result = scan(img, Manifest.from_dict(SMALL_MANIFEST()))
    assert result.board_found is False
    assert result.stickies == ()
    assert result.hidden_cells == ()
    assert result.warnings == (
        "board not found: only 0 corner markers found (seen: none); "
        "need two, or two room and two slot cards",
    )
    assert result.to_dict() == {
        "board_found": False,
        "stickies": [],
        "hidden_cells": [],
        "warnings": list(result.warnings),
    }


def SMALL_MANIFEST():
    return shot_of().board.manifest


def test_scan_not_an_image_raises():
    with pytest.raises(ScanError, match="^not an image"):
        scan(b"GIF89a-not-really", SMALL_MANIFEST())


def test_scan_unknown_decoder_raises(small_shot):
    with pytest.raises(ScanError, match="^unknown decoder 'best'"):
        scan(small_shot.image, SMALL_MANIFEST(), decoder="best")


def test_scan_to_dict_is_the_contract(small_shot):
    d = _scan(small_shot).to_dict()
    assert list(d) == ["board_found", "stickies", "hidden_cells", "warnings"]
    assert list(d["stickies"][0]) == ["code", "room", "slot", "x", "y", "via"]
    assert all(isinstance(s["x"], float) for s in d["stickies"])


@pytest.mark.parametrize("decoder", ["auto", "zxing", "zbar", "opencv"])
def test_scan_every_decoder_places_the_same(small_shot, decoder):
    result = scan(small_shot.image, SMALL_MANIFEST(), decoder=decoder)
    assert _placed(result) == _truth(small_shot)


def test_decode_all_lists_markers_and_qr_codes(small_shot):
    codes = decode_all(small_shot.image)
    texts = {c.text for c in codes}
    assert {f"marker:DICT_4X4_1000:{i}" for i in range(4)} <= texts
    assert all(c.via == "aruco" for c in codes if c.text.startswith("marker:"))
    manifest = small_shot.board.manifest
    sticky_ids = {s["marker_id"] for s in manifest["stickies"]}
    seen_ids = {int(t.rsplit(":", 1)[1]) for t in texts if t.startswith("marker:")}
    assert len(seen_ids & sticky_ids) == 7


def test_annotate_draws_on_a_copy(small_shot):
    before = small_shot.image.copy()
    result = _scan(small_shot)
    out = annotate(small_shot.image, result)
    assert out.shape == before.shape
    assert out.dtype == np.uint8
    assert np.array_equal(small_shot.image, before)
    assert int(np.abs(out.astype(int) - before.astype(int)).sum()) > 0


def test_scanner_imports_without_flask():
    code = "import sys, scanner; print('flask' in sys.modules, 'sqlalchemy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="."
    )
    assert out.stdout.strip() == "False False"


def test_scan_sticky_refused_at_a_boundary_hides_its_cells(small_shot):
    from scanner.params import ScanParams

    manifest = Manifest.from_dict(small_shot.board.manifest)
    # A margin of half a cell refuses every sticky: each must leave its cell hidden.
    result = scan(small_shot.image, manifest, params=ScanParams(boundary_margin=0.5))
    on_grid = {c for c, cell in _truth(small_shot).items() if cell[0] is not None}
    assert {s.code for s in result.stickies if s.room is not None} == set()
    for code in on_grid:
        assert f"sticky {code}: too close to a cell boundary; not placed" in result.warnings
    assert {_truth(small_shot)[c] for c in on_grid} <= set(result.hidden_cells)


def test_scan_wide_angle_lens_corrected():
    camera = replace(SMALL_CAMERA, k1=-0.22, hfov_deg=90.0, fill=0.9)
    # Four cards a row: a bend through three points could be the cards' own placement.
    spec = replace(SMALL, rooms=default_rooms(4), slots=SMALL.slots + ("2026-09-26T13:00",))
    shot = shot_of(spec, camera, seed=3)
    result = _scan(shot)
    assert _placed(result) == _truth(shot)
    truth = {s.code: s.centre_px for s in shot.stickies}
    for s in result.stickies:
        assert abs(s.x - truth[s.code][0]) < 4.0
        assert abs(s.y - truth[s.code][1]) < 4.0


@pytest.mark.parametrize("turn", ["ROTATE_90_CLOCKWISE", "ROTATE_180"])
def test_scan_turned_photo_same_cells(small_shot, turn):
    import cv2

    img = cv2.rotate(small_shot.image, getattr(cv2, turn))
    result = scan(img, SMALL_MANIFEST())
    assert _placed(result) == _truth(small_shot)
    assert result.hidden_cells == ()


@pytest.mark.parametrize("dictionary", ["DICT_5X5_1000", "DICT_APRILTAG_36h11"])
def test_scan_other_marker_dictionary(dictionary):
    shot = shot_of(replace(SMALL, dictionary=dictionary))
    result = _scan(shot)
    assert result.warnings == ()
    assert _placed(result) == _truth(shot)


@pytest.mark.parametrize(
    ("shape", "size"), [((1, 1, 3), "1x1"), ((1, 1), "1x1"), ((16, 900, 3), "900x16")]
)
def test_scan_tiny_image_refused_naming_its_size(shape, size):
    with pytest.raises(ScanError) as exc:
        scan(np.zeros(shape, np.uint8), SMALL_MANIFEST())
    assert str(exc.value) == (
        f"the image is {size} pixels: its sides must be at least 32 pixels and at most 20:1"
    )


def test_scan_missing_end_header_leaves_its_row_out():
    last = SMALL.slots[-1]
    shot = shot_of(replace(SMALL, missing_headers=(last,)))
    result = _scan(shot)
    truth = _truth(shot)
    in_last = {c for c, cell in truth.items() if cell[1] == last}
    assert in_last  # the layout does put stickies in that row
    placed = _placed(result)
    assert not in_last & set(placed)
    assert {c: truth[c] for c in placed} == placed
    for code in in_last:
        assert (
            f"sticky {code}: in a row whose header card is missing; not placed" in result.warnings
        )
    assert {(room, last) for room in SMALL.rooms} <= set(result.hidden_cells)


def test_scan_no_corner_markers_header_cards_suffice():
    shot = shot_of(replace(SMALL, missing_corners=("tl", "tr", "br", "bl")))
    result = _scan(shot)
    assert result.board_found is True
    assert result.warnings == tuple(
        f"corner marker {n} not found; used header cards" for n in ("tl", "tr", "br", "bl")
    )
    assert _placed(result) == _truth(shot)


def test_scan_unreadable_white_sticky_hides_its_cell(small_shot):
    import cv2

    img = small_shot.image.copy()
    victim = next(s for s in small_shot.stickies if s.room is not None)
    mask = np.zeros(img.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, np.round(victim.corners_px).astype(np.int32), 255)
    # White paper: light pixels turn white, the printed codes stay.
    light = (mask > 0) & (img.min(axis=2) > 110)
    img[light] = (242, 242, 242)
    # A pen stroke across the marker's middle: it no longer decodes.
    m = np.asarray(victim.marker_corners_px)
    cv2.line(
        img, tuple(np.round(m[0]).astype(int)), tuple(np.round(m[2]).astype(int)), (0, 0, 0), 4
    )
    cv2.line(
        img, tuple(np.round(m[1]).astype(int)), tuple(np.round(m[3]).astype(int)), (0, 0, 0), 4
    )
    result = scan(img, SMALL_MANIFEST())
    assert victim.code not in {s.code for s in result.stickies}
    assert (victim.room, victim.slot) in result.hidden_cells


def test_scan_unplaced_stickies_listed_with_reason():
    last = SMALL.slots[-1]
    shot = shot_of(replace(SMALL, missing_headers=(last,)))
    result = _scan(shot)
    in_last = {c for c, cell in _truth(shot).items() if cell[1] == last}
    reasons = {u.code: u.reason for u in result.unplaced}
    assert {c: reasons.get(c) for c in in_last} == {
        c: "in a row whose header card is missing" for c in in_last
    }
    truth = {s.code: s.centre_px for s in shot.stickies}
    for u in result.unplaced:
        if u.code in in_last:
            assert abs(u.x - truth[u.code][0]) < 4.0
            assert abs(u.y - truth[u.code][1]) < 4.0


def test_scan_sticky_washed_out_by_glare_hides_its_cell(small_shot):
    import cv2

    img = small_shot.image.copy()
    victim = next(s for s in small_shot.stickies if s.room is not None)
    mask = np.zeros(img.shape[:2], np.uint8)
    centre = np.asarray(victim.centre_px)
    cv2.circle(mask, tuple(np.round(centre).astype(int)), 60, 255, -1)
    # A glare spot: the sticky's codes fade to pale grey on clipped white.
    washed = (0.15 * img.astype(np.float32) + 0.85 * 300).clip(0, 255).astype(np.uint8)
    img[mask > 0] = washed[mask > 0]
    result = scan(img, SMALL_MANIFEST())
    assert victim.code not in {s.code for s in result.stickies}
    assert (victim.room, victim.slot) in result.hidden_cells
