"""Scan ingest: turn a wall camera's observations into board state, following the scan rules.

- A sticky seen in a cell is placed there; the sticky that was there first keeps the cell.
- A sticky not seen comes off the board only after its cell was visible, and not hidden, in K scans
  in a row (``remove_after``, the ``REMOVE_AFTER_SCANS`` setting). A scan that hides its cell breaks
  the row.
- A scan that did not find the board changes nothing.
- The same scan id is applied once.
- A scan counts at the time it was captured (``captured_dt``, else when it arrived). A scan
  captured before the last one applied from the same source arrives too late to move anything:
  it is kept in the history only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import exists, func, or_, select

from app.db import write_lock_event
from app.extensions import db
from app.models import (
    BoardStatus,
    Event,
    NoteCheck,
    Placement,
    PlacementSource,
    Scan,
    Sticky,
    utcnow,
)
from app.services import ServiceError
from app.services.board import OFF_GRID, Place, Wall, count_miss, set_place, undo_placements
from app.services.layout import Layout, event_layout
from app.services.observations import InvalidScan, Observations, SeenObservation
from app.services.plain_notes import identify_notes

if TYPE_CHECKING:
    pass

# Warnings beyond one per room card, slot card and sticky: lens, corners, the QR time budget.
EXTRA_WARNINGS = 10


@dataclass
class ScanOutcome:
    """What became of a scan: `late` when a newer scan of its source was applied before it."""

    scan: Scan
    duplicate: bool = False
    changes: list[dict] = field(default_factory=list)
    late: bool = False
    # The stickies the scan saw, by code, read under the board's write lock (write_lock_event).
    stickies: dict[str, Sticky] = field(default_factory=dict)
    # The plain note each of the scan's note views (``note:<index>``) shows, or the check it waits in.
    note_views: dict[str, Sticky] = field(default_factory=dict)
    note_checks: dict[str, NoteCheck] = field(default_factory=dict)


def check_size(
    event: Event, observations: Observations, *, layout: Layout, issued_at_least: int = 0
) -> None:
    """Refuse a scan that lists more than the event's wall could show.

    At most one entry per issued sticky, one hidden cell per cell of the grid, and one warning per
    room card, slot card and sticky plus a few for the whole photo. ``issued_at_least``: stickies
    known to be issued already; when the scan fits within that, the issued ones are not counted.
    """
    rooms, slots = len(layout.rooms), len(layout.slots)
    issued = issued_at_least
    if (
        len(observations.stickies) > issued
        or len(observations.warnings) > rooms + slots + issued + EXTRA_WARNINGS
    ):
        issued = db.session.scalar(select(func.count(Sticky.id)).where(Sticky.event_id == event.id))
    limits = (
        ("stickies", len(observations.stickies), issued),
        ("hidden cells", len(observations.hidden_cells), rooms * slots),
        ("warnings", len(observations.warnings), rooms + slots + issued + EXTRA_WARNINGS),
    )
    for name, count, limit in limits:
        if count > limit:
            raise InvalidScan(
                f"{count} {name} in one scan, more than this event's board has room for ({limit})"
            )


def _resolve(event: Event, observations: Observations, layout: Layout):
    """Map names to rows and ids; every code, room and slot must belong to the event.

    Return the stickies seen with their cells (room and slot ids), the hidden cells, and every
    sticky on the board (those the scan may have missed), read in one query with the ones seen.
    """
    rooms, slots = layout.rooms, layout.slots
    codes = [s.code for s in observations.stickies]
    loaded = db.session.scalars(
        select(Sticky)
        .where(
            Sticky.event_id == event.id,
            or_(Sticky.code.in_(codes), Sticky.board_status != BoardStatus.NONE),
        )
        .order_by(Sticky.id)
    ).all()
    on_board = [s for s in loaded if s.board_status != BoardStatus.NONE]
    wanted = set(codes)
    found = {s.code: s for s in loaded if s.code in wanted}
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise InvalidScan(f"codes never issued for this event: {', '.join(unknown)}")
    if len(set(codes)) != len(codes):
        raise InvalidScan("a code appears twice in one scan")
    check_size(event, observations, layout=layout, issued_at_least=len(found))
    seen = [_seen_cell(obs, found[obs.code], layout) for obs in observations.stickies]
    for room, slot in observations.hidden_cells:
        if room not in rooms or slot not in slots:
            raise InvalidScan(f"unknown hidden cell [{room!r}, {slot!r}]")
    hidden = {(rooms[r], slots[s]) for r, s in observations.hidden_cells}
    return seen, hidden, on_board


def _seen_cell(obs: SeenObservation, sticky: Sticky, layout: Layout) -> tuple:
    """Return a seen sticky with its cell's room and slot ids (None, None off the grid)."""
    if obs.room is None:
        return sticky, None, None
    if obs.room not in layout.rooms:
        raise InvalidScan(f"unknown room {obs.room!r}")
    if obs.slot not in layout.slots:
        raise InvalidScan(f"unknown slot {obs.slot!r}")
    return sticky, layout.rooms[obs.room], layout.slots[obs.slot]


def find_scan(event: Event, scan_id: str) -> Scan | None:
    return db.session.scalar(select(Scan).filter_by(event_id=event.id, client_scan_id=scan_id))


def preview_scan(*, event: Event, observations: Observations, remove_after: int) -> list[dict]:
    """Return the changes a scan would make, and roll them back: the request must not commit."""
    try:
        outcome = apply_scan(
            event=event, observations=observations, source="preview", remove_after=remove_after
        )
        return outcome.changes
    finally:
        db.session.rollback()


def apply_scan(
    *,
    event: Event,
    observations: Observations,
    source: str,
    remove_after: int,
    image_path: str | None = None,
    now: dt.datetime | None = None,
) -> ScanOutcome:
    """Record a scan and apply it to the board, once per scan id.

    ``remove_after`` is how many scans in a row must miss a visible sticky before it comes off.
    """
    layout = event_layout(event, version=write_lock_event(event.id, observation=True))
    received = now or utcnow()
    # Moves happen when the photo was taken; a camera's clock ahead of the server's is capped.
    now = min(observations.captured_dt or received, received)
    recorded = _record(
        event,
        observations,
        source=source,
        image_path=image_path,
        received=received,
        captured=now,
    )
    if recorded is None:
        return ScanOutcome(find_scan(event, observations.scan_id), duplicate=True)
    scan, late = recorded
    # Invalid observations raise here, after the insert: the caller rolls the transaction back.
    seen, hidden, on_board = _resolve(event, observations, layout)
    outcome = ScanOutcome(scan, late=late, stickies={s.code: s for s, _, _ in seen})
    if not observations.board_found or late:
        return outcome
    notes = identify_notes(event=event, notes=observations.notes, scan=scan, layout=layout, now=now)
    seen += notes.seen
    outcome.stickies.update({s.code: s for s, _, _ in notes.seen})
    outcome.note_views, outcome.note_checks = notes.by_view, notes.checks

    def note(sticky: Sticky, placement: Placement | None) -> None:
        if placement is not None:
            outcome.changes.append(_describe(sticky, placement, layout))

    # Stickies already where they were seen keep their place first, so that newcomers to the same
    # cell queue behind them; the rest follow in the order they were issued.
    seen.sort(key=lambda item: (not _already_there(*item), item[0].id))
    # Every sticky with a place on the wall was read in _resolve, under the write lock.
    wall = Wall(on_board, layout=layout)
    # A note held for an organizer to tell apart changes nothing: its look-alikes are not missed.
    seen_ids = set(notes.held)
    for sticky, room_id, slot_id in seen:
        seen_ids.add(sticky.id)
        place = OFF_GRID if room_id is None else Place.cell(room_id, slot_id)
        placement = set_place(
            sticky=sticky,
            place=place,
            source=PlacementSource.CAMERA,
            scan=scan,
            now=now,
            wall=wall,
        )
        note(sticky, placement)

    # Only stickies seen now have come onto the board since it was read (in _resolve).
    for sticky in on_board:
        if sticky.id in seen_ids or sticky.board_status == BoardStatus.NONE:
            continue
        cell_hidden = sticky.on_grid and (sticky.room_id, sticky.slot_id) in hidden
        note(
            sticky,
            count_miss(
                sticky=sticky,
                cell_hidden=cell_hidden,
                remove_after=remove_after,
                scan=scan,
                now=now,
                wall=wall,
            ),
        )
    db.session.flush()
    return outcome


def _record(
    event: Event,
    observations: Observations,
    *,
    source: str,
    image_path: str | None,
    received: dt.datetime,
    captured: dt.datetime,
) -> tuple[Scan, bool] | None:
    """Store the scan, once per scan id, in one statement; return it and whether it is late.

    None when the event has a scan with this id already (a duplicate). Late: a scan of the same
    source captured after this one was applied and not undone. The board's write lock is held, so
    the statement sees every scan applied before this one.
    """
    newer = exists().where(
        Scan.event_id == event.id,
        Scan.source == source,
        Scan.board_found.is_(True),
        Scan.undone_dt.is_(None),
        Scan.captured_dt > captured,
    )
    values = {
        "event_id": event.id,
        "client_scan_id": observations.scan_id,
        "source": source,
        "board_found": observations.board_found,
        "observations": observations.to_json(),
        "image_path": image_path,
        "received_dt": received,
        "captured_dt": captured,
    }
    insert = _dialect_insert()(Scan).values(**values)
    insert = insert.on_conflict_do_nothing(index_elements=["event_id", "client_scan_id"])
    row = db.session.execute(insert.returning(Scan, newer)).first()
    return (row[0], bool(row[1])) if row else None


def _dialect_insert():
    """INSERT with ON CONFLICT for the database in use (PostgreSQL and SQLite spell it alike)."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _already_there(sticky: Sticky, room_id: int | None, slot_id: int | None) -> bool:
    if room_id is None:
        return sticky.board_status == BoardStatus.OFF_GRID
    return sticky.on_grid and (sticky.room_id, sticky.slot_id) == (room_id, slot_id)


def _describe(sticky: Sticky, placement: Placement, layout: Layout | None = None) -> dict:
    """Describe a move as the scan answers and previews show it; names from ``layout`` when
    given, else from the rooms and slots."""

    def where(status, room_id, slot_id):
        if status not in (BoardStatus.PLACED, BoardStatus.CONFLICT):
            return {"room": None, "slot": None}
        if layout is not None:
            return {"room": layout.room_names[room_id], "slot": layout.slot_keys[slot_id]}
        from app.models import Room, Slot

        return {
            "room": db.session.get(Room, room_id).name,
            "slot": db.session.get(Slot, slot_id).key,
        }

    return {
        "code": sticky.code,
        "title": sticky.title,
        "from": {
            "status": str(placement.from_status),
            **where(placement.from_status, placement.from_room_id, placement.from_slot_id),
        },
        "to": {
            "status": str(placement.to_status),
            **where(placement.to_status, placement.to_room_id, placement.to_slot_id),
        },
    }


def scan_changes(*, scan: Scan) -> list[dict]:
    """Return what a scan changed on the board, in the order it changed it, as ``preview_scan`` does."""
    query = select(Placement).where(Placement.scan_id == scan.id).order_by(Placement.id)
    return [_describe(p.sticky, p) for p in db.session.scalars(query)]


def undo_scan(*, scan: Scan, now: dt.datetime | None = None) -> int:
    """Put back every sticky this scan moved, where no later change has moved it since.

    Return how many stickies were put back. The scan stays in the history, marked as undone. The
    cell rules still hold: a sticky that leaves a cell passes it on to the next in line, and one
    that comes back to a taken cell queues behind its holder.
    """
    if scan.undone_dt is not None:
        raise ServiceError("this scan has been undone already")
    now = now or utcnow()
    placements = list(db.session.scalars(select(Placement).filter_by(scan_id=scan.id)))
    restored = undo_placements(placements, now=now)
    scan.undone_dt = now
    db.session.flush()
    return restored


def recent_scans(event: Event, limit: int = 50) -> list[Scan]:
    query = select(Scan).filter_by(event_id=event.id).order_by(Scan.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def changes_per_scan(scans: list[Scan]) -> dict[int, int]:
    """Return how many board changes each of these scans made, by scan id (none: left out)."""
    query = (
        select(Placement.scan_id, func.count(Placement.id))
        .where(Placement.scan_id.in_([s.id for s in scans]))
        .group_by(Placement.scan_id)
    )
    return dict(db.session.execute(query).all())


def last_camera_scan(event: Event) -> Scan | None:
    query = (
        select(Scan)
        .where(Scan.event_id == event.id, Scan.source != "organizer")
        .order_by(Scan.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)
