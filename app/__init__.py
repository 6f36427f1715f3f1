"""The Open Spaces board web app: the digital side of the sticky-note wall."""

from __future__ import annotations

import os
import secrets
from functools import partial
from pathlib import Path

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def instance_folder(configured: str | None = None) -> Path:
    """Return the instance folder: ``configured``, else ``OPENSPACES_INSTANCE``, else ./instance."""
    return Path(configured or os.environ.get("OPENSPACES_INSTANCE", "instance")).resolve()


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app for the instance folder named by ``OPENSPACES_INSTANCE`` (default ``./instance``)."""
    # Imported here, as the views below: the settings' parts name the services' types, which load
    # SQLAlchemy and the models, and `openspaces --help` imports this file.
    from app.settings import EXTENSION_KEY, Settings, config_defaults

    instance = instance_folder((test_config or {}).get("INSTANCE_PATH"))
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=True)
    instance.mkdir(parents=True, exist_ok=True)
    # Defaults and OPENSPACES_* variables, then the instance's config.py, then test_config.
    app.config.from_mapping(config_defaults(instance))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.update(test_config)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _instance_secret_key(instance)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    pool = os.environ.get("OPENSPACES_DB_POOL_SIZE")
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # gevent workers (`openspaces serve`) run hundreds of requests at once in one process and
        # set the size; waitress runs 32 threads by default (`--threads`), each of which may hold a
        # connection, plus the live pages' reader and title reading.
        size = int(pool) if pool else 10
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_size", size)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("max_overflow", 2 * size if pool else 30)
        # The connection used last goes out first: its server process is the likeliest to be
        # awake with warm caches (after a second of quiet, PostgreSQL's first answer here took
        # 5.9 ms and the next ones 0.05 to 0.2 ms), and the pool's extra connections go idle.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_use_lifo", True)
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg:"):
            from app.db import wait_in_place_first

            wait_in_place_first()

    # Importing app.db also tunes every SQLite connection as it opens (WAL, busy timeout).
    from app.db import upgrade_database
    from app.extensions import csrf, db, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    limiter.init_app(app)
    app.session_interface = _HttpsAwareSessions()

    # Imported here rather than at the top, as the views below: every `import app.…` runs this
    # file first (the CLI's start, `openspaces --help`), and these load SQLAlchemy, Alembic and
    # the models, more than a second.
    from app import effects
    from app.effects import Effect
    from app.live import cache, stamp, stream
    from app.services import pictures as picture_files
    from app.services import recognition, webhooks

    # Everything that happens once a transaction has ended, in this order: a service queues an
    # effect on its transaction (app.effects.after_commit, after_rollback); these carry it out.
    effects.init_app(
        app,
        # This process's live stamps, and the pages cached on them, show every commit at once.
        effects.on_every_commit(stamp.forget_versions),
        # A picture file goes once no committed row names it, and a file written by a transaction
        # that rolled back goes then: the database never names a missing file.
        effects.on_commit(Effect.DELETE_FILE, picture_files.delete_files),
        effects.on_rollback(Effect.DELETE_FILE, picture_files.delete_files),
        # The title on a new best picture is read by this app's recogniser, off the request path.
        effects.on_commit(Effect.NEW_PICTURE, partial(recognition.read_new_pictures, app)),
        # Board news written by the transaction goes out from this app's delivery worker.
        effects.on_commit(Effect.OUTBOX_MESSAGE, partial(webhooks.wake, app)),
    )
    # Read once; a storage URL without a bucket, or boto3 missing for one, fails here.
    app.extensions[EXTENSION_KEY] = settings = Settings.from_config(app.config)
    # The first request starts the delivery worker, which picks up what a stopped process left.
    app.before_request(partial(webhooks.note_request, app))
    if settings.server.behind_proxy:
        trust_proxy(app)
    # Ids in URLs are database keys: past 64 bits they cannot exist, so they are a 404, not a 500.
    from app.views.common import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter

    from app.views import (
        admin,
        api,
        auth,
        camera,
        errors,
        exports,
        news,
        notes,
        notifications,
        offline,
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
    app.register_blueprint(offline.bp)
    app.register_blueprint(news.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(notes.bp)
    pictures.init_app(app)
    cache.init_app(app)
    csrf.exempt(api.bp)
    # JSON only (app.views.notifications): another site cannot send that without CORS, which
    # the board does not grant.
    csrf.exempt(notifications.bp)
    errors.init_app(app)
    stream.init_app(app)

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
        if request.is_secure:
            # Served over HTTPS (directly or behind a trusted proxy): browsers should stay on it.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    from app import templating

    templating.init_app(app)

    if settings.server.auto_migrate:
        with app.app_context():
            upgrade_database()
    return app


def trust_proxy(app: Flask) -> None:
    """Trust one reverse proxy's X-Forwarded-For/-Proto/-Host/-Prefix headers.

    Only for a server that the proxy alone can reach: the headers name the client's address (which
    the rate limits count) and whether it used HTTPS (which makes cookies Secure).
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    # Here, as in create_app: the settings load the models.
    from app.settings import configure

    # The settings were read once; this one changes after: app.config and the settings say so.
    configure(app, BEHIND_PROXY=True)
    if not isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)


class _HttpsAwareSessions(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


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
