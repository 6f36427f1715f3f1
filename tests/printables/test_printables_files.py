"""PNG files and their names, the package boundary, and text that must never leave its card."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PIL import Image
from printables_testkit import BASE, make_kit, make_stickies, read_markers, read_qrs

from printables import (
    TEMPLATES,
    CardSpec,
    PrintError,
    StickySpec,
    card_image,
    fonts,
    get_template,
    write_kit_pngs,
    write_sticky_pngs,
)
from printables.drawing import Line, Text
from printables.kit import card_drawing, card_size
from printables.sticky import sticky_drawing


def test_write_sticky_pngs_names_are_codes_with_dpi(tmp_path):
    specs = make_stickies(3)
    paths = write_sticky_pngs(specs, tmp_path / "out", template="note-76", dpi=150)
    assert [p.name for p in paths] == ["7KQ2XM.png", "3HV9TA.png", "P0W4ZD.png"]
    with Image.open(paths[0]) as img:
        assert img.size == (449, 449)
        assert tuple(round(v) for v in img.info["dpi"]) == (150, 150)
        assert read_qrs(img) == [f"{BASE}/s/7KQ2XM?k=MX2QK7"]


def test_write_kit_pngs_names_follow_event_order(tmp_path):
    kit = make_kit(n_rooms=2, n_slots=3)
    calls = []
    paths = write_kit_pngs(kit, tmp_path, dpi=72, progress=lambda d, t: calls.append((d, t)))
    assert [p.name for p in paths] == [
        "corner-tl.png",
        "corner-tr.png",
        "corner-br.png",
        "corner-bl.png",
        "room-1.png",
        "room-2.png",
        "slot-1.png",
        "slot-2.png",
        "slot-3.png",
        "poster.png",
    ]
    assert calls[-1] == (10, 10)
    with Image.open(tmp_path / "room-2.png") as img:
        assert tuple(round(v) for v in img.info["dpi"]) == (72, 72)
    with Image.open(tmp_path / "slot-3.png") as img:
        assert list(read_markers(img.resize((img.width * 2, img.height * 2)))) == [8]


def test_write_kit_pngs_corner_order_follows_names_not_input(tmp_path):
    kit = make_kit(n_rooms=1, n_slots=1)
    shuffled = type(kit)(kit.event_name, kit.board_url, kit.corners[::-1], kit.rooms, kit.slots)
    paths = write_kit_pngs(shuffled, tmp_path, dpi=100)
    with Image.open(paths[2]) as img:  # corner-br.png carries marker 2
        assert paths[2].name == "corner-br.png"
        assert list(read_markers(img)) == [2]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_write_sticky_pngs_unwritable_folder_raises(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(PrintError, match="is not writable"):
        write_sticky_pngs(make_stickies(1), locked)


def test_write_sticky_pngs_folder_is_a_file_raises(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(PrintError, match="cannot create output folder"):
        write_sticky_pngs(make_stickies(1), blocker / "out")


def test_write_sticky_pngs_empty_list_raises(tmp_path):
    with pytest.raises(PrintError, match="no stickies to print: the list is empty"):
        write_sticky_pngs([], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_sticky_image_bad_dpi_raises():
    from printables import sticky_image

    with pytest.raises(PrintError, match="dpi must be a number above 0 and at most 1200, not 0"):
        sticky_image(make_stickies(1)[0], dpi=0)


def test_printables_imports_without_flask():
    code = (
        "import printables, sys; assert 'flask' not in sys.modules; assert 'app' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _text_box(op: Text) -> tuple[float, float, float, float]:
    """Return (left, top, right, bottom) of a text op in mm, ascender to descender."""
    width = fonts.width_mm(op.style, op.text, op.size_pt)
    left = {"left": op.x, "center": op.x - width / 2, "right": op.x - width}[op.align]
    em = op.size_pt * fonts.PT_MM
    return left, op.y - 0.93 * em, left + width, op.y + 0.24 * em


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


LONG_LABEL = "Salle Économie — 会议室 — PyCon India Open Spaces 2026, Bengaluru, Karnataka edition"


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_sticky_text_stays_inside_and_off_the_codes(name):
    t = get_template(name)
    spec = StickySpec("7KQ2XM", f"{BASE}/s/7KQ2XM?k=K3Y9AB", 12, "person", LONG_LABEL, "K3Y9AB")
    d = sticky_drawing(spec, t, dictionary="DICT_4X4_1000")
    mx, my = t.marker_origin
    q = t.marker_cell_mm
    marker_zone = (mx - q, my - q, mx + t.marker_side_mm + q, my + t.marker_side_mm + q)
    qx, qy = t.qr_origin
    module = t.qr_side_mm / 29  # version 3 for this URL
    qr_zone = (qx - 4 * module, qy - 4 * module, qx + t.qr_side_mm, qy + t.qr_side_mm)
    texts = [op for op in d.ops if isinstance(op, Text)]
    assert {"PERSON", "7KQ2XM", "name", "interests", "claim key", "K3Y9AB"} == {
        op.text for op in texts if op.size_pt > 7 or op.text in ("name", "interests", "claim key")
    }
    assert "".join(
        op.text
        for op in texts
        if op.size_pt <= 7 and op.text not in ("name", "interests", "claim key")
    ).replace(" ", "") == LONG_LABEL.replace(" ", "")
    qr_area, key_area = t.key_areas
    # Pictures leave out the QR with its widest quiet zone, to the sticky's edges.
    assert qr_area[0] <= qr_zone[0] and qr_area[1] <= qr_zone[1]
    assert qr_area[2:] == key_area[2:] == (t.sticky_w_mm, t.sticky_h_mm)
    for op in texts:
        box = _text_box(op)
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= t.sticky_w_mm and box[3] <= t.sticky_h_mm
        assert not _overlaps(box, marker_zone), op.text
        assert not _overlaps(box, qr_zone), op.text
        # The key and its caption lie where pictures are painted over; nothing else does.
        inside = key_area[0] <= box[0] and key_area[1] <= box[1]
        assert inside == (op.text in ("claim key", "K3Y9AB")), op.text
        assert not _overlaps(box, qr_area), op.text
    # The writing rules stop short of the key, which pictures leave out.
    for op in d.ops:
        if isinstance(op, Line):
            assert not _overlaps((op.x1, op.y1, op.x2, op.y2 + 0.01), key_area), op


@pytest.mark.parametrize(
    "title",
    [
        "Hall A",
        "Salle Économie",
        "会议室",
        "Auditorium Dr. A. P. J. Abdul Kalam Memorial Hall, Wing B",
    ],
)
def test_card_text_stays_inside_and_off_the_marker(title):
    card = CardSpec("room", title, 4, title, "120 seats", f"{BASE}/rooms/1")
    d = card_drawing(card, dictionary="DICT_4X4_1000")
    w, h = card_size("room")
    texts = [op for op in d.ops if isinstance(op, Text)]
    marker_zone = (30 - 40 / 6, 36 - 40 / 6, 70 + 40 / 6, 76 + 40 / 6)
    for op in texts:
        box = _text_box(op)
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= w and box[3] <= h, op.text
        assert not _overlaps(box, marker_zone), op.text


def test_card_image_cjk_title_uses_a_font_with_its_glyphs():
    runs = fonts.runs("bold", "会议室 Hall")
    if fonts.fallback_font() is None:
        pytest.skip("no CJK font installed; the title prints as '???'")
    assert [text for _, text in runs] == ["会议室 ", "Hall"]
    assert runs[0][0] == fonts.fallback_font()
    img = card_image(CardSpec("room", "会议室", 5, "会议室", "8 seats", f"{BASE}/rooms/3"), dpi=150)
    assert read_qrs(img) == [f"{BASE}/rooms/3"]


def test_fonts_missing_glyph_becomes_question_mark():
    # U+E000 is a private-use code point that no shipped font draws.
    assert "".join(t for _, t in fonts.runs("sans", "a\ue000b")) == "a?b"


def test_write_sticky_pngs_folder_under_proc_raises():
    with pytest.raises(PrintError, match="cannot create output folder '/proc/openspaces/out'"):
        write_sticky_pngs(make_stickies(1), "/proc/openspaces/out")


def test_write_sticky_pngs_file_blocked_by_folder_raises(tmp_path):
    (tmp_path / "7KQ2XM.png").mkdir()
    with pytest.raises(PrintError, match=r"cannot write '.*7KQ2XM\.png'"):
        write_sticky_pngs(make_stickies(1), tmp_path)
