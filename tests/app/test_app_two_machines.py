"""Two app machines: separate instance folders, one PostgreSQL, one S3 bucket, one Redis.

Each is an ``openspaces serve`` process of its own. What one stores, the other serves: a scan
posted to one is a picture, a photo, a thumbnail and a time-lapse frame on the other; a log-in
made on one is valid on the other; a change made on one reaches a live page on the other.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import requests
import test_app_workers as workers
from app_helpers import csrf_token
from app_wall import WALL_CODES, WALL_TOML, layouts, wall_for
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.models import StickyKind
from app.services.events import load_event_file
from app.services.manifest import build_manifest
from app.services.organizers import create_token, set_password
from app.services.stickies import allocate_stickies

pytestmark = pytest.mark.slow

# Moto keeps one bucket per test process, whichever server: a prefix of this run's own.
PREFIX = f"machines-{secrets.token_hex(4)}"
BUCKET_URL = f"s3://pictures/{PREFIX}"
POSTGRES_URL = os.environ.get("OPENSPACES_TEST_POSTGRES_URL")


class Machine:
    """``openspaces serve`` (gunicorn, one gevent worker) with an instance folder of its own."""

    def __init__(self, *, instance, database_url: str, limits_url: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        env = {**os.environ, "OPENSPACES_INSTANCE": str(instance)}
        env["OPENSPACES_DATABASE_URL"] = database_url
        env["OPENSPACES_RATELIMIT_STORAGE_URI"] = limits_url
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--server", "gunicorn"]
            + ["--workers", "1", "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        output, _ = self.process.communicate(timeout=20)
        return output


def new_database() -> tuple[str, callable]:
    """Create an empty PostgreSQL database; return its URL and a function that drops it."""
    name = f"openspaces_machines_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), drop


def set_up_event(tmp_path, database_url: str) -> dict:
    """Load the wall event with its four stickies, a camera token and the organizer ``admin``."""
    setup = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "setup"),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "STORAGE_URL": BUCKET_URL,
        }
    )
    with setup.app_context():
        path = tmp_path / "wall.toml"
        path.write_text(WALL_TOML, encoding="utf-8")
        event = load_event_file(path).event
        stickies = [
            *allocate_stickies(
                event=event, count=3, kind=StickyKind.SESSION, template="note-76", paper="a4"
            ).stickies,
            *allocate_stickies(
                event=event, count=1, kind=StickyKind.PERSON, template="note-76", paper="a4"
            ).stickies,
        ]
        for sticky, code in zip(stickies, WALL_CODES, strict=True):
            sticky.code = code
        _, token = create_token(name="wall-cam")
        set_password(username="admin", password="correct horse")
        db.session.commit()
        manifest = {**build_manifest(event), "token": token}
        db.session.remove()
        db.engine.dispose()
    return manifest


def wait_until_up(server: Machine, seconds: float = 60.0) -> str:
    """Wait for the server's board; return its version (the grid's ETag)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            response = requests.get(f"{server.url}/board/grid", timeout=5)
            if response.status_code == 200:
                return response.headers["ETag"].strip('"')
        except requests.RequestException:  # not listening yet, or still starting up
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not start:\n" + server.stop())


@pytest.fixture
def machines(tmp_path, monkeypatch, s3_bucket, redis_url):
    """Start machines A and B on one fresh PostgreSQL database, moto's bucket and Redis."""
    if not POSTGRES_URL:
        pytest.skip("OPENSPACES_TEST_POSTGRES_URL is not set")
    pytest.importorskip("gunicorn")
    pytest.importorskip("gevent")
    # What the operator sets on every machine alike: the bucket, boto3's endpoint (credentials
    # come from the s3_bucket fixture) and one secret key for the session cookies.
    monkeypatch.setenv("OPENSPACES_STORAGE_URL", BUCKET_URL)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_bucket)
    monkeypatch.setenv("OPENSPACES_SECRET_KEY", secrets.token_hex(16))
    url, drop = new_database()
    started = []
    try:
        manifest = set_up_event(tmp_path, url)
        for name in ("a", "b"):
            started.append(
                Machine(instance=tmp_path / name, database_url=url, limits_url=redis_url)
            )
        versions = [wait_until_up(server) for server in started]
        yield (*started, manifest, versions[1])
    finally:
        for server in started:
            server.stop()
        drop()


def post_photo(server: Machine, manifest: dict, photo) -> dict:
    ok, data = cv2.imencode(".jpg", photo)
    assert ok
    response = requests.post(
        f"{server.url}/api/scans",
        files={"photo": ("wall.jpg", data.tobytes(), "image/jpeg")},
        headers={"Authorization": f"Bearer {manifest['token']}"},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    return response.json()


def log_in(server: Machine) -> requests.Session:
    http = requests.Session()
    form = http.get(f"{server.url}/auth/login", timeout=10)
    response = http.post(
        f"{server.url}/auth/login",
        data={
            "username": "admin",
            "password": "correct horse",
            "csrf_token": csrf_token(form.text),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    return http


def test_two_machines_serve_what_the_other_stored(machines, tmp_path):
    a, b, manifest, version_b = machines
    # A live page on B, waiting for the board to change.
    stream = workers.Stream(b.port, version_b)
    try:
        layout = layouts(manifest)[0]
        writing = {code: f"Talk {i}" for i, code in enumerate(layout)}
        answer = post_photo(a, manifest, wall_for(manifest).photo(layout, handwriting=writing))
        sent = time.monotonic()
        assert (answer["applied"], answer["pictures"]) == (True, sorted(WALL_CODES))
        stream.thread.join(timeout=10)
        assert stream.changed_at is not None and stream.changed_at - sent < 10
    finally:
        stream.close()
    scan = answer["scan"]

    # The board on B shows what the scan on A placed.
    grid = requests.get(f"{b.url}/board/grid", timeout=10)
    assert grid.headers["ETag"].strip('"') != version_b

    # A sticky's picture, written by A into the bucket, is served by B as A serves it.
    code = WALL_CODES[0]
    page = requests.get(f"{b.url}/s/{code}", timeout=10)
    assert f"/s/{code}/picture.jpg?v=" in page.text
    versioned = page.text.split(f"/s/{code}/picture.jpg?v=", 1)[1].split('"', 1)[0]
    from_a = requests.get(f"{a.url}/s/{code}/picture.jpg?v={versioned}", timeout=10)
    from_b = requests.get(f"{b.url}/s/{code}/picture.jpg?v={versioned}", timeout=10)
    assert (from_b.status_code, from_b.headers["Content-Type"]) == (200, "image/jpeg")
    assert from_b.content == from_a.content
    assert from_b.content[:3] == b"\xff\xd8\xff"
    assert int(from_b.headers["Content-Length"]) == len(from_b.content)
    assert from_b.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # Asked again with its ETag, B answers 304 without the picture.
    again = requests.get(
        f"{b.url}/s/{code}/picture.jpg?v={versioned}",
        headers={"If-None-Match": from_b.headers["ETag"]},
        timeout=10,
    )
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["ETag"] == from_b.headers["ETag"]
    unversioned = requests.get(f"{b.url}/s/{code}/picture.jpg", timeout=10)
    assert unversioned.headers["Cache-Control"] == "no-cache, max-age=0"

    # An organizer who logged in on A is logged in on B: the scan's photo, its thumbnail and its
    # time-lapse frame, written by A, come from B.
    organizer = log_in(a)
    photo = organizer.get(f"{b.url}/admin/scans/{scan}/image", timeout=30)
    assert (photo.status_code, photo.headers["Content-Type"]) == (200, "image/jpeg")
    shown = cv2.imdecode(np.frombuffer(photo.content, np.uint8), cv2.IMREAD_COLOR)
    assert shown.shape[:2] == wall_for(manifest).photo(layout, handwriting=writing).shape[:2]
    thumb = organizer.get(f"{b.url}/admin/cameras/scans/{scan}/thumb.jpg", timeout=30)
    assert (thumb.status_code, thumb.headers["Cache-Control"]) == (200, "public, max-age=3600")
    timelapse = organizer.get(f"{b.url}/admin/timelapse", timeout=30)
    assert f"/admin/scans/{scan}/public.jpg" in timelapse.text
    frame = organizer.get(f"{a.url}/admin/scans/{scan}/public.jpg", timeout=60)
    assert frame.status_code == 200
    assert organizer.get(f"{b.url}/admin/scans/{scan}/public.jpg", timeout=60).content == (
        frame.content
    )
    # The camera's status on B outlines the board A found in the photo.
    status = requests.get(
        f"{b.url}/camera/status",
        headers={"Authorization": f"Bearer {manifest['token']}"},
        timeout=10,
    ).json()
    assert status["last"]["scan"] == scan and len(status["last"]["outline"]) == 4

    # A photo the organizer previews on A shows on B, and applies there.
    ok, data = cv2.imencode(".jpg", wall_for(manifest).photo(layouts(manifest)[1]))
    form = organizer.get(f"{a.url}/scan", timeout=10)
    preview = organizer.post(
        f"{a.url}/scan",
        data={"csrf_token": csrf_token(form.text)},
        files={"photo": ("wall.jpg", data.tobytes(), "image/jpeg")},
        timeout=120,
    )
    assert preview.status_code == 200, preview.text
    pending = re.search(r"/scan/pending/([0-9a-f]{32})\.jpg", preview.text).group(1)
    shown = organizer.get(f"{b.url}/scan/pending/{pending}.jpg", timeout=10)
    assert (shown.status_code, shown.content[:3]) == (200, b"\xff\xd8\xff")
    applied = organizer.post(
        f"{b.url}/scan/{pending}/apply",
        data={"csrf_token": csrf_token(preview.text)},
        timeout=60,
    )
    assert applied.status_code == 200 and "Scan applied: 1 change." in applied.text
    assert organizer.get(f"{a.url}/scan/pending/{pending}.jpg", timeout=10).status_code == 404

    # Nothing of it lies in either machine's instance folder: all of it is in the bucket.
    for name in ("a", "b"):
        kept = [p.name for p in (tmp_path / name).rglob("*.jpg")]
        assert kept == []
    import boto3

    listed = boto3.client("s3").list_objects_v2(Bucket="pictures", Prefix=f"{PREFIX}/")
    keys = sorted(o["Key"] for o in listed["Contents"])
    assert sum(k.startswith(f"{PREFIX}/pictures/") for k in keys) == len(WALL_CODES)
    assert f"{PREFIX}/scans/{scan}-thumb.jpg" in keys
    assert f"{PREFIX}/scans/{scan}-outline.json" in keys
