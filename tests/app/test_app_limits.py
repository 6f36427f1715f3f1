"""Rate limits that hold: per address with a venue in mind, and one count across server processes."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Interest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_interest_marks_from_one_address_stop_at_120_a_minute(app, create_session):
    sticky = create_session()
    venue = {"REMOTE_ADDR": "198.51.100.20"}
    statuses = [
        # A fresh browser each time, as if cookies were dropped.
        app.test_client().post(f"/s/{sticky.code}/interest", environ_base=venue).status_code
        for _ in range(121)
    ]
    assert statuses == [302] * 120 + [429]
    other = {"REMOTE_ADDR": "203.0.113.20"}
    assert (
        app.test_client().post(f"/s/{sticky.code}/interest", environ_base=other).status_code == 302
    )
    assert db.session.scalar(select(func.count()).select_from(Interest)) == 121


# `openspaces serve --workers N` and the limits' store.


def test_serve_with_two_workers_and_memory_limits_is_refused(runner):
    pytest.importorskip("gunicorn")
    pytest.importorskip("gevent")
    result = runner.invoke(
        "serve", "--server", "gunicorn", "--workers", "2", "--port", str(free_port())
    )
    assert (result.exit_code, result.output) == (
        1,
        "Error: --workers 2 with rate limits kept in memory: each worker would count alone and let "
        "2 times as many log-in guesses and interest marks through. Give the workers one store, "
        "e.g. OPENSPACES_RATELIMIT_STORAGE_URI=redis://localhost:6379 (pip install redis), or "
        "serve with --workers 1.\n",
    )


def test_serve_with_two_workers_and_an_unreachable_store_is_refused(runner, monkeypatch):
    pytest.importorskip("gunicorn")
    pytest.importorskip("gevent")
    pytest.importorskip("redis")
    monkeypatch.setenv("OPENSPACES_RATELIMIT_STORAGE_URI", f"redis://127.0.0.1:{free_port()}")
    result = runner.invoke(
        "serve", "--server", "gunicorn", "--workers", "2", "--port", str(free_port())
    )
    assert (result.exit_code, result.output) == (
        1,
        "Error: the rate-limit store (redis://, from OPENSPACES_RATELIMIT_STORAGE_URI) does not "
        "answer: start it or correct the address.\n",
    )


class Connection:
    """One kept-alive HTTP connection to the server, and the gunicorn worker that holds it."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        return response, response.read().decode()

    def worker(self, server: subprocess.Popen) -> int | None:
        import psutil

        local = self.conn.sock.getsockname()[1]
        for child in psutil.Process(server.pid).children():
            for conn in child.net_connections(kind="tcp"):
                if conn.raddr and conn.raddr.port == local:
                    return child.pid
        return None


@pytest.mark.slow
def test_two_workers_share_login_limits_through_redis(tmp_path, redis_url):
    pytest.importorskip("gunicorn")
    pytest.importorskip("gevent")
    pytest.importorskip("psutil")
    instance = tmp_path / "instance"
    # Migrated, and with its secret key, before the workers start.
    setup = create_app({"INSTANCE_PATH": str(instance)})
    with setup.app_context():
        db.engine.dispose()
    # A lower limit than the default 20 a minute: each try costs a password hash's time. Title
    # reading is not part of this test.
    (instance / "config.py").write_text(
        'LOGIN_LIMIT_PER_ADDRESS = "6 per minute"\nOCR_ENGINE = None\n', encoding="utf-8"
    )
    port = free_port()
    env = {**os.environ, "OPENSPACES_INSTANCE": str(instance)}
    env["OPENSPACES_RATELIMIT_STORAGE_URI"] = redis_url
    env.pop("OPENSPACES_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--server", "gunicorn", "--workers", "2"]
        + ["--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    connections: dict[int, Connection] = {}
    try:
        deadline = time.monotonic() + 60
        # The kernel hands each connection to one worker: open some until both workers hold one.
        while len(connections) < 2 and time.monotonic() < deadline:
            connection = Connection(port)
            try:
                response, page = connection.request("GET", "/auth/login")
            except OSError:
                time.sleep(0.2)
                continue
            pid = connection.worker(server)
            if response.status == 200 and pid is not None and pid not in connections:
                connections[pid] = connection
                cookie = response.getheader("Set-Cookie").split(";", 1)[0]
                token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
            else:
                connection.conn.close()
        assert len(connections) == 2
        statuses = []
        for n in range(9):
            connection = list(connections.values())[n % 2]
            response, _ = connection.request(
                "POST",
                "/auth/login",
                body=urlencode({"csrf_token": token, "username": f"name{n}", "password": "guess"}),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            )
            statuses.append(response.status)
        # One count for both workers: 6 a minute from this address, not 6 for each.
        assert statuses == [401] * 6 + [429] * 3
    finally:
        for connection in connections.values():
            connection.conn.close()
        server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        output, _ = server.communicate(timeout=20)
    assert "Traceback" not in output
