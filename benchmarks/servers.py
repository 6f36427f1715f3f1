"""What the web benchmarks share for their servers: a free loopback port, a throwaway database,
``openspaces serve`` started and stopped."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def throwaway_postgres(server_url: str, *, prefix: str) -> tuple[str, Callable[[], None]]:
    """Create an empty database on the PostgreSQL server at `server_url`; return its URL and a
    function that drops it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


def wait_for(port: int, seconds: float = 90) -> None:
    """Wait until the server on ``port`` answers /healthz; end the benchmark when it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


@contextlib.contextmanager
def serving(
    instance: str, *options: str, database_url: str | None = None
) -> Iterator[tuple[int, subprocess.Popen]]:
    """Run ``openspaces serve OPTIONS`` for ``instance`` on a free loopback port, on
    ``database_url`` (the instance's SQLite without it); yield the port, once it answers, and the
    server's process. The server is stopped as Ctrl+C stops it, and killed if it lingers."""
    port = free_port()
    env = {**os.environ, "OPENSPACES_INSTANCE": instance}
    env.pop("OPENSPACES_DATABASE_URL", None)
    if database_url is not None:
        env["OPENSPACES_DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", *options, "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(port)
        yield port, process
    finally:
        os.killpg(process.pid, signal.SIGINT)  # gunicorn's quick shutdown, waitress's stop
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
