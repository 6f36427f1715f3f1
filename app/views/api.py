"""The JSON API: board state for other tools, and scan ingest for wall cameras."""

from __future__ import annotations

import json
import secrets
from functools import wraps

from flask import Blueprint, abort, current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.services import board as board_service
from app.services.organizers import token_for_secret
from app.services.scans import InvalidScan, apply_scan, find_scan, parse_observations
from app.services.uploads import InvalidUpload, read_photo, save_scan_images
from app.views.common import current_event_or_404

bp = Blueprint("api", __name__, url_prefix="/api")


def token_required(view):
    """Let a request in only with ``Authorization: Bearer TOKEN`` of a live camera token."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        token = token_for_secret(secret.strip()) if scheme.lower() == "bearer" and secret else None
        if token is None:
            response = jsonify(error="a valid camera token is needed: Authorization: Bearer TOKEN")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="openspaces"'
            abort(response)
        g.api_token = token
        return view(*args, **kwargs)

    return wrapped


def _unprocessable(message: str):
    db.session.rollback()
    response = jsonify(error=message, status=422)
    response.status_code = 422
    return response


@bp.get("/board")
def board():
    event = current_event_or_404()
    return jsonify(board_service.board_json(event))


@bp.get("/manifest")
@token_required
def manifest():
    return jsonify(board_service.build_manifest(current_event_or_404()))


@bp.post("/scans")
@token_required
def post_scan():
    """Apply a camera's scan: the scanner's JSON plus ``scan_id``, or a multipart form with the photo.

    A multipart form carries the photo in ``photo`` and either the observations as JSON in ``scan``
    or just a ``scan_id``, in which case the server scans the photo itself.
    """
    event = current_event_or_404()
    image = result = None
    try:
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("photo")
            if upload is not None:
                image = read_photo(upload.read())
            if "scan" in request.form:
                try:
                    body = json.loads(request.form["scan"])
                except json.JSONDecodeError as exc:
                    raise InvalidScan(f"the scan field is not JSON: {exc.msg}") from None
            elif image is not None:
                from app.services.scanning import scan_photo

                result = scan_photo(event, image)
                body = {
                    **result.to_dict(),
                    "scan_id": request.form.get("scan_id") or secrets.token_hex(8),
                }
            else:
                raise InvalidScan("send the observations in a 'scan' field, a 'photo', or both")
        else:
            body = request.get_json(silent=True)
            if body is None:
                raise InvalidScan("the body must be JSON (Content-Type: application/json)")
        observations = parse_observations(body)
        outcome = apply_scan(
            event=event,
            observations=observations,
            source=g.api_token.name,
            remove_after=current_app.config["REMOVE_AFTER_SCANS"],
        )
    except (InvalidScan, InvalidUpload) as exc:
        return _unprocessable(str(exc))
    if outcome.duplicate:
        db.session.rollback()
        return jsonify(scan=outcome.scan.id, duplicate=True, applied=False, changes=[]), 200
    if image is not None:
        from app.services.scanning import annotate

        annotated = annotate(image, result) if result is not None else image
        outcome.scan.image_path = save_scan_images(
            current_app.config["UPLOAD_DIR"], outcome.scan.id, image, annotated
        )
    try:
        db.session.commit()
    except IntegrityError:
        # The same scan id arrived twice at once: the other request applied it.
        db.session.rollback()
        existing = find_scan(event, observations.scan_id)
        return jsonify(scan=existing.id, duplicate=True, applied=False, changes=[]), 200
    return jsonify(
        scan=outcome.scan.id,
        duplicate=False,
        applied=outcome.applied,
        changes=outcome.changes,
    ), 201
