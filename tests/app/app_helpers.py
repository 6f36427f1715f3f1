"""Helpers the app tests share: the sample event, UTC times, CSRF tokens, races, a live server,
a webhook receiver.

Fixtures live in conftest.py; these are plain functions and values that tests import.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from werkzeug.serving import make_server

from benchmarks.demo_wall import board_at, event_toml

EVENT_TOML = event_toml(
    name="PyCon India Open Spaces",
    slug="pycon-india",
    timezone="Asia/Kolkata",
    rooms=[("Hall A", 40), ("Hall B", 2), "Terrace"],
    slots=[("2026-09-26T10:00", "2026-09-26T10:45"), ("2026-09-26T11:00", "2026-09-26T11:45")],
)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def printed_qr(sticky) -> str:
    """Return the text of the sticky's QR code, as the print path hands it to printables."""
    from app.services.printing import sticky_specs

    (spec,) = [s for s in sticky_specs(sticky.event, sticky.batch) if s.code == sticky.code]
    return spec.qr_text


def printed_key(sticky) -> str:
    """Return the claim key in the sticky's printed QR code (``.../s/CODE?k=KEY``)."""
    return parse_qs(urlsplit(printed_qr(sticky)).query)["k"][0]


def claim_path(sticky) -> str:
    """Return the path a phone opens from the sticky's printed QR code: its page with its key."""
    parts = urlsplit(printed_qr(sticky))
    return f"{parts.path}?{parts.query}"


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def run_together(count: int, work) -> list:
    """Run ``work(index, barrier)`` in ``count`` real threads; each waits at the barrier, then races.

    Return the results in index order; an exception in a thread is returned in its place.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = work(index, barrier)
        except Exception as exc:  # noqa: BLE001 - the test looks at every thread's outcome
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


class LiveServer:
    """Serve the app on 127.0.0.1 in a thread; stop it and start it again on the same port."""

    def __init__(self, app) -> None:
        self.app, self.port = app, 0
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
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def board(self) -> dict:
        """Return the board as ``GET /api/board`` shows it: code -> (room, slot, status)."""
        return board_at(self.url)


def log_in(page, base_url: str, *, password: str = "correct horse") -> None:
    """Log a browser page in as the organizer ``admin``."""
    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


class WebhookReceiver:
    """A local HTTP server that keeps every webhook it gets and answers the statuses it is given."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of each, in order
        self.answers: list[int] = []  # answered in order; 204 once they run out
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.command, self.path))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.arrived.set()

            do_PUT = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def messages(self, secret: str) -> list[dict]:
        """Return every body received, after checking its Standard Webhooks signature."""
        return [verified_webhook(secret, headers, body) for headers, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verified_webhook(secret: str, headers: dict[str, str], body: bytes) -> dict:
    """Check a webhook as a receiver does (standardwebhooks.com), and return its JSON body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    signatures = [s.split(",", 1)[1] for s in headers["webhook-signature"].split()]
    assert any(hmac.compare_digest(expected, s) for s in signatures), "bad signature"
    assert abs(time.time() - int(headers["webhook-timestamp"])) < 60
    assert headers["content-type"] == "application/json"
    return json.loads(body)
