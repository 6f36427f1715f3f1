"""Schedule exports through the test client: iCalendar, the project's JSON, frab XML, the organizers'
CSV, door PDF. The frab JSON has its own module."""

from __future__ import annotations

import csv
import datetime as dt
import io
import textwrap
import uuid
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import icalendar
import pypdfium2 as pdfium
import pytest
import zxingcpp
from app_helpers import printed_key
from sqlalchemy import event as sa_event

from app.extensions import db
from app.models import PlacementSource, StickyKind
from app.services.board import place_sticky
from app.services.events import load_event_file
from app.services.exports import csv_safe
from app.services.stickies import SessionFields, allocate_stickies, claim_sticky, set_hidden
from app.services.stickies import toggle_interest as toggle

KOLKATA = ZoneInfo("Asia/Kolkata")


def place(sticky, room, slot, minute=0):
    place_sticky(
        sticky=sticky,
        room=room,
        slot=slot,
        source=PlacementSource.ORGANIZER,
        now=dt.datetime(2026, 9, 26, 3, minute, tzinfo=dt.UTC),
    )
    db.session.commit()


def interest(sticky, count):
    for i in range(count):
        toggle(sticky=sticky, browser_id=f"browser-{sticky.code}-{i:03d}")
    db.session.commit()


@pytest.fixture
def board(event, create_session, create_stickies):
    """Two scheduled sessions, one unclaimed (handwritten) in a cell, and one each that is hidden, in
    conflict or unplaced."""
    hall_a, hall_b, terrace = event.rooms
    ten, eleven = event.slots
    types = create_session(
        title="Type hints at scale",
        host="Priya",
        tags="python, typing",
        description="Gradual typing in a big codebase.\n\nBring your mypy horror stories.",
        links="https://example.org/slides\nroom 3 whiteboard",
    )
    rust = create_session(title="Rust & <Python>", host="Mei", tags="rust")
    hidden = create_session(title="Hidden talk", host="Ann")
    late = create_session(title="Second in Hall A", host="Bo")
    unplaced = create_session(title="Not on the wall", host="Cy")
    (blank,) = create_stickies(1)
    place(types, hall_a, ten, 1)
    place(rust, hall_b, eleven, 2)
    place(hidden, terrace, ten, 3)
    place(late, hall_a, ten, 4)
    place(blank, terrace, eleven, 5)
    set_hidden(sticky=hidden, hidden=True)
    db.session.commit()
    interest(types, 3)
    interest(rust, 1)
    return {
        "types": types,
        "rust": rust,
        "blank": blank,
        "hidden": hidden,
        "late": late,
        "unplaced": unplaced,
    }


def vevents(data: bytes) -> list[icalendar.Event]:
    return icalendar.Calendar.from_ical(data).walk("VEVENT")


def test_event_ics_has_only_scheduled_sessions_in_kolkata_time(client, board):
    response = client.get("/schedule.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(response.data)
    items = cal.walk("VEVENT")
    handwritten = f"Session {board['blank'].code} (handwritten)"
    assert [str(e["SUMMARY"]) for e in items] == [
        "Type hints at scale",
        "Rust & <Python>",
        handwritten,
    ]
    assert [str(e["LOCATION"]) for e in items] == ["Hall A", "Hall B", "Terrace"]
    assert str(items[2]["DESCRIPTION"]) == ""
    starts = [e.decoded("DTSTART") for e in items]
    assert [s.isoformat() for s in starts] == [
        "2026-09-26T10:00:00+05:30",
        "2026-09-26T11:00:00+05:30",
        "2026-09-26T11:00:00+05:30",
    ]
    assert starts[0].astimezone(dt.UTC) == dt.datetime(2026, 9, 26, 4, 30, tzinfo=dt.UTC)
    assert items[0].decoded("DTEND").isoformat() == "2026-09-26T10:45:00+05:30"
    assert items[0]["DTSTART"].params["TZID"] == "Asia/Kolkata"
    (zone,) = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Kolkata"
    assert zone.walk("STANDARD")[0].decoded("TZOFFSETTO") == dt.timedelta(hours=5, minutes=30)
    assert str(items[0]["URL"]) == f"http://localhost:5000/s/{board['types'].code}"
    assert items[0]["CATEGORIES"].cats == ["python", "typing"]
    assert [str(e["UID"]) for e in items] == [
        f"{board['types'].code}@pycon-india.openspaces",
        f"{board['rust'].code}@pycon-india.openspaces",
        f"{board['blank'].code}@pycon-india.openspaces",
    ]
    assert items[0].decoded("DTSTAMP") == dt.datetime(2026, 9, 26, 3, 1, tzinfo=dt.UTC)


def test_room_ics_has_only_that_room(client, board):
    assert [str(e["SUMMARY"]) for e in vevents(client.get("/rooms/2/schedule.ics").data)] == [
        "Rust & <Python>"
    ]
    # Terrace holds a hidden session and a handwritten sticky: only the handwritten one is exported.
    terrace = vevents(client.get("/rooms/3/schedule.ics").data)
    assert [str(e["SUMMARY"]) for e in terrace] == [f"Session {board['blank'].code} (handwritten)"]
    empty = icalendar.Calendar.from_ical(client.get("/rooms/1/schedule.ics").data)
    assert [str(e["SUMMARY"]) for e in empty.walk("VEVENT")] == ["Type hints at scale"]
    assert str(empty.walk("VTIMEZONE")[0]["TZID"]) == "Asia/Kolkata"
    assert client.get("/rooms/4/schedule.ics").status_code == 404


BERLIN_TOML = textwrap.dedent(
    """\
    [event]
    name = "Herbst Barcamp"
    slug = "herbst"
    timezone = "Europe/Berlin"
    base_url = "https://barcamp.example"

    [[rooms]]
    name = "Saal"
    capacity = 80

    [[slots]]
    start = "2026-10-24T10:00"
    end = "2026-10-24T11:00"

    [[slots]]
    start = "2026-10-25T10:00"
    end = "2026-10-25T11:00"
    """
)


def test_event_ics_and_xml_follow_daylight_saving_change(app, client, tmp_path):
    path = tmp_path / "herbst.toml"
    path.write_text(BERLIN_TOML, encoding="utf-8")
    berlin = load_event_file(path).event
    batch = allocate_stickies(
        event=berlin, count=2, kind=StickyKind.SESSION, template="note-76", paper="a4"
    )
    for sticky, slot, title in zip(
        batch.stickies, berlin.slots, ("Samstag", "Sonntag"), strict=True
    ):
        claim_sticky(
            sticky=sticky,
            fields=SessionFields(title=title, host="Jo", tags=""),
            key=printed_key(sticky),
        )
        place_sticky(
            sticky=sticky, room=berlin.rooms[0], slot=slot, source=PlacementSource.ORGANIZER
        )
    db.session.commit()

    cal = icalendar.Calendar.from_ical(client.get("/schedule.ics").data)
    starts = [e.decoded("DTSTART") for e in cal.walk("VEVENT")]
    # 10:00 local on both days: summer time (+02:00) on Saturday, winter time (+01:00) on Sunday.
    assert [s.isoformat() for s in starts] == [
        "2026-10-24T10:00:00+02:00",
        "2026-10-25T10:00:00+01:00",
    ]
    assert [s.astimezone(dt.UTC).hour for s in starts] == [8, 9]
    (zone,) = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Berlin"
    offsets = {c.name: c.decoded("TZOFFSETTO") for c in zone.subcomponents}
    assert offsets == {"DAYLIGHT": dt.timedelta(hours=2), "STANDARD": dt.timedelta(hours=1)}

    root = ET.fromstring(client.get("/schedule.xml").data)
    assert root.findtext("conference/time_zone_name") == "Europe/Berlin"
    assert [d.get("start") for d in root.findall("day")] == [
        "2026-10-24T10:00:00+02:00",
        "2026-10-25T10:00:00+01:00",
    ]
    assert [e.findtext("date") for e in root.iter("event")] == [
        "2026-10-24T10:00:00+02:00",
        "2026-10-25T10:00:00+01:00",
    ]
    assert [e.findtext("start") for e in root.iter("event")] == ["10:00", "10:00"]


def test_api_schedule_lists_rooms_slots_and_scheduled_sessions(client, board):
    response = client.get("/api/schedule")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    data = response.get_json()
    assert data["event"] == {
        "name": "PyCon India Open Spaces",
        "slug": "pycon-india",
        "timezone": "Asia/Kolkata",
        "url": "http://localhost:5000",
    }
    assert data["rooms"] == [
        {"name": "Hall A", "capacity": 40, "url": "http://localhost:5000/rooms/1"},
        {"name": "Hall B", "capacity": 2, "url": "http://localhost:5000/rooms/2"},
        {"name": "Terrace", "capacity": None, "url": "http://localhost:5000/rooms/3"},
    ]
    assert data["slots"] == [
        {
            "key": "2026-09-26T10:00",
            "start": "2026-09-26T10:00:00+05:30",
            "end": "2026-09-26T10:45:00+05:30",
        },
        {
            "key": "2026-09-26T11:00",
            "start": "2026-09-26T11:00:00+05:30",
            "end": "2026-09-26T11:45:00+05:30",
        },
    ]
    types, rust = board["types"], board["rust"]
    assert data["sessions"] == [
        {
            "code": types.code,
            "title": "Type hints at scale",
            "host": "Priya",
            "tags": ["python", "typing"],
            "room": "Hall A",
            "slot": "2026-09-26T10:00",
            "url": f"http://localhost:5000/s/{types.code}",
            "picture": None,
            "interested": 3,
        },
        {
            "code": rust.code,
            "title": "Rust & <Python>",
            "host": "Mei",
            "tags": ["rust"],
            "room": "Hall B",
            "slot": "2026-09-26T11:00",
            "url": f"http://localhost:5000/s/{rust.code}",
            "picture": None,
            "interested": 1,
        },
        {
            "code": board["blank"].code,
            "title": f"Session {board['blank'].code} (handwritten)",
            "host": None,
            "tags": [],
            "room": "Terrace",
            "slot": "2026-09-26T11:00",
            "url": f"http://localhost:5000/s/{board['blank'].code}",
            "picture": None,
            "interested": 0,
        },
    ]


def test_schedule_xml_is_frab_shaped_with_exact_values(client, board):
    response = client.get("/schedule.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(response.data)
    assert root.tag == "schedule"
    assert [child.tag for child in root] == ["version", "conference", "day"]
    assert len(root.findtext("version")) == 12
    conference = {child.tag: child.text for child in root.find("conference")}
    assert conference == {
        "title": "PyCon India Open Spaces",
        "acronym": "pycon_india",
        "start": "2026-09-26",
        "end": "2026-09-26",
        "days": "1",
        "timeslot_duration": "00:15",
        "time_zone_name": "Asia/Kolkata",
    }
    (day,) = root.findall("day")
    assert day.attrib == {
        "index": "1",
        "date": "2026-09-26",
        "start": "2026-09-26T10:00:00+05:30",
        "end": "2026-09-26T11:45:00+05:30",
    }
    assert [r.get("name") for r in day.findall("room")] == ["Hall A", "Hall B", "Terrace"]
    (handwritten,) = day.find("room[@name='Terrace']").findall("event")
    assert handwritten.findtext("title") == f"Session {board['blank'].code} (handwritten)"
    assert list(handwritten.find("persons")) == []
    types = board["types"]
    (event,) = day.find("room[@name='Hall A']").findall("event")
    url = f"http://localhost:5000/s/{types.code}"
    assert event.attrib == {"guid": str(uuid.uuid5(uuid.NAMESPACE_URL, url)), "id": str(types.id)}
    assert [child.tag for child in event] == [
        "date",
        "start",
        "duration",
        "room",
        "slug",
        "url",
        "title",
        "subtitle",
        "track",
        "type",
        "language",
        "abstract",
        "description",
        "persons",
        "links",
    ]
    fields = {child.tag: child.text for child in event if len(child) == 0}
    assert fields == {
        "date": "2026-09-26T10:00:00+05:30",
        "start": "10:00",
        "duration": "00:45",
        "room": "Hall A",
        "slug": f"pycon-india-{types.code.lower()}",
        "url": url,
        "title": "Type hints at scale",
        "subtitle": None,
        "track": "python",
        "type": "Open Space",
        "language": None,
        "abstract": "Gradual typing in a big codebase.",
        "description": "Gradual typing in a big codebase.\n\nBring your mypy horror stories.",
    }
    assert [(p.get("id"), p.text) for p in event.find("persons")] == [("1", "Priya")]
    # Only web links become <link>; "room 3 whiteboard" is not an address.
    assert [(a.get("href"), a.text) for a in event.find("links")] == [
        ("https://example.org/slides", "https://example.org/slides")
    ]
    (other,) = day.find("room[@name='Hall B']").findall("event")
    assert other.findtext("title") == "Rust & <Python>"
    assert b"Rust &amp; &lt;Python&gt;" in response.data
    assert [(p.get("id"), p.text) for p in other.find("persons")] == [("2", "Mei")]
    assert other.findtext("start") == "11:00"
    assert other.findtext("track") == "rust"
    assert other.findtext("abstract") == ""


def test_schedule_exports_leave_out_hidden_unplaced_and_conflicting(client, board):
    titles = [
        "Type hints at scale",
        "Rust & <Python>",
        f"Session {board['blank'].code} (handwritten)",
    ]
    assert [str(e["SUMMARY"]) for e in vevents(client.get("/schedule.ics").data)] == titles
    assert [s["title"] for s in client.get("/api/schedule").get_json()["sessions"]] == titles
    root = ET.fromstring(client.get("/schedule.xml").data)
    assert [e.findtext("title") for e in root.iter("event")] == titles


def test_schedule_version_changes_when_a_session_moves(event, client, board):
    before = ET.fromstring(client.get("/schedule.xml").data).findtext("version")
    assert ET.fromstring(client.get("/schedule.xml").data).findtext("version") == before
    place(board["rust"], event.rooms[2], event.slots[1], 30)
    after = ET.fromstring(client.get("/schedule.xml").data).findtext("version")
    assert after != before


def test_csv_needs_organizer_login(client, board):
    response = client.get("/admin/export.csv")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=/admin/export.csv")


def test_csv_lists_every_claimed_sticky_with_exact_values(organizer_client, board, create_person):
    create_person(name='=HYPERLINK("http://evil")', interests="-rust, @tea", contact="+491234")
    response = organizer_client.get("/admin/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="pycon-india-stickies.csv"'
    )
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "code",
        "kind",
        "title",
        "host",
        "tags",
        "contact",
        "room",
        "slot",
        "status",
        "interested",
        "claimed at",
    ]
    by_title = {row[2]: row for row in rows[1:]}
    assert len(rows) == 7
    types = by_title["Type hints at scale"]
    assert types[:10] == [
        board["types"].code,
        "session",
        "Type hints at scale",
        "Priya",
        "python, typing",
        "",
        "Hall A",
        "2026-09-26T10:00",
        "placed",
        "3",
    ]
    claimed = dt.datetime.fromisoformat(types[10])
    assert claimed.utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert by_title["Hidden talk"][6:10] == ["Terrace", "2026-09-26T10:00", "placed", "0"]
    assert by_title["Second in Hall A"][6:10] == ["Hall A", "2026-09-26T10:00", "conflict", "0"]
    assert by_title["Not on the wall"][6:10] == ["", "", "none", "0"]
    person = by_title['\'=HYPERLINK("http://evil")']
    assert person[1:10] == [
        "person",
        '\'=HYPERLINK("http://evil")',
        "",
        "'-rust, @tea",
        "'+491234",
        "",
        "",
        "none",
        "",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("a=b", "a=b"),
        ("", ""),
        (3, 3),
    ],
)
def test_csv_safe_quotes_formula_starts(value, expected):
    assert csv_safe(value) == expected


def test_room_pdf_is_a4_with_titles_free_slots_and_room_qr(client, board):
    response = client.get("/rooms/1/schedule.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    doc = pdfium.PdfDocument(response.data)
    assert len(doc) == 1
    page = doc[0]
    assert [round(v, 1) for v in page.get_size()] == [595.3, 841.9]
    text = page.get_textpage().get_text_range()
    assert "Hall A" in text and "40 seats" in text and "Saturday 26 September" in text
    assert "10:00–10:45" in text and "Type hints at scale" in text and "by Priya" in text
    # The conflicting sticky is not the cell's session; 11:00 in Hall A is free.
    assert "Second in Hall A" not in text
    assert "11:00–11:45" in text and "free — post a sticky on the board" in text
    image = page.render(scale=200 / 72).to_pil()
    image.save("/tmp/test-room-door.png")
    qr = [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]
    assert qr == ["http://localhost:5000/rooms/1"]


def test_room_pdf_for_unknown_room_is_404(client, board):
    assert client.get("/rooms/9/schedule.pdf").status_code == 404


def test_board_and_room_pages_link_the_exports(app, organizer_client, board):
    client = app.test_client()
    board_page = client.get("/board").get_data(as_text=True)
    for url in ("/schedule.ics", "/schedule.json", "/schedule.xml", "/api/schedule"):
        assert f'href="{url}"' in board_page
    assert "/admin/export.csv" in organizer_client.get("/board").get_data(as_text=True)
    kiosk = client.get("/board?kiosk=1").get_data(as_text=True)
    assert 'href="/schedule.ics"' not in kiosk
    room_page = client.get("/rooms/2").get_data(as_text=True)
    assert 'href="/rooms/2/schedule.pdf"' in room_page
    assert 'href="/rooms/2/schedule.ics"' in room_page


@pytest.mark.parametrize(
    "url", ["/schedule.ics", "/schedule.json", "/schedule.xml", "/api/schedule"]
)
def test_export_queries_do_not_grow_with_sessions(app, client, event, board, create_session, url):
    def queries() -> int:
        statements = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        db.session.expire_all()
        sa_event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    before = queries()
    place(create_session(title="More"), event.rooms[2], event.slots[1], 40)
    place(create_session(title="Even more"), event.rooms[1], event.slots[0], 41)
    assert queries() == before
