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


@limiter.request_filter
def _reads_are_not_limited() -> bool:
    # Every limit is on a form post; reads (thousands of phones on the live board) skip the
    # limiter's bookkeeping.
    from flask import request

    return request.method in ("GET", "HEAD", "OPTIONS")
