"""Database schema upgrades through Alembic (Flask-Migrate)."""

from __future__ import annotations

import logging

from flask import current_app


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
