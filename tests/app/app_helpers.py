"""Helpers the app tests share: the sample event, UTC times, CSRF tokens, races, a live server.

Fixtures live in conftest.py; these are plain functions and values that tests import.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
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
