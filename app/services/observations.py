"""A scan's observations as typed values: parsed once where they come in, then passed on as they are.

A camera's JSON body (docs/contracts.md) is read and checked here at the API's edge
(``read_json``, ``parse_observations``); a photo the server scanned gives its observations straight
from the scanner's result (``observations_from_result``). Either way the rest of the app gets an
``Observations`` (the stickies seen, the hidden cells, the plain notes) and never reads the JSON
again: ingest applies it (app.services.ingest), the scan rules resolve it against the event
(app.services.scans), and ``Observations.to_json`` is the scan's record.

Pure checks: no database, no Flask. ``InvalidScan`` names the first fault.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.services import ServiceError
from app.services.text import unprintable_in

if TYPE_CHECKING:
    from scanner import ScanResult

MAX_SCAN_ID = 100
MAX_STICKIES = 2000
MAX_WARNING_CHARS = 300
MAX_NOTES = 2000
# The scanner's fingerprint is a 64 x 64 grid of hex digits (scanner.notes.ink_fingerprint).
MAX_FINGERPRINT = 8192
MAX_COLOR = 16
# What a view of a note is keyed by among a scan's views: its place in the scan's notes.
VIEW_PREFIX = "note:"
_HEX = re.compile(r"[0-9a-f]+")


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


@dataclass(frozen=True)
class NoteObservation:
    """A plain note a scan saw (docs/contracts.md, ``notes``).

    ``index`` is its place in the scan's list (its view is ``note:<index>``); ``quad`` its corners
    in photo px, clockwise from its top-left, and ``x``, ``y`` its centre, when known;
    ``fingerprint`` the hex hash of its ink and ``ink`` the share of it that is ink.
    """

    index: int
    fingerprint: str
    ink: float
    color: str | None = None
    room: str | None = None
    slot: str | None = None
    x: float | None = None
    y: float | None = None
    quad: tuple[tuple[float, float], ...] | None = None

    @property
    def view_key(self) -> str:
        return f"{VIEW_PREFIX}{self.index}"

    def to_json(self) -> dict:
        """Return the note as the scan's record keeps it: without its fingerprint, kilobytes a
        note, which the note itself keeps (``Sticky.fingerprint``)."""
        return {
            "ink": self.ink,
            "color": self.color,
            "room": self.room,
            "slot": self.slot,
            "x": self.x,
            "y": self.y,
            "quad": [list(p) for p in self.quad] if self.quad else None,
        }


def _finite(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and abs(value) < 1e9
        and value == value  # not NaN
    )


def parse_notes(raw: object) -> tuple[NoteObservation, ...]:
    """Check a scan body's ``notes`` list; raise InvalidScan naming the first fault."""
    _expect(isinstance(raw, list), "notes must be a list")
    _expect(len(raw) <= MAX_NOTES, f"at most {MAX_NOTES} notes in one scan")
    return tuple(_parse_note(i, item) for i, item in enumerate(raw))


def _parse_note(i: int, item: object) -> NoteObservation:
    where = f"notes[{i}]"
    _expect(isinstance(item, dict), f"{where} must be an object")
    fingerprint, ink, color = item.get("fingerprint"), item.get("ink"), item.get("color")
    _expect(
        _is_fingerprint(fingerprint),
        f"{where}.fingerprint must be hex of 1 to {MAX_FINGERPRINT} characters",
    )
    _expect(_finite(ink) and 0 <= ink <= 1, f"{where}.ink must be a number from 0 to 1")
    _expect(_is_color(color), f"{where}.color must be a colour's name")
    room, slot = _cell_names(where, item)
    x, y, quad = _position(where, item)
    return NoteObservation(
        index=i,
        fingerprint=fingerprint.lower(),
        ink=float(ink),
        color=color,
        room=room,
        slot=slot,
        x=x,
        y=y,
        quad=quad,
    )


def _is_fingerprint(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_FINGERPRINT
        and _HEX.fullmatch(value.lower()) is not None
    )


def _is_color(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.isalpha() and len(value) <= MAX_COLOR)


def _cell_names(where: str, item: dict) -> tuple[str | None, str | None]:
    room, slot = item.get("room"), item.get("slot")
    _expect(room is None or isinstance(room, str), f"{where}.room must be a string or null")
    _expect(slot is None or isinstance(slot, str), f"{where}.slot must be a string or null")
    _expect((room is None) == (slot is None), f"{where}: room and slot go together")
    return room, slot


def _position(where: str, item: dict):
    """Return a note's centre and corners (photo px), each None when not sent."""
    x, y, quad = item.get("x"), item.get("y"), item.get("quad")
    _expect(x is None or _finite(x), f"{where}.x must be a finite number")
    _expect(y is None or _finite(y), f"{where}.y must be a finite number")
    corners = (
        isinstance(quad, list)
        and len(quad) == 4
        and all(isinstance(p, list) and len(p) == 2 and all(map(_finite, p)) for p in quad)
    )
    _expect(quad is None or corners, f"{where}.quad must be four [x, y] corners")
    return x, y, tuple((float(px), float(py)) for px, py in quad) if quad else None


def notes_from_result(notes) -> tuple[NoteObservation, ...]:
    """Return the scanner's ``SeenNote``s (``ScanResult.notes``) as a scan's note observations."""
    return tuple(
        NoteObservation(
            index=i,
            fingerprint=n.fingerprint,
            ink=round(float(n.ink), 4),
            color=n.color,
            room=n.room,
            slot=n.slot,
            x=round(float(n.x), 1),
            y=round(float(n.y), 1),
            quad=tuple((round(float(px), 1), round(float(py), 1)) for px, py in n.quad),
        )
        for i, n in enumerate(notes)
    )


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


def read_observations(body: bytes | str, *, scan_id: str | None = None) -> Observations:
    """Return a camera's JSON body as typed observations; raise InvalidScan naming the fault."""
    return parse_observations(read_json(body), scan_id=scan_id)


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
    notes = parse_notes(data.get("notes", []))
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
