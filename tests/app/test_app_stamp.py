"""The live stamp's counter: one step per committed change a live page shows, none otherwise."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.live import stamp
from app.models import _WALL_MESSAGE_TYPES, Event, PlacementSource, Sticky
from app.services import events as event_service
from app.services import outbox
from app.services import stickies as sticky_service
from app.services.board import place_sticky, remove_sticky
from app.services.pictures import confirm_title
from benchmarks.demo_wall import event_toml
from tests.app.app_helpers import printed_key, run_together

NOW = dt.datetime(2026, 9, 26, 4, 40, tzinfo=dt.UTC)
TEN, ELEVEN = "2026-09-26T10:00", "2026-09-26T11:00"


@pytest.fixture(autouse=True)
def fresh_versions():
    stamp.forget_versions()
    yield
    stamp.forget_versions()


def counter(event_id: int) -> int:
    return db.session.scalar(select(Event.board_version).where(Event.id == event_id))


def steps(event, change) -> int:
    """Return how far one committed ``change()`` moved the event's counter."""
    before = counter(event.id)
    change()
    db.session.commit()
    return counter(event.id) - before


def test_stamp_counts_each_kind_of_change_once(event, create_stickies, create_session):
    hall_a, hall_b = event.rooms[0], event.rooms[1]
    ten = event.slots[0]
    sticky = create_session()
    (blank,) = create_stickies(1)
    moved = [
        steps(event, lambda: place_sticky(sticky=sticky, room=hall_a, slot=ten, source="camera")),
        steps(event, lambda: place_sticky(sticky=sticky, room=hall_b, slot=ten, source="camera")),
        steps(event, lambda: remove_sticky(sticky=sticky, source=PlacementSource.ORGANIZER)),
        steps(
            event,
            lambda: sticky_service.claim_sticky(
                sticky=blank,
                fields=sticky_service.SessionFields(title="Claimed", host="Ana"),
                key=printed_key(blank),
            ),
        ),
        steps(
            event,
            lambda: sticky_service.edit_sticky(
                sticky=sticky, fields=sticky_service.SessionFields(title="Edited", host="Priya")
            ),
        ),
        steps(event, lambda: sticky_service.set_hidden(sticky=sticky, hidden=True)),
        steps(
            event,
            lambda: sticky_service.set_interest(sticky=blank, browser_id="b" * 32, interested=True),
        ),
        steps(
            event,
            lambda: sticky_service.set_interest(
                sticky=blank, browser_id="b" * 32, interested=False
            ),
        ),
        steps(event, lambda: event_service.update_room(room=hall_a, name="Hall Z", capacity=9)),
        steps(
            event,
            lambda: event_service.add_slot(
                event=event, start="2026-09-26T12:00", end="2026-09-26T12:45"
            ),
        ),
        steps(
            event,
            lambda: event_service.update_event_settings(
                event=event,
                name="Renamed",
                timezone=event.timezone,
                base_url=event.base_url,
                plain_notes=None,
            ),
        ),
        steps(event, lambda: outbox.note_announcement(event=event, text="Lunch is served")),
    ]
    assert moved == [1] * 12


def test_stamp_counts_a_transaction_of_many_changes_once(event, create_session):
    first, second = create_session(), create_session(title="Second")
    room, slot = event.rooms[0], event.slots[0]

    def both():
        place_sticky(sticky=first, room=room, slot=slot, source=PlacementSource.CAMERA)
        db.session.flush()
        place_sticky(sticky=second, room=event.rooms[1], slot=slot, source=PlacementSource.CAMERA)
        db.session.flush()
        sticky_service.set_interest(sticky=first, browser_id="c" * 32, interested=True)

    assert steps(event, both) == 1


def test_stamp_counts_a_picture_title_read_and_confirmed(event, create_stickies):
    (blank,) = create_stickies(1)

    def read():
        blank.suggested_title = "Read from the picture"

    assert [
        steps(event, read),
        steps(event, lambda: confirm_title(sticky=blank, title="Typed")),
    ] == [
        1,
        1,
    ]


def test_stamp_does_not_count_a_rolled_back_change(event, create_session):
    sticky = create_session()
    before = counter(event.id)
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.flush()
    assert counter(event.id) == before + 1
    db.session.rollback()
    assert counter(event.id) == before
    assert db.session.get(Sticky, sticky.id).room_id is None


def test_stamp_does_not_count_a_lost_claim(event, create_stickies):
    (blank,) = create_stickies(1)
    fields = sticky_service.SessionFields(title="First", host="A")
    sticky_service.claim_sticky(sticky=blank, fields=fields, by_organizer=True)
    db.session.commit()
    before = counter(event.id)
    # As a request that read the sticky blank before the first claim committed sees it.
    set_committed_value(blank, "claimed_dt", None)
    with pytest.raises(sticky_service.AlreadyClaimed):
        sticky_service.claim_sticky(sticky=blank, fields=fields, by_organizer=True)
    db.session.commit()
    assert counter(event.id) == before


def test_stamp_stays_for_scans_that_change_nothing(event, create_session, scan):
    sticky = create_session()
    placed = create_session(title="Placed")
    scan({placed: ("Hall A", TEN), sticky: ("Hall B", TEN)})
    stamp.forget_versions()
    before = (counter(event.id), stamp.board_version(event, now=NOW))
    # The same wall again, then a wall on which one sticky is missed once (not yet removed).
    scan({placed: ("Hall A", TEN), sticky: ("Hall B", TEN)})
    stamp.forget_versions()
    same = (counter(event.id), stamp.board_version(event, now=NOW))
    scan({placed: ("Hall A", TEN)})
    stamp.forget_versions()
    missed = (counter(event.id), stamp.board_version(event, now=NOW))
    assert db.session.get(Sticky, sticky.id).missed_scans == 1
    assert same == missed == before
    scan({placed: ("Hall A", ELEVEN), sticky: ("Hall B", TEN)})
    stamp.forget_versions()
    assert counter(event.id) == before[0] + 1
    assert stamp.board_version(event, now=NOW) != before[1]


def test_stamp_of_another_event_stays(event, create_session, tmp_path):
    other = event_service.load_event_file(_other_event_file(tmp_path), new_event=True).event
    db.session.commit()
    before = counter(other.id)
    sticky = create_session()
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.commit()
    assert counter(other.id) == before


def _other_event_file(tmp_path):
    path = tmp_path / "other.toml"
    path.write_text(
        event_toml(
            name="Other",
            slug="other",
            timezone="UTC",
            rooms=["Room 1"],
            slots=[("2026-10-01T10:00", "2026-10-01T11:00")],
        ),
        encoding="utf-8",
    )
    return path


def test_stamp_counts_the_wall_screens_news_types():
    assert _WALL_MESSAGE_TYPES == frozenset(outbox.WALL_TYPES)


def test_stamp_reads_one_integer_when_nothing_changed(event, create_session, count_queries):
    create_session()
    stamp.board_version(event, now=NOW)
    stamp.forget_versions()
    with count_queries() as run:
        again = stamp.board_version(event, now=NOW)
    assert [" ".join(s.split()) for s in run] == [
        "SELECT events.board_version FROM events WHERE events.id = ?"
    ]
    assert again == stamp.board_version(event, now=NOW)


def test_stamp_counts_a_bulk_update_that_changed_a_row(event, create_session):
    sticky = create_session()
    retitle = update(Sticky).where(Sticky.id == sticky.id).values(title="Bulk")
    nobody = (
        update(Sticky).where(Sticky.id == sticky.id, Sticky.title == "Nobody's").values(title="X")
    )
    assert [
        steps(event, lambda: db.session.execute(retitle)),
        steps(event, lambda: db.session.execute(nobody)),
    ] == [1, 0]


RACERS = 8


def test_stamp_counts_every_one_of_racing_claims(live_server):
    codes = live_server.stickies(RACERS)
    paths = [live_server.claim_path(code) for code in codes]
    phones = [live_server.session() for _ in range(RACERS)]
    tokens = [
        live_server.form_token(phone, path) for phone, path in zip(phones, paths, strict=True)
    ]
    with live_server.app.app_context():
        event_id = db.session.scalar(select(Sticky.event_id).filter_by(code=codes[0]))
        before = counter(event_id)

    def claim(index, barrier):
        form = {"csrf_token": tokens[index], "title": f"Race {index}", "host": "R", "tags": ""}
        barrier.wait()
        return live_server.post(phones[index], paths[index], data=form).status_code

    assert run_together(RACERS, claim) == [302] * RACERS
    with live_server.app.app_context():
        assert counter(event_id) == before + RACERS
