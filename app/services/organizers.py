"""Organizer accounts and camera API tokens."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import ApiToken, Organizer, utcnow
from app.services import ServiceError
from app.services.codes import hash_secret, new_secret

MIN_PASSWORD_LENGTH = 8


def set_password(*, username: str, password: str) -> Organizer:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    organizer = db.session.scalar(select(Organizer).filter_by(username=username))
    if organizer is None:
        organizer = Organizer(username=username)
        db.session.add(organizer)
    organizer.password_hash = generate_password_hash(password)
    db.session.flush()
    return organizer


def authenticate(*, username: str, password: str) -> Organizer | None:
    organizer = db.session.scalar(select(Organizer).filter_by(username=username))
    if organizer and check_password_hash(organizer.password_hash, password):
        return organizer
    return None


def create_token(*, name: str) -> tuple[ApiToken, str]:
    """Create a camera token; return it and the secret, which is never shown again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ServiceError("a token needs a name of 1 to 100 characters")
    if db.session.scalar(select(ApiToken).filter_by(name=name)):
        raise ServiceError(
            f"a token called {name!r} exists already; revoke it or pick another name"
        )
    secret = new_secret()
    token = ApiToken(name=name, token_hash=hash_secret(secret))
    db.session.add(token)
    db.session.flush()
    return token, secret


def token_for_secret(secret: str) -> ApiToken | None:
    token = db.session.scalar(select(ApiToken).filter_by(token_hash=hash_secret(secret)))
    if token is None or token.revoked_dt is not None:
        return None
    token.last_used_dt = utcnow()
    return token


def revoke_token(*, name: str) -> ApiToken:
    token = db.session.scalar(select(ApiToken).filter_by(name=name))
    if token is None:
        raise ServiceError(f"no token called {name!r}")
    token.revoked_dt = utcnow()
    return token


def list_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))
