"""Database schema upgrades through Alembic (Flask-Migrate)."""

from __future__ import annotations

import logging
import sqlite3

from flask import current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine

# A writer waits this long for another writer before SQLite answers "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 20_000


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


def write_lock_event(event_id: int) -> None:
    """Make this transaction the event's only writer until it ends, before it reads the board.

    Board changes read the stickies' places and then write new ones; two at once (two cameras, say)
    would each decide from what the other is about to change. A no-op update of the event's row
    takes its row lock on PostgreSQL and SQLite's write lock, so such changes take turns, and each
    reads what the one before it committed.
    """
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Event

    db.session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(name=Event.name)
        .execution_options(synchronize_session=False)
    )
