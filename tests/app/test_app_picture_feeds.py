"""Feeds name a handwritten session by its code and link its picture until a title is typed."""

import xml.etree.ElementTree as ET

import icalendar
import pytest

from app.extensions import db
from app.models import PlacementSource
from app.services.board import place_sticky
from app.services.pictures import confirm_title, store_views
from app.settings import app_settings


@pytest.fixture
def handwritten(app, event, create_stickies, create_session, make_view):
    """One unclaimed sticky with a picture in Hall A at 10:00, one typed session with a picture."""
    (blank,) = create_stickies(1)
    typed = create_session(title="Type hints at scale")
    for sticky, room in ((blank, 0), (typed, 1)):
        place_sticky(
            sticky=sticky,
            room=event.rooms[room],
            slot=event.slots[0],
            source=PlacementSource.ORGANIZER,
        )
    store_views(
        event=event,
        views=[make_view(blank.code), make_view(typed.code, seed=1)],
        store=app_settings(app).scan.pictures_store,
        cap_bytes=app.config["PICTURES_MAX_BYTES"],
    )
    db.session.commit()
    version = blank.picture_file.rsplit("-", 1)[1][:-4]
    blank.url = f"http://localhost:5000/s/{blank.code}/picture.jpg?v={version}"
    return blank


def test_ics_attaches_picture_of_handwritten_session(client, handwritten):
    cal = icalendar.Calendar.from_ical(client.get("/schedule.ics").data)
    first, second = cal.walk("VEVENT")
    assert str(first["SUMMARY"]) == f"Session {handwritten.code} (handwritten)"
    assert str(first["ATTACH"]) == handwritten.url
    assert first["ATTACH"].params["FMTTYPE"] == "image/jpeg"
    assert str(second["SUMMARY"]) == "Type hints at scale"
    assert "ATTACH" not in second


def test_api_schedule_links_picture_of_handwritten_session(client, handwritten):
    sessions = client.get("/api/schedule").get_json()["sessions"]
    assert [(s["title"], s["picture"]) for s in sessions] == [
        (f"Session {handwritten.code} (handwritten)", handwritten.url),
        ("Type hints at scale", None),
    ]


def test_frab_xml_links_picture_of_handwritten_session(client, handwritten):
    root = ET.fromstring(client.get("/schedule.xml").data)
    events = root.findall(".//event")
    assert events[0].findtext("title") == f"Session {handwritten.code} (handwritten)"
    assert [(e.text, e.get("href")) for e in events[0].find("links")] == [
        ("Picture of the handwritten sticky", handwritten.url)
    ]
    assert list(events[1].find("links")) == []


def test_frab_json_links_picture_of_handwritten_session(client, handwritten):
    data = client.get("/schedule.json").get_json()
    rooms = data["schedule"]["conference"]["days"][0]["rooms"]
    first = rooms["Hall A"][0]
    assert first["title"] == f"Session {handwritten.code} (handwritten)"
    assert first["links"] == [
        {"title": "Picture of the handwritten sticky", "url": handwritten.url}
    ]
    assert rooms["Hall B"][0]["links"] == []


def test_confirmed_title_names_the_session_in_feeds(client, handwritten):
    confirm_title(sticky=handwritten, title="Rust for Pythonistas")
    db.session.commit()
    cal = icalendar.Calendar.from_ical(client.get("/schedule.ics").data)
    first = cal.walk("VEVENT")[0]
    assert str(first["SUMMARY"]) == "Rust for Pythonistas"
    assert "ATTACH" not in first
    assert client.get("/api/schedule").get_json()["sessions"][0]["picture"] is None
