"""Schedule exports: iCalendar, frab/c3voc JSON and XML, the project's JSON, the organizers' CSV and
the room-door PDF.

Every visible session sticky that holds a cell (status placed) is in a schedule, claimed or not: a
sticky nobody typed a title for was written on by hand, and is named by ``feed_title``. Every time is
written in the event's timezone, with its UTC offset where the format has room for one.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
import uuid
import xml.etree.ElementTree as ET

from sqlalchemy import select

from app.extensions import db
from app.models import BoardStatus, Event, Follower, Room, Slot, Sticky, StickyKind
from app.services.board import board_stickies
from app.services.capacity import interest_counts
from app.services.following import followed_ids
from app.services.published import picture_url, room_url, sticky_url
from app.services.recognition import wall_title

SESSION_TYPE = "Open Space"
C3VOC_SCHEMA = "https://c3voc.de/schedule/schema.json"
# The c3voc JSON schema's patterns for an acronym and a timezone name.
ACRONYM_RE = re.compile(r"^[a-z0-9_-][a-z0-9_]{3,}(-2[0-9]{3}-[a-z]+)?$")
TIME_ZONE_NAME_RE = re.compile(r"^([A-Z][a-z]+/[A-Z][a-z]+)|UTC$")
# Spreadsheets run a cell that starts with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "code",
    "kind",
    "title",
    "host",
    "tags",
    "contact",
    "room",
    "slot",
    "status",
    "interested",
    "claimed at",
)


def scheduled_sessions(*, event: Event, room: Room | None = None) -> list[Sticky]:
    """Return the visible sessions that hold a cell, claimed or handwritten, in time and room order."""
    # Two queries load every room and slot, so the stickies' rooms and slots come from the session's
    # identity map instead of one query each.
    _ = event.rooms, event.slots
    found = [
        s
        for s in board_stickies(event)
        if s.kind == StickyKind.SESSION
        and s.board_status == BoardStatus.PLACED
        and (room is None or s.room_id == room.id)
    ]
    return sorted(found, key=lambda s: (s.slot.start_dt, s.room.position))


def feed_title(sticky: Sticky) -> str:
    """Return the title a schedule shows: the typed one, the one confidently read from the wall
    (marked so), or a name for a sticky written on by hand."""
    if sticky.title:
        return sticky.title
    read = wall_title(sticky)
    if read:
        return f"{read} (read from the wall)"
    return f"Session {sticky.code} (handwritten)"


def feed_picture(event: Event, sticky: Sticky) -> str | None:
    """Return the URL of the sticky's picture while its title is not typed, else None.

    Until someone types or confirms a title, the picture is what the session is called: every
    feed links it where its format has room for a link.
    """
    return None if sticky.title else picture_url(event, sticky)


PICTURE_LINK_TITLE = "Picture of the handwritten sticky"


def session_guid(event: Event, sticky: Sticky) -> str:
    """Return the session's guid: UUID5 of its sticky's URL, so it stays put when the session moves."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, sticky_url(event, sticky.code)))


def acronym(event: Event) -> str:
    """Return the event's slug as a c3voc acronym: ``-`` becomes ``_``, padded to four characters."""
    return event.slug.replace("-", "_").ljust(4, "_")


# --- iCalendar ---------------------------------------------------------------------------------


def _calendar(event: Event, name: str, sessions: list[Sticky]) -> bytes:
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//openspaces//board//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", event.timezone)
    for sticky in sessions:
        item = icalendar.Event()
        item.add("uid", f"{sticky.code}@{event.slug}.openspaces")
        item.add("summary", feed_title(sticky))
        item.add("dtstart", sticky.slot.local_start)
        item.add("dtend", sticky.slot.local_end)
        item.add("dtstamp", sticky.placed_dt or sticky.slot.start_dt)
        item.add("location", sticky.room.name)
        host = f"Host: {sticky.host}" if sticky.host else ""
        description = f"{host}\n\n{sticky.description or ''}".strip()
        item.add("description", description)
        item.add("url", sticky_url(event, sticky.code))
        picture = feed_picture(event, sticky)
        if picture:
            item.add("attach", picture, parameters={"FMTTYPE": "image/jpeg"})
        if sticky.tag_list:
            item.add("categories", sticky.tag_list)
        cal.add_component(item)
    # A calendar without sessions still names its zone, so subscribers see the right one.
    # (icalendar 6.1's add_missing_timezones fails on a zone that no event uses.)
    if sessions:
        cal.add_missing_timezones()
    else:
        cal.add_component(icalendar.Timezone.from_tzid(event.timezone))
    return cal.to_ical()


def session_calendar(sticky: Sticky) -> bytes:
    """Return an .ics file with one session, at its slot's time in the event's timezone."""
    return _calendar(sticky.event, feed_title(sticky), [sticky])


def event_calendar(*, event: Event) -> bytes:
    """Return an .ics file with every scheduled session of the event."""
    return _calendar(event, event.name, scheduled_sessions(event=event))


def followed_calendar(*, event: Event, follower: Follower) -> bytes:
    """Return an .ics file with the scheduled sessions a browser follows (app.services.following)."""
    followed = followed_ids(follower)
    sessions = [s for s in scheduled_sessions(event=event) if s.id in followed]
    return _calendar(event, f"{event.name}: my sessions", sessions)


def room_calendar(*, event: Event, room: Room) -> bytes:
    """Return an .ics file with the scheduled sessions of one room."""
    return _calendar(
        event, f"{event.name}: {room.name}", scheduled_sessions(event=event, room=room)
    )


# --- JSON --------------------------------------------------------------------------------------


def _iso(event: Event, moment: dt.datetime) -> str:
    """Return local ISO 8601 with the UTC offset, to the minute: ``2026-09-26T10:00:00+05:30``."""
    return event.local(moment).replace(microsecond=0).isoformat()


def schedule_json(*, event: Event) -> dict:
    """Return the project's own schedule JSON: event, rooms, slots and the scheduled sessions."""
    counts = interest_counts(event=event)
    return {
        "event": {
            "name": event.name,
            "slug": event.slug,
            "timezone": event.timezone,
            "url": event.base_url,
        },
        "rooms": [
            {"name": r.name, "capacity": r.capacity, "url": room_url(event, r)} for r in event.rooms
        ],
        "slots": [
            {"key": s.key, "start": _iso(event, s.start_dt), "end": _iso(event, s.end_dt)}
            for s in event.slots
        ],
        "sessions": [
            {
                "code": s.code,
                "title": feed_title(s),
                "host": s.host,
                "tags": s.tag_list,
                "room": s.room.name,
                "slot": s.slot.key,
                "url": sticky_url(event, s.code),
                "picture": feed_picture(event, s),
                "interested": counts.get(s.id, 0),
            }
            for s in scheduled_sessions(event=event)
        ],
    }


# --- frab schedule XML -------------------------------------------------------------------------


def _hhmm(delta: dt.timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _timeslot(slots: list[Slot]) -> dt.timedelta:
    """Return the grid step that every slot start and length falls on (their greatest common divisor)."""
    if not slots:
        return dt.timedelta(minutes=15)
    first = slots[0].start_dt
    minutes = [round((s.end_dt - s.start_dt).total_seconds() / 60) for s in slots]
    minutes += [round((s.start_dt - first).total_seconds() / 60) for s in slots]
    return dt.timedelta(minutes=math.gcd(*minutes) or 15)


def _days(event: Event) -> list[tuple[dt.date, list[Slot]]]:
    days: list[tuple[dt.date, list[Slot]]] = []
    for slot in event.slots:
        date = slot.local_start.date()
        if not days or days[-1][0] != date:
            days.append((date, []))
        days[-1][1].append(slot)
    return days


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _abstract(description: str | None) -> str:
    """Return the description's first paragraph, which apps show in their session list."""
    paragraphs = [p.strip() for p in (description or "").split("\n\n") if p.strip()]
    return paragraphs[0] if paragraphs else ""


def schedule_xml(*, event: Event) -> bytes:
    """Return the schedule in the frab ``schedule.xml`` format that Giggity and ConfClerk follow.

    Layout as in the c3voc schedule XSD: ``<schedule>``, ``<version>``, ``<conference>``, then one
    ``<day>`` per local date with every room and its sessions. Event ids are the stickies' database
    ids; guids come from ``session_guid``.
    """
    sessions = scheduled_sessions(event=event)
    days = _days(event)
    root = ET.Element("schedule")
    _sub(root, "version", schedule_version(event=event))
    conference = _sub(root, "conference")
    _sub(conference, "title", event.name)
    _sub(conference, "acronym", acronym(event))
    if days:
        _sub(conference, "start", days[0][0].isoformat())
        _sub(conference, "end", days[-1][0].isoformat())
    _sub(conference, "days", str(len(days)))
    _sub(conference, "timeslot_duration", _hhmm(_timeslot(list(event.slots))))
    _sub(conference, "time_zone_name", event.timezone)
    # Person ids must be positive integers; hosts are names, so number them in order of appearance.
    person_ids: dict[str, int] = {}
    for index, (date, slots) in enumerate(days, start=1):
        day = _sub(
            root,
            "day",
            index=str(index),
            date=date.isoformat(),
            start=_iso(event, slots[0].start_dt),
            end=_iso(event, max(s.end_dt for s in slots)),
        )
        slot_ids = {s.id for s in slots}
        for room in event.rooms:
            room_element = _sub(day, "room", name=room.name)
            for sticky in sessions:
                if sticky.room_id != room.id or sticky.slot_id not in slot_ids:
                    continue
                url = sticky_url(event, sticky.code)
                item = _sub(
                    room_element, "event", guid=session_guid(event, sticky), id=str(sticky.id)
                )
                _sub(item, "date", _iso(event, sticky.slot.start_dt))
                _sub(item, "start", f"{sticky.slot.local_start:%H:%M}")
                _sub(item, "duration", _hhmm(sticky.slot.end_dt - sticky.slot.start_dt))
                _sub(item, "room", room.name)
                _sub(item, "slug", f"{event.slug}-{sticky.code.lower()}")
                _sub(item, "url", url)
                _sub(item, "title", feed_title(sticky))
                _sub(item, "subtitle", "")
                _sub(item, "track", sticky.tag_list[0] if sticky.tag_list else "")
                _sub(item, "type", SESSION_TYPE)
                _sub(item, "language", "")
                _sub(item, "abstract", _abstract(sticky.description))
                _sub(item, "description", sticky.description or "")
                persons = _sub(item, "persons")
                if sticky.host:
                    person_id = person_ids.setdefault(sticky.host, len(person_ids) + 1)
                    _sub(persons, "person", sticky.host, id=str(person_id))
                links = _sub(item, "links")
                for link in sticky.link_list:
                    if link.startswith(("http://", "https://")):
                        _sub(links, "link", link, href=link)
                picture = feed_picture(event, sticky)
                if picture:
                    _sub(links, "link", PICTURE_LINK_TITLE, href=picture)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# --- frab/c3voc schedule JSON ------------------------------------------------------------------


def _uuid(event: Event, name: str) -> str:
    """Return a UUID5 that stays the same for the same name within the event."""
    return str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, event.base_url), name))


def frab_json(*, event: Event) -> dict:
    """Return the schedule in the frab/c3voc JSON format that pretalx serves as ``schedule.json``.

    Layout as in the c3voc schedule JSON schema: ``schedule.conference`` with the rooms and one day per
    local date, each day mapping every room's name to its sessions. ``date``, ``day_start`` and
    ``day_end`` are local ISO 8601 with the UTC offset; ``start`` is the local ``HH:MM`` and
    ``duration`` ``HH:MM``, as frab and pretalx write them. Event ids and guids are those of
    ``schedule.xml``.
    """
    sessions = scheduled_sessions(event=event)
    days = _days(event)
    first = days[0][0] if days else event.local(event.created_dt).date()
    last = days[-1][0] if days else first
    days_json = []
    for index, (date, slots) in enumerate(days, start=1):
        slot_ids = {s.id for s in slots}
        rooms: dict[str, list[dict]] = {}
        for room in event.rooms:
            rooms[room.name] = [
                _frab_event(event, sticky)
                for sticky in sessions
                if sticky.room_id == room.id and sticky.slot_id in slot_ids
            ]
        days_json.append(
            {
                "index": index,
                "date": date.isoformat(),
                "day_start": _iso(event, slots[0].start_dt),
                "day_end": _iso(event, max(s.end_dt for s in slots)),
                "rooms": rooms,
            }
        )
    conference = {
        "acronym": acronym(event),
        "title": event.name,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "daysCount": len(days),
        "timeslot_duration": _hhmm(_timeslot(list(event.slots))),
        "url": event.base_url,
        "rooms": [
            {
                "name": room.name,
                "guid": _uuid(event, f"room:{room.name}"),
                "description": None,
                "capacity": room.capacity,
            }
            for room in event.rooms
        ],
        "days": days_json,
    }
    # The schema's pattern takes only Area/City names and UTC; every time carries its offset anyway.
    if TIME_ZONE_NAME_RE.search(event.timezone):
        conference["time_zone_name"] = event.timezone
    return {
        "$schema": C3VOC_SCHEMA,
        "generator": {"name": "openspaces"},
        "schedule": {
            "version": schedule_version(event=event),
            "base_url": event.base_url + "/",
            "conference": conference,
        },
    }


def _frab_event(event: Event, sticky: Sticky) -> dict:
    slot = sticky.slot
    persons = []
    if sticky.host:
        persons.append(
            {
                "guid": _uuid(event, f"person:{sticky.host.casefold()}"),
                "name": sticky.host,
                "public_name": sticky.host,
            }
        )
    return {
        "id": sticky.id,
        "guid": session_guid(event, sticky),
        "date": _iso(event, slot.start_dt),
        "start": f"{slot.local_start:%H:%M}",
        "duration": _hhmm(slot.end_dt - slot.start_dt),
        "room": sticky.room.name,
        "slug": f"{event.slug}-{sticky.code.lower()}",
        "url": sticky_url(event, sticky.code),
        "title": feed_title(sticky),
        "subtitle": "",
        "track": sticky.tag_list[0] if sticky.tag_list else None,
        "type": SESSION_TYPE,
        "language": "",
        "abstract": _abstract(sticky.description),
        "description": sticky.description or "",
        "persons": persons,
        "links": [
            {"title": link, "url": link}
            for link in sticky.link_list
            if link.startswith(("http://", "https://"))
        ]
        + [
            {"title": PICTURE_LINK_TITLE, "url": url}
            for url in [feed_picture(event, sticky)]
            if url
        ],
        "attachments": [],
    }


def schedule_version(*, event: Event) -> str:
    """Return a short stamp that changes whenever a scheduled session, its time or its room changes."""
    payload = json.dumps(
        [
            [s.code, s.title, s.host, s.description, s.tags, s.links, s.room.name, s.slot.key]
            for s in scheduled_sessions(event=event)
        ]
        + [[s.key, s.local_end.isoformat()] for s in event.slots],
        sort_keys=True,
    )
    return hashlib.sha1(payload.encode()).hexdigest()[:12]


# --- organizers' CSV ---------------------------------------------------------------------------


def csv_safe(value: object) -> object:
    """Return a cell value that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def stickies_csv(*, event: Event) -> str:
    """Return every claimed sticky of the event as CSV, hidden and unplaced ones included.

    Rooms and slots are filled only for stickies in a cell; ``slot`` is the local start key and
    ``claimed at`` local ISO 8601 with the offset.
    """
    counts = interest_counts(event=event)
    query = (
        select(Sticky)
        .filter_by(event_id=event.id)
        .where(Sticky.claimed_dt.is_not(None))
        .order_by(Sticky.kind.desc(), Sticky.claimed_dt, Sticky.id)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for s in db.session.scalars(query):
        row = (
            s.code,
            str(s.kind),
            s.title or "",
            s.host or "",
            ", ".join(s.tag_list),
            s.contact or "",
            s.room.name if s.on_grid else "",
            s.slot.key if s.on_grid else "",
            str(s.board_status),
            counts.get(s.id, 0) if s.kind == StickyKind.SESSION else "",
            _iso(event, s.claimed_dt),
        )
        writer.writerow([csv_safe(v) for v in row])
    return out.getvalue()


# --- the room-door PDF -------------------------------------------------------------------------


def room_schedule_spec(*, event: Event, room: Room, now: dt.datetime):
    """Return the plain values that ``printables`` draws the room's door schedule from."""
    from printables.schedule import RoomSchedule, ScheduleEntry

    holders = {s.slot_id: s for s in scheduled_sessions(event=event, room=room)}
    entries = []
    for slot in event.slots:
        sticky = holders.get(slot.id)
        entries.append(
            ScheduleEntry(
                day=f"{slot.local_start:%A %d %B}",
                start=f"{slot.local_start:%H:%M}",
                end=f"{slot.local_end:%H:%M}",
                title=feed_title(sticky) if sticky else None,
                host=sticky.host if sticky else None,
            )
        )
    return RoomSchedule(
        event_name=event.name,
        room_name=room.name,
        capacity=room.capacity,
        qr_text=room_url(event, room),
        entries=tuple(entries),
        updated=f"{event.local(now):%d %b %H:%M}",
    )


def room_schedule_pdf(*, event: Event, room: Room, now: dt.datetime) -> bytes:
    """Return the A4 schedule to tape on the room's door."""
    from printables.schedule import schedule_pdf

    return schedule_pdf(room_schedule_spec(event=event, room=room, now=now))
