"""Helpers that several blueprints share."""

from __future__ import annotations

import datetime as dt
import secrets
from functools import wraps

from flask import abort, current_app, flash, redirect, request, session, url_for
from werkzeug.routing import IntegerConverter

from app.extensions import db
from app.live import stamp
from app.live.stream import pages_now
from app.models import Event, Organizer, Room, Sticky
from app.services import ServiceError
from app.services.events import get_current_event
from app.services.organizers import session_organizer
from app.services.stickies import get_sticky
from app.settings import app_settings

BROWSER_COOKIE = "osb_browser"
EDIT_COOKIE_PREFIX = "osb_edit_"
ONE_YEAR = 60 * 60 * 24 * 365
# The largest key a database row can have (64-bit signed): a larger id names nothing.
MAX_ID = 2**63 - 1


def run_action(action, success, back: str):
    """Run a service call in this request's transaction; flash its outcome and redirect to ``back``.

    ``success`` is the message, or a function of the call's result that returns it.
    """
    try:
        result = action()
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(success(result) if callable(success) else success, "ok")
    return redirect(back)


class BoundedIntConverter(IntegerConverter):
    """The ``int`` URL converter, bounded to 64-bit keys: a longer number is a 404, not a 500."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        bounded = MAX_ID if max is None or max > MAX_ID else max
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bounded, signed=signed)


def parse_id(text: str) -> int | None:
    """Return the database id a form field names, or None when it cannot be one."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def cookie_options() -> dict:
    """Options every cookie of ours gets: HTTP-only, same-site, and Secure over HTTPS."""
    return {"httponly": True, "samesite": "Lax", "secure": request.is_secure}


def now(app=None) -> dt.datetime:
    """Return the time the pages go by: the wall clock, or the ``CLOCK`` function a test set."""
    return pages_now(app or current_app)


def current_version_or_404() -> tuple[int, str]:
    """Return the current event's id and live stamp (app.live.stamp); 404 when none is loaded."""
    current = stamp.current_event_version(now=now())
    if current is None:
        current_event_or_404()
    return current


def shared_view() -> bool:
    """Return whether this request sees what everyone sees: no organizer, no message waiting."""
    return not is_organizer() and not session.get("_flashes")


def current_event_or_404() -> Event:
    event = get_current_event()
    if event is None:
        abort(
            404,
            description="No event is set up yet. An organizer loads one with "
            "`openspaces event load FILE.toml`.",
        )
    return event


def room_or_404(event: Event, number: int) -> Room:
    """Return the event's room by its number on the wall, counting from 1."""
    if not 1 <= number <= len(event.rooms):
        abort(404, description=f"This event has no room number {number}.")
    return event.rooms[number - 1]


def sticky_or_404(code: str) -> Sticky:
    sticky = get_sticky(code)
    if sticky is None:
        abort(
            404,
            description=f"There is no sticky with the code {code!r}. "
            "Check the code printed under the QR.",
        )
    return sticky


def browser_id() -> str:
    """Return this browser's anonymous id, creating one (the cookie is set after the request)."""
    # Kept on the request, not on ``g``: an app context can outlive one request.
    environ = request.environ
    if "openspaces.browser_id" not in environ:
        existing = request.cookies.get(BROWSER_COOKIE, "")
        fresh = existing if 16 <= len(existing) <= 64 else secrets.token_urlsafe(16)
        environ["openspaces.browser_id"] = fresh
        environ["openspaces.set_browser_cookie"] = fresh != existing
    return environ["openspaces.browser_id"]


def set_cookies(response):
    if request.environ.get("openspaces.set_browser_cookie"):
        response.set_cookie(
            BROWSER_COOKIE,
            request.environ["openspaces.browser_id"],
            max_age=ONE_YEAR,
            **cookie_options(),
        )
    return response


# The session cookie's entry that holds the key to an organizer's log-in session.
ORGANIZER_KEY = "organizer_key"
SESSION_ENDED = "Your organizer session has ended. Log in again."


def session_limits(app=None) -> dict[str, dt.timedelta]:
    """Return how long an organizer session may stay idle and how long it may last at most."""
    login = app_settings(app or current_app).login
    return {
        "idle": dt.timedelta(seconds=login.session_idle_s),
        "max_age": dt.timedelta(seconds=login.session_max_s),
    }


# Where a request keeps the organizer it was found to come from (None: a visitor).
ORGANIZER_ENVIRON = "openspaces.organizer"


def current_organizer() -> Organizer | None:
    """Return the organizer this browser is logged in as, or None; read once per request.

    The cookie's key must open a live session in the database (app.services.organizers): a copied
    cookie is no use once its session has ended.
    """
    environ = request.environ
    if ORGANIZER_ENVIRON not in environ:
        key = session.get(ORGANIZER_KEY)
        organizer = None
        if isinstance(key, str):
            organizer = session_organizer(key=key, **session_limits())
            if organizer is None:
                session.pop(ORGANIZER_KEY, None)
                environ["openspaces.organizer_ended"] = True
        environ[ORGANIZER_ENVIRON] = organizer
    return environ[ORGANIZER_ENVIRON]


def is_organizer() -> bool:
    return current_organizer() is not None


def organizer_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not is_organizer():
            if request.environ.get("openspaces.organizer_ended"):
                flash(SESSION_ENDED, "error")
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped
