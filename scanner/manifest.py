"""Parse and validate the scanner manifest (docs/contracts.md)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from scanner.errors import ScanError

CORNER_NAMES = ("tl", "tr", "br", "bl")
# printables' room and slot cards: the marker is centred across and 11 mm below the card's middle.
DEFAULT_HEADER_MARKER_OFFSET = (0.0, -0.275)


@dataclass(frozen=True)
class Event:
    """Name the event the board belongs to."""

    name: str
    slug: str
    base_url: str


@dataclass(frozen=True)
class Room:
    """Describe one room header card: its name, marker id and optional QR text."""

    name: str
    marker_id: int
    qr: str | None = None


@dataclass(frozen=True)
class Slot:
    """Describe one slot header card; a slot is named by its start (YYYY-MM-DDTHH:MM)."""

    start: str
    end: str
    marker_id: int
    qr: str | None = None

    @property
    def name(self) -> str:
        return self.start


@dataclass(frozen=True)
class StickyEntry:
    """Describe one issued sticky.

    `marker_offset` is the vector from the marker's centre to the sticky's centre, in units of the
    marker's side, in the marker's own frame (x along its top edge, y down its left edge).
    """

    code: str
    kind: str
    qr: str
    marker_id: int
    marker_offset: tuple[float, float]
    # The sticky's corners (tl, tr, br, bl) in marker sides in the marker's frame, and the
    # marker's printed side in mm: together they let the scanner cut the sticky out of a photo.
    outline: tuple[tuple[float, float], ...] | None = None
    marker_mm: float | None = None
    # The QR symbol's corners in the same frame: a read QR pins the far side of the sticky.
    qr_outline: tuple[tuple[float, float], ...] | None = None


@dataclass(frozen=True)
class Corners:
    """Hold the marker ids of the four board corners."""

    tl: int
    tr: int
    br: int
    bl: int

    def items(self) -> tuple[tuple[str, int], ...]:
        return tuple((name, getattr(self, name)) for name in CORNER_NAMES)


@dataclass(frozen=True)
class Manifest:
    """Hold everything the scanner knows about one event's board before it looks at a photo.

    Rooms and slots are in event order, which is also their order on the wall (left to right or
    top to bottom).
    """

    event: Event
    marker_dictionary: str
    corners: Corners
    rooms: tuple[Room, ...]
    slots: tuple[Slot, ...]
    stickies: tuple[StickyEntry, ...]
    # From a header card's marker centre to the card's centre, in marker sides, in the marker's
    # frame: the card's centre marks its column or row.
    header_marker_offset: tuple[float, float] = DEFAULT_HEADER_MARKER_OFFSET
    # Whether the board may carry plain notes (paper without our codes) to look for: the search
    # costs as much again as the rest of a scan, so a board of printed stickies alone skips it.
    plain_notes: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Manifest:
        """Build a manifest from parsed JSON; raise ScanError naming the first bad field."""
        if not isinstance(d, Mapping):
            raise ScanError(f"manifest: expected a JSON object, got {type(d).__name__}")
        ev = _get(d, "event", Mapping, "manifest")
        event = Event(
            name=_get(ev, "name", str, "event"),
            slug=_get(ev, "slug", str, "event", default=""),
            base_url=_get(ev, "base_url", str, "event", default=""),
        )
        dictionary = _get(d, "marker_dictionary", str, "manifest", default="DICT_4X4_1000")
        if not dictionary.startswith("DICT_") or not hasattr(cv2.aruco, dictionary):
            raise ScanError(f"manifest: unknown marker_dictionary {dictionary!r}")
        ids = _MarkerIds(dictionary)
        qrs = _QrTexts()
        corners = _corners(d, ids)
        rooms = _rooms(d, ids, qrs)
        slots = _slots(d, ids, qrs)
        stickies = _stickies(d, ids, qrs)
        header = _pair(
            d.get("header_marker_offset", DEFAULT_HEADER_MARKER_OFFSET), "header_marker_offset"
        )
        plain_notes = d.get("plain_notes", False)
        if not isinstance(plain_notes, bool):
            raise ScanError(f"manifest: plain_notes must be true or false, got {plain_notes!r}")
        return cls(
            event=event,
            marker_dictionary=dictionary,
            corners=corners,
            rooms=rooms,
            slots=slots,
            stickies=stickies,
            header_marker_offset=header,
            plain_notes=plain_notes,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Manifest:
        """Read a manifest JSON file; raise ScanError if it is missing, not JSON or invalid."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ScanError(f"cannot read manifest {os.fspath(path)!r}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ScanError(f"manifest {os.fspath(path)!r} is not UTF-8 text") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScanError(
                f"manifest {os.fspath(path)!r} is not JSON: {exc.msg} at line {exc.lineno}"
            ) from None
        return cls.from_dict(data)

    def room_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rooms)

    def slot_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.slots)


class _MarkerIds:
    """Hand out marker ids once each, within the dictionary; name the first bad one."""

    def __init__(self, dictionary: str) -> None:
        self.dictionary = dictionary
        self.size = _dictionary_size(dictionary)
        self.used: dict[int, str] = {}

    def take(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScanError(f"manifest: {where}.marker_id must be an integer, got {value!r}")
        if not 0 <= value < self.size:
            raise ScanError(
                f"manifest: {where}.marker_id {value} is outside {self.dictionary} "
                f"(0..{self.size - 1})"
            )
        if value in self.used:
            raise ScanError(
                f"manifest: marker id {value} used by both {self.used[value]} and {where}"
            )
        self.used[value] = where
        return value


class _QrTexts:
    """Hand out QR texts once each; name the first bad one."""

    def __init__(self) -> None:
        self.used: dict[str, str] = {}

    def take(self, value: Any, where: str, *, required: bool) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise ScanError(f"manifest: {where}.qr must be a non-empty string, got {value!r}")
        if value in self.used:
            raise ScanError(
                f"manifest: QR text {value!r} used by both {self.used[value]} and {where}"
            )
        self.used[value] = where
        return value


def _corners(d: Mapping[str, Any], ids: _MarkerIds) -> Corners:
    raw = _get(d, "corners", Mapping, "manifest", default={"tl": 0, "tr": 1, "br": 2, "bl": 3})
    corner_ids = {}
    for name in CORNER_NAMES:
        if name not in raw:
            raise ScanError(f"manifest: corners.{name} is missing")
        corner_ids[name] = ids.take(raw[name], f"corners.{name}")
    return Corners(**corner_ids)


def _objects(d: Mapping[str, Any], key: str, *, required: bool) -> Iterator[tuple[str, Mapping]]:
    """Yield (where, object) for each entry of the list d[key], in order; each must be an object."""
    raw = _get(d, key, list, "manifest") if required else _get(d, key, list, "manifest", default=[])
    for i, item in enumerate(raw):
        where = f"{key}[{i}]"
        if not isinstance(item, Mapping):
            raise ScanError(f"manifest: {where} must be an object")
        yield where, item


def _rooms(d: Mapping[str, Any], ids: _MarkerIds, qrs: _QrTexts) -> tuple[Room, ...]:
    rooms = []
    if not _get(d, "rooms", list, "manifest"):
        raise ScanError("manifest: rooms is empty; the board needs at least one room")
    for where, r in _objects(d, "rooms", required=True):
        name = _get(r, "name", str, where)
        if name in {room.name for room in rooms}:
            raise ScanError(f"manifest: room name {name!r} appears twice")
        rooms.append(
            Room(
                name=name,
                marker_id=ids.take(r.get("marker_id"), where),
                qr=qrs.take(r.get("qr"), where, required=False),
            )
        )
    return tuple(rooms)


def _slots(d: Mapping[str, Any], ids: _MarkerIds, qrs: _QrTexts) -> tuple[Slot, ...]:
    slots = []
    if not _get(d, "slots", list, "manifest"):
        raise ScanError("manifest: slots is empty; the board needs at least one slot")
    for where, s in _objects(d, "slots", required=True):
        start = _get(s, "start", str, where)
        if start in {slot.start for slot in slots}:
            raise ScanError(f"manifest: slot start {start!r} appears twice")
        slots.append(
            Slot(
                start=start,
                end=_get(s, "end", str, where, default=""),
                marker_id=ids.take(s.get("marker_id"), where),
                qr=qrs.take(s.get("qr"), where, required=False),
            )
        )
    return tuple(slots)


def _stickies(d: Mapping[str, Any], ids: _MarkerIds, qrs: _QrTexts) -> tuple[StickyEntry, ...]:
    stickies = []
    codes: set[str] = set()
    for where, s in _objects(d, "stickies", required=False):
        code = _get(s, "code", str, where)
        if code in codes:
            raise ScanError(f"manifest: sticky code {code!r} appears twice")
        codes.add(code)
        offset = _pair(s.get("marker_offset"), f"{where}.marker_offset")
        stickies.append(
            StickyEntry(
                code=code,
                kind=_get(s, "kind", str, where, default="session"),
                qr=qrs.take(s.get("qr"), where, required=True),
                marker_id=ids.take(s.get("marker_id"), where),
                marker_offset=offset,
                outline=_outline(s.get("outline"), f"{where}.outline"),
                marker_mm=_positive(s.get("marker_mm"), f"{where}.marker_mm"),
                qr_outline=_outline(s.get("qr_outline"), f"{where}.qr_outline"),
            )
        )
    return tuple(stickies)


def _pair(value: Any, where: str) -> tuple[float, float]:
    """Return two finite numbers as floats; raise ScanError naming `where` otherwise."""
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        )
    ):
        raise ScanError(f"manifest: {where} must be two finite numbers, got {value!r}")
    return float(value[0]), float(value[1])


def _outline(value: Any, where: str) -> tuple[tuple[float, float], ...] | None:
    """Return four corners (tl, tr, br, bl) enclosing a positive area, or None when absent."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise ScanError(f"manifest: {where} must be four [x, y] corners, got {value!r}")
    pts = tuple(_pair(p, f"{where}[{i}]") for i, p in enumerate(value))
    # Shoelace area, positive for tl, tr, br, bl in a frame with y down.
    area = 0.5 * sum(
        pts[i][0] * pts[(i + 1) % 4][1] - pts[(i + 1) % 4][0] * pts[i][1] for i in range(4)
    )
    if area <= 0:
        raise ScanError(f"manifest: {where} must run tl, tr, br, bl around a positive area")
    return pts


def _positive(value: Any, where: str) -> float | None:
    """Return a finite positive number as a float, or None when absent."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ScanError(f"manifest: {where} must be a positive number, got {value!r}")
    return float(value)


def _get(d: Mapping[str, Any], key: str, kind: type, where: str, default: Any = ...) -> Any:
    if key not in d or d[key] is None:
        if default is ...:
            raise ScanError(f"manifest: {where}.{key} is missing")
        return default
    value = d[key]
    if not isinstance(value, kind):
        raise ScanError(
            f"manifest: {where}.{key} must be {_kind_name(kind)}, got {type(value).__name__}"
        )
    return value


def _kind_name(kind: type) -> str:
    return {str: "a string", list: "a list", Mapping: "an object"}.get(kind, kind.__name__)


def _dictionary_size(name: str) -> int:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))
    return int(dictionary.bytesList.shape[0])
