"""Events, rooms and slots: loading the event file, editing, and finding the current event."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from app.extensions import db
from app.models import SLOT_KEY_FORMAT, Event, Room, Slot, Sticky, utcnow
from app.services import ServiceError
from app.services.text import clean_line

CORNER_MARKERS = {"tl": 0, "tr": 1, "br": 2, "bl": 3}
FIRST_FREE_MARKER = 4
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class RoomData:
    name: str
    capacity: int | None


@dataclass(frozen=True)
class SlotData:
    start: dt.datetime  # aware UTC
    end: dt.datetime  # aware UTC


@dataclass(frozen=True)
class EventData:
    """A validated event file."""

    name: str
    slug: str
    timezone: str
    base_url: str
    rooms: tuple[RoomData, ...]
    slots: tuple[SlotData, ...]
    # Plain notes on the board (docs/plain-notes.md): None leaves it to the stickies issued.
    plain_notes: bool | None = None


@dataclass(frozen=True)
class LoadReport:
    event: Event
    created: bool
    changes: tuple[str, ...]


def _served(query):
    """Limit a query of events to the one this instance serves: the one loaded last."""
    return query.order_by(Event.loaded_dt.desc(), Event.id.desc()).limit(1)


def get_current_event() -> Event | None:
    """Return the event this instance serves: the one loaded last."""
    return db.session.scalar(_served(select(Event)))


def current_event_id():
    """The id of the event this instance serves, as a subquery for a query that needs it too."""
    return _served(select(Event.id)).scalar_subquery()


def _serve(event: Event) -> None:
    """Make ``event`` the one this instance serves, the one loaded last."""
    served = get_current_event()
    if served is event:
        return
    now = utcnow()
    if served is not None and served.loaded_dt >= now:
        # A clock set back must not leave the event that was asked for behind the old one.
        now = served.loaded_dt + dt.timedelta(microseconds=1)
    event.loaded_dt = now


def get_event_by_slug(slug: str) -> Event | None:
    return db.session.scalar(select(Event).filter_by(slug=slug))


def list_events() -> list[Event]:
    """Return every event of this instance, the oldest first."""
    return list(db.session.scalars(select(Event).order_by(Event.created_dt, Event.id)))


def use_event(*, slug: str) -> Event:
    """Serve the event ``slug`` from now on: the board, the camera scans and the printing."""
    event = get_event_by_slug(slug)
    if event is None:
        slugs = ", ".join(e.slug for e in list_events()) or "none"
        raise ServiceError(f"no event {slug!r} in this instance; its events: {slugs}")
    _serve(event)
    db.session.flush()
    return event


def parse_local_time(text: object, tz: ZoneInfo, *, where: str) -> dt.datetime:
    """Parse ``YYYY-MM-DDTHH:MM`` (or with a space for the ``T``) local time into an aware UTC
    datetime."""
    if isinstance(text, dt.datetime):
        naive = text.replace(tzinfo=None)
    else:
        try:
            naive = dt.datetime.strptime(str(text).strip().replace(" ", "T", 1), SLOT_KEY_FORMAT)
        except ValueError:
            raise ServiceError(
                f"{where}: {text!r} is not a local time like 2026-09-26T10:00"
            ) from None
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


def validate_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError(
            f"unknown timezone {name!r}; use an IANA name like Asia/Kolkata"
        ) from None


def validate_base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", url):
        raise ServiceError(f"base_url {url!r} must start with http:// or https://")
    return url


def parse_event_file(path: str | Path) -> EventData:
    """Read and validate an event TOML file. Raise ServiceError naming the first problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ServiceError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ServiceError(f"{path}: not valid TOML: {exc}") from None
    return parse_event_data(raw, where=str(path))


def _require(table: dict, key: str, where: str) -> object:
    if key not in table or table[key] in ("", None):
        raise ServiceError(f"{where}: missing key '{key}'")
    return table[key]


# The keys an event file may hold; anything else is most likely a typo, and refused by name.
TOP_KEYS = ("event", "rooms", "slots")
EVENT_KEYS = ("name", "slug", "timezone", "base_url", "plain_notes")
ROOM_KEYS = ("name", "capacity")
SLOT_KEYS = ("start", "end")


def _refuse_unknown(table: object, known: tuple[str, ...], where: str) -> None:
    if not isinstance(table, dict):
        raise ServiceError(f"{where} must be a table")
    unknown = [key for key in table if key not in known]
    if unknown:
        raise ServiceError(
            f"{where}: unknown key {unknown[0]!r}; the keys here are {', '.join(known)}"
        )


def parse_event_data(raw: dict, *, where: str = "event file") -> EventData:
    """Validate the event file's data (already parsed from TOML)."""
    _refuse_unknown(raw, TOP_KEYS, where)
    event = raw.get("event")
    if not isinstance(event, dict):
        raise ServiceError(f"{where}: missing [event] table")
    _refuse_unknown(event, EVENT_KEYS, f"{where} [event]")
    name = clean_line(str(_require(event, "name", f"{where} [event]")))
    slug = str(_require(event, "slug", f"{where} [event]")).strip()
    if not SLUG_RE.match(slug):
        raise ServiceError(
            f"{where} [event]: slug {slug!r} must be lower-case letters, digits and -"
        )
    tz_name = str(_require(event, "timezone", f"{where} [event]"))
    tz = validate_timezone(tz_name)
    base_url = validate_base_url(str(_require(event, "base_url", f"{where} [event]")))
    if len(name) > 200:
        raise ServiceError(f"{where} [event]: name is longer than 200 characters")
    plain_notes = event.get("plain_notes")
    if plain_notes is not None and not isinstance(plain_notes, bool):
        raise ServiceError(f"{where} [event]: plain_notes must be true or false")
    rooms = _parse_rooms(raw.get("rooms") or [], where)
    slots = _parse_slots(raw.get("slots") or [], tz, where)
    return EventData(name, slug, tz_name, base_url, rooms, slots, plain_notes)


def _parse_rooms(raw_rooms, where: str) -> tuple[RoomData, ...]:
    if not isinstance(raw_rooms, list) or not raw_rooms:
        raise ServiceError(f"{where}: at least one [[rooms]] entry is needed")
    rooms: list[RoomData] = []
    seen_rooms: set[str] = set()
    for i, room in enumerate(raw_rooms, start=1):
        here = f"{where} room {i}"
        _refuse_unknown(room, ROOM_KEYS, here)
        room_name = clean_line(str(_require(room, "name", here)))
        if not room_name:
            raise ServiceError(f"{here}: the name shows no characters")
        if len(room_name) > 100:
            raise ServiceError(f"{here}: name is longer than 100 characters")
        if room_name.casefold() in seen_rooms:
            raise ServiceError(f"{here}: duplicate room {room_name!r}")
        seen_rooms.add(room_name.casefold())
        capacity = room.get("capacity")
        if capacity is not None and (
            not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0
        ):
            raise ServiceError(f"{here}: capacity must be a whole number of seats")
        rooms.append(RoomData(room_name, capacity))
    return tuple(rooms)


def _parse_slots(raw_slots, tz: ZoneInfo, where: str) -> tuple[SlotData, ...]:
    if not isinstance(raw_slots, list) or not raw_slots:
        raise ServiceError(f"{where}: at least one [[slots]] entry is needed")
    slots: list[SlotData] = []
    for i, slot in enumerate(raw_slots, start=1):
        here = f"{where} slot {i}"
        _refuse_unknown(slot, SLOT_KEYS, here)
        start = parse_local_time(_require(slot, "start", here), tz, where=here)
        end = parse_local_time(_require(slot, "end", here), tz, where=here)
        if end <= start:
            raise ServiceError(f"{here}: end must be after start")
        slots.append(SlotData(start, end))
    slots.sort(key=lambda s: s.start)
    for before, after in zip(slots, slots[1:], strict=False):
        if after.start < before.end:
            raise ServiceError(
                f"{where}: slots overlap: {_local_key(before.start, tz)} "
                f"and {_local_key(after.start, tz)}"
            )
    return tuple(slots)


def _local_key(moment: dt.datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime(SLOT_KEY_FORMAT)


def next_marker_id(event: Event) -> int:
    """Return the lowest marker id above every one the event has given out."""
    used = [
        db.session.scalar(select(func.max(model.marker_id)).where(model.event_id == event.id))
        for model in (Room, Slot, Sticky)
    ]
    return max([FIRST_FREE_MARKER - 1, *(u for u in used if u is not None)]) + 1


def apply_event_data(
    data: EventData, *, new_event: bool = False, where: str = "the event file"
) -> LoadReport:
    """Create the event or update it in place. Loading the same data twice changes nothing.

    Loading makes the event the one this instance serves. While another event is served, a new
    slug is refused unless ``new_event`` asks for a second event: stickies are printed for one
    event, and a slug edited by mistake would leave them on an event nobody sees. ``where`` names
    the data in messages.
    """
    event = get_event_by_slug(data.slug)
    served = get_current_event()
    if served is not None and served is not event:
        if event is not None:
            raise ServiceError(
                f"{where} is for the event {data.slug!r}, but this instance serves "
                f"{served.slug!r}; to change {data.slug!r}, serve it first: "
                f"`openspaces event use {data.slug}`"
            )
        if not new_event:
            raise ServiceError(
                f"{where} names the event {data.slug!r}, but this instance serves "
                f"{served.slug!r} (and its printed stickies). To update {served.slug!r}, "
                f"put back slug = {served.slug!r}; to create {data.slug!r} as a second event "
                f"and serve it instead, run `openspaces event load --new-event {where}`"
            )
    created = event is None
    changes: list[str] = []
    if event is None:
        event = Event(
            slug=data.slug,
            name=data.name,
            timezone=data.timezone,
            base_url=data.base_url,
            plain_notes=data.plain_notes,
        )
        db.session.add(event)
        db.session.flush()
        changes.append(f"created event {data.slug!r}")
    else:
        for attr in ("name", "timezone", "base_url", "plain_notes"):
            if getattr(event, attr) != getattr(data, attr):
                changes.append(f"{attr}: {getattr(event, attr)!r} -> {getattr(data, attr)!r}")
                setattr(event, attr, getattr(data, attr))
                if attr == "base_url":
                    event.base_url_auto = False  # the event file's choice now

    _sync_rooms(event, data.rooms, changes)
    _sync_slots(event, data.slots, changes)
    _serve(event)
    db.session.flush()
    return LoadReport(event, created, tuple(changes))


def _sync_rooms(event: Event, rooms: tuple[RoomData, ...], changes: list[str]) -> None:
    """Match the event's rooms to the file's: by name, else by position (a renamed room).

    A renamed room keeps its marker id, so that its printed header card still matches.
    """
    existing = {room.name.casefold(): room for room in event.rooms}
    wanted = {room.name.casefold() for room in rooms}
    unmatched = {room.position: room for room in event.rooms if room.name.casefold() not in wanted}
    renamed: dict[int, Room] = {}
    for position, data in enumerate(rooms):
        if data.name.casefold() not in existing and position in unmatched:
            renamed[position] = unmatched.pop(position)
    for room in unmatched.values():
        _refuse_if_used(room=room)
        event.rooms.remove(room)
        changes.append(f"removed room {room.name!r}")
    db.session.flush()
    for position, data in enumerate(rooms):
        room = existing.get(data.name.casefold()) or renamed.get(position)
        if room is None:
            room = Room(name=data.name, capacity=data.capacity, position=position)
            room.marker_id = next_marker_id(event)
            event.rooms.append(room)
            db.session.flush()
            changes.append(f"added room {data.name!r}")
            continue
        if room.name.casefold() != data.name.casefold():
            changes.append(f"renamed room {room.name!r} to {data.name!r}")
        elif (room.name, room.capacity, room.position) != (data.name, data.capacity, position):
            changes.append(f"updated room {data.name!r}")
        room.name, room.capacity, room.position = data.name, data.capacity, position


def _sync_slots(event: Event, slots: tuple[SlotData, ...], changes: list[str]) -> None:
    existing = {slot.start_dt: slot for slot in event.slots}
    wanted = {slot.start for slot in slots}
    for start, slot in existing.items():
        if start not in wanted:
            _refuse_if_used(slot=slot)
            event.slots.remove(slot)
            changes.append(f"removed slot {slot.key}")
    db.session.flush()
    for data in slots:
        slot = existing.get(data.start)
        if slot is None:
            slot = Slot(start_dt=data.start, end_dt=data.end)
            slot.marker_id = next_marker_id(event)
            event.slots.append(slot)
            db.session.flush()
            changes.append(f"added slot {slot.key}")
        elif slot.end_dt != data.end:
            slot.end_dt = data.end
            changes.append(f"updated slot {slot.key}")


def _refuse_if_used(*, room: Room | None = None, slot: Slot | None = None) -> None:
    query = select(func.count(Sticky.id))
    query = (
        query.where(Sticky.room_id == room.id) if room else query.where(Sticky.slot_id == slot.id)
    )
    if db.session.scalar(query):
        what = f"room {room.name!r}" if room else f"slot {slot.key}"
        raise ServiceError(f"{what} has stickies on the board; move them before removing it")


def load_event_file(path: str | Path, *, new_event: bool = False) -> LoadReport:
    """Validate an event file and apply it; nothing changes when it is invalid or refused."""
    return apply_event_data(parse_event_file(path), new_event=new_event, where=str(path))


def current_and_next_slot(
    event: Event, *, now: dt.datetime | None = None
) -> tuple[Slot | None, Slot | None]:
    """Return the slot running now and the one after it, by the wall clock."""
    now = now or utcnow()
    current = next((s for s in event.slots if s.start_dt <= now < s.end_dt), None)
    upcoming = [s for s in event.slots if s.start_dt > now]
    return current, (upcoming[0] if upcoming else None)


def update_event_settings(
    *, event: Event, name: str, timezone: str, base_url: str, plain_notes: bool | None
) -> None:
    """Set the event's name, time zone, base URL and whether its board has plain notes (None:
    app.services.plain_notes.looks_for_notes decides)."""
    validate_timezone(timezone)
    event.plain_notes = plain_notes
    event.name = name.strip()
    event.timezone = timezone
    base_url = validate_base_url(base_url)
    if base_url != event.base_url:
        event.base_url, event.base_url_auto = base_url, False  # the organizer's choice now


def add_room(*, event: Event, name: str, capacity: int | None) -> Room:
    name = " ".join(name.split())
    if any(r.name.casefold() == name.casefold() for r in event.rooms):
        raise ServiceError(f"there is already a room called {name!r}")
    room = Room(name=name, capacity=capacity, position=len(event.rooms))
    room.marker_id = next_marker_id(event)
    event.rooms.append(room)
    db.session.flush()
    return room


def update_room(*, room: Room, name: str, capacity: int | None) -> None:
    name = " ".join(name.split())
    if any(r.name.casefold() == name.casefold() and r is not room for r in room.event.rooms):
        raise ServiceError(f"there is already a room called {name!r}")
    room.name, room.capacity = name, capacity


def delete_room(*, room: Room) -> None:
    _refuse_if_used(room=room)
    event = room.event
    event.rooms.remove(room)
    for position, other in enumerate(event.rooms):
        other.position = position


def add_slot(*, event: Event, start: str, end: str) -> Slot:
    tz = event.tz
    start_dt = parse_local_time(start, tz, where="start")
    end_dt = parse_local_time(end, tz, where="end")
    if end_dt <= start_dt:
        raise ServiceError("the slot must end after it starts")
    for other in event.slots:
        if start_dt < other.end_dt and other.start_dt < end_dt:
            raise ServiceError(f"the slot overlaps the slot at {other.key}")
    slot = Slot(start_dt=start_dt, end_dt=end_dt)
    slot.marker_id = next_marker_id(event)
    event.slots.append(slot)
    db.session.flush()
    return slot


def delete_slot(*, slot: Slot) -> None:
    _refuse_if_used(slot=slot)
    slot.event.slots.remove(slot)
