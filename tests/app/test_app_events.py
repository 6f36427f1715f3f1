"""Loading the event file: create, reload unchanged, update in place, refuse bad files."""

import pytest
from app_helpers import EVENT_TOML, utc
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, Room, Slot
from app.services import ServiceError, events
from app.services.events import load_event_file


def test_event_load_creates_rooms_and_slots_in_utc(event):
    assert event.slug == "pycon-india"
    assert [r.name for r in event.rooms] == ["Hall A", "Hall B", "Terrace"]
    assert [r.capacity for r in event.rooms] == [40, 2, None]
    # 10:00 in Asia/Kolkata (UTC+05:30) is 04:30 UTC.
    assert [s.start_dt for s in event.slots] == [utc(2026, 9, 26, 4, 30), utc(2026, 9, 26, 5, 30)]
    assert [s.key for s in event.slots] == ["2026-09-26T10:00", "2026-09-26T11:00"]
    markers = [r.marker_id for r in event.rooms] + [s.marker_id for s in event.slots]
    assert markers == [4, 5, 6, 7, 8]


def test_event_load_twice_changes_nothing(event, event_file):
    ids_before = [(r.id, r.marker_id) for r in event.rooms] + [
        (s.id, s.marker_id) for s in event.slots
    ]
    report = load_event_file(event_file)
    db.session.commit()
    assert report.changes == ()
    assert not report.created
    ids_after = [(r.id, r.marker_id) for r in event.rooms] + [
        (s.id, s.marker_id) for s in event.slots
    ]
    assert ids_after == ids_before
    assert db.session.scalar(select(func.count(Event.id))) == 1


def test_event_load_edited_file_updates_in_place(event, event_file):
    hall_a_id = event.rooms[0].id
    edited = EVENT_TOML.replace("capacity = 40", "capacity = 60") + (
        '\n[[rooms]]\nname = "Garden"\ncapacity = 12\n'
    )
    event_file.write_text(edited)
    report = load_event_file(event_file)
    db.session.commit()
    assert report.changes == ("updated room 'Hall A'", "added room 'Garden'")
    assert event.rooms[0].id == hall_a_id
    assert event.rooms[0].capacity == 60
    assert event.rooms[-1].name == "Garden"
    assert event.rooms[-1].marker_id == 9


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('timezone = "Asia/Kolkata"\n', ""), "missing key 'timezone'"),
        (lambda t: t.replace('name = "Hall B"', 'name = "hall a"'), "duplicate room 'hall a'"),
        (
            lambda t: t.replace('start = "2026-09-26T11:00"', 'start = "2026-09-26T10:30"'),
            "slots overlap: 2026-09-26T10:00 and 2026-09-26T10:30",
        ),
        (lambda t: t.replace("Asia/Kolkata", "Mars/Olympus"), "unknown timezone 'Mars/Olympus'"),
        (
            lambda t: t.replace('end = "2026-09-26T10:45"', 'end = "2026-09-26T09:45"'),
            "end must be after start",
        ),
        (
            lambda t: t.replace('start = "2026-09-26T10:00"', 'start = "26/09 10am"'),
            "is not a local time",
        ),
        (lambda t: t + "\n[[[", "not valid TOML"),
    ],
)
def test_event_load_bad_file_changes_nothing(event, event_file, edit, message):
    rooms_before = db.session.scalar(select(func.count(Room.id)))
    event_file.write_text(edit(EVENT_TOML))
    with pytest.raises(ServiceError, match=message.replace("(", r"\(")):
        load_event_file(event_file)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Room.id))) == rooms_before
    assert db.session.scalar(select(func.count(Slot.id))) == 2


def test_event_load_cli_reports_the_problem_and_exits_1(runner, event_file):
    event_file.write_text(EVENT_TOML.replace('slug = "pycon-india"\n', ""))
    result = runner.invoke("event", "load", str(event_file))
    assert result.exit_code == 1
    assert "missing key 'slug'" in result.output
    assert db.session.scalar(select(func.count(Event.id))) == 0


def test_event_load_cli_twice_says_no_changes(runner, event_file):
    first = runner.invoke("event", "load", str(event_file))
    second = runner.invoke("event", "load", str(event_file))
    assert first.exit_code == 0, first.output
    assert "created event 'pycon-india'" in first.output
    assert "no changes" in second.output
    assert "3 rooms, 2 slots (Asia/Kolkata)" in second.output


def test_room_with_placed_sticky_cannot_be_removed(event, event_file, create_session):
    from app.models import PlacementSource
    from app.services.board import place_sticky

    sticky = create_session()
    place_sticky(
        sticky=sticky, room=event.rooms[2], slot=event.slots[0], source=PlacementSource.ORGANIZER
    )
    db.session.commit()
    event_file.write_text(EVENT_TOML.replace('[[rooms]]\nname = "Terrace"\n', ""))
    with pytest.raises(ServiceError, match="room 'Terrace' has stickies on the board"):
        load_event_file(event_file)


def _layout_version(event) -> int:
    return db.session.scalar(select(Event.layout_version).where(Event.id == event.id))


@pytest.mark.parametrize(
    ("change", "counted"),
    [
        (lambda e: events.add_room(event=e, name="Garden", capacity=12), True),
        (lambda e: events.update_room(room=e.rooms[0], name="Main Hall", capacity=40), True),
        (lambda e: events.delete_room(room=e.rooms[2]), True),
        (
            lambda e: events.add_slot(event=e, start="2026-09-26T12:00", end="2026-09-26T12:45"),
            True,
        ),
        (lambda e: events.delete_slot(slot=e.slots[1]), True),
        (
            lambda e: events.update_event_settings(
                event=e, name=e.name, timezone="Asia/Dubai", base_url=e.base_url, plain_notes=None
            ),
            True,
        ),
        (
            lambda e: events.update_event_settings(
                event=e, name="Renamed", timezone=e.timezone, base_url=e.base_url, plain_notes=None
            ),
            False,
        ),
    ],
    ids=["add room", "rename room", "delete room", "add slot", "delete slot", "time zone", "name"],
)
def test_every_change_of_rooms_slots_or_time_zone_counts_in_the_layout_version(
    event, change, counted
):
    before = _layout_version(event)
    change(event)
    db.session.commit()
    assert _layout_version(event) == before + (1 if counted else 0)


def test_loading_an_edited_event_file_counts_one_layout_change(event, event_file):
    before = _layout_version(event)
    load_event_file(event_file)
    db.session.commit()
    assert _layout_version(event) == before
    event_file.write_text(EVENT_TOML + '\n[[rooms]]\nname = "Garden"\n')
    load_event_file(event_file)
    db.session.commit()
    assert _layout_version(event) > before


def _served_slug() -> str:
    from app.services.events import get_current_event

    db.session.remove()
    return get_current_event().slug


def test_event_load_of_another_slug_is_refused_and_changes_nothing(runner, event, event_file):
    event_file.write_text(EVENT_TOML.replace('slug = "pycon-india"', 'slug = "pycon-india-27"'))
    result = runner.invoke("event", "load", str(event_file))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {event_file} names the event 'pycon-india-27', but this instance serves "
        "'pycon-india' (and its printed stickies). To update 'pycon-india', put back "
        "slug = 'pycon-india'; to create 'pycon-india-27' as a second event and serve it "
        f"instead, run `openspaces event load --new-event {event_file}`\n"
    )
    assert db.session.scalars(select(Event.slug)).all() == ["pycon-india"]
    assert _served_slug() == "pycon-india"


def test_event_load_new_event_creates_and_serves_a_second_event(runner, event, event_file):
    event_file.write_text(EVENT_TOML.replace('slug = "pycon-india"', 'slug = "pycon-india-27"'))
    result = runner.invoke("event", "load", "--new-event", str(event_file))
    assert result.exit_code == 0, result.output
    assert "created event 'pycon-india-27'" in result.output
    assert _served_slug() == "pycon-india-27"


def test_event_load_of_an_event_not_served_says_to_use_it_first(runner, event, event_file):
    second = event_file.with_name("second.toml")
    second.write_text(EVENT_TOML.replace('slug = "pycon-india"', 'slug = "second"'))
    runner.invoke("event", "load", "--new-event", str(second))
    result = runner.invoke("event", "load", str(event_file))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {event_file} is for the event 'pycon-india', but this instance serves "
        "'second'; to change 'pycon-india', serve it first: `openspaces event use pycon-india`\n"
    )
    assert _served_slug() == "second"


def test_event_list_marks_the_served_event(runner, event, event_file):
    second = event_file.with_name("second.toml")
    second.write_text(EVENT_TOML.replace('slug = "pycon-india"', 'slug = "second"'))
    runner.invoke("event", "load", "--new-event", str(second))
    result = runner.invoke("event", "list")
    assert result.exit_code == 0
    assert result.output == (
        "  pycon-india\tPyCon India Open Spaces\n* second\tPyCon India Open Spaces\n"
    )


def test_event_list_without_events_says_how_to_load_one(runner):
    result = runner.invoke("event", "list")
    assert result.output == "No event yet; run `openspaces event load FILE.toml`.\n"


def test_event_use_switches_the_served_event_and_back(runner, client, event, event_file):
    second = event_file.with_name("second.toml")
    second.write_text(EVENT_TOML.replace('slug = "pycon-india"', 'slug = "second"'))
    runner.invoke("event", "load", "--new-event", str(second))
    result = runner.invoke("event", "use", "pycon-india")
    assert result.exit_code == 0
    assert result.output == "Serving the event 'pycon-india': PyCon India Open Spaces.\n"
    assert client.get("/api/board").get_json()["event"] == "pycon-india"
    assert runner.invoke("event", "use", "second").exit_code == 0
    assert client.get("/api/board").get_json()["event"] == "second"


def test_event_use_of_an_unknown_slug_is_refused(runner, event):
    result = runner.invoke("event", "use", "nope")
    assert result.exit_code == 1
    assert result.output == "Error: no event 'nope' in this instance; its events: pycon-india\n"
    assert _served_slug() == "pycon-india"
