"""Organizer log-in and log-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from app.forms import ActionForm, LoginForm
from app.services.organizers import authenticate

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


@bp.route("/login", methods=["GET", "POST"])
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
