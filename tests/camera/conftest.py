"""Fixtures for the camera: the board it posts to, served by waitress, and a video of its wall.

The event, its stickies and the camera token are made once per test run and copied for each test,
so every test sees the same sticky codes and the video of the wall is rendered only once.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import waitress
from camera_wall import WALL_TOML, layouts, wall_for, write_video
from sqlalchemy import select
from waitress import wasyncore

from app import create_app
from app.extensions import db
from app.models import Scan, StickyKind
from app.services.events import load_event_file
from app.services.manifest import build_manifest
from app.services.organizers import create_token
from app.services.stickies import allocate_stickies
from benchmarks.demo_wall import board_at
from camera import CameraLoop, FrameSource, ScanClient, Spool


@dataclass(frozen=True)
class WallInstance:
    database: Path
    manifest: dict


@pytest.fixture(scope="session")
def wall_instance(tmp_path_factory) -> WallInstance:
    """Load the 3 x 3 event with three session stickies, one person sticky and a camera token."""
    folder = tmp_path_factory.mktemp("wall-instance")
    (folder / "wall.toml").write_text(WALL_TOML, encoding="utf-8")
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "test"})
    with app.app_context():
        event = load_event_file(folder / "wall.toml").event
        for kind, count in ((StickyKind.SESSION, 3), (StickyKind.PERSON, 1)):
            allocate_stickies(event=event, count=count, kind=kind, template="note-76", paper="a4")
        _, secret = create_token(name="wall-cam")
        db.session.commit()
        manifest = {**build_manifest(event), "token": secret}
        db.session.remove()
        db.engine.dispose()
    return WallInstance(folder / "openspaces.sqlite", manifest)


@pytest.fixture
def app(tmp_path, wall_instance):
    """The board with the wall event loaded, on a copy of the session's database."""
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(wall_instance.database, instance / "openspaces.sqlite")
    app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True, "SECRET_KEY": "test"})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def wall_event(app, wall_instance) -> dict:
    """The wall event's scanner manifest, with the camera token under ``"token"``."""
    return wall_instance.manifest


@pytest.fixture(scope="session")
def video(tmp_path_factory, wall_instance) -> Path:
    """Fifty seconds of video of the wall: five layouts of ten seconds each."""
    manifest = wall_instance.manifest
    wall = wall_for(manifest)
    photos = [wall.photo(layout, seed=i) for i, layout in enumerate(layouts(manifest))]
    return write_video(tmp_path_factory.mktemp("video") / "wall.avi", photos, seconds_each=10.0)


class LiveServer:
    """Serve the app with waitress on 127.0.0.1; stop it and start it again on the same port."""

    def __init__(self, app) -> None:
        self.app = app
        self.port = 0
        self.server = None
        self.start()

    def start(self) -> None:
        self.server = waitress.create_server(self.app, host="127.0.0.1", port=self.port, threads=4)
        self.port = self.server.effective_port
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(self.server,), daemon=True)
        self.thread.start()

    def _serve(self, server) -> None:
        # waitress's own run() loops until its channels are closed; polling in short rounds lets
        # stop() end the loop first and close the channels after, from one thread at a time.
        while not self.stopping.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)

    def stop(self) -> None:
        server, self.server = self.server, None
        self.stopping.set()
        self.thread.join(10)
        for channel in list(server._map.values()):
            channel.close()
        server.task_dispatcher.shutdown()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def board(self) -> dict:
        """Return the board as ``GET /api/board`` shows it: code -> (room, slot, status)."""
        return board_at(self.url)


@pytest.fixture
def live_server(app, wall_event):
    live = LiveServer(app)
    yield live
    if live.server is not None:
        live.stop()


class FailingProxy:
    """Forward requests to the board, but answer 500 for the posted scans that `fails` picks.

    `posts` counts the scan ids posted through it, failed or not.
    """

    def __init__(self, target: LiveServer) -> None:
        self.fails = lambda body: False
        self.posts: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self._forward(None)

            def do_POST(self):
                self._forward(self.rfile.read(int(self.headers["Content-Length"])))

            def _forward(self, data):
                if data is not None:
                    body = json.loads(data)
                    proxy.posts[body["scan_id"]] += 1
                    if proxy.fails(body):
                        return self._answer(500, b'{"error": "internal server error"}')
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                request = urllib.request.Request(
                    target.url + self.path, data=data, method=self.command, headers=headers
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        self._answer(response.status, response.read())
                except urllib.error.HTTPError as exc:
                    self._answer(exc.code, exc.read())

            def _answer(self, status, payload):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def failing_proxy(live_server):
    """A proxy in front of the live board that fails the scans the test picks with 500."""
    proxy = FailingProxy(live_server)
    yield proxy
    proxy.server.shutdown()
    proxy.server.server_close()


@pytest.fixture
def free_port() -> int:
    """A port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Clock:
    """Stand in for time.time and time.sleep: sleeping moves the clock on and is recorded."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def scan_ids(app):
    """Return the ids of the scans the board holds, oldest first."""

    def read() -> list[str]:
        db.session.remove()
        return list(db.session.scalars(select(Scan.client_scan_id).order_by(Scan.id)))

    return read


@pytest.fixture
def make_loop(tmp_path, wall_event, clock):
    """Make a camera loop that watches `video`, posts to `server` and spools in tmp_path/spool."""

    def make(server, video, *, token=None, spool=None, **options) -> CameraLoop:
        return CameraLoop(
            source=FrameSource(str(video), every_s=options.pop("every_s", 5.0)),
            client=ScanClient(
                base_url=server if isinstance(server, str) else server.url,
                token=token or wall_event["token"],
                timeout_s=5,
            ),
            spool=Spool(spool or tmp_path / "spool"),
            name=options.pop("name", "wall-cam"),
            clock=clock,
            sleep=clock.sleep,
            # Exact post sequences in the tests; confirmation posts have a test of their own.
            **{"confirm_scans": 0, **options},
        )

    return make
