"""Interest against room size: mark sessions that outgrow their room and name a larger free one.

A session is over capacity when more people marked interest than its room has seats. Rooms without a
capacity are never full and are never suggested, since nobody knows whether the crowd would fit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import BoardStatus, Event, Interest, MessageType, Room, Sticky, StickyKind
from app.services.board import Grid
from app.services.outbox import note_change, sticky_data, withdraw
from app.services.text import plural


@dataclass(frozen=True)
class CapacityMark:
    """Say that a session holding a cell has more interested people than its room has seats."""

    code: str
    interested: int
    capacity: int
    suggestion: Room | None
    # The slot's start in the event's timezone, for the suggestion's wording.
    local_start: dt.datetime

    @property
    def badge(self) -> str:
        return f"full: {self.interested}/{self.capacity}"

    @property
    def hint(self) -> str | None:
        """Return e.g. "Hall A (120 seats) is free at 10:00", or None without a larger free room."""
        if self.suggestion is None:
            return None
        return (
            f"{self.suggestion.name} ({plural(self.suggestion.capacity, 'seat')}) "
            f"is free at {self.local_start:%H:%M}"
        )


def interest_counts(*, event: Event) -> dict[int, int]:
    """Return the interest count of every session of the event that has one, by sticky id, in one query."""
    query = (
        select(Interest.sticky_id, func.count(Interest.id))
        .join(Sticky, Sticky.id == Interest.sticky_id)
        .where(Sticky.event_id == event.id)
        .group_by(Interest.sticky_id)
    )
    return {sticky_id: count for sticky_id, count in db.session.execute(query)}


def _count(sticky: Sticky) -> int:
    return (
        db.session.scalar(select(func.count(Interest.id)).where(Interest.sticky_id == sticky.id))
        or 0
    )


def _holds_cell(sticky: Sticky) -> bool:
    return (
        sticky.kind == StickyKind.SESSION
        and sticky.is_claimed
        and not sticky.hidden
        and sticky.board_status == BoardStatus.PLACED
    )


def over_capacity(*, sticky: Sticky, interested: int | None = None) -> bool:
    """Return whether a session holding a cell has more interested people than its room's seats.

    ``interested`` is the session's interest count when the caller has it already.
    """
    if not _holds_cell(sticky) or not sticky.room.capacity:
        return False
    count = _count(sticky) if interested is None else interested
    return count > sticky.room.capacity


def _smallest_fitting(
    rooms: Iterable[Room], *, occupied: set[int], needed: int, besides: Room
) -> Room | None:
    fitting = [
        r
        for r in rooms
        if r.id != besides.id and r.id not in occupied and r.capacity and r.capacity >= needed
    ]
    return min(fitting, key=lambda r: (r.capacity, r.position), default=None)


def _occupied_rooms(sticky: Sticky) -> set[int]:
    """Return the ids of the rooms whose cell in the sticky's slot holds a visible sticky."""
    query = select(Sticky.room_id).where(
        Sticky.event_id == sticky.event_id,
        Sticky.slot_id == sticky.slot_id,
        Sticky.hidden.is_(False),
        Sticky.board_status.in_((BoardStatus.PLACED, BoardStatus.CONFLICT)),
    )
    return set(db.session.scalars(query))


def suggest_room(*, sticky: Sticky, interested: int | None = None) -> Room | None:
    """Return the smallest room that seats everyone interested and is free in the same slot.

    Return None when the session fits its room, holds no cell, or no free room is large enough.
    """
    count = _count(sticky) if interested is None else interested
    if not over_capacity(sticky=sticky, interested=count):
        return None
    return _smallest_fitting(
        sticky.event.rooms, occupied=_occupied_rooms(sticky), needed=count, besides=sticky.room
    )


def note_interest_change(*, sticky: Sticky, before: int, after: int) -> None:
    """Tell that a session outgrew its room when its interest count passes the room's seats.

    The news settles as a move does (app.services.outbox): a count that drops back to the seats
    before it is told takes it back.
    """
    if not _holds_cell(sticky) or not sticky.room.capacity:
        return
    seats = sticky.room.capacity
    if before <= seats < after:
        free = suggest_room(sticky=sticky, interested=after)
        data = sticky_data(sticky) | {
            "interested": after,
            "seats": seats,
            "free_room": free.name if free else None,
        }
        note_change(sticky=sticky, type=MessageType.OVER_CAPACITY, data=data)
    elif after <= seats < before:
        withdraw(sticky=sticky, type=MessageType.OVER_CAPACITY)


def capacity_mark(*, sticky: Sticky) -> CapacityMark | None:
    """Return the session's mark when it is over capacity, else None."""
    count = _count(sticky)
    if not over_capacity(sticky=sticky, interested=count):
        return None
    return CapacityMark(
        code=sticky.code,
        interested=count,
        capacity=sticky.room.capacity,
        suggestion=suggest_room(sticky=sticky, interested=count),
        local_start=sticky.slot.local_start,
    )


def board_marks(*, grid: Grid) -> dict[str, CapacityMark]:
    """Return the mark of every session on the board that is over capacity, by code.

    One query counts the interest of the whole event; which cells are free comes from the grid
    that the page built already, so a board of any size costs one query here.
    """
    counts = interest_counts(event=grid.event)
    occupied: dict[int, set[int]] = {}
    for (room_id, slot_id), cell in grid.cells.items():
        if cell.stickies:
            occupied.setdefault(slot_id, set()).add(room_id)
    marks: dict[str, CapacityMark] = {}
    for cell in grid.cells.values():
        holder = cell.holder
        if holder is None:
            continue
        count = counts.get(holder.id, 0)
        if not over_capacity(sticky=holder, interested=count):
            continue
        marks[holder.code] = CapacityMark(
            code=holder.code,
            interested=count,
            capacity=cell.room.capacity,
            suggestion=_smallest_fitting(
                grid.rooms,
                occupied=occupied.get(cell.slot.id, set()),
                needed=count,
                besides=cell.room,
            ),
            local_start=cell.slot.local_start,
        )
    return marks
