"""Capacity marks: a session with more interest than seats gets a badge and a larger free room."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event as sa_event

from app.extensions import db
from app.models import PlacementSource
from app.services.board import build_grid, place_sticky
from app.services.capacity import (
    board_marks,
    capacity_mark,
    interest_counts,
    over_capacity,
    suggest_room,
)
from app.services.events import add_room
from app.services.stickies import set_hidden, toggle_interest


def place(sticky, room, slot):
    place_sticky(sticky=sticky, room=room, slot=slot, source=PlacementSource.ORGANIZER)
    db.session.commit()


def interest(sticky, count, *, start=0):
    for i in range(start, start + count):
        toggle_interest(sticky=sticky, browser_id=f"browser-{sticky.code}-{i:03d}")
    db.session.commit()


def cell_html(html: str, room: str, slot: str) -> str:
    match = re.search(rf'data-room="{re.escape(room)}" data-slot="{slot}">(.*?)</td>', html, re.S)
    assert match, f"no cell {room} {slot}"
    return match.group(1)


def grid_only(html: str) -> str:
    """Leave out the phone list, which repeats the grid's stickies slot by slot."""
    return re.sub(r'<div class="slot-list">.*?<section class="day"', "", html, flags=re.S)


def badges(html: str) -> list[str]:
    pattern = r'<span class="badge badge-conflict capacity"[^>]*>([^<]+)</span>'
    return re.findall(pattern, grid_only(html))


def hints(html: str) -> list[str]:
    return re.findall(r'<span class="note-host capacity-hint">([^<]+)</span>', grid_only(html))


@pytest.fixture
def rooms(event):
    """Hall A (40), Hall B (2), Terrace (no capacity), Studio (5), Hall C (10)."""
    add_room(event=event, name="Studio", capacity=5)
    add_room(event=event, name="Hall C", capacity=10)
    db.session.commit()
    return {room.name: room for room in event.rooms}


def test_over_capacity_only_past_the_seat_count(event, rooms, create_session):
    sticky = create_session(title="Packed")
    place(sticky, rooms["Hall B"], event.slots[0])
    interest(sticky, 2)
    assert over_capacity(sticky=sticky) is False
    assert capacity_mark(sticky=sticky) is None
    interest(sticky, 1, start=2)
    assert over_capacity(sticky=sticky) is True
    mark = capacity_mark(sticky=sticky)
    assert (mark.code, mark.interested, mark.capacity, mark.badge) == (
        sticky.code,
        3,
        2,
        "full: 3/2",
    )
    assert mark.suggestion.name == "Studio"
    assert mark.hint == "Studio (5 seats) is free at 10:00"


@pytest.mark.parametrize(
    ("count", "expected"), [(3, "Studio"), (5, "Studio"), (6, "Hall C"), (11, "Hall A"), (41, None)]
)
def test_suggest_room_is_the_smallest_free_room_that_fits(
    event, rooms, create_session, count, expected
):
    sticky = create_session()
    place(sticky, rooms["Hall B"], event.slots[0])
    interest(sticky, count)
    room = suggest_room(sticky=sticky)
    assert (room.name if room else None) == expected


def test_suggest_room_skips_rooms_taken_in_the_same_slot(event, rooms, create_session):
    crowded = create_session(title="Crowded")
    studio = create_session(title="In the studio")
    elsewhere = create_session(title="Hall C, other slot")
    place(crowded, rooms["Hall B"], event.slots[0])
    place(studio, rooms["Studio"], event.slots[0])
    place(elsewhere, rooms["Hall C"], event.slots[1])
    interest(crowded, 4)
    assert suggest_room(sticky=crowded).name == "Hall C"


def test_a_blank_sticky_or_a_hidden_session_in_a_cell(
    event, rooms, create_session, create_stickies
):
    crowded = create_session(title="Crowded")
    (blank,) = create_stickies(1)
    hidden = create_session(title="Hidden")
    place(crowded, rooms["Hall B"], event.slots[0])
    place(blank, rooms["Studio"], event.slots[0])
    place(hidden, rooms["Hall C"], event.slots[0])
    set_hidden(sticky=hidden, hidden=True)
    db.session.commit()
    interest(crowded, 4)
    # The blank sticky takes the studio; the hidden session is off the public board, so Hall C is
    # free as far as anyone looking at the board can tell.
    assert suggest_room(sticky=crowded).name == "Hall C"


def test_no_mark_for_rooms_without_capacity_conflicts_or_hidden_sessions(
    event, rooms, create_session
):
    terrace = create_session(title="On the terrace")
    first = create_session(title="First in Hall B")
    second = create_session(title="Second in Hall B")
    hidden = create_session(title="Hidden in Hall B")
    place(terrace, rooms["Terrace"], event.slots[0])
    place(first, rooms["Hall B"], event.slots[1])
    place(second, rooms["Hall B"], event.slots[1])
    place(hidden, rooms["Studio"], event.slots[1])
    db.session.commit()
    for sticky in (terrace, second, hidden):
        interest(sticky, 50)
    # Marked before it was hidden: a hidden session takes no new interest.
    set_hidden(sticky=hidden, hidden=True)
    db.session.commit()
    assert [over_capacity(sticky=s) for s in (terrace, second, hidden)] == [False, False, False]
    assert board_marks(grid=build_grid(event)) == {}


def test_board_marks_count_interest_in_one_query(app, event, rooms, create_session):
    sessions = [create_session(title=f"Session {i}") for i in range(4)]
    place(sessions[0], rooms["Hall B"], event.slots[0])
    place(sessions[1], rooms["Studio"], event.slots[0])
    place(sessions[2], rooms["Hall B"], event.slots[1])
    place(sessions[3], rooms["Hall A"], event.slots[1])
    interest(sessions[0], 3)
    interest(sessions[1], 6)
    interest(sessions[2], 12)
    interest(sessions[3], 1)
    grid = build_grid(event)
    for cell in grid.cells.values():
        for sticky in cell.stickies:
            (sticky.room, sticky.slot)  # noqa: B018 -- loaded as the page loads them
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        marks = board_marks(grid=grid)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 1
    assert {code: (m.badge, m.hint) for code, m in marks.items()} == {
        sessions[0].code: ("full: 3/2", "Hall C (10 seats) is free at 10:00"),
        sessions[1].code: ("full: 6/5", "Hall C (10 seats) is free at 10:00"),
        sessions[2].code: ("full: 12/2", None),
    }
    assert interest_counts(event=event) == {
        sessions[0].id: 3,
        sessions[1].id: 6,
        sessions[2].id: 12,
        sessions[3].id: 1,
    }


def test_board_shows_badge_and_suggestion_exactly_when_over(client, event, create_session):
    hall_a, hall_b, _terrace = event.rooms
    sticky = create_session(title="Packed")
    place(sticky, hall_b, event.slots[0])
    interest(sticky, 2)
    html = client.get("/board").get_data(as_text=True)
    assert badges(html) == [] and hints(html) == []

    toggle_interest(sticky=sticky, browser_id="browser-third")
    db.session.commit()
    html = client.get("/board").get_data(as_text=True)
    cell = cell_html(html, "Hall B", "2026-09-26T10:00")
    assert badges(cell) == ["full: 3/2"]
    assert hints(cell) == ["Hall A (40 seats) is free at 10:00"]
    assert badges(html) == ["full: 3/2"]
    assert badges(client.get("/board/grid").get_data(as_text=True)) == ["full: 3/2"]

    other = create_session(title="Hall A is taken")
    place(other, hall_a, event.slots[0])
    html = client.get("/board").get_data(as_text=True)
    assert badges(html) == ["full: 3/2"]
    assert hints(html) == []


def test_session_page_shows_badge_and_suggestion(client, event, create_session):
    sticky = create_session(title="Packed")
    place(sticky, event.rooms[1], event.slots[1])
    interest(sticky, 2)
    page = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert "full: " not in page
    interest(sticky, 1, start=2)
    page = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert '<span class="badge badge-conflict">full: 3/2</span>' in page
    assert "More people are interested than Hall B has seats. " in page
    assert "Hall A (40 seats) is free at 11:00." in page
