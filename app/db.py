"""Database schema upgrades through Alembic (Flask-Migrate)."""

from __future__ import annotations

import logging
import math
import select
import sqlite3
import sys
import threading
import time
from functools import cache

from flask import current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine

# A writer waits this long for another writer before SQLite answers "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 20_000


class _WriterQueue:
    """A lock that writers to one SQLite file take turns on, re-entrant within a thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._holders = 0

    def enter(self) -> bool:
        me = threading.get_ident()
        if self._owner == me:
            self._holders += 1
            return True
        # Past twice the busy timeout, go ahead anyway: SQLite itself then says whether it is locked.
        if not self._lock.acquire(timeout=2 * SQLITE_BUSY_TIMEOUT_MS / 1000):
            return False
        self._owner, self._holders = me, 1
        return True

    def leave(self) -> None:
        self._holders -= 1
        if self._holders <= 0:
            self._owner, self._holders = None, 0
            self._lock.release()


# SQLite allows one writer at a time, and its busy handler polls: under load a late writer can grab
# the lock ahead of one that has waited for seconds, until that one times out. Writers in this
# process queue instead, from their first write to the end of their transaction.
_writer_queues: dict[str, _WriterQueue] = {}
_queues_lock = threading.Lock()
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_IN_QUEUE = "openspaces.sqlite_writer"


@event.listens_for(Engine, "before_cursor_execute")
def _queue_sqlite_writer(conn, cursor, statement, parameters, context, executemany) -> None:
    if conn.dialect.name != "sqlite" or conn.info.get(_IN_QUEUE) is not None:
        return
    if not statement.lstrip()[:7].upper().startswith(_WRITES):
        return
    with _queues_lock:
        queue = _writer_queues.setdefault(str(conn.engine.url), _WriterQueue())
    if queue.enter():
        conn.info[_IN_QUEUE] = queue


def _leave_sqlite_queue(conn, *args) -> None:
    queue = conn.info.pop(_IN_QUEUE, None)
    if queue is not None:
        queue.leave()


event.listen(Engine, "commit", _leave_sqlite_queue)
event.listen(Engine, "rollback", _leave_sqlite_queue)


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, connection_record) -> None:
    """Let SQLite serve readers and one writer at once, and make writers queue instead of failing.

    WAL lets pages read while a camera or a claim writes; the busy timeout makes a second writer wait
    for the first one's (short) transaction instead of failing at once.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL is safe against corruption; a power cut may lose the last commit only.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def upgrade_database() -> None:
    """Bring the database to the newest migration; a no-op when it is already there."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from app.extensions import db

    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    # Alembic logs every step at INFO; a server start wants one line, not a dozen.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    command.upgrade(config, "head")


def write_lock_event(event_id: int, *, observation: bool = False) -> int:
    """Make this transaction the event's only writer until it ends, before it reads the board.

    Board changes read the stickies' places and then write new ones; two at once (two cameras, say)
    would each decide from what the other is about to change. A no-op update of the event's row
    takes its row lock on PostgreSQL and SQLite's write lock, so such changes take turns, and each
    reads what the one before it committed.

    ``observation``: the transaction stores what a camera saw, which the camera sends again (its
    confirming scans, its heartbeat scan every minute). On PostgreSQL its commit then returns
    before the write-ahead log reaches the disk (``synchronous_commit`` off for this transaction
    only), as every SQLite commit does here (WAL, ``synchronous = NORMAL``): a power cut may lose
    the last fraction of a second of scans, never consistency. What people type (claims, edits,
    organizer changes) is on disk before the answer.

    Return the event's ``layout_version`` as it stands once the lock is held.
    """
    from app.extensions import db

    connection = db.session.connection()
    relaxed = observation and connection.dialect.name == "postgresql"
    # Core, on the session's connection: the ORM's bulk update machinery costs five times more.
    locked = connection.execute(_lock_statement(relaxed), {"event_id": event_id})
    return locked.first()[0]


@cache
def _lock_statement(relaxed_commit: bool):
    from sqlalchemy import bindparam, func

    from app.models import Event

    events = Event.__table__
    returned = [events.c.layout_version]
    if relaxed_commit:
        # Set in the same statement, so that it costs no round trip of its own; local to the
        # transaction (the third argument), so the connection's next user commits as before.
        returned.append(func.set_config("synchronous_commit", "off", True))
    return (
        events.update()
        .where(events.c.id == bindparam("event_id"))
        .values(name=events.c.name)
        .returning(*returned)
    )


# How long a PostgreSQL statement under gevent holds its worker for the answer before it lets the
# worker's other requests run: a few round trips to a nearby server, far less than a lock wait.
IN_PLACE_SECONDS = 0.003


def wait_in_place_first() -> bool:
    """Under gevent, make psycopg wait for each answer in place first; return whether it does.

    Under gevent (``openspaces serve``'s workers), psycopg waits for every answer in gevent's
    loop, so each statement of a request lets the worker's other requests run before it goes on:
    under a break's 2,000 phones a page's statements each waited behind hundreds of others, and
    a camera's scan behind the kiosks' pages, eight times. SQLite's answers come in place.

    Now a statement first waits in place, holding the worker, for ``IN_PLACE_SECONDS``: time
    for a nearby server to answer. A statement still unanswered by then (a lock that another
    transaction holds, perhaps another request of this very worker, or a long query) waits in
    gevent's loop as before, so the worker never stops behind its own requests for longer.

    A no-op without gevent's patches (waitress's threads, the CLI): psycopg waits in C there.
    """
    try:
        from psycopg import waiting
    except ImportError:
        return False
    if getattr(waiting.wait, "in_place_first", False):
        return True
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("select"):
        return False

    waiting.wait = _in_place_then(waiting.wait, monkey.get_original("select", "poll"))
    return True


def _in_place_then(cooperative, poll_in_place):
    """Return a psycopg wait function: in place for ``IN_PLACE_SECONDS``, then ``cooperative``."""
    from psycopg import waiting

    masks = {
        waiting.WAIT_R: select.POLLIN,
        waiting.WAIT_W: select.POLLOUT,
        waiting.WAIT_RW: select.POLLIN | select.POLLOUT,
    }

    def wait(gen, fileno, interval=0.0, timeout=None):
        if timeout is not None:
            return cooperative(gen, fileno, interval=interval, timeout=timeout)
        try:
            state = next(gen)
            poll = poll_in_place()
            poll.register(fileno, masks[state])
            deadline = time.monotonic() + IN_PLACE_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                events = poll.poll(math.ceil(left * 1000))
                if not events:
                    continue
                mask = events[0][1]
                ready = (waiting.READY_R if mask & select.POLLIN else 0) | (
                    waiting.READY_W if mask & select.POLLOUT else 0
                )
                if not ready:
                    break  # a closed socket: the cooperative wait reports it
                state = gen.send(ready)
                poll.modify(fileno, masks[state])
        except StopIteration as done:
            return done.value
        return cooperative(_resumed(gen, state), fileno, interval=interval)

    wait.in_place_first = True
    return wait


def _resumed(gen, state):
    """``gen``, already started and now waiting for ``state``, for a wait function to finish."""
    while True:
        ready = yield state
        try:
            state = gen.send(ready)
        except StopIteration as done:
            return done.value
