"""The frab/c3voc ``/schedule.json`` through the test client: required fields, types, time arithmetic."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
import uuid

import pytest
from app_helpers import printed_key

from app.extensions import db
from app.models import PlacementSource, StickyKind
from app.services.board import place_sticky
from app.services.demo import SESSIONS, seed_demo
from app.services.events import load_event_file
from app.services.stickies import SessionFields, allocate_stickies, claim_sticky

# The c3voc schedule JSON schema's required fields and their types, per object.
CONFERENCE = {
    "title": str,
    "acronym": str,
    "days": list,
    "daysCount": int,
    "start": str,
    "end": str,
    "timeslot_duration": str,
}
DAY = {"index": int, "date": str, "day_start": str, "day_end": str, "rooms": dict}
EVENT = {
    "id": int,
    "guid": str,
    "date": str,
    "start": str,
    "duration": str,
    "room": str,
    "slug": str,
    "url": str,
    "title": str,
    "subtitle": (str, type(None)),
    "track": (str, type(None)),
    "type": str,
    "language": str,
    "abstract": (str, type(None)),
    "persons": list,
    "links": list,
}
ROOM = {"name": str, "guid": str}
HHMM = re.compile(r"^[0-9]+:[0-9]{2}$")
ACRONYM = re.compile(r"^[a-z0-9_-][a-z0-9_]{3,}(-2[0-9]{3}-[a-z]+)?$")
SLUG = re.compile(r"^[a-z0-9_-]+[a-z0-9]$")

MULTI_DAY_TOML = textwrap.dedent(
    """\
    [event]
    name = "Büro-Camp Zürich"
    slug = "bc"
    timezone = "Asia/Kolkata"
    base_url = "https://camp.example.org"

    [[rooms]]
    name = "Saal Ä"
    capacity = 30

    [[rooms]]
    name = "東京"

    [[slots]]
    start = "2026-10-24T10:00"
    end = "2026-10-24T10:50"

    [[slots]]
    start = "2026-10-24T23:00"
    end = "2026-10-25T00:30"

    [[slots]]
    start = "2026-10-26T09:30"
    end = "2026-10-26T10:00"
    """
)


def check_shape(doc: dict) -> list[dict]:
    """Assert the c3voc required fields, types and time arithmetic; return every event."""

    def fields(obj: dict, spec: dict) -> None:
        for key, kind in spec.items():
            assert isinstance(obj[key], kind), (key, obj[key])

    assert set(doc) == {"$schema", "generator", "schedule"}
    assert doc["$schema"] == "https://c3voc.de/schedule/schema.json"
    schedule = doc["schedule"]
    assert isinstance(schedule["version"], str)
    conference = schedule["conference"]
    fields(conference, CONFERENCE)
    assert ACRONYM.match(conference["acronym"])
    assert HHMM.match(conference["timeslot_duration"])
    for room in conference["rooms"]:
        fields(room, ROOM)
        uuid.UUID(room["guid"])
    assert conference["daysCount"] == len(conference["days"])
    dates = [dt.date.fromisoformat(d["date"]) for d in conference["days"]]
    assert dates == sorted(set(dates))
    assert conference["start"] == dates[0].isoformat()
    assert conference["end"] == dates[-1].isoformat()
    room_names = [r["name"] for r in conference["rooms"]]
    events = []
    for index, day in enumerate(conference["days"], start=1):
        fields(day, DAY)
        assert day["index"] == index
        day_start = dt.datetime.fromisoformat(day["day_start"])
        day_end = dt.datetime.fromisoformat(day["day_end"])
        assert day_start.date().isoformat() == day["date"]
        assert day_start.utcoffset() is not None and day_start < day_end
        assert list(day["rooms"]) == room_names
        for room, items in day["rooms"].items():
            for item in items:
                fields(item, EVENT)
                assert item["room"] == room
                assert item["id"] >= 1
                uuid.UUID(item["guid"])
                assert SLUG.match(item["slug"])
                start = dt.datetime.fromisoformat(item["date"])
                assert start.date().isoformat() == day["date"]
                assert f"{start:%H:%M}" == item["start"]
                hours, minutes = map(int, item["duration"].split(":"))
                assert minutes < 60
                assert day_start <= start
                assert start + dt.timedelta(hours=hours, minutes=minutes) <= day_end
                for person in item["persons"]:
                    assert isinstance(person["name"], str)
                    # The schema's persons are frab-shaped (id and public_name) or pretalx-shaped
                    # (name), never both.
                    assert "id" not in person
                events.append(item)
    assert len({e["guid"] for e in events}) == len(events)
    assert len({e["id"] for e in events}) == len(events)
    assert len({e["slug"] for e in events}) == len(events)
    return events


@pytest.fixture
def multi_day(app, tmp_path):
    """Two days in Kolkata: a long, a non-ASCII and a handwritten session, one past midnight."""
    path = tmp_path / "multi.toml"
    path.write_text(MULTI_DAY_TOML, encoding="utf-8")
    event = load_event_file(path).event
    stickies = allocate_stickies(
        event=event, count=3, kind=StickyKind.SESSION, template="note-76", paper="a4"
    ).stickies
    long_title = "Ein sehr langer Titel " * 5 + "und Schluss"
    fields = [
        SessionFields(title=long_title[:120], host="Jörg", tags="Länge, tests"),
        SessionFields(
            title="寿司と Python 🍣 & <tags>",
            host="Ünal",
            tags="",
            description="Erstens.\n\nZweitens.",
            links="https://example.org/a\nnot a link",
        ),
        None,
    ]
    places = [(0, 0), (1, 1), (0, 2)]
    for sticky, claim, (room, slot) in zip(stickies, fields, places, strict=True):
        if claim is not None:
            claim_sticky(sticky=sticky, fields=claim, key=printed_key(sticky))
        place_sticky(
            sticky=sticky,
            room=event.rooms[room],
            slot=event.slots[slot],
            source=PlacementSource.ORGANIZER,
        )
    db.session.commit()
    return {"event": event, "stickies": stickies, "long": long_title[:120]}


def test_schedule_json_of_the_demo_event_has_every_placed_session(app, client):
    seed_demo()
    db.session.commit()
    response = client.get("/schedule.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    events = check_shape(response.get_json())
    # The session that came second to its cell is not in the schedule.
    assert sorted(e["title"] for e in events) == sorted(s[0] for s in SESSIONS)
    conference = response.get_json()["schedule"]["conference"]
    assert conference["acronym"] == "demo"
    assert conference["time_zone_name"] == "Europe/Berlin"
    assert conference["timeslot_duration"] == "00:15"
    assert {e["duration"] for e in events} == {"00:45"}
    assert {e["type"] for e in events} == {"Open Space"}


def test_schedule_json_spans_days_with_long_non_ascii_and_handwritten_titles(client, multi_day):
    response = client.get("/schedule.json")
    data = response.get_json()
    events = check_shape(data)
    long_one, sushi, handwritten = multi_day["stickies"]
    assert "寿司と Python 🍣".encode() in response.data
    conference = data["schedule"]["conference"]
    assert {k: conference[k] for k in ("acronym", "title", "start", "end", "daysCount")} == {
        "acronym": "bc__",
        "title": "Büro-Camp Zürich",
        "start": "2026-10-24",
        "end": "2026-10-26",
        "daysCount": 2,
    }
    assert conference["timeslot_duration"] == "00:10"
    assert [r["name"] for r in conference["rooms"]] == ["Saal Ä", "東京"]
    assert conference["rooms"][0]["capacity"] == 30
    assert [(d["index"], d["date"], d["day_start"], d["day_end"]) for d in conference["days"]] == [
        (1, "2026-10-24", "2026-10-24T10:00:00+05:30", "2026-10-25T00:30:00+05:30"),
        (2, "2026-10-26", "2026-10-26T09:30:00+05:30", "2026-10-26T10:00:00+05:30"),
    ]
    assert [(e["title"], e["room"], e["date"], e["start"], e["duration"]) for e in events] == [
        (multi_day["long"], "Saal Ä", "2026-10-24T10:00:00+05:30", "10:00", "00:50"),
        ("寿司と Python 🍣 & <tags>", "東京", "2026-10-24T23:00:00+05:30", "23:00", "01:30"),
        (
            f"Session {handwritten.code} (handwritten)",
            "Saal Ä",
            "2026-10-26T09:30:00+05:30",
            "09:30",
            "00:30",
        ),
    ]
    assert len(events[0]["title"]) == 120
    first, second, third = events
    assert first["track"] == "Länge"
    assert first["persons"][0]["name"] == "Jörg"
    assert second == {
        "id": sushi.id,
        "guid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://camp.example.org/s/{sushi.code}")),
        "date": "2026-10-24T23:00:00+05:30",
        "start": "23:00",
        "duration": "01:30",
        "room": "東京",
        "slug": f"bc-{sushi.code.lower()}",
        "url": f"https://camp.example.org/s/{sushi.code}",
        "title": "寿司と Python 🍣 & <tags>",
        "subtitle": "",
        "track": None,
        "type": "Open Space",
        "language": "",
        "abstract": "Erstens.",
        "description": "Erstens.\n\nZweitens.",
        "persons": [{"guid": second["persons"][0]["guid"], "name": "Ünal", "public_name": "Ünal"}],
        "links": [{"title": "https://example.org/a", "url": "https://example.org/a"}],
        "attachments": [],
    }
    assert third["persons"] == [] and third["track"] is None and third["abstract"] == ""
    assert long_one.id == first["id"]


def test_schedule_json_guids_stay_when_a_session_moves(client, multi_day):
    before = check_shape(client.get("/schedule.json").get_json())
    event = multi_day["event"]
    place_sticky(
        sticky=multi_day["stickies"][0],
        room=event.rooms[1],
        slot=event.slots[2],
        source=PlacementSource.ORGANIZER,
    )
    db.session.commit()
    after = check_shape(client.get("/schedule.json").get_json())
    assert {e["title"]: e["guid"] for e in after} == {e["title"]: e["guid"] for e in before}
    assert [e["room"] for e in after if e["title"] == multi_day["long"]] == ["東京"]
