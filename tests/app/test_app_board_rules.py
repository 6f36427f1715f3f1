"""The cell rules under every kind of change: scans, organizer moves, undos and rebuilds."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.extensions import db
from app.models import BoardStatus, Placement, PlacementSource, Room, Scan, Slot, Sticky
from app.services.board import place_sticky, put_off_grid, rebuild_from_history, remove_sticky
from app.services.observations import parse_observations
from app.services.scans import apply_scan, undo_scan

A, B = "Hall A", "Hall B"
TEN, ELEVEN = "2026-09-26T10:00", "2026-09-26T11:00"
CELLS = [(A, TEN), (A, ELEVEN), (B, TEN)]
REMOVE_AFTER = 2


@pytest.fixture
def scan(event):
    """Apply a scan built from {sticky: (room, slot) | None}; return the outcome."""
    counter = iter(range(1, 10_000))

    def apply(seen, *, hidden=(), board_found=True):
        body = {
            "scan_id": f"s{next(counter)}",
            "board_found": board_found,
            "stickies": [
                {
                    "code": sticky.code,
                    "room": cell[0] if cell else None,
                    "slot": cell[1] if cell else None,
                    "via": "marker",
                }
                for sticky, cell in seen.items()
            ],
            "hidden_cells": [list(c) for c in hidden],
            "warnings": [],
        }
        outcome = apply_scan(
            event=event,
            observations=parse_observations(body),
            source="test",
            remove_after=REMOVE_AFTER,
        )
        db.session.commit()
        return outcome

    return apply


@pytest.fixture
def move(event):
    """Move a sticky by hand as the organizer page does: to a (room, slot), "offgrid" or "off"."""
    rooms = {r.name: r for r in event.rooms}
    slots = {s.key: s for s in event.slots}

    def organizer_move(sticky, target):
        if target == "off":
            remove_sticky(sticky=sticky, source=PlacementSource.ORGANIZER)
        elif target == "offgrid":
            put_off_grid(sticky=sticky, source=PlacementSource.ORGANIZER)
        else:
            room, slot = target
            place_sticky(
                sticky=sticky, room=rooms[room], slot=slots[slot], source=PlacementSource.ORGANIZER
            )
        db.session.commit()

    return organizer_move


def state(sticky) -> tuple:
    db.session.refresh(sticky)
    if sticky.on_grid:
        return (sticky.board_status, sticky.room.name, sticky.slot.key)
    return (sticky.board_status,)


def cell_breaches(event) -> list[str]:
    """Name every cell with two holders, or with a sticky in conflict and nobody holding it."""
    cells = defaultdict(list)
    for sticky in db.session.scalars(select(Sticky).filter_by(event_id=event.id)):
        if sticky.on_grid:
            cells[(sticky.room_id, sticky.slot_id)].append(sticky)
    breaches = []
    for (room_id, slot_id), stickies in cells.items():
        holders = [s for s in stickies if s.board_status == BoardStatus.PLACED]
        where = f"{db.session.get(Room, room_id).name} {db.session.get(Slot, slot_id).key}"
        if len(holders) != 1:
            breaches.append(f"{where}: {len(holders)} holders of {len(stickies)} stickies")
        elif min(stickies, key=lambda s: (s.placed_dt, s.id)) is not holders[0]:
            breaches.append(f"{where}: {holders[0].code} holds it but came later")
    return breaches


def test_undo_of_the_holders_scan_gives_the_cell_to_the_next_sticky(scan, event, create_session):
    first, second = create_session(title="first"), create_session(title="second")
    placed_first = scan({first: (A, TEN)})
    scan({first: (A, TEN), second: (A, TEN)})
    assert (state(first), state(second)) == (("placed", A, TEN), ("conflict", A, TEN))

    assert undo_scan(scan=placed_first.scan) == 1
    db.session.commit()
    assert (state(first), state(second)) == (("none",), ("placed", A, TEN))
    for _ in range(3):
        scan({second: (A, TEN)})
    assert state(second) == ("placed", A, TEN)
    assert cell_breaches(event) == []


def test_undo_of_a_move_never_leaves_two_holders(scan, move, event, create_session):
    first, second = create_session(title="first"), create_session(title="second")
    scan({first: (A, TEN)})
    moved_away = scan({first: (B, TEN)})
    move(second, (A, TEN))
    assert state(second) == ("placed", A, TEN)

    assert undo_scan(scan=moved_away.scan) == 1
    db.session.commit()
    # Back in its old cell, the first sticky queues behind the one that took the cell meanwhile.
    assert (state(first), state(second)) == (("conflict", A, TEN), ("placed", A, TEN))
    assert cell_breaches(event) == []


def test_undo_of_a_move_out_of_a_queue_takes_its_place_back_in_line(scan, event, create_session):
    first, second = create_session(title="first"), create_session(title="second")
    scan({first: (A, TEN), second: (A, TEN)})
    moved = scan({first: (B, TEN), second: (A, TEN)})
    assert state(second) == ("placed", A, TEN)

    assert undo_scan(scan=moved.scan) == 1
    db.session.commit()
    assert (state(first), state(second)) == (("conflict", A, TEN), ("placed", A, TEN))
    assert [
        (p.from_status, p.to_status)
        for p in db.session.scalars(
            select(Placement).filter_by(sticky_id=second.id).order_by(Placement.id)
        )
    ] == [("none", "conflict"), ("conflict", "placed")]


def test_organizer_move_of_the_holder_gives_the_cell_to_the_next(
    organizer_client, scan, event, create_session
):
    first, second, third = (create_session(title=t) for t in ("first", "second", "third"))
    scan({first: (A, TEN), second: (A, TEN), third: (A, TEN)})
    response = organizer_client.post(f"/admin/stickies/{first.code}/place", data={"cell": "off"})
    assert response.status_code == 302
    assert (state(first), state(second), state(third)) == (
        ("none",),
        ("placed", A, TEN),
        ("conflict", A, TEN),
    )


def test_removal_after_missed_scans_gives_the_cell_to_the_next(scan, event, create_session):
    first, second = create_session(title="first"), create_session(title="second")
    scan({first: (A, TEN), second: (A, TEN)})
    scan({second: (A, TEN)})
    assert state(first) == ("placed", A, TEN)
    removed = scan({second: (A, TEN)})
    assert (state(first), state(second)) == (("none",), ("placed", A, TEN))
    assert [(c["code"], c["to"]["status"]) for c in removed.changes] == [(first.code, "none")]


def test_rebuild_after_undos_and_moves_changes_nothing(scan, move, event, create_session):
    first, second, third = (create_session(title=t) for t in ("first", "second", "third"))
    scan({first: (A, TEN), second: (A, TEN)})
    bad = scan({first: (B, TEN), second: (A, TEN), third: (A, TEN)})
    move(third, "offgrid")
    undo_scan(scan=bad.scan)
    db.session.commit()
    before = [state(s) + (s.placed_dt,) for s in (first, second, third)]
    assert rebuild_from_history(event) == 0
    assert [state(s) + (s.placed_dt,) for s in (first, second, third)] == before


STICKIES = 4
places = st.sampled_from([None, *CELLS])
steps = st.one_of(
    st.tuples(
        st.just("scan"),
        st.dictionaries(st.integers(0, STICKIES - 1), places, max_size=STICKIES),
        st.sets(st.sampled_from(CELLS), max_size=2),
        st.sampled_from([True, True, True, False]),
    ),
    st.tuples(
        st.just("move"),
        st.integers(0, STICKIES - 1),
        st.sampled_from(["off", "offgrid", *CELLS]),
    ),
    st.tuples(st.just("undo"), st.integers(0, 30)),
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(steps, min_size=1, max_size=12))
def test_cell_rules_hold_after_any_sequence_of_scans_moves_and_undos(
    sequence, scan, move, event, create_stickies
):
    stickies = list(db.session.scalars(select(Sticky).filter_by(event_id=event.id)))
    if not stickies:
        stickies = list(create_stickies(STICKIES))
    # Each example starts from an empty wall.
    db.session.execute(delete(Placement))
    db.session.execute(delete(Scan))
    for sticky in stickies:
        sticky.board_status, sticky.room, sticky.slot = BoardStatus.NONE, None, None
        sticky.placed_dt, sticky.missed_scans = None, 0
    db.session.commit()
    applied = []
    for step in sequence:
        if step[0] == "scan":
            _, seen, hidden, board_found = step
            outcome = scan(
                {stickies[i]: cell for i, cell in seen.items()},
                hidden=hidden,
                board_found=board_found,
            )
            applied.append(outcome.scan)
        elif step[0] == "move":
            move(stickies[step[1]], step[2])
        elif applied:
            target = applied[step[1] % len(applied)]
            if target.undone_dt is None:
                undo_scan(scan=target)
                db.session.commit()
        assert cell_breaches(event) == [], f"after {step}"
    assert rebuild_from_history(event) == 0
