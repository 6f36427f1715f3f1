"""Live updates: a cheap version stamp of what the live pages show, compared by pages and event streams."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time

from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, Interest, Sticky
from app.services.events import get_current_event
from app.services.outbox import WALL_NEWS_FOR, wall_news
from app.services.published import board_json

# Many phones ask at once; one database read per half second serves them all.
CACHE_SECONDS = 0.5
# (database, event id) -> (read at, stamp of the stored state, slots as (id, start, end),
# the wall screen's news as (id, changed))
_cache: dict[
    tuple[str, int],
    tuple[
        float,
        str,
        tuple[tuple[int, dt.datetime, dt.datetime], ...],
        tuple[tuple[int, dt.datetime], ...],
    ],
] = {}
# database -> (read at, id of the event served now, or None)
_current: dict[str, tuple[float, int | None]] = {}
_lock = threading.Lock()
# Held by the one request that reads the stamp again while others serve the one just due.
_refreshing = threading.Lock()


def _stored_state(event: Event) -> tuple[str, tuple[tuple[int, dt.datetime, dt.datetime], ...]]:
    # Per sticky: one mark added here and one taken away there must still change the stamp.
    interests = db.session.execute(
        select(Interest.sticky_id, func.count(Interest.id))
        .join(Sticky)
        .where(Sticky.event_id == event.id)
        .group_by(Interest.sticky_id)
        .order_by(Interest.sticky_id)
    ).all()
    slots = tuple((s.id, s.start_dt, s.end_dt) for s in event.slots)
    rooms = [(r.id, r.name, r.capacity, r.position) for r in event.rooms]
    settings = [event.name, event.timezone, event.base_url]
    payload = json.dumps(
        [board_json(event), [list(row) for row in interests], settings, rooms, slots],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha1(payload.encode()).hexdigest()[:16], slots


def _news(event: Event, now: dt.datetime) -> tuple[tuple[int, dt.datetime], ...]:
    """Return the wall screen's news as (id, changed): it leaves the stamp a minute after it came."""
    return tuple((m.id, m.changed_dt) for m in wall_news(event=event, now=now))


def _now_and_next(
    slots: tuple[tuple[int, dt.datetime, dt.datetime], ...], now: dt.datetime
) -> tuple[int | None, int | None]:
    current = next((sid for sid, start, end in slots if start <= now < end), None)
    upcoming = next((sid for sid, start, _ in slots if start > now), None)
    return current, upcoming


def board_version(event: Event, *, now: dt.datetime) -> str:
    """Return a stamp that changes whenever what a live page shows changes.

    That is the board, a title or an interest count, the rooms, the slots, the event's settings, and
    the slots running now and next, which move with the clock alone.
    """
    mono = time.monotonic()
    key = (str(db.engine.url), event.id)
    with _lock:
        cached = _cache.get(key)
    if cached and mono - cached[0] < CACHE_SECONDS:
        stored, slots, news = cached[1], cached[2], cached[3]
    else:
        stored, slots = _stored_state(event)
        news = _news(event, now)
        with _lock:
            _cache[key] = (mono, stored, slots, news)
    return _combine(stored, slots, news, now)


def _combine(stored: str, slots, news, now: dt.datetime) -> str:
    current, upcoming = _now_and_next(slots, now)
    shown = [i for i, changed in news if now - changed < WALL_NEWS_FOR]
    return hashlib.sha1(f"{stored}:{current}:{upcoming}:{shown}".encode()).hexdigest()[:16]


def current_event_version(*, now: dt.datetime) -> tuple[int, str] | None:
    """Return the id of the event served now and its stamp (``board_version``), or None.

    While both are cached (``CACHE_SECONDS``) this reads nothing from the database, so that a page
    kept in memory is served without a query. When they are due, one request reads them again and
    the requests meanwhile get the stamp just due: a thousand phones make one read, not a thousand.
    """
    mono = time.monotonic()
    url = str(db.engine.url)
    current, stamp = _kept(url)
    if current and current[1] is None and mono - current[0] < CACHE_SECONDS:
        return None
    if current and stamp:
        fresh = mono - current[0] < CACHE_SECONDS and mono - stamp[0] < CACHE_SECONDS
        if fresh or not _refreshing.acquire(blocking=False):
            return current[1], _combine(*stamp[1:], now)
    else:
        _refreshing.acquire()
        # Another request may have read them while this one waited.
        current, stamp = _kept(url)
        if current and stamp and time.monotonic() - stamp[0] < CACHE_SECONDS:
            _refreshing.release()
            return current[1], _combine(*stamp[1:], now)
    try:
        event = get_current_event()
        with _lock:
            _current[url] = (mono, event.id if event else None)
        if event is None:
            return None
        return event.id, board_version(event, now=now)
    finally:
        _refreshing.release()


def _kept(url: str):
    """Return the kept (read at, event id) of the database's current event, and its kept stamp."""
    with _lock:
        current = _current.get(url)
        stamp = _cache.get((url, current[1])) if current and current[1] is not None else None
    return current, stamp


def next_change(event: Event, *, now: dt.datetime) -> dt.datetime | None:
    """Return the next slot start or end after ``now``, or the moment the wall screen's news ends:
    when a live page changes without a scan."""
    moments = [m for s in event.slots for m in (s.start_dt, s.end_dt) if m > now]
    moments += [changed + WALL_NEWS_FOR for _, changed in _news(event, now)]
    return min(moments, default=None)


def forget_versions() -> None:
    """Mark cached stamps as due, so that the next read sees a change at once.

    Runs after every commit (subscribed in create_app, app.effects): a change committed by this
    process shows at once here; other processes (several workers) read the stored state again
    within CACHE_SECONDS.

    They are kept, not dropped: while one request reads them again, the others serve the stamp just
    due instead of queueing behind it for a database connection.
    """
    due = float("-inf")
    with _lock:
        for key, (_, *kept) in _cache.items():
            _cache[key] = (due, *kept)
        for key, (_, event_id) in _current.items():
            _current[key] = (due, event_id)
