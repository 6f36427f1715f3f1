"""Sticky sheets and the kit as PDF: exact page sizes, every code once, stickies where they belong."""

from __future__ import annotations

import math

import numpy as np
import pytest
from printables_testkit import (
    make_kit,
    make_stickies,
    pdf_page_sizes,
    pdf_squares,
    read_markers,
    read_qrs,
    render_pdf,
)

from printables import (
    PAPERS,
    TEMPLATES,
    PrintError,
    card_marker_rect,
    get_template,
    kit_layout,
    kit_pdf,
    stickies_pdf,
)

DPI = 200
PX_MM = DPI / 25.4
PAGE_PT = {"a4": (595.2756, 841.8898), "letter": (612.0, 792.0)}
CASES = [(name, paper) for name, t in TEMPLATES.items() for paper in t.papers]


@pytest.mark.parametrize(("name", "paper"), CASES)
def test_stickies_pdf_page_size_is_exact(name, paper):
    t = get_template(name)
    data = stickies_pdf(make_stickies(t.per_page + 1), template=name, paper=paper)
    sizes = pdf_page_sizes(data)
    assert len(sizes) == 2
    for w, h in sizes:
        assert w == pytest.approx(PAGE_PT[paper][0], abs=1e-3)
        assert h == pytest.approx(PAGE_PT[paper][1], abs=1e-3)


@pytest.mark.parametrize(("name", "paper"), CASES)
def test_stickies_pdf_codes_appear_once_where_template_puts_them(name, paper):
    t = get_template(name)
    specs = make_stickies(t.per_page + 1)
    pages = render_pdf(stickies_pdf(specs, template=name, paper=paper), DPI)
    qrs: list[str] = []
    markers: dict[int, tuple[int, np.ndarray]] = {}
    for n, page in enumerate(pages):
        qrs += read_qrs(page)
        for mid, corners in read_markers(page, subpixel=True).items():
            assert mid not in markers, f"marker {mid} on two pages"
            markers[mid] = (n, corners)
    assert sorted(qrs) == sorted(s.qr_text for s in specs)
    assert sorted(markers) == sorted(s.marker_id for s in specs)

    positions = t.positions(paper)
    mx, my = t.marker_origin
    side = t.marker_side_mm
    worst = 0.0
    for i, spec in enumerate(specs):
        page, corners = markers[spec.marker_id]
        assert page == i // len(positions)
        x, y = positions[i % len(positions)]
        expected = np.array(
            [
                (x + mx, y + my),
                (x + mx + side, y + my),
                (x + mx + side, y + my + side),
                (x + mx, y + my + side),
            ]
        )
        # Corner pixels are centres; the marker's edge is half a pixel outwards.
        found = (corners + 0.5) / PX_MM
        worst = max(worst, float(np.abs(found - expected).max()))
    assert worst < 0.2


@pytest.mark.parametrize(("name", "paper"), CASES)
def test_stickies_pdf_drawing_places_codes_exactly(name, paper):
    t = get_template(name)
    pages = pdf_squares(
        stickies_pdf(make_stickies(t.per_page), template=name, paper=paper), min_side_mm=15
    )
    mx, my = t.marker_origin
    qx, qy = t.qr_origin
    expected = []
    for x, y in t.positions(paper):
        expected += [(x + mx, y + my, t.marker_side_mm), (x + qx, y + qy, t.qr_side_mm)]
    assert len(pages) == 1
    assert len(pages[0]) == len(expected)
    assert np.abs(np.array(sorted(pages[0])) - np.array(sorted(expected))).max() < 0.01


@pytest.mark.parametrize("paper", list(PAPERS))
def test_stickies_pdf_fits_template_positions_on_page(paper):
    pw, ph = PAPERS[paper]
    for t in TEMPLATES.values():
        if paper not in t.papers:
            continue
        for x, y in t.positions(paper):
            assert x >= 0 and y >= 0
            assert x + t.sticky_w_mm <= pw + 1e-6 and y + t.sticky_h_mm <= ph + 1e-6


def test_label_a4_positions_are_avery_l7165():
    assert get_template("label-a4").positions("a4") == [
        (4.65, 13.1),
        (106.25, 13.1),
        (4.65, 80.8),
        (106.25, 80.8),
        (4.65, 148.5),
        (106.25, 148.5),
        (4.65, 216.2),
        (106.25, 216.2),
    ]


def test_label_letter_positions_are_avery_5164():
    assert get_template("label-letter").positions("letter") == [
        (3.9688, 12.7),
        (110.3312, 12.7),
        (3.9688, 97.3667),
        (110.3312, 97.3667),
        (3.9688, 182.0333),
        (110.3312, 182.0333),
    ]


def test_stickies_pdf_reports_progress_per_sticky():
    calls = []
    stickies_pdf(make_stickies(3), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_stickies_pdf_same_input_gives_same_bytes():
    specs = make_stickies(2)
    assert stickies_pdf(specs) == stickies_pdf(specs)


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_kit_pdf_every_code_once_and_header_markers_centred(paper):
    kit = make_kit(n_rooms=7, n_slots=4)
    data = kit_pdf(kit, paper=paper)
    sizes = pdf_page_sizes(data)
    # Poster, two corner pages, rooms 6 + 1, slots 4.
    assert len(sizes) == 1 + 2 + 2 + 1
    assert all(s == pytest.approx(PAGE_PT[paper], abs=1e-3) for s in sizes)
    pages = render_pdf(data, 100)
    qrs, ids = [], []
    found: dict[int, tuple[int, np.ndarray]] = {}
    for n, page in enumerate(pages):
        qrs += read_qrs(page)
        for mid, corners in read_markers(page).items():
            ids.append(mid)
            found[mid] = (n, corners)
    expected_qrs = [kit.board_url] + [r.qr_text for r in kit.rooms]
    assert sorted(qrs) == sorted(expected_qrs)
    assert sorted(ids) == list(range(4 + 7 + 4))

    layout = kit_layout(paper)
    px_mm = 100 / 25.4
    cards = list(kit.rooms[:6])
    for i, card in enumerate(cards):
        page, corners = found[card.marker_id]
        assert page == 3
        x, _ = layout["header"][i]
        centre_x = float((corners[:, 0] + 0.5).mean()) / px_mm
        assert centre_x == pytest.approx(x + 50.0, abs=0.3)
    # The corner point of the board is the corner marker's centre.
    for k, card in enumerate(kit.corners[:2]):
        page, corners = found[card.marker_id]
        x, y = layout["corner"][k]
        mx, my, side = card_marker_rect("corner")
        centre = (corners + 0.5).mean(axis=0) / px_mm
        assert centre == pytest.approx((x + mx + side / 2, y + my + side / 2), abs=0.3)


def test_kit_pdf_card_count_matches_kit():
    calls = []
    kit = make_kit(n_rooms=3, n_slots=4)
    kit_pdf(kit, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (1 + 4 + 3 + 4, 1 + 4 + 3 + 4)
    assert len(pdf_page_sizes(kit_pdf(kit))) == 1 + 2 + math.ceil(3 / 6) + math.ceil(4 / 6)


def test_stickies_pdf_empty_list_raises():
    with pytest.raises(PrintError, match="no stickies to print: the list is empty"):
        stickies_pdf([])


def test_stickies_pdf_unknown_paper_raises():
    with pytest.raises(PrintError, match="unknown paper 'a3'; choose one of: a4, letter"):
        stickies_pdf(make_stickies(1), paper="a3")


def test_stickies_pdf_template_without_paper_raises():
    with pytest.raises(
        PrintError, match="template 'card-a6' does not print on 'letter'; it prints on: a4"
    ):
        stickies_pdf(make_stickies(1), template="card-a6", paper="letter")


def test_stickies_pdf_duplicate_code_raises():
    specs = make_stickies(2)
    with pytest.raises(PrintError, match="sticky code '7KQ2XM' appears twice"):
        stickies_pdf([specs[0], specs[0]])


def test_stickies_pdf_unknown_dictionary_raises():
    with pytest.raises(PrintError, match="unknown marker dictionary 'DICT_9X9'"):
        stickies_pdf(make_stickies(1), marker_dictionary="DICT_9X9")


def test_kit_pdf_missing_corner_raises():
    kit = make_kit()
    bad = type(kit)(kit.event_name, kit.board_url, kit.corners[:3], kit.rooms, kit.slots)
    with pytest.raises(
        PrintError, match=r"four corner cards tl, tr, br, bl; got \['tl', 'tr', 'br'\]"
    ):
        kit_pdf(bad)
