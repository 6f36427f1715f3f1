"""Board news as a running server delivers it: `openspaces serve` with its own delivery worker, a
camera's scan over HTTP, and a receiver on a loopback port; through a receiver that is down for a
while, and through a server killed with SIGKILL between a scan and its delivery."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from app_helpers import verified_webhook
from sqlalchemy import select

from app.extensions import db
from app.models import Delivery, OutboxMessage
from app.services.webhooks import add_hook
from benchmarks.servers import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
A, B = "Hall A", "Hall B"
TEN = "2026-09-26T10:00"
# Short enough for a test, long enough to kill the server before a scan's news settles.
SETTLE_S = 2.0
BACKOFF_S = 0.25


class Receiver:
    """A webhook receiver on a fixed loopback port: down (nothing listens, so every try is
    refused) until ``up``; keeps each request's headers, body and arrival (``time.monotonic``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.received: list[tuple[dict[str, str], bytes, float]] = []
        self.answers: list[int] = []  # answered in order; 204 once they run out
        self.changed = threading.Condition()
        self.server: ThreadingHTTPServer | None = None

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.changed:
                    status = receiver.answers.pop(0) if receiver.answers else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver.changed:
                    receiver.received.append((headers, body, time.monotonic()))
                    receiver.changed.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def wait_for(self, count: int, seconds: float) -> bool:
        """Wait until ``count`` requests came; return whether they did in time."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.received) >= count, seconds)

    def messages(self, secret: str) -> list[dict]:
        """Return every body, after checking its Standard Webhooks signature."""
        return [verified_webhook(secret, headers, body) for headers, body, _ in self.received]

    def ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _, _ in self.received]


class Served:
    """``openspaces serve`` (waitress, one process) on the test's instance, with its delivery
    worker on, in a process group of its own so that SIGKILL ends all of it at once."""

    def __init__(self, instance: Path) -> None:
        self.instance = instance
        self.port = free_port()
        self.log = instance / f"serve-{self.port}.log"
        env = {**os.environ, "OPENSPACES_INSTANCE": str(instance)}
        env["OPENSPACES_WEBHOOK_DELIVERY"] = "1"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--server", "waitress"]
                + ["--port", str(self.port)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def request(self, method: str, path: str, body: dict | None = None, token: str = ""):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        response = conn.getresponse()
        answer = response.status, response.read()
        conn.close()
        return answer

    def wait_up(self, seconds: float = 60.0) -> None:
        """Wait for /healthz: the server's first request, which starts its delivery worker."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server ended:\n" + self.log.read_text()
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server did not start:\n" + self.log.read_text())

    def scan(self, token: str, scan_id: str, cells: dict[str, tuple[str, str]]) -> float:
        """Post a wall camera's scan that sees these codes in these cells, as the camera does;
        return when its answer came (``time.monotonic``)."""
        stickies = [
            {"code": code, "room": room, "slot": slot, "via": "marker"}
            for code, (room, slot) in cells.items()
        ]
        body = {"scan_id": scan_id, "board_found": True, "stickies": stickies}
        status, answer = self.request("POST", "/api/scans", body, token)
        answered = time.monotonic()
        assert status == 201, answer
        return answered

    def kill(self) -> None:
        """End the server as a crash or an OOM killer does: SIGKILL, no clean-up at all."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def instance(app) -> Path:
    """The test app's instance folder, set up for a server: news settles in SETTLE_S, retries
    begin BACKOFF_S apart, and no title reading (its child process costs a core)."""
    folder = Path(app.instance_path)
    (folder / "config.py").write_text(
        f"OUTBOX_SETTLE_S = {SETTLE_S}\nWEBHOOK_BACKOFF_S = {BACKOFF_S}\n"
        "WEBHOOK_TIMEOUT_S = 5.0\nOCR_ENGINE = None\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def serve(instance):
    """Start servers on the test's instance (``serve()``); each is killed at the test's end."""
    started: list[Served] = []

    def start() -> Served:
        # The server writes: leave it the database with no transaction of the test's open.
        db.session.remove()
        server = Served(instance)
        started.append(server)
        server.wait_up()
        return server

    yield start
    for server in started:
        server.kill()


def hook_for(receiver: Receiver) -> str:
    """Register a standard hook for the receiver; return its secret."""
    secret = add_hook(url=receiver.url).secret
    db.session.commit()
    return secret


def stored():
    """Return the outbox's messages and deliveries as the server left them."""
    db.session.remove()
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    deliveries = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    return messages, deliveries


def wait_until(condition, seconds: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def test_delivery_stickies_a_camera_places_reach_the_hook_signed_within_10_s(
    event, token, create_session, receiver, serve
):
    first = create_session(title="Testing without mocks").code
    second = create_session(title="Rust FFI").code
    base_url = event.base_url
    secret = hook_for(receiver)
    receiver.up()
    server = serve()

    posted = server.scan(token, "cam-1", {first: (A, TEN), second: (B, TEN)})
    assert receiver.wait_for(2, 10.0), f"got {len(receiver.received)} of 2 in 10 s"

    messages = receiver.messages(secret)
    assert [m["type"] for m in messages] == ["session.posted", "session.posted"]
    told = {m["data"]["code"]: (m["data"]["title"], m["data"]["room"]) for m in messages}
    assert told == {first: ("Testing without mocks", A), second: ("Rust FFI", B)}
    assert all(m["data"]["start"] == "2026-09-26T10:00:00+05:30" for m in messages)
    assert {m["data"]["url"] for m in messages} == {
        f"{base_url}/s/{first}",
        f"{base_url}/s/{second}",
    }
    # Told once the change settled, and well within 10 s of the camera's answer.
    waits = [arrived - posted for _, _, arrived in receiver.received]
    assert all(SETTLE_S - 0.5 <= wait < 10.0 for wait in waits), waits
    stored_ids = [m.message_id for m in stored()[0]]
    assert sorted(receiver.ids()) == sorted(stored_ids)


def test_delivery_receiver_down_for_a_while_gets_the_message_after_with_one_id(
    token, create_session, receiver, serve
):
    code = create_session().code
    secret = hook_for(receiver)
    server = serve()

    server.scan(token, "cam-1", {code: (A, TEN)})

    def refused_tries() -> int:
        deliveries = stored()[1]
        return deliveries[0].attempts if deliveries else 0

    # Down: nothing listens on the receiver's port, and the worker's tries are refused.
    assert wait_until(lambda: refused_tries() >= 3, 10.0)
    down_tries = refused_tries()
    (delivery,) = stored()[1]
    assert (delivery.last_status, delivery.delivered_dt) == (None, None)
    assert "refused" in delivery.last_error.lower()
    # Up again: it answers the first try 503 and takes the next.
    receiver.answers = [503]
    receiver.up()
    assert receiver.wait_for(2, 15.0), f"got {len(receiver.received)} of 2 tries in 15 s"
    # The server notes the answer just after the receiver has it.
    assert wait_until(lambda: stored()[1][0].delivered_dt is not None, 5.0)

    (message,), (delivery,) = stored()
    assert receiver.ids() == [message.message_id] * 2
    assert [m["type"] for m in receiver.messages(secret)] == ["session.posted"] * 2
    # Every refused try counted, then the 503 and the one that got through.
    assert delivery.attempts == down_tries + 2
    assert (delivery.last_status, delivery.next_try_dt) == (204, None)
    assert delivery.delivered_dt is not None and delivery.dead_dt is None


def test_delivery_server_killed_between_scan_and_delivery_loses_nothing(
    token, create_session, receiver, serve
):
    code = create_session().code
    secret = hook_for(receiver)
    receiver.up()
    server = serve()

    posted = server.scan(token, "cam-1", {code: (A, TEN)})
    server.kill()
    assert time.monotonic() - posted < SETTLE_S, "killed too late: the news had settled"
    # The change and its news were committed together; nothing went out.
    (message,), deliveries = stored()
    assert (message.type, message.released_dt, deliveries) == ("session.posted", None, [])
    assert receiver.received == []

    # Started again on the same database, its first request starts the worker.
    serve()
    assert receiver.wait_for(1, 10.0), "the message was lost"
    assert wait_until(lambda: stored()[1][0].delivered_dt is not None, 5.0)
    # Told, and nothing more is due: no second copy is on its way.
    (message,), (delivery,) = stored()
    assert (delivery.attempts, delivery.last_status, delivery.next_try_dt) == (1, 204, None)
    assert message.released_dt is not None
    time.sleep(0.5)
    assert receiver.ids() == [message.message_id]
    (told,) = receiver.messages(secret)
    assert (told["type"], told["data"]["code"]) == ("session.posted", code)


def test_delivery_server_killed_while_retrying_a_receiver_that_is_down_loses_nothing(
    token, create_session, receiver, serve
):
    code = create_session().code
    secret = hook_for(receiver)
    server = serve()

    server.scan(token, "cam-1", {code: (A, TEN)})

    def tries() -> int:
        deliveries = stored()[1]
        return deliveries[0].attempts if deliveries else 0

    # Settled and tried twice, refused both times; the next try is a backoff away.
    assert wait_until(lambda: tries() >= 2, 10.0)
    server.kill()
    (message,), (delivery,) = stored()
    assert message.released_dt is not None
    assert (delivery.delivered_dt, delivery.dead_dt, delivery.last_status) == (None, None, None)
    killed_after = delivery.attempts

    receiver.up()
    serve()
    assert receiver.wait_for(1, 10.0), "the message was lost"
    assert wait_until(lambda: stored()[1][0].delivered_dt is not None, 5.0)
    (message,), (delivery,) = stored()
    assert (delivery.attempts, delivery.last_status) == (killed_after + 1, 204)
    time.sleep(0.5)
    assert receiver.ids() == [message.message_id]
    (told,) = receiver.messages(secret)
    assert (told["type"], told["data"]["code"]) == ("session.posted", code)
