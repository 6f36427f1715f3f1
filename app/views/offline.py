"""The service worker that keeps public pages for phones without signal (app/static/sw.js).

It is served from the site's root, not from /static/, because a service worker's scope is the
folder it is served from: at /sw.js it covers every page.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, request

from app.views.common import ORGANIZER_ENVIRON

bp = Blueprint("offline", __name__)

WORKER = Path(__file__).resolve().parent.parent / "static" / "sw.js"


@bp.get("/sw.js")
def service_worker():
    """Serve the service worker; browsers check it for a new version on every page load."""
    response = Response(WORKER.read_bytes(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.after_app_request
def private_for_organizers(response):
    """Mark what an organizer is shown ``no-store``: the service worker keeps no copy of it.

    A public page rendered for an organizer shows hidden stickies and organizer links; a phone
    that someone else uses later must not show it offline.
    """
    if (
        "Cache-Control" not in response.headers
        and response.mimetype == "text/html"
        and _organizer_request()
    ):
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _organizer_request() -> bool:
    # Only a page that asked who is looking can differ for an organizer; asking here would read
    # the session of every answer (and add Vary: Cookie to the shared ones).
    return request.environ.get(ORGANIZER_ENVIRON) is not None
