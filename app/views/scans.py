"""Organizer scan pages: scan a photo from a phone, preview and apply; the scan history with undo."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from app.extensions import db
from app.forms import ActionForm
from app.models import Scan
from app.services import ServiceError
from app.services.ingest import PendingGone, ingest_pending, preview_photo
from app.services.ingest import pending_image as pending_image_key
from app.services.photos import organizer_photo, public_photo
from app.services.scans import (
    changes_per_scan,
    recent_scans,
    scan_changes,
    undo_scan,
)
from app.services.text import plural
from app.settings import ScanSettings, app_settings
from app.views.common import current_event_or_404, organizer_required, run_action
from app.views.files import send_stored

bp = Blueprint("scans", __name__)


@bp.before_request
@organizer_required
def _require_login():
    return None


def _settings() -> ScanSettings:
    return app_settings(current_app).scan


@bp.route("/scan", methods=["GET", "POST"])
def scan_photo():
    """Scan a photo taken with the phone's camera and show what applying it would change."""
    event = current_event_or_404()
    form = ActionForm()
    if request.method == "GET":
        return render_template("scan.html", event=event, form=form, action_form=form)
    if not form.validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        flash("Choose a photo of the board first.", "error")
        return redirect(url_for(".scan_photo"))
    try:
        preview = preview_photo(event=event, photo=upload.read(), settings=_settings())
    except ServiceError as exc:
        # A photo that is not one, or one the scanner cannot analyse: nothing was kept.
        flash(str(exc), "error")
        return render_template("scan.html", event=event, form=form, action_form=form), 422
    return render_template(
        "scan_preview.html",
        event=event,
        form=form,
        action_form=form,
        pending=preview.pending,
        result=preview.result,
        changes=preview.changes,
        pictures=preview.pictures,
    )


@bp.get("/scan/pending/<pending>.jpg")
def pending_image(pending: str):
    settings = _settings()
    try:
        key = pending_image_key(settings, pending)
    except PendingGone:
        abort(404)
    response = send_stored(settings.pending_store, key)
    if response is None:  # applied by another request meanwhile
        abort(404)
    return response


@bp.post("/scan/<pending>/apply")
def apply_pending(pending: str):
    event = current_event_or_404()
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    try:
        ingested = ingest_pending(
            event=event, source="organizer", pending=pending, settings=_settings()
        )
    except PendingGone as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".scan_photo"))
    flash(applied_message(ingested), "ok")
    return redirect(url_for(".history"))


@bp.get("/admin/scans")
def history():
    event = current_event_or_404()
    scans = recent_scans(event, limit=100)
    return render_template(
        "admin/scans.html",
        event=event,
        scans=scans,
        counts=changes_per_scan(scans),
        action_form=ActionForm(),
    )


@bp.get("/admin/scans/<int:scan_id>")
def scan_detail(scan_id: int):
    """One scan: its annotated photo, what it read and what it changed, with undo."""
    event = current_event_or_404()
    scan = db.get_or_404(Scan, scan_id)
    if scan.event_id != event.id:
        abort(404)
    return render_template(
        "admin/scan.html",
        event=event,
        scan=scan,
        changes=scan_changes(scan=scan),
        action_form=ActionForm(),
    )


@bp.get("/admin/scans/<int:scan_id>/image")
def scan_image(scan_id: int):
    """The annotated photo as taken; once it is deleted (app.services.photos), its public copy."""
    scan = db.get_or_404(Scan, scan_id)
    if not scan.image_path:
        abort(404, description="This scan came without a photo.")
    settings = _settings()
    store = settings.scans_store
    key = organizer_photo(store=store, scan=scan, turns=settings.turns())
    response = None if key is None else send_stored(store, key)
    if response is None:
        abort(404, description="This scan's photo is gone.")
    return response


@bp.get("/admin/scans/<int:scan_id>/public.jpg")
def scan_frame(scan_id: int):
    """The scan's photo as the time-lapse shows it: annotated, every face blurred."""
    scan = db.get_or_404(Scan, scan_id)
    settings = _settings()
    store = settings.scans_store
    key = public_photo(store=store, scan=scan, turns=settings.turns())
    response = None if key is None else send_stored(store, key)
    if response is None:
        abort(404, description="This scan has no photo.")
    return response


@bp.post("/admin/scans/<int:scan_id>/undo")
def undo(scan_id: int):
    scan = db.get_or_404(Scan, scan_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    return run_action(
        lambda: undo_scan(scan=scan),
        lambda restored: f"Scan {scan.id} undone: {plural(restored, 'sticky')} put back.",
        url_for(".scan_detail", scan_id=scan.id),
    )


@bp.get("/admin/timelapse")
def timelapse():
    """Step through the day's scan photos, oldest first, every face in them blurred."""
    event = current_event_or_404()
    frames = [s for s in reversed(recent_scans(event, limit=500)) if s.image_path]
    frames_json = json.dumps(
        [
            [url_for(".scan_frame", scan_id=s.id), event.local(s.received_dt).strftime("%a %H:%M")]
            for s in frames
        ]
    )
    return render_template(
        "admin/timelapse.html",
        event=event,
        frames=frames,
        frames_json=frames_json,
        action_form=ActionForm(),
    )


def applied_message(ingested) -> str:
    """Say what applying a scan did: its board changes, and the sticky pictures it improved."""
    pictures = plural(len(ingested.pictures), "sticky picture")
    if not ingested.scan.board_found:
        return f"{pictures} updated; no board in view, nothing moved."
    message = f"Scan applied: {plural(len(ingested.changes), 'change')}."
    return f"{message} {pictures} updated." if ingested.pictures else message
