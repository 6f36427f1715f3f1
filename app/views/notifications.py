"""Web Push subscriptions from the browser's Push API (app.services.push), and the key to make them."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from app.extensions import db, limiter
from app.services import ServiceError, push
from app.services.stickies import get_sticky
from app.settings import app_settings
from app.views.common import browser_id

bp = Blueprint("notifications", __name__, url_prefix="/push")


@bp.get("/key")
def key():
    """The instance's VAPID public key, the browser's ``applicationServerKey``."""
    response = jsonify(key=push.public_key())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _json() -> dict:
    """Return the JSON body; only ``application/json`` is read, which no other site can send."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        abort(400, description="Send the subscription as JSON, as the Push API gives it.")
    return body


@bp.post("/subscriptions")
@limiter.limit(
    lambda: app_settings(current_app).login.interest_limit_per_address,
    error_message="Too many subscriptions from your network just now. Wait a minute.",
)
def subscribe():
    """Keep a subscription: ``{endpoint, keys: {p256dh, auth}}``, with ``person`` (a person
    sticky's code) for new sessions on that person's interests."""
    body = _json()
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    person = None
    if body.get("person"):
        person = get_sticky(str(body["person"]))
        if person is None:
            abort(404, description="There is no such person sticky.")
    try:
        push.subscribe(
            browser_id=browser_id(),
            endpoint=str(body.get("endpoint") or ""),
            p256dh=str(keys.get("p256dh") or ""),
            auth=str(keys.get("auth") or ""),
            person=person,
            extra_hosts=app_settings(current_app).news.push_service_hosts,
        )
    except ServiceError as exc:
        db.session.rollback()
        abort(400, description=str(exc))
    db.session.commit()
    return jsonify(ok=True), 201


@bp.post("/subscriptions/delete")
def unsubscribe():
    """Forget this browser's subscriptions at ``endpoint``."""
    body = _json()
    gone = push.unsubscribe(browser_id=browser_id(), endpoint=str(body.get("endpoint") or ""))
    db.session.commit()
    return jsonify(removed=gone)
