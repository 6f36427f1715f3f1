"""Flask extensions, created unbound and initialised in ``create_app``."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep migrations portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
# Limits count per client address by default (behind a proxy, ``--behind-proxy`` makes that the
# real client's). The storage is in memory unless RATELIMIT_STORAGE_URI names a shared one.
limiter = Limiter(key_func=get_remote_address)
# Stores that live inside one process: each server process would count alone.
PROCESS_STORES = ("memory", "async+memory")


def shared_limits_problem(app, *, workers: int) -> str | None:
    """Return why ``workers`` server processes of ``app`` would not share their rate limits, or None.

    ``app`` must be the app the limiter was last set up for (``create_app`` does that).
    """
    if workers < 2:
        return None
    scheme = app.config["RATELIMIT_STORAGE_URI"].split("://", 1)[0]
    if scheme in PROCESS_STORES:
        return (
            f"--workers {workers} with rate limits kept in memory: each worker would count alone "
            f"and let {workers} times as many log-in guesses and interest marks through. Give the "
            "workers one store, e.g. OPENSPACES_RATELIMIT_STORAGE_URI=redis://localhost:6379 "
            "(pip install redis), or serve with --workers 1."
        )
    try:
        answers = limiter.storage.check()
    except Exception:  # noqa: BLE001 - any failure to reach the store means the same here
        answers = False
    if not answers:
        return (
            f"the rate-limit store ({scheme}://, from OPENSPACES_RATELIMIT_STORAGE_URI) does not "
            "answer: start it or correct the address."
        )
    return None


@limiter.request_filter
def _reads_are_not_limited() -> bool:
    # Every limit is on a form post; reads (thousands of phones on the live board) skip the
    # limiter's bookkeeping.
    from flask import request

    return request.method in ("GET", "HEAD", "OPTIONS")
