"""Organizer log-in and log-out, and the check of an organizer's session on every request."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address

from app.extensions import db, limiter
from app.forms import ActionForm, LoginForm
from app.services import logins
from app.services.organizers import authenticate, end_session, start_session
from app.services.text import clean_line
from app.settings import app_settings
from app.views.common import ORGANIZER_KEY, current_organizer, session_limits

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would make a phishing link out of our login page.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("admin.dashboard")


TOO_MANY = "Too many log-in attempts from your address. Wait a minute, then try again."


def _account() -> str:
    # The same cleaning as the form's, so that "admin" and "ad\u200bmin" count as one account.
    return clean_line(request.form.get("username", "")).casefold()


def _account_at_address() -> str:
    return f"account:{_account()}@{get_remote_address()}"


def _log_lockout(limit: RequestLimit) -> None:
    logins.note_lockout(
        limit=str(limit.limit), key=limit.key, account=_account(), address=get_remote_address()
    )


@bp.before_app_request
def _check_organizer_session():
    # Read the session before the view runs, so that noting its use (or its end) is a write of its
    # own and not part of what the view commits or rolls back.
    if ORGANIZER_KEY in session and request.endpoint != "static":
        current_organizer()
        if db.session.dirty or db.session.deleted:
            db.session.commit()


# Only addresses are refused: after LOGIN_LIMIT_PER_ADDRESS attempts, or sooner when they are all
# at one account. An account as a whole is never refused, so a stranger guessing from elsewhere
# cannot keep its organizer out; its log-ins only slow down (app.services.logins).
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: app_settings(current_app).login.limit_per_address,
    methods=["POST"],
    error_message=TOO_MANY,
    on_breach=_log_lockout,
)
@limiter.limit(
    lambda: app_settings(current_app).login.limit_per_account_and_address,
    methods=["POST"],
    key_func=_account_at_address,
    error_message=TOO_MANY,
    on_breach=_log_lockout,
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        limits = app_settings(current_app).login
        slowdown = {"account": _account(), "slow_after": limits.slowdown_per_account}
        # gevent workers wait here without holding up their other requests.
        time.sleep(
            logins.delay_s(
                **slowdown,
                step_s=limits.slowdown_step_s,
                max_s=limits.slowdown_max_s,
            )
        )
        organizer = authenticate(username=form.username.data, password=form.password.data)
        if organizer is not None:
            key = start_session(organizer=organizer, **session_limits())
            db.session.commit()
            session.clear()
            session[ORGANIZER_KEY] = key
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        logins.note_failure(**slowdown, address=get_remote_address())
        flash("Wrong user name or password.", "error")
        return render_template("login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout():
    """End this browser's organizer session; other browsers stay logged in."""
    if ActionForm().validate_on_submit():
        key = session.get(ORGANIZER_KEY)
        if isinstance(key, str):
            end_session(key=key)
            db.session.commit()
        session.clear()
    return redirect(url_for("public.board"))
