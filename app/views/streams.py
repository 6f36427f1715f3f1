"""One reader of the live stamp per process, and every open live page waiting on it.

Thousands of phones hold the board's event stream open. Instead of each stream asking the database
every half second, one background reader per event and process reads the stamp
(``live.board_version``) and wakes every waiting stream when it changes. The stamp is read from the
database, so a change made through another worker process or another machine shows up here within
``INTERVAL_SECONDS`` plus the stamp's own cache time, with nothing shared between processes.

Under gunicorn's gevent workers the thread and the condition are greenlets (the worker patches
``threading``), so a waiting stream costs a little memory and no thread.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from app.extensions import db
from app.models import Event
from app.services import live

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.5
# With no stream waiting for this long, the reader stops; the next stream starts it again.
IDLE_SECONDS = 30.0


class BoardWatch:
    """Read one event's live stamp in the background and let streams wait for it to change."""

    def __init__(self, app: Flask, event_id: int, *, interval: float = INTERVAL_SECONDS) -> None:
        self.app = app
        self.event_id = event_id
        self.interval = interval
        self.version: str | None = None
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._wanted = time.monotonic()

    def wait(self, last: str | None, *, timeout: float) -> str | None:
        """Return the stamp once it differs from ``last``, or after ``timeout`` seconds."""
        with self._changed:
            self._wanted = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"board-watch-{self.event_id}", daemon=True
                )
                self._thread.start()
            if self.version is None or self.version == last:
                self._changed.wait(timeout)
            return self.version

    def _read(self) -> str | None:
        from app.views.common import now

        with self.app.app_context():
            try:
                event = db.session.get(Event, self.event_id)
                return None if event is None else live.board_version(event, now=now(self.app))
            finally:
                db.session.remove()

    def _run(self) -> None:
        while True:
            with self._changed:
                if time.monotonic() - self._wanted > IDLE_SECONDS:
                    self._thread = None
                    return
            try:
                version = self._read()
            except Exception:  # a database hiccup must not end every live page's updates
                log.exception("reading the board's live stamp failed; trying again")
                version = self.version
            with self._changed:
                if version != self.version:
                    self.version = version
                    self._changed.notify_all()
            time.sleep(self.interval)


class AddressStreams:
    """Count the live streams each client address holds, up to ``cap`` per address.

    One laptop must not take every stream slot: past its cap, its next page polls instead.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, address: str) -> bool:
        """Count one more stream for ``address``; return False (and count nothing) at the cap."""
        with self._lock:
            held = self._held.get(address, 0)
            if held >= self.cap:
                return False
            self._held[address] = held + 1
            return True

    def give(self, address: str) -> None:
        """Count one stream of ``address`` less."""
        with self._lock:
            held = self._held.get(address, 0) - 1
            if held > 0:
                self._held[address] = held
            else:
                self._held.pop(address, None)

    def held(self, address: str) -> int:
        with self._lock:
            return self._held.get(address, 0)


def address_streams(app: Flask) -> AddressStreams:
    """Return the app's count of live streams per client address (``LIVE_STREAMS_PER_ADDRESS``)."""
    lock = app.extensions.setdefault("openspaces.board_watches_lock", threading.Lock())
    with lock:
        counts = app.extensions.get("openspaces.address_streams")
        if counts is None:
            counts = AddressStreams(app.config.get("LIVE_STREAMS_PER_ADDRESS", 64))
            app.extensions["openspaces.address_streams"] = counts
        return counts


def board_watch(app: Flask, event_id: int) -> BoardWatch:
    """Return the app's watch of ``event_id``, creating it the first time."""
    watches = app.extensions.setdefault("openspaces.board_watches", {})
    lock = app.extensions.setdefault("openspaces.board_watches_lock", threading.Lock())
    with lock:
        if event_id not in watches:
            watches[event_id] = BoardWatch(app, event_id)
        return watches[event_id]
