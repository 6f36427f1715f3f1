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
import json
import math
from collections.abc import Mapping
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
from app.services.plain_notes import (
    InvalidNote,
    NoteObservation,
    identify_notes,
    notes_from_result,
    parse_notes,
)
from app.services.text import unprintable_in

if TYPE_CHECKING:
    from scanner import ScanResult

MAX_SCAN_ID = 100
MAX_STICKIES = 2000
MAX_WARNING_CHARS = 300
# Warnings beyond one per room card, slot card and sticky: lens, corners, the QR time budget.
EXTRA_WARNINGS = 10


class InvalidScan(ServiceError):
    """The observations do not match the schema, or name rooms, slots or codes the event lacks."""


@dataclass(frozen=True)
class SeenObservation:
    code: str
    room: str | None
    slot: str | None
    x: float | None
    y: float | None
    via: str


@dataclass(frozen=True)
class Observations:
    """A validated scan body (the scanner's JSON plus the client's scan id)."""

    scan_id: str
    board_found: bool
    stickies: tuple[SeenObservation, ...]
    hidden_cells: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    captured_dt: dt.datetime | None = None
    # Where the scanner's time went, {stage: {"wall_ms", "cpu_ms"}} (scanner.timing), when the
    # server scanned the photo: kept with the scan for its page, not part of the scan contract.
    timings: Mapping[str, Mapping[str, float]] | None = field(default=None, compare=False)
    # The plain notes seen (paper without our print): told apart by app.services.plain_notes.
    notes: tuple[NoteObservation, ...] = ()

    def to_json(self) -> dict:
        """Return the scan's record as the ``Scan.observations`` column keeps it."""
        record = {
            "scan_id": self.scan_id,
            "board_found": self.board_found,
            "stickies": [s.__dict__ for s in self.stickies],
            "hidden_cells": [list(c) for c in self.hidden_cells],
            "warnings": list(self.warnings),
        }
        if self.notes:
            record["notes"] = [n.to_json() for n in self.notes]
        if self.timings:
            record["timings"] = {stage: dict(t) for stage, t in self.timings.items()}
        return record


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


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidScan(message)


def read_json(data: bytes | str) -> object:
    """Parse a JSON document from a client; raise InvalidScan naming what is wrong with it.

    Refuses ``NaN`` and ``Infinity`` (not JSON, and no database stores them) and nesting too deep
    to parse, rather than failing on them later.
    """

    def refuse_constant(name: str):
        raise InvalidScan(f"{name} is not a number that JSON or a scan allows")

    try:
        return json.loads(data, parse_constant=refuse_constant)
    except RecursionError:
        raise InvalidScan("the JSON is nested too deeply to be a scan") from None
    except UnicodeDecodeError:
        raise InvalidScan("the JSON is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidScan(f"the body is not JSON: {exc.msg}") from None


def check_scan_id(scan_id: object) -> str:
    """Return the scan id, or raise InvalidScan when it is not 1 to 100 printable characters."""
    _expect(
        isinstance(scan_id, str) and 0 < len(scan_id) <= MAX_SCAN_ID,
        f"scan_id must be a string of 1 to {MAX_SCAN_ID} characters",
    )
    bad = unprintable_in(scan_id)
    _expect(bad is None, f"scan_id must be printable characters only, not {bad}")
    return scan_id


def _number(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False  # an int too large for any float: 1 followed by 400 zeros


def parse_observations(data: object, *, scan_id: str | None = None) -> Observations:
    """Validate a scan body against the scan-result contract; raise InvalidScan naming the problem.

    ``scan_id``: the client's id for the scan when it comes beside the body (a form field),
    instead of the body's own.
    """
    _expect(isinstance(data, dict), "the body must be a JSON object")
    scan_id = check_scan_id(data.get("scan_id") if scan_id is None else scan_id)
    _expect(isinstance(data.get("board_found"), bool), "board_found must be true or false")
    raw_stickies = data.get("stickies", [])
    _expect(isinstance(raw_stickies, list), "stickies must be a list")
    _expect(len(raw_stickies) <= MAX_STICKIES, f"at most {MAX_STICKIES} stickies in one scan")
    stickies = []
    for i, item in enumerate(raw_stickies):
        where = f"stickies[{i}]"
        _expect(isinstance(item, dict), f"{where} must be an object")
        code, room, slot = item.get("code"), item.get("room"), item.get("slot")
        _expect(isinstance(code, str) and code, f"{where}.code must be a string")
        bad = unprintable_in(code)
        _expect(bad is None, f"{where}.code must be printable characters only, not {bad}")
        _expect(room is None or isinstance(room, str), f"{where}.room must be a string or null")
        _expect(slot is None or isinstance(slot, str), f"{where}.slot must be a string or null")
        _expect((room is None) == (slot is None), f"{where}: room and slot go together")
        x, y = item.get("x"), item.get("y")
        _expect(_number(x), f"{where}.x must be a finite number")
        _expect(_number(y), f"{where}.y must be a finite number")
        via = item.get("via", "qr")
        _expect(via in ("qr", "marker", "organizer"), f"{where}.via must be qr or marker")
        stickies.append(SeenObservation(code, room, slot, x, y, via))
    hidden = data.get("hidden_cells", [])
    _expect(isinstance(hidden, list), "hidden_cells must be a list")
    _expect(len(hidden) <= MAX_STICKIES, f"at most {MAX_STICKIES} hidden cells in one scan")
    hidden_cells = []
    for i, cell in enumerate(hidden):
        _expect(
            isinstance(cell, list) and len(cell) == 2 and all(isinstance(v, str) for v in cell),
            f"hidden_cells[{i}] must be [room, slot]",
        )
        hidden_cells.append((cell[0], cell[1]))
    warnings = data.get("warnings", [])
    _expect(
        isinstance(warnings, list) and all(isinstance(w, str) for w in warnings),
        "warnings must be a list of strings",
    )
    _expect(len(warnings) <= MAX_STICKIES, f"at most {MAX_STICKIES} warnings in one scan")
    _expect(
        all(len(w) <= MAX_WARNING_CHARS for w in warnings),
        f"a warning has at most {MAX_WARNING_CHARS} characters",
    )
    try:
        notes = parse_notes(data.get("notes", []))
    except InvalidNote as exc:
        raise InvalidScan(str(exc)) from None
    return Observations(
        scan_id,
        data["board_found"],
        tuple(stickies),
        tuple(hidden_cells),
        tuple(warnings),
        parse_captured(data.get("captured_dt")),
        notes=notes,
    )


def observations_from_result(
    result: ScanResult,
    *,
    scan_id: str,
    captured_dt: dt.datetime | None = None,
) -> Observations:
    """Return the observations of a scan the server ran itself, straight from the scanner's result.

    Positions are rounded to 0.1 px, as the scan-result JSON has them (``ScanResult.to_dict``),
    so that a photo scanned here is recorded as a camera that scanned it would post it.
    """
    return Observations(
        check_scan_id(scan_id),
        result.board_found,
        tuple(
            SeenObservation(
                s.code, s.room, s.slot, round(float(s.x), 1), round(float(s.y), 1), s.via
            )
            for s in result.stickies
        ),
        tuple(result.hidden_cells),
        tuple(result.warnings),
        captured_dt,
        timings=result.timings_dict() or None,
        notes=notes_from_result(result.notes),
    )


def parse_captured(value: object) -> dt.datetime | None:
    """Return ``captured_dt`` (ISO 8601 with a UTC offset or ``Z``) as an aware UTC datetime."""
    if value is None:
        return None
    message = "captured_dt must be an ISO 8601 time with its UTC offset, e.g. 2026-09-26T10:00:05Z"
    _expect(isinstance(value, str) and len(value) <= 40, message)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidScan(message) from None
    _expect(moment.tzinfo is not None, message)
    return moment.astimezone(dt.UTC)


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
        _expect(
            count <= limit,
            f"{count} {name} in one scan, more than this event's board has room for ({limit})",
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
    try:
        notes = identify_notes(
            event=event, notes=observations.notes, scan=scan, layout=layout, now=now
        )
    except InvalidNote as exc:
        raise InvalidScan(str(exc)) from None
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
