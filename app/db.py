"""Database schema upgrades through Alembic (Flask-Migrate)."""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
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


def write_lock_event(event_id: int) -> int:
    """Make this transaction the event's only writer until it ends, before it reads the board.

    Board changes read the stickies' places and then write new ones; two at once (two cameras, say)
    would each decide from what the other is about to change. A no-op update of the event's row
    takes its row lock on PostgreSQL and SQLite's write lock, so such changes take turns, and each
    reads what the one before it committed.

    Return the event's ``layout_version`` as it stands once the lock is held.
    """
    from app.extensions import db

    # Core, on the session's connection: the ORM's bulk update machinery costs five times more.
    locked = db.session.connection().execute(_lock_statement(), {"event_id": event_id})
    return locked.scalar_one()


@cache
def _lock_statement():
    from sqlalchemy import bindparam

    from app.models import Event

    events = Event.__table__
    return (
        events.update()
        .where(events.c.id == bindparam("event_id"))
        .values(name=events.c.name)
        .returning(events.c.layout_version)
    )


_LOCKING_READ = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b", re.IGNORECASE)


def postgres_cursor_factory():
    """Return psycopg's cursor class for the app's PostgreSQL connections, or None to keep its own.

    Under gevent (``openspaces serve``'s workers), psycopg waits for each answer in gevent's
    loop, so that every statement of a request lets the worker's other requests run first:
    under a break's 2,000 phones, a page's two statements each waited behind hundreds of others.
    A plain read waits in C instead, as a SQLite read does, holding the worker for the fraction
    of a millisecond a nearby PostgreSQL takes. It cannot wait for a lock that another request of
    the same worker holds, so it cannot stop the worker. Writes, and reads that lock rows, still
    let other requests run while they wait, since the lock they wait for may be held by one of
    them.
    """
    try:
        import psycopg
        from psycopg import waiting
    except ImportError:
        return None
    wait_c = getattr(waiting, "wait_c", None)
    if wait_c is None or not hasattr(psycopg.Cursor, "_execute_gen"):
        return None  # psycopg without its C part, or a version whose cursor works otherwise

    class ReadsInPlace(psycopg.Cursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            text = query if isinstance(query, str) else ""
            if not text.lstrip()[:6].upper() == "SELECT" or _LOCKING_READ.search(text):
                return super().execute(query, params, prepare=prepare, binary=binary)
            conn = self._conn
            with conn.lock:
                work = self._execute_gen(query, params, prepare=prepare, binary=binary)
                wait_c(work, conn.pgconn.socket, interval=0.1)
            return self

    return ReadsInPlace
