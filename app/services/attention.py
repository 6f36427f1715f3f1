"""What needs an organizer now: conflicts, full rooms, untitled stickies, a quiet camera, strays.

Each finding names its sticky (or none) and what would settle it, so that the dashboard can offer
the action next to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import BoardStatus, Event, Room, Scan, Slot, Sticky, StickyKind
from app.services.board import Grid
from app.services.capacity import board_marks
from app.services.plain_notes import open_checks
from app.services.text import plural

# A camera that sent nothing for this long has stopped, or cannot see the wall.
CAMERA_QUIET_AFTER = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Finding:
    """One thing that needs attention. ``kind`` is one of KINDS."""

    kind: str
    text: str
    sticky: Sticky | None = None
    # For a full room: the larger free room, in the sticky's own slot.
    room: Room | None = None
    slot: Slot | None = None
    last_scan: Scan | None = None


KINDS = ("conflict", "over_capacity", "untitled", "camera_quiet", "off_grid", "note_check")


def _label(sticky: Sticky) -> str:
    return f"“{sticky.title}”" if sticky.title else f"Sticky {sticky.code}"


def _where(sticky: Sticky) -> str:
    return f"{sticky.room.name}, {sticky.slot.local_start:%a %H:%M}"


def last_scan(event: Event) -> Scan | None:
    """Return the event's latest scan from any source: wall camera, phone or upload."""
    query = select(Scan).where(Scan.event_id == event.id).order_by(Scan.id.desc()).limit(1)
    return db.session.scalar(query)


def camera_quiet(
    *, event: Event, now: dt.datetime, quiet_after: dt.timedelta = CAMERA_QUIET_AFTER
) -> Finding | None:
    """Return a finding when no scan came for ``quiet_after`` while the event runs."""
    slots = event.slots
    if not slots or not (slots[0].start_dt - dt.timedelta(hours=1) <= now <= slots[-1].end_dt):
        return None
    scan = last_scan(event)
    if scan is None:
        return Finding("camera_quiet", "No scan of the wall yet.")
    silent = now - scan.received_dt
    if silent <= quiet_after:
        return None
    minutes = int(silent.total_seconds() // 60)
    return Finding(
        "camera_quiet",
        f"No scan for {plural(minutes, 'minute')} (the last came from {scan.source}).",
        last_scan=scan,
    )


def needs_attention(*, event: Event, grid: Grid, now: dt.datetime) -> list[Finding]:
    """Return what needs an organizer, most pressing first.

    ``grid`` is the event's board as ``build_grid`` made it; hidden stickies are not on it and need
    nothing.
    """
    on_grid = [s for cell in grid.cells.values() for s in cell.stickies]
    slot_order = {slot.id: i for i, slot in enumerate(event.slots)}
    on_grid.sort(key=lambda s: (slot_order[s.slot_id], s.room.position, s.placed_dt or now))
    findings = _conflicts(on_grid, grid) + _full_rooms(on_grid, grid)
    findings += [
        Finding("untitled", f"Untitled sticky in {_where(sticky)}.", sticky=sticky)
        for sticky in on_grid
        if sticky.kind == StickyKind.SESSION and not sticky.title
    ]
    quiet = camera_quiet(event=event, now=now)
    if quiet:
        findings.append(quiet)
    return findings + _notes_to_check(event) + _strays(event)


def _notes_to_check(event: Event) -> list[Finding]:
    """Return a finding for the plain notes held until an organizer tells them apart, if any."""
    held = len(open_checks(event))
    if not held:
        return []
    text = f"{plural(held, 'plain note')} the camera could not tell apart from others."
    return [Finding("note_check", text)]


def _conflicts(on_grid: list[Sticky], grid: Grid) -> list[Finding]:
    findings = []
    for sticky in on_grid:
        if sticky.board_status == BoardStatus.CONFLICT:
            holder = grid.cell(sticky.room, sticky.slot).holder
            taken_by = f" by {_label(holder)}" if holder else ""
            findings.append(
                Finding(
                    "conflict",
                    f"{_label(sticky)} sits in {_where(sticky)}, a cell taken first{taken_by}.",
                    sticky=sticky,
                )
            )
    return findings


def _full_rooms(on_grid: list[Sticky], grid: Grid) -> list[Finding]:
    findings = []
    for mark in board_marks(grid=grid).values():
        sticky = next(s for s in on_grid if s.code == mark.code)
        # A full room stays on the list while the board says FULL, with a bigger room or without.
        hint = mark.hint or f"no bigger room is free at {mark.local_start:%H:%M}"
        findings.append(
            Finding(
                "over_capacity",
                f"{_label(sticky)} has {mark.interested} interested for "
                f"{plural(mark.capacity, 'seat')} "
                f"in {sticky.room.name}; {hint}.",
                sticky=sticky,
                room=mark.suggestion,
                slot=sticky.slot,
            )
        )
    return findings


def _strays(event: Event) -> list[Finding]:
    """Sessions on the wall but outside the grid, first seen first."""
    strays = db.session.scalars(
        select(Sticky)
        .where(
            Sticky.event_id == event.id,
            Sticky.kind == StickyKind.SESSION,
            Sticky.hidden.is_(False),
            Sticky.board_status == BoardStatus.OFF_GRID,
        )
        .order_by(Sticky.placed_dt, Sticky.id)
    )
    return [
        Finding(
            "off_grid",
            f"Session {_label(sticky)} is on the wall but outside the grid.",
            sticky=sticky,
        )
        for sticky in strays
    ]
