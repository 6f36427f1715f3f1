"""Error pages: plain, friendly, and JSON for the API."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db

TITLES = {
    400: "That did not work",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    409: "Already done",
    413: "Too large",
    422: "Cannot use that",
    429: "Slow down",
}


def init_app(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        if request.path.startswith("/api/"):
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
