"""Board state: which sticky sits in which cell, with the history of every move."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import (
    BoardStatus,
    Event,
    Placement,
    PlacementSource,
    Room,
    Scan,
    Slot,
    Sticky,
    utcnow,
)
from app.services import ServiceError


@dataclass
class Cell:
    room: Room
    slot: Slot
    stickies: list[Sticky] = field(default_factory=list)

    @property
    def holder(self) -> Sticky | None:
        return next((s for s in self.stickies if s.board_status == BoardStatus.PLACED), None)

    @property
    def conflicts(self) -> list[Sticky]:
        return [s for s in self.stickies if s.board_status == BoardStatus.CONFLICT]


@dataclass
class Day:
    date: dt.date
    slots: list[Slot]


@dataclass
class Grid:
    event: Event
    rooms: list[Room]
    days: list[Day]
    cells: dict[tuple[int, int], Cell]

    def cell(self, room: Room, slot: Slot) -> Cell:
        return self.cells[(room.id, slot.id)]


def board_stickies(event: Event) -> list[Sticky]:
    """Return every visible sticky that is on the wall, in or off the grid."""
    query = (
        select(Sticky)
        .filter_by(event_id=event.id, hidden=False)
        .where(Sticky.board_status != BoardStatus.NONE)
        .order_by(Sticky.placed_dt, Sticky.id)
    )
    return list(db.session.scalars(query))


def build_grid(event: Event) -> Grid:
    """Lay the event's stickies into rooms × slots, slots grouped by local day."""
    rooms = list(event.rooms)
    cells = {(r.id, s.id): Cell(r, s) for r in rooms for s in event.slots}
    for sticky in board_stickies(event):
        if sticky.on_grid and (sticky.room_id, sticky.slot_id) in cells:
            cells[(sticky.room_id, sticky.slot_id)].stickies.append(sticky)
    days: list[Day] = []
    for slot in event.slots:
        date = slot.local_start.date()
        if not days or days[-1].date != date:
            days.append(Day(date, []))
        days[-1].slots.append(slot)
    return Grid(event, rooms, days, cells)


def _holder(room: Room, slot: Slot, *, besides: Sticky) -> Sticky | None:
    query = select(Sticky).where(
        Sticky.room_id == room.id,
        Sticky.slot_id == slot.id,
        Sticky.board_status == BoardStatus.PLACED,
        Sticky.id != besides.id,
    )
    return db.session.scalar(query)


def history_entry(
    sticky: Sticky,
    *,
    to_status: BoardStatus,
    to_room_id: int | None,
    to_slot_id: int | None,
    source: PlacementSource,
    scan: Scan | None,
    now: dt.datetime,
) -> Placement:
    """Add the history row for a change of a sticky's place, from where the sticky is now."""
    placement = Placement(
        sticky_id=sticky.id,
        from_room_id=sticky.room_id,
        from_slot_id=sticky.slot_id,
        from_status=sticky.board_status,
        to_room_id=to_room_id,
        to_slot_id=to_slot_id,
        to_status=to_status,
        source=source,
        scan_id=scan.id if scan else None,
        created_dt=now,
    )
    db.session.add(placement)
    return placement


def _record(
    sticky: Sticky,
    *,
    room: Room | None,
    slot: Slot | None,
    status: BoardStatus,
    source: PlacementSource,
    scan: Scan | None,
    now: dt.datetime,
) -> Placement:
    placement = history_entry(
        sticky,
        to_status=status,
        to_room_id=room.id if room else None,
        to_slot_id=slot.id if slot else None,
        source=source,
        scan=scan,
        now=now,
    )
    left_cell = (sticky.room_id, sticky.slot_id) if sticky.on_grid else None
    was_holder = sticky.board_status == BoardStatus.PLACED
    moved = (sticky.room_id, sticky.slot_id) != (placement.to_room_id, placement.to_slot_id)
    if moved or sticky.board_status == BoardStatus.NONE:
        sticky.placed_dt = now
    sticky.room, sticky.slot, sticky.board_status = room, slot, status
    sticky.missed_scans = 0
    db.session.flush()
    if left_cell and was_holder and moved:
        _promote_next(left_cell, source=source, scan=scan, now=now)
    return placement


def _promote_next(
    cell: tuple[int, int], *, source: PlacementSource, scan: Scan | None, now: dt.datetime
) -> None:
    """Give a freed cell to the sticky that came next: first come, first served."""
    waiting = db.session.scalar(
        select(Sticky)
        .where(
            Sticky.room_id == cell[0],
            Sticky.slot_id == cell[1],
            Sticky.board_status == BoardStatus.CONFLICT,
        )
        .order_by(Sticky.placed_dt, Sticky.id)
        .limit(1)
    )
    if waiting is not None:
        history_entry(
            waiting,
            to_status=BoardStatus.PLACED,
            to_room_id=waiting.room_id,
            to_slot_id=waiting.slot_id,
            source=source,
            scan=scan,
            now=now,
        )
        waiting.board_status = BoardStatus.PLACED


def place_sticky(
    *,
    sticky: Sticky,
    room: Room,
    slot: Slot,
    source: PlacementSource,
    scan: Scan | None = None,
    now: dt.datetime | None = None,
) -> Placement | None:
    """Put a sticky into a cell. It keeps the cell unless another sticky was there first.

    Return the recorded placement, or None when the sticky was already there.
    """
    if room.event_id != sticky.event_id or slot.event_id != sticky.event_id:
        raise ServiceError("the room and slot must belong to the sticky's event")
    if sticky.on_grid and (sticky.room_id, sticky.slot_id) == (room.id, slot.id):
        sticky.missed_scans = 0
        return None
    status = BoardStatus.CONFLICT if _holder(room, slot, besides=sticky) else BoardStatus.PLACED
    return _record(
        sticky, room=room, slot=slot, status=status, source=source, scan=scan, now=now or utcnow()
    )


def put_off_grid(
    *,
    sticky: Sticky,
    source: PlacementSource,
    scan: Scan | None = None,
    now: dt.datetime | None = None,
) -> Placement | None:
    """Mark a sticky as on the wall but outside the grid (a person sticky in the people area)."""
    if sticky.board_status == BoardStatus.OFF_GRID:
        return None
    return _record(
        sticky,
        room=None,
        slot=None,
        status=BoardStatus.OFF_GRID,
        source=source,
        scan=scan,
        now=now or utcnow(),
    )


def remove_sticky(
    *,
    sticky: Sticky,
    source: PlacementSource,
    scan: Scan | None = None,
    now: dt.datetime | None = None,
) -> Placement | None:
    """Take a sticky off the board."""
    if sticky.board_status == BoardStatus.NONE:
        return None
    return _record(
        sticky,
        room=None,
        slot=None,
        status=BoardStatus.NONE,
        source=source,
        scan=scan,
        now=now or utcnow(),
    )


def placement_history(sticky: Sticky) -> list[Placement]:
    query = select(Placement).filter_by(sticky_id=sticky.id).order_by(Placement.id.desc())
    return list(db.session.scalars(query))


def build_manifest(event: Event) -> dict:
    """Return the scanner's manifest for the event (docs/contracts.md)."""
    from app.services.events import CORNER_MARKERS
    from printables import DEFAULT_MARKER_DICTIONARY, card_marker_rect, card_size, get_template

    geometry: dict[str, dict] = {}
    stickies = db.session.scalars(
        select(Sticky).filter_by(event_id=event.id).order_by(Sticky.marker_id)
    )
    entries = []
    for sticky in stickies:
        template = sticky.batch.template if sticky.batch else "note-76"
        if template not in geometry:
            t = get_template(template)
            geometry[template] = {
                "marker_offset": [round(v, 4) for v in t.marker_offset],
                "outline": [list(c) for c in t.marker_outline],
                "qr_outline": [list(c) for c in t.marker_qr_outline],
                "marker_mm": t.marker_side_mm,
            }
        entries.append(
            {
                "code": sticky.code,
                "kind": str(sticky.kind),
                "qr": sticky_url(event, sticky.code),
                "marker_id": sticky.marker_id,
                **geometry[template],
            }
        )
    # Room and slot cards share one layout; its centre marks the column or row.
    card_w, card_h = card_size("room")
    mx, my, side = card_marker_rect("room")
    header_offset = [
        round((card_w / 2 - (mx + side / 2)) / side, 4),
        round((card_h / 2 - (my + side / 2)) / side, 4),
    ]
    return {
        "event": {"name": event.name, "slug": event.slug, "base_url": event.base_url},
        "marker_dictionary": DEFAULT_MARKER_DICTIONARY,
        "header_marker_offset": header_offset,
        "corners": dict(CORNER_MARKERS),
        "rooms": [
            {"name": r.name, "marker_id": r.marker_id, "qr": room_url(event, r)}
            for r in event.rooms
        ],
        "slots": [
            {
                "start": s.key,
                "end": s.local_end.strftime("%Y-%m-%dT%H:%M"),
                "marker_id": s.marker_id,
            }
            for s in event.slots
        ],
        "stickies": entries,
    }


def sticky_url(event: Event, code: str) -> str:
    """Return what a sticky's QR holds: the page a phone opens."""
    return f"{event.base_url}/s/{code}"


def room_url(event: Event, room: Room) -> str:
    return f"{event.base_url}/rooms/{room.position + 1}"


def board_json(event: Event) -> dict:
    """Return the board state in the ``GET /api/board`` contract."""
    return {
        "event": event.slug,
        "stickies": [
            {
                "code": s.code,
                "kind": str(s.kind),
                "room": s.room.name if s.on_grid else None,
                "slot": s.slot.key if s.on_grid else None,
                "status": str(s.board_status),
                "since": s.placed_dt.isoformat().replace("+00:00", "Z") if s.placed_dt else None,
                "title": s.title,
            }
            for s in board_stickies(event)
        ],
    }


def rebuild_from_history(event: Event) -> int:
    """Recompute every sticky's place from its placement history; return how many differed.

    The history is append-only, so the board can always be rebuilt from it, for example after a
    database restore or a hand edit gone wrong.
    """
    history: dict[int, list[Placement]] = {}
    query = (
        select(Placement)
        .join(Sticky, Placement.sticky_id == Sticky.id)
        .where(Sticky.event_id == event.id)
        .order_by(Placement.id)
    )
    for placement in db.session.scalars(query):
        history.setdefault(placement.sticky_id, []).append(placement)
    differed = 0
    for sticky in db.session.scalars(select(Sticky).filter_by(event_id=event.id)):
        moves = history.get(sticky.id, [])
        state = (BoardStatus.NONE, None, None, None)
        for move in moves:
            moved = (move.from_room_id, move.from_slot_id) != (move.to_room_id, move.to_slot_id)
            since = move.created_dt if moved or move.from_status == BoardStatus.NONE else state[3]
            state = (move.to_status, move.to_room_id, move.to_slot_id, since)
        current = (sticky.board_status, sticky.room_id, sticky.slot_id, sticky.placed_dt)
        if current != state:
            differed += 1
            sticky.board_status, sticky.room_id, sticky.slot_id, sticky.placed_dt = state
    db.session.flush()
    return differed
