"""Board state: which sticky sits in which cell, with the history of every move."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
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
    StickyKind,
    utcnow,
)
from app.services import ServiceError
from app.services.layout import Layout
from app.services.outbox import note_place_change, sticky_data


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

    def free_rooms(self, slot: Slot) -> list[Room]:
        """Return the rooms whose cell in ``slot`` holds no sticky at all."""
        return [room for room in self.rooms if not self.cell(room, slot).stickies]


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


@dataclass(frozen=True)
class Place:
    """Where a sticky is on the wall: in a cell (room and slot ids), off the grid, or not on it."""

    status: BoardStatus  # NONE, OFF_GRID, or PLACED for any cell (the cell decides holder or queue)
    room_id: int | None = None
    slot_id: int | None = None

    @classmethod
    def cell(cls, room_id: int, slot_id: int) -> Place:
        return cls(BoardStatus.PLACED, room_id, slot_id)

    @classmethod
    def of(cls, status: BoardStatus, room_id: int | None, slot_id: int | None) -> Place:
        """Return the place a sticky status and cell stand for (a conflict is still in its cell)."""
        if status in (BoardStatus.PLACED, BoardStatus.CONFLICT):
            if room_id is None or slot_id is None:
                return NOT_ON_WALL  # the room or slot was deleted since
            return cls.cell(room_id, slot_id)
        return cls(BoardStatus(status))

    @property
    def in_cell(self) -> bool:
        return self.status == BoardStatus.PLACED


NOT_ON_WALL = Place(BoardStatus.NONE)
OFF_GRID = Place(BoardStatus.OFF_GRID)


def place_of(sticky: Sticky) -> Place:
    return Place.of(sticky.board_status, sticky.room_id, sticky.slot_id)


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


class Wall:
    """Every sticky of an event that is in a cell, read once under the board's write lock.

    A batch of changes (a scan) that has read the board already finds each cell's queue here
    instead of asking the database again for every move. It must hold every sticky of the event
    with a place on the wall, and every sticky that the batch moves (``set_place`` adds it).
    """

    def __init__(self, stickies: Iterable[Sticky] = (), *, layout: Layout | None = None) -> None:
        self._stickies = {s.id: s for s in stickies}
        # The event's rooms and slots by id: with it, moves name cells by ids alone.
        self.layout = layout

    def add(self, sticky: Sticky) -> None:
        self._stickies.setdefault(sticky.id, sticky)

    def queue(self, room_id: int, slot_id: int) -> list[Sticky]:
        """Return the stickies in a cell as ``_cell_queue`` orders them."""
        return sorted(
            (
                s
                for s in self._stickies.values()
                if s.room_id == room_id
                and s.slot_id == slot_id
                and s.board_status in (BoardStatus.PLACED, BoardStatus.CONFLICT)
            ),
            key=_first_come,
        )


def _first_come(sticky: Sticky) -> tuple:
    # SQL's ORDER BY placed_dt, id puts a missing time last (PostgreSQL; SQLite first): in a cell
    # every sticky has its time, so only the order of the rest matters.
    return (sticky.placed_dt is None, sticky.placed_dt or dt.datetime.min, sticky.id)


def _cell_queue(room_id: int, slot_id: int, wall: Wall | None = None) -> list[Sticky]:
    """Return the stickies in a cell, first come first: the first one holds the cell."""
    if wall is not None:
        return wall.queue(room_id, slot_id)
    query = (
        select(Sticky)
        .where(
            Sticky.room_id == room_id,
            Sticky.slot_id == slot_id,
            Sticky.board_status.in_((BoardStatus.PLACED, BoardStatus.CONFLICT)),
        )
        .order_by(Sticky.placed_dt, Sticky.id)
    )
    return list(db.session.scalars(query))


def _settle(
    room_id: int,
    slot_id: int,
    *,
    source: PlacementSource,
    scan: Scan | None,
    now: dt.datetime,
    record: bool,
    wall: Wall | None,
) -> None:
    """Give a cell to the sticky that came first and queue the others behind it.

    This is where a freed cell passes to the next sticky, so the rule holds after every change.
    """
    for position, sticky in enumerate(_cell_queue(room_id, slot_id, wall)):
        status = BoardStatus.PLACED if position == 0 else BoardStatus.CONFLICT
        if sticky.board_status != status:
            if record:
                history_entry(
                    sticky,
                    to_status=status,
                    to_room_id=room_id,
                    to_slot_id=slot_id,
                    source=source,
                    scan=scan,
                    now=now,
                )
            sticky.board_status = status


def set_place(
    *,
    sticky: Sticky,
    place: Place,
    source: PlacementSource,
    scan: Scan | None = None,
    now: dt.datetime | None = None,
    record: bool = True,
    wall: Wall | None = None,
) -> Placement | None:
    """Move a sticky to a place: the one way a sticky's place, status or a cell's holder changes.

    First come, first served: in a cell, the sticky placed there earliest (then the one issued
    first) holds it and the others are in conflict; when the holder leaves, the next one takes the
    cell. Placing, moving, removing, undoing and rebuilding all come through here. ``record=False``
    changes the state without adding history (a rebuild replays the history that is there).
    ``wall``: the board as a batch of changes read it already (see ``Wall``); without it, each
    cell's queue is read from the database.

    Return the recorded move, or None when the sticky was there already.
    """
    now = now or utcnow()
    room, slot, by_id = _target_cell(sticky, place, wall)
    if wall is not None:
        wall.add(sticky)
    sticky.missed_scans = 0
    sticky.missed_since_dt = None
    left = place_of(sticky)
    if left == place:
        return None
    # The board news of the move is written with it (app.services.outbox); a rebuild tells nothing.
    was = sticky_data(sticky) if record and sticky.kind == StickyKind.SESSION else None
    status = _arriving_status(sticky, place, wall, now)
    placement = None
    if record:
        placement = history_entry(
            sticky,
            to_status=status,
            to_room_id=place.room_id,
            to_slot_id=place.slot_id,
            source=source,
            scan=scan,
            now=now,
        )
    sticky.room_id, sticky.slot_id = place.room_id, place.slot_id
    if by_id:
        # The ids decide; the room and slot load from them when asked for.
        db.session.expire(sticky, ["room", "slot"])
    else:
        sticky.room, sticky.slot = room, slot
    sticky.board_status, sticky.placed_dt = status, now
    if wall is None:
        db.session.flush()  # the queries of the cells' queues must see the move
    for cell in (left, place):
        if cell.in_cell:
            _settle(
                cell.room_id,
                cell.slot_id,
                source=source,
                scan=scan,
                now=now,
                record=record,
                wall=wall,
            )
    if was is not None:
        note_place_change(sticky=sticky, left=left.status, was=was)
    return placement


def _target_cell(
    sticky: Sticky, place: Place, wall: Wall | None
) -> tuple[Room | None, Slot | None, bool]:
    """Check that the place's cell is the sticky's event's; return its room and slot, loaded
    unless the wall's layout knows the cell by ids (then the last value is True)."""
    if not place.in_cell:
        return None, None, False
    if wall is not None and wall.layout is not None:
        if not wall.layout.has_cell(place.room_id, place.slot_id):
            raise ServiceError("that cell does not exist in the sticky's event")
        return None, None, True
    room, slot = db.session.get(Room, place.room_id), db.session.get(Slot, place.slot_id)
    if room is None or slot is None:
        raise ServiceError("that cell does not exist")
    if room.event_id != sticky.event_id or slot.event_id != sticky.event_id:
        raise ServiceError("the room and slot must belong to the sticky's event")
    return room, slot, False


def _arriving_status(sticky: Sticky, place: Place, wall: Wall | None, now: dt.datetime):
    """Return the status a sticky arriving at ``place`` now takes: in a cell, conflict when a
    sticky came there first."""
    if not place.in_cell:
        return place.status
    ahead = [
        other
        for other in _cell_queue(place.room_id, place.slot_id, wall)
        if other.id != sticky.id and (other.placed_dt, other.id) < (now, sticky.id)
    ]
    return BoardStatus.CONFLICT if ahead else BoardStatus.PLACED


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
    return set_place(
        sticky=sticky, place=Place.cell(room.id, slot.id), source=source, scan=scan, now=now
    )


def put_off_grid(
    *,
    sticky: Sticky,
    source: PlacementSource,
    scan: Scan | None = None,
    now: dt.datetime | None = None,
) -> Placement | None:
    """Mark a sticky as on the wall but outside the grid (a person sticky in the people area)."""
    return set_place(sticky=sticky, place=OFF_GRID, source=source, scan=scan, now=now)


def remove_sticky(
    *,
    sticky: Sticky,
    source: PlacementSource,
    scan: Scan | None = None,
    now: dt.datetime | None = None,
) -> Placement | None:
    """Take a sticky off the board."""
    return set_place(sticky=sticky, place=NOT_ON_WALL, source=source, scan=scan, now=now)


# A sticky missed in two scans in a row that were captured this many seconds apart or more comes off
# without waiting for ``remove_after`` scans: a camera that posts only when the wall changed, and
# confirms a change with its next frames, takes it off within seconds instead of heartbeats.
MISSING_FOR_S = 4.0


def count_miss(
    *,
    sticky: Sticky,
    cell_hidden: bool,
    remove_after: int,
    scan: Scan,
    now: dt.datetime,
    wall: Wall | None = None,
    missing_for_s: float = MISSING_FOR_S,
) -> Placement | None:
    """Count a scan that found the board but not this sticky; remove it after enough in a row.

    A sticky comes off only after its cell was visible, and not hidden, in ``remove_after`` scans
    in a row, or in at least two scans in a row the first and last of which were captured
    ``missing_for_s`` seconds apart or more (``now`` is when this scan was captured): someone
    standing in front of it starts the row again, and one bad frame never takes a sticky off.
    """
    if sticky.board_status == BoardStatus.NONE:
        return None
    if cell_hidden:
        sticky.missed_scans = 0
        sticky.missed_since_dt = None
        return None
    sticky.missed_scans += 1
    if sticky.missed_scans == 1 or sticky.missed_since_dt is None:
        sticky.missed_since_dt = now
    missing_s = (now - sticky.missed_since_dt).total_seconds()
    long_enough = sticky.missed_scans >= 2 and missing_s >= missing_for_s
    if sticky.missed_scans < remove_after and not long_enough:
        return None
    return set_place(
        sticky=sticky,
        place=NOT_ON_WALL,
        source=PlacementSource.CAMERA,
        scan=scan,
        now=now,
        wall=wall,
    )


def undo_placements(placements: list[Placement], *, now: dt.datetime | None = None) -> int:
    """Move every sticky back to where these placements took it from, newest first.

    A sticky that a later change has moved on since stays where it is; a status that a cell's
    queue changed is left to the cell rules. Return how many stickies were moved back.
    """
    now = now or utcnow()
    restored = 0
    for placement in sorted(placements, key=lambda p: p.id, reverse=True):
        came_from = Place.of(placement.from_status, placement.from_room_id, placement.from_slot_id)
        went_to = Place.of(placement.to_status, placement.to_room_id, placement.to_slot_id)
        if came_from == went_to or place_of(placement.sticky) != went_to:
            continue
        set_place(
            sticky=placement.sticky,
            place=came_from,
            source=PlacementSource.ORGANIZER,
            now=now,
        )
        restored += 1
    return restored


def placement_history(sticky: Sticky) -> list[Placement]:
    query = select(Placement).filter_by(sticky_id=sticky.id).order_by(Placement.id.desc())
    return list(db.session.scalars(query))


def rebuild_from_history(event: Event) -> int:
    """Recompute every sticky's place from its placement history; return how many differed.

    The history is append-only, so the board can always be rebuilt from it, for example after a
    database restore or a hand edit gone wrong. Each recorded move is replayed through the same
    cell rules as when it happened; the changes of holder follow from them.
    """
    query = (
        select(Placement)
        .join(Sticky, Placement.sticky_id == Sticky.id)
        .where(Sticky.event_id == event.id)
        .order_by(Placement.id)
    )
    moves = list(db.session.scalars(query))
    stickies = list(db.session.scalars(select(Sticky).filter_by(event_id=event.id)))
    before = {
        s.id: (s.board_status, s.room_id, s.slot_id, s.placed_dt, s.missed_scans, s.missed_since_dt)
        for s in stickies
    }
    for sticky in stickies:
        sticky.board_status, sticky.room_id, sticky.slot_id, sticky.placed_dt = (
            BoardStatus.NONE,
            None,
            None,
            None,
        )
        sticky.room = sticky.slot = None
    wall = Wall(stickies)  # every sticky of the event, so every cell's queue is in it
    for move in moves:
        went_to = Place.of(move.to_status, move.to_room_id, move.to_slot_id)
        if Place.of(move.from_status, move.from_room_id, move.from_slot_id) == went_to:
            continue  # a change of holder: the cell rules bring it about again
        set_place(
            sticky=move.sticky,
            place=went_to,
            source=move.source,
            now=move.created_dt,
            record=False,
            wall=wall,
        )
    differed = 0
    for sticky in stickies:
        sticky.missed_scans = before[sticky.id][4]
        sticky.missed_since_dt = before[sticky.id][5]
        if (sticky.board_status, sticky.room_id, sticky.slot_id, sticky.placed_dt) != before[
            sticky.id
        ][:4]:
            differed += 1
    db.session.flush()
    return differed
