"""The board's event stream: one reader of the live stamp per process, and every open page on it.

Thousands of phones hold the board's event stream open (``GET /board/events``). Instead of each
stream asking the database every half second, one background reader per event and process
(``BoardWatch``) reads the stamp (app.live.stamp) and wakes every waiting stream when it changes.
The stamp is read from the database, so a change made through another worker process or another
machine shows up here within ``INTERVAL_SECONDS`` plus the stamp's own cache time, with nothing
shared between processes. A stream of the board page gets the grid's changed parts when only parts
changed (app.live.parts), worked out once per change and process.

Under gunicorn's gevent workers the thread and the condition are greenlets (the worker patches
``threading``), so a waiting stream costs a little memory and no thread.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

from flask import Flask, Response, stream_with_context

from app.extensions import db
from app.live import stamp
from app.live.cache import page_cache
from app.models import Event, utcnow
from app.settings import app_settings

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.5
# With no stream waiting for this long, the reader stops; the next stream starts it again.
IDLE_SECONDS = 30.0
# A live stream writes at least this often, so that a closed connection shows up soon.
HEARTBEAT_SECONDS = 5


def pages_now(app: Flask) -> dt.datetime:
    """Return the time the pages go by: the wall clock, or the ``CLOCK`` function a test set."""
    clock = app_settings(app).live.clock
    return clock() if clock else utcnow()


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
        with self.app.app_context():
            try:
                event = db.session.get(Event, self.event_id)
                if event is None:
                    return None
                return stamp.board_version(event, now=pages_now(self.app))
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


def init_app(app: Flask) -> None:
    """Give the app its stream slots (``LIVE_STREAMS``), shared by every address."""
    stream_slots(app)


def stream_slots(app: Flask) -> threading.BoundedSemaphore:
    """Return the app's stream slots, as many as ``LiveSettings.streams``.

    A changed setting (app.settings.configure, `openspaces serve --threads`) gets fresh slots;
    the streams open then give theirs back to the old ones.
    """
    streams = app_settings(app).live.streams
    lock = app.extensions.setdefault("openspaces.board_watches_lock", threading.Lock())
    with lock:
        if app.extensions.get("openspaces.live_streams_size") != streams:
            app.extensions["openspaces.live_streams"] = threading.BoundedSemaphore(streams)
            app.extensions["openspaces.live_streams_size"] = streams
        return app.extensions["openspaces.live_streams"]


def address_streams(app: Flask) -> AddressStreams:
    """Return the app's count of live streams per client address (``LIVE_STREAMS_PER_ADDRESS``)."""
    most = app_settings(app).live.streams_per_address
    lock = app.extensions.setdefault("openspaces.board_watches_lock", threading.Lock())
    with lock:
        counts = app.extensions.get("openspaces.address_streams")
        if counts is None or counts.cap != most:
            # A changed setting: the streams open give back to the old count.
            counts = AddressStreams(most)
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


@dataclass(frozen=True)
class GridParts:
    """The shared grid a board page's stream sends the changed parts of: its key in the page
    cache, and how to render it."""

    key: Hashable
    render: Callable[[], str]

    def keep(self, version: str) -> None:
        """Keep the grid the page shows at ``version``, to compare the next version with."""
        page_cache().get(self.key, version, self.render)
        db.session.remove()

    def event(self, since: str, version: str) -> str | None:
        """Return the ``parts`` event from ``since`` to ``version``, or None when the page must
        fetch the grid whole."""

        def as_text(parts: dict[str, str]) -> str:
            data = {"from": since, "to": version, "etag": version, "parts": parts}
            return f"event: parts\ndata: {json.dumps(data)}\n\n"

        try:
            return page_cache().changes(self.key, since, version, self.render, as_text)
        finally:
            db.session.remove()  # no connection held while the stream waits


def board_stream(
    app: Flask,
    event_id: int,
    *,
    last: str,
    address: str,
    grid: GridParts | None,
    client_gone: Callable[[], bool] | None,
) -> Response:
    """Answer a page's event stream: a ``board`` (or ``parts``) event whenever the stamp moves
    from ``last``; 503 when every stream slot is taken or ``address`` holds its share already.

    ``client_gone`` is the server's word that the client left (waitress), or None.
    """
    per_address = address_streams(app)
    if not per_address.take(address):
        return Response("too many live pages from one address; poll /board/grid instead", 503)
    streams = stream_slots(app)
    if not streams.acquire(blocking=False):
        per_address.give(address)
        return Response("too many live pages; poll /board/grid instead", status=503)
    events = _events(
        board_watch(app, event_id),
        last=last,
        seconds=app_settings(app).live.stream_seconds,
        grid=grid,
        client_gone=client_gone,
    )

    def release() -> None:
        streams.release()
        per_address.give(address)

    response = Response(
        stream_with_context(events) if grid is not None else events,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    # The server closes every answer once, even one whose stream never began.
    response.call_on_close(release)
    return response


def _events(
    watch: BoardWatch,
    *,
    last: str,
    seconds: float,
    grid: GridParts | None,
    client_gone: Callable[[], bool] | None,
) -> Iterator[str]:
    """Yield the stream's text until ``seconds`` passed or the client left."""
    # waitress frees a closed stream's thread when it looks; elsewhere (gevent) a wait costs no
    # thread, and a write every heartbeat finds a closed connection.
    wait_s = 1.0 if client_gone else HEARTBEAT_SECONDS
    gone = client_gone or (lambda: False)
    yield "retry: 1500\n\n"
    deadline = time.monotonic() + seconds
    quiet_since = time.monotonic()
    while time.monotonic() < deadline and not gone():
        version = watch.wait(last, timeout=wait_s)
        if version is not None and version != last:
            since, last = last, version
            quiet_since = time.monotonic()
            changed = grid.event(since, version) if grid is not None else None
            yield changed or f"event: board\ndata: {version}\n\n"
        elif time.monotonic() - quiet_since > HEARTBEAT_SECONDS:
            # Writing is how other servers find a closed connection: do it often.
            quiet_since = time.monotonic()
            yield ": still here\n\n"
