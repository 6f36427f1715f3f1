"""The phone camera page, its pairing, and the camera list on the organizer dashboard."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for
from markupsafe import Markup

from app.extensions import db
from app.models import utcnow
from app.services import cameras as camera_service
from app.views.api import token_required
from app.views.common import current_event_or_404

bp = Blueprint("camera", __name__)

# The page's defaults; `?every=SECONDS` overrides the interval. The change test is the webcam
# loop's (docs/camera.md): a 320 px grey thumbnail, blurred by 1 px, changed when more than 0.05 %
# of its pixels moved by more than 12 grey levels.
PAGE_SETTINGS = {
    "every": 5,
    "heartbeat": 60,
    "thumb-width": 320,
    "level-step": 12,
    "change-fraction": 0.0005,
    "queue-frames": 60,
    "queue-mb": 150,
    "jpeg-quality": 0.9,
}


@bp.get("/camera")
def page():
    event = current_event_or_404()
    return render_template("camera.html", event=event, settings=PAGE_SETTINGS)


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
    except camera_service.PairingError as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 422
    db.session.commit()
    return jsonify(name=token.name, token=secret), 201


@bp.get("/camera/status")
@token_required
def status():
    """Say which camera this token is and what its last scan saw."""
    event = current_event_or_404()
    report = camera_service.last_scan_report(
        event=event, token=g.api_token, upload_dir=current_app.config["UPLOAD_DIR"]
    )
    db.session.commit()
    return jsonify(camera=g.api_token.name, last=report)


@bp.app_template_global()
def camera_panel() -> dict:
    """Return the dashboard's camera list and a fresh pairing QR, for ``admin/_cameras.html``."""
    from printables import qr_svg

    # The code changes with every dashboard view, so the templates' cached QR helper is no use here.
    event = current_event_or_404()
    code = camera_service.new_pairing_code(secret_key=current_app.config["SECRET_KEY"])
    pair_url = event.base_url + url_for("camera.page", pair=code)
    return {
        "cameras": camera_service.cameras(event=event, now=utcnow()),
        "pair_url": pair_url,
        "pair_qr": Markup(qr_svg(pair_url, title="Pair a phone as a wall camera", css_class="qr")),
        "pair_minutes": camera_service.PAIRING_MAX_AGE_S // 60,
        "quiet_after_s": camera_service.QUIET_AFTER_S,
        "now": utcnow(),
    }
