"""The live stamp: what live pages and their event streams compare to know that the board changed.

A stamp stands for what a live page shows. Its stored part is the event's change counter,
``Event.board_version``, which one rule bumps in the transaction of every change a live page shows
(``app.models.count_board_changes``). The rest moves with the clock alone: the slots running now
and next, and the wall screen's news, which leaves a minute after it came. So a stamp costs one
read of one integer, not the board, and a scan that changes nothing leaves it where it was.

Many phones ask at once: one read per half second (``CACHE_SECONDS``) serves them all, and after
each commit of this process (``forget_versions``, subscribed in create_app) the next read is due
at once. Another process or machine sees the change within ``CACHE_SECONDS``: the counter is in the
shared database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from dataclasses import dataclass, replace

from sqlalchemy import select

from app.extensions import db
from app.models import Event
from app.services.events import get_current_event
from app.services.outbox import WALL_NEWS_FOR, wall_news

# Many phones ask at once; one database read per half second serves them all.
CACHE_SECONDS = 0.5

Slots = tuple[tuple[int, dt.datetime, dt.datetime], ...]
News = tuple[tuple[int, dt.datetime], ...]


@dataclass(frozen=True)
class _Kept:
    """What one read of an event's stamp found, and when (``time.monotonic``)."""

    read_at: float
    event_id: int
    counter: int
    # The slots as (id, start, end) and the wall screen's news as (id, changed): both change only
    # with the counter, so that they are read again only when it moved.
    slots: Slots
    news: News


# (database, event id) -> what was read last
_cache: dict[tuple[str, int], _Kept] = {}
# database -> (read at, id of the event served now, or None)
_current: dict[str, tuple[float, int | None]] = {}
_lock = threading.Lock()
# Held by the one request that reads the stamp again while others serve the one just due.
_refreshing = threading.Lock()


def _read(event: Event, now: dt.datetime, kept: _Kept | None, mono: float) -> _Kept:
    """Read the event's counter; the slots and the news again only when it moved."""
    counter = db.session.scalar(select(Event.board_version).where(Event.id == event.id)) or 0
    if kept is not None and kept.counter == counter:
        return replace(kept, read_at=mono)
    slots = tuple((s.id, s.start_dt, s.end_dt) for s in event.slots)
    return _Kept(mono, event.id, counter, slots, _news(event, now))


def _news(event: Event, now: dt.datetime) -> News:
    """Return the wall screen's news as (id, changed): it leaves the stamp a minute after it came."""
    return tuple((m.id, m.changed_dt) for m in wall_news(event=event, now=now))


def _now_and_next(slots: Slots, now: dt.datetime) -> tuple[int | None, int | None]:
    current = next((sid for sid, start, end in slots if start <= now < end), None)
    upcoming = next((sid for sid, start, _ in slots if start > now), None)
    return current, upcoming


def _combine(kept: _Kept, now: dt.datetime) -> str:
    current, upcoming = _now_and_next(kept.slots, now)
    shown = [i for i, changed in kept.news if now - changed < WALL_NEWS_FOR]
    text = f"{kept.event_id}:{kept.counter}:{current}:{upcoming}:{shown}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def board_version(event: Event, *, now: dt.datetime) -> str:
    """Return a stamp that changes whenever what a live page shows changes.

    That is every change the event's counter counts (the board, a title or an interest count, the
    rooms, the slots, the event's settings, the wall screen's news), and the slots running now
    and next and the news shown, which move with the clock alone.
    """
    mono = time.monotonic()
    key = (str(db.engine.url), event.id)
    with _lock:
        kept = _cache.get(key)
    if kept is None or mono - kept.read_at >= CACHE_SECONDS:
        kept = _read(event, now, kept, mono)
        with _lock:
            _cache[key] = kept
    return _combine(kept, now)


def current_event_version(*, now: dt.datetime) -> tuple[int, str] | None:
    """Return the id of the event served now and its stamp (``board_version``), or None.

    While both are cached (``CACHE_SECONDS``) this reads nothing from the database, so that a page
    kept in memory is served without a query. When they are due, one request reads them again and
    the requests meanwhile get the stamp just due: a thousand phones make one read, not a thousand.
    """
    mono = time.monotonic()
    url = str(db.engine.url)
    current, kept = _kept(url)
    if current and current[1] is None and mono - current[0] < CACHE_SECONDS:
        return None
    if current and kept:
        fresh = mono - current[0] < CACHE_SECONDS and mono - kept.read_at < CACHE_SECONDS
        if fresh or not _refreshing.acquire(blocking=False):
            return kept.event_id, _combine(kept, now)
    else:
        _refreshing.acquire()
        # Another request may have read them while this one waited.
        current, kept = _kept(url)
        if current and kept and time.monotonic() - kept.read_at < CACHE_SECONDS:
            _refreshing.release()
            return kept.event_id, _combine(kept, now)
    try:
        event = get_current_event()
        with _lock:
            _current[url] = (mono, event.id if event else None)
        if event is None:
            return None
        return event.id, board_version(event, now=now)
    finally:
        _refreshing.release()


def _kept(url: str) -> tuple[tuple[float, int | None] | None, _Kept | None]:
    """Return the kept (read at, event id) of the database's current event, and its kept read."""
    with _lock:
        current = _current.get(url)
        kept = _cache.get((url, current[1])) if current and current[1] is not None else None
    return current, kept


def next_change(event: Event, *, now: dt.datetime) -> dt.datetime | None:
    """Return the next slot start or end after ``now``, or the moment the wall screen's news ends:
    when a live page changes without a scan."""
    moments = [m for s in event.slots for m in (s.start_dt, s.end_dt) if m > now]
    moments += [changed + WALL_NEWS_FOR for _, changed in _news(event, now)]
    return min(moments, default=None)


def forget_versions() -> None:
    """Mark cached stamps as due, so that the next read sees a change at once.

    Runs after every commit (subscribed in create_app, app.effects): a change committed by this
    process shows at once here; other processes (several workers) read the counter again within
    CACHE_SECONDS.

    They are kept, not dropped: while one request reads them again, the others serve the stamp just
    due instead of queueing behind it for a database connection.
    """
    due = float("-inf")
    with _lock:
        for key, kept in _cache.items():
            _cache[key] = replace(kept, read_at=due)
        for key, (_, event_id) in _current.items():
            _current[key] = (due, event_id)
