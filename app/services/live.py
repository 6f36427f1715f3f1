"""Live updates: a cheap version stamp of the board that pages and event streams compare."""

from __future__ import annotations

import hashlib
import json
import threading
import time

from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, Interest, Sticky
from app.services.board import board_json

# Many phones ask at once; one database read per half second serves them all.
CACHE_SECONDS = 0.5
_cache: dict[int, tuple[float, str]] = {}
_lock = threading.Lock()


def board_version(event: Event) -> str:
    """Return a stamp that changes whenever the board, a title or an interest count changes."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(event.id)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
    interests = db.session.scalar(
        select(func.count(Interest.id)).join(Sticky).where(Sticky.event_id == event.id)
    )
    payload = json.dumps([board_json(event), interests, event.name], sort_keys=True, default=str)
    version = hashlib.sha1(payload.encode()).hexdigest()[:16]
    with _lock:
        _cache[event.id] = (now, version)
    return version


def forget_versions() -> None:
    """Drop cached stamps, so that the next read sees a change at once."""
    with _lock:
        _cache.clear()
