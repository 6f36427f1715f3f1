"""Organizer accounts, their log-in sessions, and camera API tokens.

A log-in session lives in the database (``OrganizerSession``); the browser's signed cookie holds a
random key to it. So a session can be ended from the server: a copied cookie stops working once its
session is over.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets

from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import ApiToken, Event, Organizer, OrganizerSession, utcnow
from app.services import ServiceError
from app.services.codes import hash_secret, new_secret
from app.services.text import unprintable_in

MIN_PASSWORD_LENGTH = 8
# A camera posts every few seconds; writing its last use each time would make every scan a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Likewise an organizer's every page: a session notes when it was used to the minute.
SEEN_RESOLUTION = dt.timedelta(minutes=1)


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("a password that no organizer has")


def set_password(*, username: str, password: str) -> Organizer:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    organizer = db.session.scalar(select(Organizer).filter_by(username=username))
    if organizer is None:
        organizer = Organizer(username=username)
        db.session.add(organizer)
    else:
        # Whoever knew the old password may have a session: it ends with the password.
        end_sessions(organizer=organizer)
    organizer.password_hash = generate_password_hash(password)
    db.session.flush()
    return organizer


def create_first_organizer(*, username: str = "admin") -> str | None:
    """Create the first organizer with a new random password and return the password.

    Return None when an organizer exists already: a password someone set is never replaced.
    """
    if db.session.scalar(select(Organizer.id).limit(1)) is not None:
        return None
    password = secrets.token_urlsafe(12)
    set_password(username=username, password=password)
    return password


def authenticate(*, username: str, password: str) -> Organizer | None:
    """Return the organizer whose name and password these are, or None.

    An unknown name costs the same password check as a known one, so that the time an answer takes
    does not tell which names exist.
    """
    organizer = db.session.scalar(select(Organizer).filter_by(username=username))
    if organizer is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if check_password_hash(organizer.password_hash, password):
        return organizer
    return None


def start_session(*, organizer: Organizer, idle: dt.timedelta, max_age: dt.timedelta) -> str:
    """Open a log-in session for the organizer; return its key for the browser's cookie.

    Sessions that are over by their idle time or age (see ``session_organizer``) go on the way.
    """
    prune_sessions(idle=idle, max_age=max_age)
    key = new_secret()
    db.session.add(OrganizerSession(organizer=organizer, key_hash=hash_secret(key)))
    db.session.flush()
    return key


def session_organizer(
    *, key: str, idle: dt.timedelta, max_age: dt.timedelta, now: dt.datetime | None = None
) -> Organizer | None:
    """Return the organizer whose live session this key opens, or None.

    A session idle for longer than ``idle``, or opened longer than ``max_age`` ago, is over: it is
    deleted and None returned. A live one notes that it was used (to ``SEEN_RESOLUTION``).
    """
    now = now or utcnow()
    record = db.session.scalar(select(OrganizerSession).filter_by(key_hash=hash_secret(key)))
    if record is None:
        return None
    if now - record.created_dt > max_age or now - record.seen_dt > idle:
        db.session.delete(record)
        return None
    if now - record.seen_dt >= SEEN_RESOLUTION:
        record.seen_dt = now
    return record.organizer


def end_session(*, key: str) -> None:
    """End the session this key opens (log-out in one browser); an ended one stays ended."""
    db.session.execute(delete(OrganizerSession).filter_by(key_hash=hash_secret(key)))


def end_sessions(*, organizer: Organizer | None = None) -> int:
    """End every session of ``organizer``, or of every organizer; return how many ended."""
    statement = delete(OrganizerSession)
    if organizer is not None:
        statement = statement.filter_by(organizer_id=organizer.id)
    return db.session.execute(statement).rowcount


def prune_sessions(
    *, idle: dt.timedelta, max_age: dt.timedelta, now: dt.datetime | None = None
) -> int:
    """Delete the sessions that are over by their age or idle time; return how many."""
    now = now or utcnow()
    statement = delete(OrganizerSession).where(
        (OrganizerSession.created_dt < now - max_age) | (OrganizerSession.seen_dt < now - idle)
    )
    return db.session.execute(statement).rowcount


def create_token(*, name: str, replace: bool = False) -> tuple[ApiToken, str]:
    """Create a camera token; return it and the secret, which is never shown again.

    A revoked token's name is free again. With ``replace``, a live token of that name is revoked
    and replaced at once: its old secret stops working.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise ServiceError("a token needs a name of 1 to 100 characters")
    bad = unprintable_in(name)
    if bad is not None:
        raise ServiceError(f"a token name takes printable characters only, not {bad}")
    secret = new_secret()
    token = db.session.scalar(select(ApiToken).filter_by(name=name))
    if token is not None and token.revoked_dt is None and not replace:
        raise ServiceError(
            f"a token called {name!r} exists already; revoke it, replace it (--replace) "
            "or pick another name"
        )
    if token is None:
        token = ApiToken(name=name, token_hash=hash_secret(secret))
        db.session.add(token)
    else:
        # The row gets a new secret, so the old one stays dead.
        token.token_hash = hash_secret(secret)
        token.created_dt = utcnow()
        token.last_used_dt = None
        token.revoked_dt = None
    db.session.flush()
    return token, secret


def camera_and_event(secret: str) -> tuple[ApiToken | None, Event | None]:
    """Return the live camera token with this secret and the event it posts to, in one query.

    A camera's every request needs both; (None, None) for a secret of no live token.
    """
    from app.services.events import current_event_id

    row = db.session.execute(
        select(ApiToken, Event)
        .select_from(ApiToken)
        .outerjoin(Event, Event.id == current_event_id())
        .where(ApiToken.token_hash == hash_secret(secret))
    ).first()
    token = _in_use(row[0]) if row else None
    return (token, row[1]) if token else (None, None)


def _in_use(token: ApiToken | None) -> ApiToken | None:
    """Return the token unless it is missing or revoked, noting when it was last used."""
    if token is None or token.revoked_dt is not None:
        return None
    now = utcnow()
    if token.last_used_dt is None or now - token.last_used_dt >= LAST_USED_RESOLUTION:
        token.last_used_dt = now
    return token


def revoke_token(*, name: str) -> ApiToken:
    token = db.session.scalar(select(ApiToken).filter_by(name=name))
    if token is None:
        raise ServiceError(f"no token called {name!r}")
    token.revoked_dt = token.revoked_dt or utcnow()
    return token


def list_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))
