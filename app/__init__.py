"""The Open Spaces board web app: the digital side of the sticky-note wall."""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

from flask import Flask

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app for the instance folder named by ``OPENSPACES_INSTANCE`` (default ``./instance``)."""
    instance = Path(
        (test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("OPENSPACES_INSTANCE", "instance")
    ).resolve()
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=True)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "OPENSPACES_DATABASE_URL", f"sqlite:///{instance / 'openspaces.sqlite'}"
        ),
        UPLOAD_DIR=str(instance / "uploads"),
        # Each sticky's best picture; all pictures of one event together stay under the cap.
        PICTURE_DIR=str(instance / "pictures"),
        PICTURES_MAX_BYTES=500 * 1024 * 1024,
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        # Scans in a row that must see a sticky's cell empty before the sticky comes off the board.
        REMOVE_AFTER_SCANS=3,
        AUTO_MIGRATE=True,
        # Live pages hold one server thread each while they stream; past this many they poll.
        LIVE_STREAMS=24,
        LIVE_STREAM_SECONDS=55,
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=60 * 60 * 24 * 30,
        # What the pages take as "now": tests set a function of their own to move the clock.
        CLOCK=None,
    )
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.update(test_config)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _instance_secret_key(instance)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})

    from app.extensions import csrf, db, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)

    from app.views import (
        admin,
        api,
        auth,
        camera,
        errors,
        exports,
        pictures,
        printing,
        public,
        scans,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(scans.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(printing.bp)
    app.register_blueprint(camera.bp)
    app.register_blueprint(pictures.bp)
    pictures.init_app(app)
    csrf.exempt(api.bp)
    errors.init_app(app)
    app.extensions["openspaces.live_streams"] = threading.BoundedSemaphore(
        app.config["LIVE_STREAMS"]
    )

    @app.after_request
    def security_headers(response):
        # Every asset is our own: scripts and styles come from this server only.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Private edit links carry their key in the URL: never send it to another site.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    from app import templating

    templating.init_app(app)

    if app.config["AUTO_MIGRATE"]:
        from app.db import upgrade_database

        with app.app_context():
            upgrade_database()
    return app


def _instance_secret_key(instance: Path) -> str:
    """Read the instance's secret key, creating it with mode 600 the first time."""
    env_key = os.environ.get("OPENSPACES_SECRET_KEY")
    if env_key:
        return env_key
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
