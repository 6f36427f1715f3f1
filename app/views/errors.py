"""Error pages: plain, friendly, and JSON for the API."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.scanning import ScannerBusy

TITLES = {
    400: "That did not work",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    409: "Already done",
    413: "Too large",
    422: "Cannot use that",
    429: "Slow down",
    503: "Busy",
}


def init_app(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        if request.path.startswith(("/api/", "/push/")):
            return jsonify(error=exc.description, status=exc.code), exc.code
        return render_template(
            "error.html",
            code=exc.code,
            title=TITLES.get(exc.code, exc.name),
            message=exc.description,
        ), exc.code

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        db.session.rollback()
        message = (
            "The form was sent without its security token or the token expired. "
            "Go back, reload the page and send it again."
        )
        return render_template("error.html", code=400, title=TITLES[400], message=message), 400

    @app.errorhandler(ScannerBusy)
    def scanner_busy(exc: ScannerBusy):
        # Every photo upload (API, phone camera, photo page) ends here when the scan queue is full.
        db.session.rollback()
        headers = {"Retry-After": str(exc.retry_after)}
        message = f"{str(exc).capitalize()}."
        if request.path.startswith("/api/"):
            return jsonify(error=message, status=503), 503, headers
        return (
            render_template("error.html", code=503, title=TITLES[503], message=message),
            503,
            headers,
        )
