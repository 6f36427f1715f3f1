"""Organizer scan pages: scan a photo from a phone, preview and apply; the scan history with undo."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from app.extensions import db
from app.forms import ActionForm
from app.models import Scan
from app.services import ServiceError
from app.services.scans import (
    InvalidScan,
    apply_scan,
    parse_observations,
    preview_scan,
    recent_scans,
    undo_scan,
)
from app.services.uploads import InvalidUpload, read_photo
from app.views.common import current_event_or_404, organizer_required

bp = Blueprint("scans", __name__)

PENDING_NAME_CHARS = set("0123456789abcdef")


@bp.before_request
@organizer_required
def _require_login():
    return None


def _uploads() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _pending_id_or_404(pending: str) -> str:
    if len(pending) != 32 or not set(pending) <= PENDING_NAME_CHARS:
        abort(404)
    return pending


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
        image = read_photo(upload.read())
    except InvalidUpload as exc:
        flash(str(exc), "error")
        return render_template("scan.html", event=event, form=form, action_form=form), 422

    from app.services.scanning import annotate
    from app.services.scanning import scan_photo as run_scanner

    result = run_scanner(event, image)
    pending = secrets.token_hex(16)
    body = {**result.to_dict(), "scan_id": f"upload-{pending}"}
    folder = _uploads() / "pending"
    folder.mkdir(parents=True, exist_ok=True)
    import cv2

    cv2.imwrite(str(folder / f"{pending}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    cv2.imwrite(
        str(folder / f"{pending}-annotated.jpg"),
        annotate(image, result),
        [cv2.IMWRITE_JPEG_QUALITY, 85],
    )
    (folder / f"{pending}.json").write_text(json.dumps(body))
    changes = preview_scan(
        event=event,
        observations=parse_observations(body),
        remove_after=current_app.config["REMOVE_AFTER_SCANS"],
    )
    return render_template(
        "scan_preview.html",
        event=event,
        form=form,
        action_form=form,
        pending=pending,
        result=body,
        changes=changes,
    )


@bp.get("/scan/pending/<pending>.jpg")
def pending_image(pending: str):
    return send_from_directory(
        _uploads() / "pending", f"{_pending_id_or_404(pending)}-annotated.jpg"
    )


@bp.post("/scan/<pending>/apply")
def apply_pending(pending: str):
    event = current_event_or_404()
    pending = _pending_id_or_404(pending)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    folder = _uploads() / "pending"
    try:
        body = json.loads((folder / f"{pending}.json").read_text())
    except FileNotFoundError:
        abort(404, description="This scan was applied already or has expired.")
    try:
        outcome = apply_scan(
            event=event,
            observations=parse_observations(body),
            source="organizer",
            remove_after=current_app.config["REMOVE_AFTER_SCANS"],
        )
    except InvalidScan as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".scan_photo"))
    scans_dir = _uploads() / "scans"
    scans_dir.mkdir(parents=True, exist_ok=True)
    if not outcome.duplicate:
        (folder / f"{pending}.jpg").replace(scans_dir / f"{outcome.scan.id}.jpg")
        (folder / f"{pending}-annotated.jpg").replace(
            scans_dir / f"{outcome.scan.id}-annotated.jpg"
        )
        outcome.scan.image_path = f"{outcome.scan.id}-annotated.jpg"
    db.session.commit()
    (folder / f"{pending}.json").unlink(missing_ok=True)
    flash(f"Scan applied: {len(outcome.changes)} changes.", "ok")
    return redirect(url_for(".history"))


@bp.get("/admin/scans")
def history():
    event = current_event_or_404()
    scans = recent_scans(event, limit=100)
    from sqlalchemy import func, select

    from app.models import Placement

    counts = dict(
        db.session.execute(
            select(Placement.scan_id, func.count(Placement.id))
            .where(Placement.scan_id.in_([s.id for s in scans]))
            .group_by(Placement.scan_id)
        ).all()
    )
    return render_template(
        "admin/scans.html", event=event, scans=scans, counts=counts, action_form=ActionForm()
    )


@bp.get("/admin/scans/<int:scan_id>/image")
def scan_image(scan_id: int):
    scan = db.get_or_404(Scan, scan_id)
    if not scan.image_path:
        abort(404, description="This scan came without a photo.")
    return send_from_directory(_uploads() / "scans", scan.image_path)


@bp.post("/admin/scans/<int:scan_id>/undo")
def undo(scan_id: int):
    scan = db.get_or_404(Scan, scan_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    try:
        restored = undo_scan(scan=scan)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"Scan {scan.id} undone: {restored} stickies put back.", "ok")
    return redirect(url_for(".history"))


@bp.get("/admin/timelapse")
def timelapse():
    """Step through the day's scan photos, oldest first."""
    event = current_event_or_404()
    frames = [s for s in reversed(recent_scans(event, limit=500)) if s.image_path]
    frames_json = json.dumps(
        [
            [url_for(".scan_image", scan_id=s.id), event.local(s.received_dt).strftime("%a %H:%M")]
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
