"""The phone camera page, its pairing, and the camera list on the organizer dashboard."""

from __future__ import annotations

import math

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.forms import ActionForm
from app.models import Scan, utcnow
from app.services import cameras as camera_service
from app.services.board import MISSING_FOR_S
from app.services.organizers import revoke_token
from app.settings import CameraSettings, app_settings
from app.views.api import token_required
from app.views.common import current_event_or_404, organizer_required, run_action
from app.views.files import send_stored

bp = Blueprint("camera", __name__)


def page_settings(camera: CameraSettings) -> dict:
    """Return the camera page's settings; ``?every=SECONDS`` on the page overrides the interval.

    The change test and its numbers are the webcam loop's (camera/frames.py, docs/camera.md).
    """
    from camera import frames

    return {
        "every": 5,
        "heartbeat": 60,
        # A change is confirmed by a frame this many seconds later: by then two scans that miss a
        # sticky are far enough apart for the board to take it off (app.services.board).
        "confirm-after": math.ceil(MISSING_FOR_S) + 1,
        "thumb-width": frames.THUMB_WIDTH,
        "level-step": frames.THUMB_LEVEL_STEP,
        "change-fraction": frames.CHANGE_FRACTION,
        "queue-frames": camera.queue_frames,
        "queue-mb": camera.queue_mb,
        "jpeg-quality": 0.9,
    }


@bp.get("/camera")
def page():
    event = current_event_or_404()
    return render_template(
        "camera.html", event=event, settings=page_settings(app_settings(current_app).camera)
    )


@bp.post("/camera/pair")
def pair():
    """Exchange the pairing code from the dashboard's QR for this phone's camera token."""
    body = request.get_json(silent=True)
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or not code:
        return jsonify(error='send the pairing code as JSON: {"code": "..."}'), 422
    try:
        token, secret = camera_service.pair_camera(
            code=code, secret_key=current_app.config["SECRET_KEY"]
        )
        name = token.name
        db.session.commit()
    except camera_service.PairingError as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 422
    except IntegrityError:
        # Two phones sent the same code at once: the other one has the token.
        db.session.rollback()
        return jsonify(error=camera_service.USED_MESSAGE), 422
    return jsonify(name=name, token=secret), 201


@bp.get("/camera/status")
@token_required
def status():
    """Say which camera this token is and what its last scan saw."""
    event = current_event_or_404()
    report = camera_service.last_scan_report(
        event=event, token=g.api_token, store=app_settings(current_app).scan.scans_store
    )
    db.session.commit()
    return jsonify(camera=g.api_token.name, last=report)


@bp.get("/admin/cameras/scans/<int:scan_id>/thumb.jpg")
@organizer_required
def thumbnail(scan_id: int):
    scan = db.get_or_404(Scan, scan_id)
    store = app_settings(current_app).scan.scans_store
    key = camera_service.scan_thumbnail(scan=scan, store=store)
    response = None if key is None else send_stored(store, key, max_age=3600)
    if response is None:
        abort(404, description="This scan came without a photo.")
    return response


@bp.post("/admin/cameras/revoke")
@organizer_required
def revoke():
    """Unpair a phone or a webcam: its token stops working, and a phone's camera page stops."""
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    name = request.form.get("name", "")
    return run_action(
        lambda: revoke_token(name=name),
        f"{name} is unpaired: its token no longer works.",
        url_for("admin.dashboard"),
    )


@bp.app_template_global()
def camera_panel() -> dict:
    """Return the dashboard's camera list and a fresh pairing QR, for ``admin/_cameras.html``."""
    from printables import qr_svg

    # The code changes with every dashboard view, so the templates' cached QR helper is no use here.
    event = current_event_or_404()
    code = camera_service.new_pairing_code(secret_key=current_app.config["SECRET_KEY"])
    # Committed before the page goes out: a phone may pair through another server process at once.
    db.session.commit()
    # Like a sticky's QR, the link leads to the event's public address, which a phone can reach.
    pair_url = f"{event.base_url}/camera?pair={code}"
    return {
        "cameras": camera_service.cameras(event=event, now=utcnow()),
        "pair_url": pair_url,
        "pair_qr": Markup(qr_svg(pair_url, title="Pair a phone as a wall camera", css_class="qr")),
        "pair_minutes": camera_service.PAIRING_MAX_AGE_S // 60,
        "quiet_after_s": camera_service.QUIET_AFTER_S,
        "now": utcnow(),
    }
