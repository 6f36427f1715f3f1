"""An event's rooms and slots by the names that scans use, kept between requests.

A camera posts a scan every few seconds, and each names rooms and slots that seldom change. The
names are read again only when the event's ``layout_version``, which every change of a room, a
slot or the time zone counts (app.models), differs from the one they were read at. The version
comes with the board's write lock (app.db.write_lock_event), so a change that another process
committed a moment ago is always seen.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.models import SLOT_KEY_FORMAT, Event, Room, Slot


@dataclass(frozen=True)
class Layout:
    version: int
    rooms: dict[str, int]  # room name -> id
    slots: dict[str, int]  # slot key (local start, YYYY-MM-DDTHH:MM) -> id
    room_names: dict[int, str]
    slot_keys: dict[int, str]

    def has_cell(self, room_id: int, slot_id: int) -> bool:
        return room_id in self.room_names and slot_id in self.slot_keys


# (database, event id, when the event was created) -> the layout read last. The creation time
# tells a database made again under the same name (an event with the same id) from the old one.
_kept: dict[tuple, Layout] = {}
_lock = threading.Lock()


def event_layout(event: Event, *, version: int) -> Layout:
    """Return the event's layout at ``version``: kept, or read now when it changed since."""
    key = (str(db.engine.url), event.id, event.created_dt)
    with _lock:
        kept = _kept.get(key)
    if kept is not None and kept.version == version:
        return kept
    # Columns, not objects: rooms or slots this session loaded before the lock may be stale.
    rooms = db.session.execute(
        select(Room.id, Room.name).where(Room.event_id == event.id).order_by(Room.position)
    ).all()
    slots = db.session.execute(
        select(Slot.id, Slot.start_dt, Event.timezone)
        .join(Event, Slot.event_id == Event.id)
        .where(Slot.event_id == event.id)
        .order_by(Slot.start_dt)
    ).all()
    keys = {}
    for slot_id, start, timezone in slots:
        keys[slot_id] = start.astimezone(ZoneInfo(timezone)).strftime(SLOT_KEY_FORMAT)
    layout = Layout(
        version=version,
        rooms={name: room_id for room_id, name in rooms},
        slots={key: slot_id for slot_id, key in keys.items()},
        room_names=dict(rooms),
        slot_keys=keys,
    )
    with _lock:
        _kept[key] = layout
    return layout
