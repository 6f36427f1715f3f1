"""A crowd and slow clients, against what `openspaces serve` starts: gunicorn's gevent workers and
waitress, each in a subprocess on a loopback port, with the test event on SQLite."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from app.extensions import db
from app.services.organizers import create_token
from app.services.scanning import ScannerBusy, ScanTurns
from app.settings import configure
from benchmarks import crowd_attack
from benchmarks.servers import free_port

pytestmark = pytest.mark.slow

# Starting gunicorn and the app on a busy machine takes a while; a slow start is not a failure.
START_S = 90.0
SERVERS = ["gunicorn", "waitress"]


class Served:
    """``openspaces serve --server NAME`` in a subprocess (its own process group) on a free port."""

    def __init__(self, app, server: str, log: Path, **env: str) -> None:
        if server == "gunicorn" and importlib.util.find_spec("gevent") is None:
            pytest.skip("gunicorn with gevent is not installed")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        # Title reading is not part of these tests: the app loads nothing for it when it starts.
        Path(app.instance_path, "config.py").write_text("OCR_ENGINE = None\n", encoding="utf-8")
        environ = {**os.environ, "OPENSPACES_INSTANCE": app.instance_path, **env}
        environ.pop("OPENSPACES_DATABASE_URL", None)
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--server", server]
                + ["--port", str(self.port)],
                env=environ,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_S
        while True:
            assert self.process.poll() is None, f"the server stopped:\n{log.read_text()}"
            try:
                if requests.get(f"{self.url}/board", timeout=30).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"no answer in {START_S} s:\n{log.read_text()}"
            time.sleep(0.2)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)  # gunicorn's quick shutdown, waitress's stop
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def serve(app, event, tmp_path):
    """Start ``openspaces serve --server NAME`` on the test event; stop it after the test."""
    started: list[Served] = []

    def start(server: str, **env: str) -> Served:
        db.session.remove()
        served = Served(app, server, tmp_path / f"{server}-{len(started)}.log", **env)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def _read_until_closed(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    """Read until the server closes ``sock``; return what came and how long the close took."""
    sock.settimeout(seconds)
    start = time.monotonic()
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return received, time.monotonic() - start
        received += chunk


# The read deadline these servers are started with (OPENSPACES_READ_TIMEOUT_S; 10 s by default).
READ_TIMEOUT_S = 3


@pytest.mark.parametrize("server", SERVERS)
def test_slow_headers_and_a_slow_post_are_dropped_after_the_read_timeout(serve, server):
    served = serve(server, OPENSPACES_READ_TIMEOUT_S=str(READ_TIMEOUT_S))
    with served.connect() as slow_post, served.connect() as slow_headers:
        # A log-in form that promises 100 kB and stops after a few bytes.
        slow_post.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: board\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
            b"username=a"
        )
        # Headers that never end.
        slow_headers.sendall(b"GET /board HTTP/1.1\r\nHost: board\r\n")
        received, took = _read_until_closed(slow_post, READ_TIMEOUT_S + 60)
        # Dropped, not answered with the page: waitress closes it, gunicorn's app sees the body end.
        assert b"200 OK" not in received
        # waitress looks every 2 seconds; the rest is a busy machine's slack, not a speed target.
        assert took < READ_TIMEOUT_S + 15
        received, took = _read_until_closed(slow_headers, READ_TIMEOUT_S + 60)
        assert received == b""
        assert took < 15


def test_waitress_holds_more_than_100_idle_connections_and_answers_the_board(serve):
    served = serve("waitress")
    idle = [served.connect() for _ in range(150)]
    try:
        # waitress's default connection_limit of 100 would leave this one waiting in the backlog.
        answer = requests.get(f"{served.url}/board", timeout=30)
        assert answer.status_code == 200
        assert "Hall A" in answer.text
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.parametrize("server", SERVERS)
def test_live_streams_past_the_cap_per_address_are_refused_and_the_page_polls(serve, server):
    served = serve(server, OPENSPACES_LIVE_STREAMS_PER_ADDRESS="3")
    streams = []
    try:
        for _ in range(3):
            stream = requests.get(f"{served.url}/board/events", stream=True, timeout=30)
            assert stream.status_code == 200
            streams.append(stream)
        refused = requests.get(f"{served.url}/board/events", timeout=30)
        assert refused.status_code == 503
        assert refused.text == "too many live pages from one address; poll /board/grid instead"
        # What board.js does with a refused stream: poll the grid.
        assert requests.get(f"{served.url}/board/grid", timeout=30).status_code == 200
        streams.pop().close()
        deadline = time.monotonic() + 30
        while True:
            again = requests.get(f"{served.url}/board/events", stream=True, timeout=30)
            if again.status_code == 200 or time.monotonic() > deadline:
                break
            again.close()
            time.sleep(0.2)
        streams.append(again)
        assert again.status_code == 200
    finally:
        for stream in streams:
            stream.close()


@pytest.fixture(scope="module")
def giant_png() -> bytes:
    """A PNG of a few hundred kilobytes that decodes to 49 megapixels, plain grey with a word."""
    return crowd_attack.giant_png(compression=1)


def test_board_answers_on_gevent_while_a_big_photo_scans(serve, app, giant_png):
    with app.app_context():
        _, secret = create_token(name="wall-cam")
        db.session.commit()
    served = serve("gunicorn")
    finished: list[float] = []
    answers: list[int] = []

    def upload() -> None:
        answer = requests.post(
            f"{served.url}/api/scans",
            headers={"Authorization": f"Bearer {secret}"},
            data={"scan_id": "giant-1"},
            files={"photo": ("giant.png", giant_png, "image/png")},
            timeout=300,
        )
        answers.append(answer.status_code)
        finished.append(time.monotonic())

    uploading = threading.Thread(target=upload)
    uploading.start()
    try:
        # Once the photo is in and being decoded, ask for the board.
        time.sleep(1.0)
        board = requests.get(f"{served.url}/board", timeout=300)
        answered = time.monotonic()
    finally:
        uploading.join(timeout=300)
    assert board.status_code == 200
    assert answers == [201]
    # The board's answer did not wait for the scan: it came while the upload was still running.
    assert answered < finished[0], (finished[0] - answered, served.log.read_text())


def test_photo_beyond_the_scan_queue_is_answered_503_with_retry_after(live_server, giant_png):
    from app.services.scanning import scan_turns

    configure(live_server.app, SCAN_WORKERS=1, SCAN_QUEUE=0)
    with live_server.app.app_context():
        _, secret = create_token(name="wall-cam")
        db.session.commit()
    camera = live_server.session()

    def post(scan_id: str) -> requests.Response:
        return live_server.post(
            camera,
            "/api/scans",
            headers={"Authorization": f"Bearer {secret}"},
            data={"scan_id": scan_id},
            files={"photo": ("giant.png", giant_png, "image/png")},
        )

    # The server's one turn is taken (here, by the test) and nothing may wait for it.
    with scan_turns(workers=1, queue=0).turn():
        refused = post("giant-1")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "10"
    assert refused.json() == {
        "error": "The server is scanning other photos; try again in 10 seconds.",
        "status": 503,
    }
    # Nothing was kept: the same scan id, sent again when the turn is free, is scanned and stored.
    again = post("giant-1")
    assert again.status_code == 201, again.text
    assert again.json()["duplicate"] is False


def test_scan_turns_refuse_past_workers_and_queue():
    turns = ScanTurns(workers=1, queue=1)

    def wait_for_a_turn() -> None:
        with turns.turn():
            pass

    with turns.turn():
        waiting = threading.Thread(target=wait_for_a_turn)
        waiting.start()
        deadline = time.monotonic() + 10
        while turns.admitted < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert turns.admitted == 2
        with pytest.raises(ScannerBusy) as refused:
            with turns.turn():
                pass
    waiting.join(timeout=10)
    assert turns.admitted == 0
    assert refused.value.retry_after == 10
    assert str(refused.value) == "the server is scanning other photos; try again in 10 seconds"


def test_a_read_timeout_that_is_not_whole_seconds_is_refused_in_one_line(tmp_path):
    environ = {
        **os.environ,
        "OPENSPACES_INSTANCE": str(tmp_path),
        "OPENSPACES_READ_TIMEOUT_S": "0.5",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", str(free_port())],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "Error: OPENSPACES_READ_TIMEOUT_S must be whole seconds of at least 1, not '0.5'.\n"
    )
