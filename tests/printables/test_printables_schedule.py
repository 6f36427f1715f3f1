"""The room-door schedule: A4 pages, every slot once, titles inside the page, a QR that decodes."""

from __future__ import annotations

import re
import subprocess
import sys

import pypdfium2 as pdfium
import pytest
from printables_testkit import BASE, pdf_page_sizes, read_qrs, render_pdf

from printables import PrintError
from printables.drawing import Text
from printables.schedule import (
    FREE_TEXT,
    RoomSchedule,
    ScheduleEntry,
    schedule_drawings,
    schedule_image,
    schedule_pdf,
)

SATURDAY = "Saturday 26 September"
SUNDAY = "Sunday 27 September"
MM_PT = 72 / 25.4


def make_schedule(entries, *, room="Hall A", capacity=40) -> RoomSchedule:
    return RoomSchedule(
        event_name="PyCon India Open Spaces",
        room_name=room,
        capacity=capacity,
        qr_text=f"{BASE}/rooms/1",
        entries=tuple(entries),
        updated="26 Sep 09:12",
    )


def day(label: str, hours, titled=()) -> list[ScheduleEntry]:
    return [
        ScheduleEntry(
            day=label,
            start=f"{h:02d}:00",
            end=f"{h:02d}:45",
            title=f"Session at {h}" if h in titled else None,
            host=f"Host {h}" if h in titled else None,
        )
        for h in hours
    ]


def page_texts(data: bytes) -> list[str]:
    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def test_schedule_pdf_is_one_a4_page_with_every_slot(tmp_path):
    data = schedule_pdf(make_schedule(day(SATURDAY, (10, 11, 12), titled=(10, 12))))
    assert pdf_page_sizes(data) == [(pytest.approx(595.2756, abs=1e-3), pytest.approx(841.8898))]
    (text,) = page_texts(data)
    for part in (
        "PyCon India Open Spaces",
        "Hall A",
        "40 seats",
        SATURDAY,
        "10:00–10:45",
        "Session at 10",
        "by Host 10",
        "11:00–11:45",
        "12:00–12:45",
        "Session at 12",
        "by Host 12",
        "Updated 26 Sep 09:12.",
    ):
        assert part in text, part
    assert text.count(FREE_TEXT) == 1
    assert "Page 1" not in text


def test_schedule_qr_decodes_to_the_room_page_in_pdf_and_png():
    schedule = make_schedule(day(SATURDAY, (10, 11), titled=(10,)))
    (page,) = render_pdf(schedule_pdf(schedule), dpi=150)
    page.save("/tmp/printables-room-door.png")
    assert read_qrs(page) == [f"{BASE}/rooms/1"]
    image = schedule_image(schedule, dpi=150)
    assert image.size == (1240, 1754)
    assert read_qrs(image) == [f"{BASE}/rooms/1"]


def test_many_slots_run_onto_more_pages_each_slot_once():
    entries = day(SATURDAY, range(8, 20), titled=range(8, 20, 2))
    entries += day(SUNDAY, range(8, 20), titled=range(9, 20, 2))
    texts = page_texts(schedule_pdf(make_schedule(entries)))
    assert len(texts) == 3
    assert [f"Page {i} of 3." in t for i, t in enumerate(texts, start=1)] == [True] * 3
    joined = "\n".join(texts)
    assert joined.count(FREE_TEXT) == 12
    assert sorted(int(h) for h in re.findall(r"by Host (\d+)", joined)) == list(range(8, 20))
    for label in (SATURDAY, SUNDAY):
        assert sum(t.count(label) for t in texts) == 1
    # Every page names the room; only the first gives the seats.
    assert ["Hall A" in t for t in texts] == [True, True, True]
    assert ["40 seats" in t for t in texts] == [True, False, False]


def test_day_heading_never_ends_a_page():
    entries = [e for n in range(1, 11) for e in day(f"Day {n}", (10, 11))]
    drawings = schedule_drawings(make_schedule(entries))
    assert len(drawings) == 3
    headings = []
    for drawing in drawings:
        texts = [op.text for op in drawing.ops if isinstance(op, Text)]
        for i, text in enumerate(texts):
            if text.startswith("Day "):
                headings.append(text)
                assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", texts[i + 1]), text
    assert headings == [f"Day {n}" for n in range(1, 11)]


def test_long_titles_and_hosts_stay_inside_the_page():
    title = "W" * 60 + " " + "Wide " * 12
    entries = [
        ScheduleEntry(day=SATURDAY, start="10:00", end="10:45", title=title, host="X" * 80),
        ScheduleEntry(day=SATURDAY, start="11:00", end="11:45", title="Short", host="Ann"),
    ]
    data = schedule_pdf(make_schedule(entries))
    pdf = pdfium.PdfDocument(data)
    try:
        textpage = pdf[0].get_textpage()
        right = max(textpage.get_charbox(i)[2] for i in range(textpage.count_chars()))
        text = textpage.get_text_range()
    finally:
        pdf.close()
    # The right margin is 15 mm: nothing may reach past 195 mm.
    assert right <= 195 * MM_PT + 0.5
    assert "W" * 40 in text and "…" in text and "Short" in text


def test_mixed_script_room_name_and_title_print():
    entries = [
        ScheduleEntry(
            day=SATURDAY, start="10:00", end="10:45", title="型ヒント at scale", host="Kenji"
        )
    ]
    (text,) = page_texts(schedule_pdf(make_schedule(entries, room="Конференц-зал", capacity=None)))
    assert "Конференц-зал" in text and "型ヒント at scale" in text
    assert "seats" not in text


def test_room_without_slots_prints_a_note():
    (text,) = page_texts(schedule_pdf(make_schedule([])))
    assert "No time slots yet." in text and "Hall A" in text


def test_same_schedule_gives_identical_bytes():
    schedule = make_schedule(day(SATURDAY, (10, 11), titled=(11,)))
    assert schedule_pdf(schedule) == schedule_pdf(schedule)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"room_name": "  "}, "the room has no name to print"),
        ({"qr_text": ""}, "the room schedule needs a QR text"),
        ({"qr_text": BASE + "/" + "x" * 900}, "the room's page address is too long"),
    ],
)
def test_schedule_refuses_what_cannot_print(change, message):
    schedule = make_schedule(day(SATURDAY, (10,)))
    broken = RoomSchedule(**{**schedule.__dict__, **change})
    with pytest.raises(PrintError, match=message):
        schedule_pdf(broken)


def test_schedule_image_refuses_a_missing_page():
    with pytest.raises(PrintError, match=r"has 1 page\(s\), not a page 2"):
        schedule_image(make_schedule(day(SATURDAY, (10,))), page=2)


def test_schedule_module_imports_without_flask():
    code = "import sys, printables.schedule; print('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
