"""The webcam loop against a live server: a video of a changing wall, outages, heartbeats, streams.

Frames are rendered by the benchmark's photographer from the app's own manifest: the rooms,
slots, marker ids and sticky codes of the loaded event. Photo coordinates are pixels, origin
top-left; wall positions are millimetres, origin top-left of the wall.
"""

from __future__ import annotations

import json
import socket
import textwrap
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.camera import (
    CHANGE_FRACTION,
    CameraError,
    CameraLoop,
    FrameSource,
    ScanClient,
    Spool,
    changed_fraction,
    thumbnail,
)
from app.extensions import db
from app.models import Scan, StickyKind
from app.services.board import build_manifest
from app.services.events import load_event_file
from app.services.organizers import create_token
from app.services.stickies import allocate_stickies
from benchmarks.photographer import Camera
from benchmarks.wall_video import Wall
from benchmarks.wall_video import write_video as _write_video

WALL_TOML = textwrap.dedent(
    """\
    [event]
    name = "Camera Camp"
    slug = "camera-camp"
    timezone = "UTC"
    base_url = "http://localhost:5000"

    [[rooms]]
    name = "Hall A"

    [[rooms]]
    name = "Hall B"

    [[rooms]]
    name = "Hall C"

    [[slots]]
    start = "2026-09-26T10:00"
    end = "2026-09-26T10:45"

    [[slots]]
    start = "2026-09-26T11:00"
    end = "2026-09-26T11:45"

    [[slots]]
    start = "2026-09-26T12:00"
    end = "2026-09-26T12:45"
    """
)
A10, B11, C12 = (
    ("Hall A", "2026-09-26T10:00"),
    ("Hall B", "2026-09-26T11:00"),
    ("Hall C", "2026-09-26T12:00"),
)
A11, C10, B10 = (
    ("Hall A", "2026-09-26T11:00"),
    ("Hall C", "2026-09-26T10:00"),
    ("Hall B", "2026-09-26T10:00"),
)
A12 = ("Hall A", "2026-09-26T12:00")
OFF = (None, None)
CAMERA = Camera(width=960, height=720, hfov_deg=60.0, yaw_deg=3.0, pitch_deg=2.0, jitter=0.0)


def wall_for(manifest: dict) -> Wall:
    return Wall(manifest, camera=CAMERA)


def write_video(path: Path, photos: list[np.ndarray], *, seconds_each: float) -> Path:
    return _write_video(path, photos, seconds_each=seconds_each)


# ----------------------------------------------------------------------------------------------
# A live server


class LiveServer:
    """Serve the app on 127.0.0.1 in a thread; stop it and start it again on the same port."""

    def __init__(self, app) -> None:
        self.app = app
        self.port = 0
        self.server = None
        self.start()

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def board(self) -> dict:
        with urllib.request.urlopen(self.url + "/api/board", timeout=10) as response:
            data = json.load(response)
        return {s["code"]: (s["room"], s["slot"], s["status"]) for s in data["stickies"]}


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
def wall_event(app, tmp_path):
    """Load a 3 x 3 event with three session stickies and one person sticky; return its manifest."""
    path = tmp_path / "wall.toml"
    path.write_text(WALL_TOML, encoding="utf-8")
    event = load_event_file(path).event
    allocate_stickies(event=event, count=3, kind=StickyKind.SESSION, template="note-76", paper="a4")
    allocate_stickies(event=event, count=1, kind=StickyKind.PERSON, template="note-76", paper="a4")
    _, secret = create_token(name="wall-cam")
    db.session.commit()
    manifest = build_manifest(event)
    manifest["token"] = secret
    return manifest


@pytest.fixture
def server(app, wall_event):
    live = LiveServer(app)
    yield live
    if live.server is not None:
        live.stop()


def codes(manifest) -> list[str]:
    return [s["code"] for s in manifest["stickies"]]


def scan_ids() -> list[str]:
    db.session.remove()
    return list(db.session.scalars(select(Scan.client_scan_id).order_by(Scan.id)))


def expected(layout: dict) -> dict:
    return {
        code: (room, slot, "off_grid" if room is None else "placed")
        for code, (room, slot) in layout.items()
    }


def make_loop(server, manifest, video, clock, tmp_path, **options) -> CameraLoop:
    return CameraLoop(
        source=FrameSource(str(video), every_s=options.pop("every_s", 5.0)),
        client=ScanClient(base_url=server.url, token=manifest["token"], timeout_s=5),
        spool=Spool(tmp_path / "spool"),
        name="wall-cam",
        clock=clock,
        sleep=clock.sleep,
        # Exact post sequences below; confirmation posts have a test of their own.
        **{"confirm_scans": 0, **options},
    )


def layouts(manifest) -> list[dict]:
    s1, s2, s3, p = codes(manifest)
    return [
        {s1: A10, s2: B11, s3: C12, p: OFF},
        {s1: A11, s2: B11, s3: C12, p: OFF},
        {s1: A11, s2: C10, s3: C12, p: OFF},
        {s1: B10, s2: C10, s3: A12, p: OFF},
        {s1: C10, s2: B10, s3: OFF, p: OFF},
    ]


@pytest.fixture
def video(tmp_path, wall_event):
    """Fifty seconds of video: five layouts of ten seconds each."""
    wall = wall_for(wall_event)
    photos = [wall.photo(layout, seed=i) for i, layout in enumerate(layouts(wall_event))]
    return write_video(tmp_path / "wall.avi", photos, seconds_each=10.0)


# ----------------------------------------------------------------------------------------------
# Tests


def test_camera_loop_video_board_follows_every_layout(server, wall_event, video, tmp_path):
    clock = Clock()
    loop = make_loop(server, wall_event, video, clock, tmp_path)
    outcomes, boards = [], []
    while (report := loop.step()) is not None:
        outcomes.append(report.outcome)
        boards.append(server.board())
        clock.now += 5.0
    steps = layouts(wall_event)
    assert outcomes == ["posted", "unchanged"] * 5
    assert boards == [expected(layout) for layout in steps for _ in range(2)]
    assert len(scan_ids()) == 5
    assert scan_ids()[0] == "wall-cam-1790000000000"
    assert loop.frames == 10
    assert loop.scans == 5
    assert Spool(tmp_path / "spool").pending() == []


def test_camera_loop_confirms_a_removal_so_the_board_drops_it_in_seconds(
    server, wall_event, tmp_path
):
    s1, s2, s3, _ = codes(wall_event)
    wall = wall_for(wall_event)
    before, after = {s1: A10, s2: B11, s3: C12}, {s1: A10, s2: B11}
    video = write_video(
        tmp_path / "removal.avi",
        [wall.photo(before, seed=1), wall.photo(after, seed=2), wall.photo(after, seed=2)],
        seconds_each=10.0,
    )
    clock = Clock()
    loop = make_loop(server, wall_event, video, clock, tmp_path, confirm_scans=2)
    outcomes, on_board = [], []
    while (report := loop.step()) is not None:
        outcomes.append(report.outcome)
        on_board.append(server.board())
        clock.now += 5.0
    assert outcomes == ["posted", "unchanged", "posted", "posted", "posted", "unchanged"]
    # The server takes a sticky off after three scans in a row miss it: the change and two more.
    assert on_board[3] == expected(before)
    assert on_board[4] == expected(after)


def test_camera_loop_server_down_spools_and_delivers_each_scan_once(
    server, wall_event, video, tmp_path
):
    clock = Clock()
    # A heartbeat on every tick: each of the ten frames is a scan to deliver.
    loop = make_loop(server, wall_event, video, clock, tmp_path, heartbeat_s=5.0)
    reports = []

    def tick():
        reports.append(loop.step())
        clock.now += 5.0

    tick()
    tick()
    server.stop()
    for _ in range(5):
        tick()
    spool = Spool(tmp_path / "spool")
    assert [r.outcome for r in reports] == ["posted"] * 2 + ["spooled"] * 5
    assert [p.name for p in spool.pending()] == [
        f"{int((clock.now - 5.0 * k) * 1000):013d}-wall-cam.json" for k in range(5, 0, -1)
    ]
    server.start()
    tick()
    assert reports[-1].outcome == "posted"
    assert reports[-1].delivered == 6
    while (report := loop.step()) is not None:
        reports.append(report)
        clock.now += 5.0
    sent = [r.scan_id for r in reports]
    assert len(sent) == 10
    assert scan_ids() == sent
    assert spool.pending() == []
    assert server.board() == expected(layouts(wall_event)[-1])

    # A scan the server has seen already is answered 200 and leaves the spool too.
    body = {"scan_id": sent[0], "board_found": True, "stickies": [], "hidden_cells": []}
    spool.add(body, unix_ms=1, camera="wall-cam")
    assert loop.flush() == 1
    assert spool.pending() == []
    assert scan_ids() == sent


def test_camera_loop_skips_unchanged_frames_and_posts_heartbeat(server, wall_event, tmp_path):
    wall = wall_for(wall_event)
    layout = layouts(wall_event)[0]
    s1 = codes(wall_event)[0]
    photos = [wall.photo(layout), wall.photo(layout, nudge_mm={s1: (12.0, -8.0)})]
    video = write_video(tmp_path / "still.avi", photos, seconds_each=5.0)
    clock = Clock()
    loop = make_loop(server, wall_event, video, clock, tmp_path, every_s=1.0, heartbeat_s=60.0)
    reports = []
    while (report := loop.step()) is not None:
        reports.append(report)
        clock.now += 25.0
    # Ticks at 0, 25, 50, ... s; frames 0-4 show the first photo, 5-9 the nudged sticky.
    assert [(r.outcome, r.heartbeat) for r in reports] == [
        ("posted", False),
        ("unchanged", False),
        ("unchanged", False),
        ("posted", True),
        ("unchanged", False),
        ("skipped", False),
        ("posted", True),
        ("unchanged", False),
        ("unchanged", False),
        ("posted", True),
    ]
    assert [r.seen for r in reports] == [4] * 10
    assert [r.off_grid for r in reports] == [1] * 10
    assert len(scan_ids()) == 4
    assert loop.scans == 2


def test_thumbnail_noise_unchanged_moved_sticky_changed(wall_event):
    wall = wall_for(wall_event)
    layout = layouts(wall_event)[0]
    moved = layouts(wall_event)[1]
    base = thumbnail(wall.photo(layout, seed=1))
    assert changed_fraction(base, thumbnail(wall.photo(layout, seed=2))) == 0.0
    assert changed_fraction(base, thumbnail(wall.photo(moved, seed=2))) > 20 * CHANGE_FRACTION


def test_camera_loop_wrong_token_stops_with_message(server, wall_event, tmp_path):
    video = tmp_path / "never-opened.avi"
    loop = make_loop(server, {**wall_event, "token": "not-a-token"}, video, Clock(), tmp_path)
    with pytest.raises(CameraError, match=r"refused the token \(401\)"):
        loop.step()


def test_camera_loop_rejected_scan_moves_to_rejected(server, wall_event, tmp_path):
    loop = make_loop(server, wall_event, tmp_path / "never-opened.avi", Clock(), tmp_path)
    spool = Spool(tmp_path / "spool")
    body = {
        "scan_id": "wall-cam-1",
        "board_found": True,
        "stickies": [{"code": "ZZZZZZ", "room": None, "slot": None, "x": 1, "y": 2, "via": "qr"}],
        "hidden_cells": [],
        "warnings": [],
    }
    path = spool.add(body, unix_ms=1, camera="wall-cam")
    assert loop.flush() == 0
    assert spool.pending() == []
    assert (spool.rejected / path.name).exists()
    assert (spool.rejected / "0000000000001-wall-cam.txt").read_text() == (
        "codes never issued for this event: ZZZZZZ\n"
    )
    assert scan_ids() == []


# A phone webcam app: an HTTP MJPEG stream that can drop its connection.


class MjpegStream:
    """Serve JPEG frames as multipart/x-mixed-replace at 20 frames per second."""

    def __init__(self, photo: np.ndarray) -> None:
        self.jpeg = cv2.imencode(".jpg", photo)[1].tobytes()
        self.drop = threading.Event()
        stream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                while not stream.drop.is_set():
                    part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                    try:
                        self.wfile.write(part % len(stream.jpeg) + stream.jpeg + b"\r\n")
                    except OSError:
                        return
                    time.sleep(0.05)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/video"

    def close(self) -> None:
        self.drop.set()
        self.server.shutdown()
        self.server.server_close()


def test_camera_loop_stream_that_drops_is_reopened(server, wall_event, tmp_path):
    wall = wall_for(wall_event)
    first, second = layouts(wall_event)[:2]
    stream = MjpegStream(wall.photo(first))
    clock = Clock()
    loop = CameraLoop(
        source=FrameSource(stream.url, every_s=5.0),
        client=ScanClient(base_url=server.url, token=wall_event["token"], timeout_s=5),
        spool=Spool(tmp_path / "spool"),
        name="phone",
        clock=clock,
        sleep=clock.sleep,
    )
    try:
        assert loop.step().outcome == "posted"
        assert server.board() == expected(first)
        # The phone app restarts with the sticky moved: the open connection ends.
        stream.drop.set()
        loop.source.grabber.join(5.0)  # the grabber has seen the stream end
        lost = loop.step()
        assert (lost.outcome, lost.note) == (
            "camera-lost",
            f"lost {stream.url}; reconnecting in 1 s",
        )
        stream.jpeg = cv2.imencode(".jpg", wall.photo(second))[1].tobytes()
        stream.drop.clear()
        assert loop.step().outcome == "posted"
        assert server.board() == expected(second)
        assert clock.sleeps == [1.0]
    finally:
        loop.source.release()
        stream.close()


def test_camera_loop_absent_source_backs_off(server, wall_event, tmp_path):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = Clock()
    loop = CameraLoop(
        source=FrameSource(f"http://127.0.0.1:{port}/video", every_s=5.0),
        client=ScanClient(base_url=server.url, token=wall_event["token"], timeout_s=5),
        spool=Spool(tmp_path / "spool"),
        clock=clock,
        sleep=clock.sleep,
        max_backoff_s=4.0,
    )
    outcomes = [loop.step().outcome for _ in range(4)]
    assert outcomes == ["camera-lost"] * 4
    assert clock.sleeps == [1.0, 2.0, 4.0, 4.0]
    assert scan_ids() == []


def test_camera_loop_server_error_keeps_scan_in_spool(tmp_path):
    class Unavailable(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    busy = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    threading.Thread(target=busy.serve_forever, daemon=True).start()
    try:
        loop = CameraLoop(
            source=FrameSource(str(tmp_path / "never-opened.avi"), every_s=5.0),
            client=ScanClient(base_url=f"http://127.0.0.1:{busy.server_port}", token="t"),
            spool=Spool(tmp_path / "spool"),
        )
        body = {"scan_id": "camera-1", "board_found": False, "stickies": [], "hidden_cells": []}
        path = loop.spool.add(body, unix_ms=1, camera="camera")
        assert loop.flush() == 0
        assert loop.spool.pending() == [path]
    finally:
        busy.shutdown()
        busy.server_close()


def test_camera_loop_video_plays_in_real_time_only_when_asked(server, wall_event, video, tmp_path):
    fast_clock, paced_clock = Clock(), Clock()
    fast = make_loop(server, wall_event, video, fast_clock, tmp_path / "fast")
    assert fast.run(max_frames=3) == 3
    assert fast_clock.sleeps == []
    paced = make_loop(server, wall_event, video, paced_clock, tmp_path / "paced")
    assert paced.run(max_frames=3, realtime=True) == 3
    assert paced_clock.sleeps == [5.0, 5.0, 5.0]
