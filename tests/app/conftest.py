"""Fixtures for the web app: flaskr-style ``app``, ``client`` and ``runner``, plus creators."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from app_helpers import (
    EVENT_TOML,
    LiveServer,
    WebhookReceiver,
    claim_path,
    csrf_token,
    log_in,
    printed_key,
)
from app_wall import WALL_CODES, WALL_TOML
from click.testing import CliRunner
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.models import StickyKind
from app.services.events import load_event_file
from app.services.manifest import build_manifest
from app.services.organizers import create_token, set_password
from app.services.stickies import PersonFields, SessionFields, allocate_stickies, claim_sticky
from benchmarks.demo_wall import CHROMIUM_ARGS

_TEMPLATE_DB: dict[str, Path] = {}


@pytest.fixture
def event_file(tmp_path) -> Path:
    path = tmp_path / "event.toml"
    path.write_text(EVENT_TOML, encoding="utf-8")
    return path


def _sqlite_template(tmp_path_factory) -> Path:
    """Return a SQLite database migrated once per test run, for each test to copy."""
    if "db" not in _TEMPLATE_DB:
        template_dir = tmp_path_factory.mktemp("template-instance")
        template = create_app({"INSTANCE_PATH": str(template_dir), "SECRET_KEY": "test"})
        with template.app_context():
            # Closing the last connection folds SQLite's write-ahead log into the file we copy.
            db.engine.dispose()
        _TEMPLATE_DB["db"] = template_dir / "openspaces.sqlite"
    return _TEMPLATE_DB["db"]


@pytest.fixture
def app(tmp_path, tmp_path_factory):
    """An app on a fresh SQLite database, migrated once per test run and copied for each test."""
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(_sqlite_template(tmp_path_factory), instance / "openspaces.sqlite")
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "TESTING": True,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            # Recognition costs a second of CPU per picture: only its own tests turn it on.
            "OCR_ENGINE": None,
            # Webhooks are delivered by hand (app.services.webhooks.deliver_due), but in one test.
            "WEBHOOK_DELIVERY": False,
        }
    )
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    """Invoke the ``openspaces`` CLI against the test app's instance folder."""
    from app.cli import main

    class Runner:
        def invoke(self, *args, input=None):
            # The CLI opens its own connection: end this test's transaction so SQLite is not locked.
            db.session.remove()
            return CliRunner().invoke(
                main, ["--instance", app.instance_path, *args], input=input, catch_exceptions=False
            )

    return Runner()


@pytest.fixture
def event(app, event_file):
    report = load_event_file(event_file)
    db.session.commit()
    return report.event


@pytest.fixture
def create_stickies(event):
    def create(count=1, kind=StickyKind.SESSION, template="note-76"):
        batch = allocate_stickies(
            event=event, count=count, kind=kind, template=template, paper="a4"
        )
        db.session.commit()
        return batch.stickies

    return create


@pytest.fixture
def create_session(create_stickies):
    def create(title="Testing without mocks", host="Priya", tags="python, testing", **extra):
        (sticky,) = create_stickies(1)
        secret = claim_sticky(
            sticky=sticky,
            fields=SessionFields(title=title, host=host, tags=tags, **extra),
            key=printed_key(sticky),
        )
        db.session.commit()
        sticky.secret = secret
        return sticky

    return create


@pytest.fixture
def create_person(create_stickies):
    def create(name="Mei", interests="rust, python", contact="mei@example.org", public=False):
        (sticky,) = create_stickies(1, kind=StickyKind.PERSON)
        secret = claim_sticky(
            sticky=sticky,
            fields=PersonFields(
                name=name, interests=interests, contact=contact, contact_public=public
            ),
            key=printed_key(sticky),
        )
        db.session.commit()
        sticky.secret = secret
        return sticky

    return create


@pytest.fixture
def organizer_client(app, client):
    set_password(username="admin", password="correct horse")
    db.session.commit()
    response = client.post("/auth/login", data={"username": "admin", "password": "correct horse"})
    assert response.status_code == 302
    return client


@pytest.fixture
def token(app, event):
    """Create the camera token ``wall-cam`` for the event; return its secret."""
    _, secret = create_token(name="wall-cam")
    db.session.commit()
    return secret


@pytest.fixture
def post(client, token):
    """POST a JSON body to ``/api/scans`` with the camera token; return the response."""

    def send(body, token=token):
        return client.post("/api/scans", json=body, headers={"Authorization": f"Bearer {token}"})

    return send


@pytest.fixture
def scan(post):
    """Post a camera scan that sees these stickies in these cells, {sticky: (room, slot)}, and
    none other; return its answer's JSON."""
    count = [0]

    def send(cells):
        count[0] += 1
        stickies = [
            {"code": s.code, "room": room, "slot": slot, "via": "marker"}
            for s, (room, slot) in cells.items()
        ]
        body = {"scan_id": f"cam-{count[0]}", "board_found": True, "stickies": stickies}
        response = post(body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return send


@pytest.fixture
def receiver():
    """A local HTTP server that keeps every webhook (or push) it gets (app_helpers)."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def wall_event(app, tmp_path):
    """Load a 3 x 3 event with three session stickies and one person sticky; return its manifest.

    The manifest carries the camera token of ``wall-cam`` under ``"token"``.
    """
    path = tmp_path / "wall.toml"
    path.write_text(WALL_TOML, encoding="utf-8")
    event = load_event_file(path).event
    sessions = allocate_stickies(
        event=event, count=3, kind=StickyKind.SESSION, template="note-76", paper="a4"
    )
    person = allocate_stickies(
        event=event, count=1, kind=StickyKind.PERSON, template="note-76", paper="a4"
    )
    # Fixed codes make the same wall in every test, so its photos are drawn once a run.
    for sticky, code in zip([*sessions.stickies, *person.stickies], WALL_CODES, strict=True):
        sticky.code = code
    _, secret = create_token(name="wall-cam")
    db.session.commit()
    return {**build_manifest(event), "token": secret}


@pytest.fixture
def live(app):
    """The app served on a loopback port, for a test to stop and start again; stopped after."""
    server = LiveServer(app)
    yield server
    if server.server is not None:
        server.stop()


@pytest.fixture
def server(app, wall_event):
    live = LiveServer(app)
    yield live
    live.stop()


POSTGRES_URL = os.environ.get("OPENSPACES_TEST_POSTGRES_URL")


class WaitressServer:
    """The app served by waitress on a loopback port, with CSRF on, as phones and cameras meet it."""

    def __init__(self, app, url: str, backend: str) -> None:
        self.app = app
        self.url = url
        self.backend = backend

    def session(self):
        """Return a new HTTP client with its own cookie jar: one phone or one browser."""
        import requests

        http = requests.Session()
        http.base_url = self.url
        return http

    def get(self, http, path: str, **kwargs):
        return http.get(self.url + path, timeout=30, allow_redirects=False, **kwargs)

    def post(self, http, path: str, **kwargs):
        return http.post(self.url + path, timeout=30, allow_redirects=False, **kwargs)

    def form_token(self, http, path: str) -> str:
        """Open a page as a browser would and return its form's CSRF token."""
        response = self.get(http, path)
        assert response.status_code == 200, (path, response.status_code)
        return csrf_token(response.text)

    def stickies(self, count: int = 1, kind: StickyKind = StickyKind.SESSION) -> list[str]:
        """Print ``count`` stickies for the event and return their codes."""
        from app.services.events import get_current_event

        with self.app.app_context():
            batch = allocate_stickies(
                event=get_current_event(), count=count, kind=kind, template="note-76", paper="a4"
            )
            codes = [sticky.code for sticky in batch.stickies]
            db.session.commit()
        return codes

    def session_sticky(self, *, title: str = "Testing without mocks", host: str = "Priya") -> str:
        """Print and claim one session sticky; return its code."""
        (code,) = self.stickies(1)
        with self.app.app_context():
            from app.services.stickies import get_sticky

            sticky = get_sticky(code)
            claim_sticky(
                sticky=sticky, fields=SessionFields(title=title, host=host), key=printed_key(sticky)
            )
            db.session.commit()
        return code

    def claim_path(self, code: str) -> str:
        """Return the path a phone opens from the sticky's printed QR code, key included."""
        from app.services.stickies import get_sticky

        with self.app.app_context():
            return claim_path(get_sticky(code))


def _postgres_database(tmp_name: str, *, template: str | None = None):
    """Create a PostgreSQL database, empty or a copy of ``template``; return its URL and a dropper."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"openspaces_live_{tmp_name}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


_PG_TEMPLATE: dict[str, str] = {}


def _migrated_postgres_template(folder: Path) -> str:
    """Return a database migrated once per test run, which each live server's database copies."""
    import atexit

    if "name" not in _PG_TEMPLATE:
        tag = f"template_{secrets.token_hex(4)}"
        url, drop = _postgres_database(tag)
        template = create_app(
            {"INSTANCE_PATH": str(folder), "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url}
        )
        with template.app_context():
            # A database is copied only while nobody is connected to it.
            db.engine.dispose()
        atexit.register(drop)
        _PG_TEMPLATE["name"] = f"openspaces_live_{tag}"
    return _PG_TEMPLATE["name"]


def _serve_until(server, stop: threading.Event) -> None:
    """Run waitress's loop until ``stop`` is set, then close its sockets from this same thread."""
    from waitress import wasyncore

    while not stop.is_set():
        wasyncore.loop(timeout=0.05, map=server._map, count=1)
    logging.getLogger("waitress").setLevel(logging.CRITICAL)
    for channel in list(server._map.values()):
        channel.handle_close()
    server.task_dispatcher.shutdown()


@pytest.fixture(params=["sqlite", "postgresql"])
def live_server(request, tmp_path, tmp_path_factory, event_file):
    """The app on waitress in a thread on a free loopback port, with the test event loaded.

    It runs on SQLite in a temporary instance folder, and again on PostgreSQL when
    ``OPENSPACES_TEST_POSTGRES_URL`` names a server. CSRF protection and rate limits are on, as in
    production.
    """
    from waitress import create_server

    from app.cli import WAITRESS_OPTIONS

    backend = request.param
    drop = None
    instance = tmp_path / "instance"
    instance.mkdir()
    config = {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "live-test",
        "OCR_ENGINE": None,
        "WEBHOOK_DELIVERY": False,
    }
    # Both databases start as copies of one migrated per run, as the ``app`` fixture's do.
    if backend == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("OPENSPACES_TEST_POSTGRES_URL is not set")
        template = _migrated_postgres_template(tmp_path_factory.mktemp("pg-template"))
        config["SQLALCHEMY_DATABASE_URI"], drop = _postgres_database(
            secrets.token_hex(4), template=template
        )
    else:
        shutil.copy(_sqlite_template(tmp_path_factory), instance / "openspaces.sqlite")
    app = create_app(config)
    with app.app_context():
        load_event_file(event_file)
        db.session.commit()
        db.session.remove()
    server = create_server(app, host="127.0.0.1", port=0, threads=24, **WAITRESS_OPTIONS)
    stop = threading.Event()
    thread = threading.Thread(target=_serve_until, args=(server, stop), daemon=True)
    thread.start()
    try:
        yield WaitressServer(app, f"http://127.0.0.1:{server.effective_port}", backend)
    finally:
        stop.set()
        thread.join(timeout=10)
        _stop_board_watches(app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if drop is not None:
            drop()


def _stop_board_watches(app) -> None:
    """Stop the live pages' background readers before their database goes away."""
    for watch in app.extensions.get("openspaces.board_watches", {}).values():
        # A reader stops once nobody has wanted it for a while: make that while long past.
        watch._wanted = float("-inf")
        if watch._thread is not None:
            watch._thread.join(timeout=5)


# Browser tests: one demo app served on loopback and one Chromium for the whole run.

VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1440, "height": 900},
    "kiosk": {"width": 1920, "height": 1080},
}


class Clock:
    """The demo app's clock: the wall clock until a test sets ``moment``."""

    def __init__(self):
        self.moment: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.moment or dt.datetime.now(dt.UTC)


@pytest.fixture(scope="session")
def demo_clock():
    return Clock()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory, demo_clock):
    """Serve the demo event from a fresh instance on a free loopback port; yield (app, base URL)."""
    import threading

    from app.services.demo import seed_demo

    instance = tmp_path_factory.mktemp("demo-instance")
    demo_app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "test",
            "CLOCK": demo_clock,
            "OCR_ENGINE": None,
        }
    )
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    with demo_app.app_context():
        seed_demo(base_url=base)
        set_password(username="admin", password="correct horse")
        _scan_a_blank_sticky_onto_the_demo()
        db.session.commit()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield demo_app, base
    server.shutdown()


def _scan_a_blank_sticky_onto_the_demo() -> None:
    """Record one wall-camera scan that puts a blank sticky into the last slot's free cell."""
    from sqlalchemy import select

    from app.models import Sticky
    from app.services.events import get_current_event
    from app.services.observations import parse_observations
    from app.services.scans import apply_scan

    event = get_current_event()
    blank = db.session.scalar(
        select(Sticky).filter_by(event_id=event.id, kind="session", claimed_dt=None).limit(1)
    )
    body = {
        "scan_id": "demo-wall-1",
        "board_found": True,
        "stickies": [
            {
                "code": blank.code,
                "room": event.rooms[0].name,
                "slot": event.slots[-1].key,
                "x": 1.0,
                "y": 1.0,
                "via": "marker",
            }
        ],
        "hidden_cells": [],
        "warnings": [],
    }
    apply_scan(
        event=event, observations=parse_observations(body), source="wall-cam", remove_after=3
    )


@pytest.fixture(scope="session")
def playwright():
    """Start Playwright once: its sync API allows one instance per process."""
    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    chromium = playwright.chromium.launch(
        executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def organizer_state(browser, demo_server):
    """Log in once as the demo's organizer; return the browser storage state that carries it."""
    _, base = demo_server
    context = browser.new_context()
    page = context.new_page()
    log_in(page, base)
    page.wait_for_url(f"{base}/**")
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def open_page(browser, demo_server, organizer_state, demo_clock):
    """Open a demo page at a named viewport size, as a visitor or as the organizer."""
    _, base = demo_server
    contexts = []

    def open_(path: str, size: str = "desktop", *, organizer: bool = False):
        context = browser.new_context(
            viewport=VIEWPORTS[size], storage_state=organizer_state if organizer else None
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(base + path)
        return page

    yield open_
    for context in contexts:
        context.close()
    demo_clock.moment = None


@pytest.fixture
def make_view():
    """Return a function that makes a sticky view: a 152 x 152 picture with its score."""
    import numpy as np

    from app.services.pictures import View
    from scanner import ViewScore

    def make(code, *, px_per_mm=2.0, sharpness=0.6, glare=0.0, coverage=1.0, seed=0, size=152):
        rng = np.random.default_rng(seed)
        image = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        score = ViewScore(px_per_mm=px_per_mm, sharpness=sharpness, glare=glare, coverage=coverage)
        return View(code=code, image=image, score=score)

    return make


@pytest.fixture
def count_queries(app):
    """Count the SQL statements that the app's engine runs inside a ``with count_queries() as n``."""
    import contextlib

    from sqlalchemy import event as sa_event

    @contextlib.contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        sa_event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", record)

    return counting


class WorkersServer:
    """``openspaces serve --workers N`` in a subprocess on a PostgreSQL database of its own."""

    def __init__(self, *, instance: Path, database_url: str, workers: int, limits_url: str) -> None:
        import sys

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        env = {**os.environ, "OPENSPACES_INSTANCE": str(instance)}
        env["OPENSPACES_DATABASE_URL"] = database_url
        # Several workers count log-ins and interest marks in one store, as `serve` requires.
        env["OPENSPACES_RATELIMIT_STORAGE_URI"] = limits_url
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--server", "gunicorn"]
            + ["--workers", str(workers), "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def worker_of(self, client_port: int) -> int | None:
        """Return the pid of the worker that holds the connection from ``client_port``."""
        import psutil

        for pid in self.worker_pids():
            for conn in psutil.Process(pid).net_connections(kind="tcp"):
                if conn.raddr and conn.raddr.port == client_port:
                    return pid
        return None

    def stop(self) -> str:
        import signal

        self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        output, _ = self.process.communicate(timeout=20)
        return output


@pytest.fixture
def redis_url():
    """Start a Redis server of the test's own on a free loopback port; yield its URL."""
    pytest.importorskip("redis", reason="the redis package is not installed")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    import redis

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def workers_server(tmp_path, redis_url):
    """Start a two-worker server on a fresh PostgreSQL database and Redis, with an event and a token.

    Yields the server; ``server.token`` is a camera token and ``server.codes`` three session codes.
    """
    if not POSTGRES_URL:
        pytest.skip("OPENSPACES_TEST_POSTGRES_URL is not set")
    pytest.importorskip("gunicorn")
    pytest.importorskip("gevent")
    url, drop = _postgres_database(secrets.token_hex(4))
    instance = tmp_path / "instance"
    setup = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url})
    with setup.app_context():
        path = tmp_path / "wall.toml"
        path.write_text(WALL_TOML, encoding="utf-8")
        event = load_event_file(path).event
        batch = allocate_stickies(
            event=event, count=3, kind=StickyKind.SESSION, template="note-76", paper="a4"
        )
        _, token = create_token(name="wall-cam")
        db.session.commit()
        codes = [s.code for s in batch.stickies]
        manifest = build_manifest(event)
        db.session.remove()
        db.engine.dispose()
    server = WorkersServer(instance=instance, database_url=url, workers=2, limits_url=redis_url)
    server.token, server.codes, server.manifest = token, codes, manifest
    try:
        yield server
    finally:
        server.stop()
        drop()


@pytest.fixture
def s3_bucket(monkeypatch):
    """An S3 bucket ``pictures`` on moto's server on loopback; yields its endpoint URL."""
    pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    import boto3

    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="pictures")
    try:
        yield endpoint
    finally:
        server.stop()
