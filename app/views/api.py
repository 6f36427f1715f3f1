"""The JSON API: board state for other tools, and scan ingest for wall cameras."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, g, jsonify, request

from app.services import board as board_service
from app.services.organizers import token_for_secret
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


@bp.get("/board")
def board():
    event = current_event_or_404()
    return jsonify(board_service.board_json(event))


@bp.get("/manifest")
@token_required
def manifest():
    return jsonify(board_service.build_manifest(current_event_or_404()))
