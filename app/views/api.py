"""The JSON API: board state for other tools, and scan ingest for wall cameras."""

from __future__ import annotations

import json
from functools import wraps

from flask import Blueprint, abort, current_app, g, jsonify, request

from app.extensions import db
from app.live import cache
from app.services import ServiceError, published
from app.services.ingest import ingest_observations, ingest_photo
from app.services.manifest import build_manifest
from app.services.observations import InvalidScan, parse_captured, read_observations
from app.services.organizers import camera_and_event
from app.services.pictures import InvalidView
from app.settings import ScanSettings, app_settings
from app.views.common import current_event_or_404, current_version_or_404

bp = Blueprint("api", __name__, url_prefix="/api")


def token_required(view):
    """Let a request in only with ``Authorization: Bearer TOKEN`` of a live camera token."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        token, event = (None, None)
        if scheme.lower() == "bearer" and secret:
            token, event = camera_and_event(secret.strip())
        if token is None:
            response = jsonify(error="a valid camera token is needed: Authorization: Bearer TOKEN")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="openspaces"'
            abort(response)
        g.api_token, g.camera_event = token, event
        return view(*args, **kwargs)

    return wrapped


def _unprocessable(message: str):
    db.session.rollback()
    response = jsonify(error=message, status=422)
    response.status_code = 422
    return response


@bp.get("/board")
def board():
    event_id, version = current_version_or_404()
    return cache.revalidated(
        f"{version}-api",
        lambda: cache.page_cache().get(
            ("api-board", event_id),
            version,
            lambda: current_app.json.dumps(published.board_json(current_event_or_404())),
        ),
        mimetype="application/json",
    )


def _camera_event():
    """The event a camera's request posts to, read with its token (token_required)."""
    return g.camera_event or current_event_or_404()


@bp.get("/manifest")
@token_required
def manifest():
    return jsonify(build_manifest(_camera_event()))


@bp.post("/scans")
@token_required
def post_scan():
    """Apply a camera's scan: the scanner's JSON plus ``scan_id``, or a multipart form with the photo.

    A multipart form carries the photo in ``photo`` and either the observations as JSON in ``scan``
    or just a ``scan_id``, in which case the server scans the photo itself. Whatever the services
    refuse (a body that does not fit, a photo or view the scanner or the encoder cannot take) is
    a 422 with the reason, and nothing is stored.
    """
    event = _camera_event()
    settings = app_settings(current_app).scan
    try:
        if request.mimetype == "multipart/form-data":
            ingested = _ingest_form(event, settings)
        else:
            if not request.is_json:
                raise InvalidScan("the body must be JSON (Content-Type: application/json)")
            ingested = ingest_observations(
                event=event,
                source=g.api_token.name,
                observations=read_observations(request.get_data()),
                settings=settings,
            )
    except ServiceError as exc:
        return _unprocessable(str(exc))
    return jsonify(ingested.to_json()), 200 if ingested.duplicate else 201


def _ingest_form(event, settings: ScanSettings):
    """Ingest a multipart scan: the photo, with the camera's observations or for the server to scan."""
    upload = request.files.get("photo")
    photo = upload.read() if upload is not None else None
    scan_field = request.form.get("scan")
    scan_id = request.form.get("scan_id") or None
    views = _posted_views()
    if scan_field is not None:
        observations = read_observations(scan_field, scan_id=scan_id)
        return ingest_observations(
            event=event,
            source=g.api_token.name,
            observations=observations,
            settings=settings,
            photo=photo,
            views=views,
        )
    if photo is None:
        raise InvalidScan("send the observations, a photo, or both")
    return ingest_photo(
        event=event,
        source=g.api_token.name,
        photo=photo,
        settings=settings,
        scan_id=scan_id,
        # A photo the server scans carries its capture time as a field of its own.
        captured_dt=parse_captured(request.form.get("captured_dt") or None),
        views=views,
    )


def _posted_views() -> dict[str, tuple[bytes, object]]:
    """Collect the sticky views of a multipart scan: ``view.<CODE>`` files, ``score.<CODE>`` JSON."""
    files = {
        name.removeprefix("view."): upload.read()
        for name, upload in request.files.items()
        if name.startswith("view.")
    }
    scores = {}
    for name, text in request.form.items():
        if name.startswith("score."):
            try:
                scores[name.removeprefix("score.")] = json.loads(text)
            except json.JSONDecodeError:
                raise InvalidView(f"{name} is not JSON") from None
    codes = set(files) | set(scores)
    return {code: (files.get(code, b""), scores.get(code)) for code in sorted(codes)}
