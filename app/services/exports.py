"""Schedule exports: iCalendar for sessions, rooms and the whole event."""

from __future__ import annotations

from app.models import Event, Room, Sticky
from app.services.board import board_stickies, sticky_url


def _scheduled(event: Event, *, room: Room | None = None) -> list[Sticky]:
    """Return the claimed, visible sessions that hold a cell, in time and room order."""
    from app.models import BoardStatus, StickyKind

    found = [
        s
        for s in board_stickies(event)
        if s.kind == StickyKind.SESSION
        and s.board_status == BoardStatus.PLACED
        and s.is_claimed
        and (room is None or s.room_id == room.id)
    ]
    return sorted(found, key=lambda s: (s.slot.start_dt, s.room.position))


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
        item.add("summary", sticky.title)
        item.add("dtstart", sticky.slot.local_start)
        item.add("dtend", sticky.slot.local_end)
        item.add("dtstamp", sticky.placed_dt or sticky.slot.start_dt)
        item.add("location", sticky.room.name)
        description = f"Host: {sticky.host}\n\n{sticky.description or ''}".strip()
        item.add("description", description)
        item.add("url", sticky_url(event, sticky.code))
        if sticky.tag_list:
            item.add("categories", sticky.tag_list)
        cal.add_component(item)
    cal.add_missing_timezones()
    return cal.to_ical()


def session_calendar(sticky: Sticky) -> bytes:
    """Return an .ics file with one session, at its slot's time in the event's timezone."""
    return _calendar(sticky.event, sticky.title or sticky.code, [sticky])


def event_calendar(event: Event) -> bytes:
    return _calendar(event, event.name, _scheduled(event))


def room_calendar(event: Event, room: Room) -> bytes:
    return _calendar(event, f"{event.name}: {room.name}", _scheduled(event, room=room))
