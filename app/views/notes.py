"""Organizer pages for plain notes: the notes to check, and new claim codes for the wall screen."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for

from app.forms import ActionForm
from app.models import NoteCheck
from app.services import plain_notes
from app.settings import app_settings
from app.views.common import (
    current_event_or_404,
    now,
    organizer_required,
    parse_id,
    run_action,
    sticky_or_404,
)
from app.views.files import send_stored

bp = Blueprint("notes", __name__, url_prefix="/admin/notes")


@bp.before_request
@organizer_required
def _require_login():
    return None


def _check_or_404(check_id: int) -> NoteCheck:
    check = plain_notes.find_check(event=current_event_or_404(), check_id=check_id)
    if check is None:
        abort(404)
    return check


@bp.get("")
def index():
    """List the notes held for an organizer to tell apart, and the notes nobody has claimed."""
    event = current_event_or_404()
    checks = [(c, plain_notes.check_candidates(c)) for c in plain_notes.open_checks(event)]
    unclaimed = [n for n in plain_notes.plain_notes(event) if not n.is_claimed and not n.hidden]
    return render_template(
        "admin/notes.html",
        event=event,
        checks=checks,
        unclaimed=unclaimed,
        now=now(),
        action_form=ActionForm(),
    )


@bp.post("/<int:check_id>")
def resolve(check_id: int):
    """Settle a held note: the same as one of the notes it looks like, or a new note."""
    check = _check_or_404(check_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    chosen = request.form.get("same_as", "")
    same_as = None
    if chosen != "new":
        sticky_id = parse_id(chosen)
        same_as = next((s for s in plain_notes.check_candidates(check) if s.id == sticky_id), None)
        if same_as is None:
            abort(400, description="Choose one of the notes it looks like, or a new note.")
    return run_action(
        lambda: plain_notes.resolve_check(check=check, same_as=same_as, now=now()),
        lambda sticky: f"The note is {sticky.code} now, where it was seen.",
        url_for(".index"),
    )


@bp.get("/<int:check_id>/picture.jpg")
def picture(check_id: int):
    """Serve the picture of a held note, as the scan that held it saw it."""
    check = _check_or_404(check_id)
    if not check.picture_file:
        abort(404)
    store = app_settings(current_app).scan.pictures_store
    sent = send_stored(store, f"{check.event_id}/{check.picture_file}")
    if sent is None:
        abort(404)
    return sent


@bp.post("/claim-code/<code>")
def claim_code(code: str):
    """Make a new one-time claim code for an unclaimed note: shown here and on the wall screen."""
    sticky = sticky_or_404(code)
    if sticky.event_id != current_event_or_404().id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    moment = now()

    def issue() -> str:
        return plain_notes.issue_claim_code(sticky=sticky, now=moment)

    return run_action(
        issue,
        lambda typed: (
            f"Claim code for {sticky.code}: {typed}, for "
            f"{plain_notes.CLAIM_CODE_MINUTES} minutes; the wall screen shows it too."
        ),
        url_for(".index"),
    )
