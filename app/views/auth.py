"""Organizer log-in and log-out."""

from __future__ import annotations

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

from app.extensions import limiter
from app.forms import ActionForm, LoginForm
from app.services.organizers import authenticate
from app.services.text import clean_line

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


TOO_MANY = "Too many log-in attempts. Wait a minute, then try again."


def _account_key() -> str:
    # The same cleaning as the form's, so that "admin" and "ad\u200bmin" count as one account.
    return "account:" + clean_line(request.form.get("username", "")).casefold()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], error_message=TOO_MANY
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_account_key,
    error_message=TOO_MANY,
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        organizer = authenticate(username=form.username.data, password=form.password.data)
        if organizer is not None:
            session.clear()
            session["organizer_id"] = organizer.id
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong user name or password.", "error")
        return render_template("login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout():
    if ActionForm().validate_on_submit():
        session.clear()
    return redirect(url_for("public.board"))
