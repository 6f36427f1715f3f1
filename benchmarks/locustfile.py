"""A conference break for Locust: phones on the live board, kiosks on the wall, cameras posting scans.

Run through ``python -m benchmarks.web_locust``, which sets up the instance, starts the server and
then Locust headless for a bounded time; or by hand against a running server::

    OPENSPACES_LOAD_TOKENS=tok1,tok2,tok3 OPENSPACES_LOAD_CLAIMS=/s/ABC123?k=K3Y9AB,... \\
        locust -f benchmarks/locustfile.py --headless -u 2006 -r 200 -t 60s --host http://127.0.0.1:5000

- ``Phone`` (all but six users): arrives at a random moment of the second Locust starts it in,
  opens the board, keeps its live stream open (server-sent events, as
  the page's EventSource does), and follows each change as app/static/board.js does: a ``parts``
  event that follows the version it shows is swapped in with no request; otherwise (``board``, or
  parts of a version it missed) it fetches the grid with its ETag. It opens a session page every
  30 s; one phone in a hundred claims a blank sticky (odd ones) or marks interest in a session
  (even ones).
- ``Kiosk`` (3): the wall screen, the same with the kiosk page, which always fetches its grid.
- ``Camera`` (3): posts the board as it sees it every 5 s, moving its own sticky each time, so that
  every scan changes the board. The cameras watch one wall: each scan shows the others' stickies
  where the others' last scans put them.

Each stream notes when board events arrive and each camera when its change was committed; at the
end, ``OPENSPACES_LOAD_RESULT`` (a JSON file) receives, per change, how many open live pages saw it
within 3 s, and how long the slowest took.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import socket
import threading
import time
from urllib.parse import urlsplit

import gevent
from locust import FastHttpUser, between, constant, events, task

TOKENS = [t for t in os.environ.get("OPENSPACES_LOAD_TOKENS", "").split(",") if t]
# The pages blank stickies' QR codes open, claim key included: /s/CODE?k=KEY.
BLANK_CLAIMS = [c for c in os.environ.get("OPENSPACES_LOAD_CLAIMS", "").split(",") if c]
RESULT = os.environ.get("OPENSPACES_LOAD_RESULT")
SEE_WITHIN_S = 3.0
SESSION_EVERY_S = 30.0

_numbers = itertools.count()
_blank = iter(BLANK_CLAIMS)
_lock = threading.Lock()
# (change started, change committed) for every camera post that changed the board
CHANGES: list[tuple[float, float]] = []
# Every camera scan answered 201, in ms to the microsecond (Locust's table rounds to whole ms).
SCAN_MS: list[float] = []
# one entry per stream: {"opened": [(from, until)], "events": [t, ...]}
STREAMS: list[dict] = []
_board: dict = {}
# The wall the cameras watch, code -> (room, slot): each camera moves its own sticky on it.
_wall: dict[str, tuple[str, str]] = {}


def _board_state(client) -> dict:
    """Return the board's sessions once per process (codes, rooms and slots to post and view)."""
    with _lock:
        if _board:
            return _board
    with client.get("/api/board", name="board JSON (setup)", catch_response=True) as response:
        data = response.json()
    _board.update(data)
    return _board


class LiveStream:
    """The page's EventSource: reads ``event: board`` lines and calls back; reconnects as browsers do."""

    def __init__(self, host: str, path: str, version: str, on_change, parts: str = "") -> None:
        self.address = urlsplit(host)
        self.path = path
        self.parts = parts
        self.version = version
        self.on_change = on_change
        self.record = {"opened": [], "since": None, "events": []}
        with _lock:
            STREAMS.append(self.record)
        self.greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            try:
                self._read_once()
            except (OSError, ValueError):
                pass
            if self.record["since"] is not None:
                self.record["opened"].append((self.record["since"], time.monotonic()))
                self.record["since"] = None
            gevent.sleep(1.5)  # the server's ``retry: 1500``

    def _read_once(self) -> None:
        sock = socket.create_connection((self.address.hostname, self.address.port), timeout=30)
        try:
            query = f"v={self.version}" + (f"&parts={self.parts}" if self.parts else "")
            request = (
                f"GET {self.path}?{query} HTTP/1.1\r\nHost: {self.address.netloc}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            )
            sock.sendall(request.encode())
            reader = sock.makefile("rb")
            status = reader.readline()
            if b" 200 " not in status:
                raise ValueError(status)
            self.record["since"] = time.monotonic()
            event = None
            for raw in reader:
                line = raw.strip()
                if line == b"0":
                    # The chunked response's last chunk: the server ended this stream and keeps
                    # the connection for another request. A browser reconnects now.
                    return
                if line.startswith(b"event: "):
                    event = line[7:]
                elif line.startswith(b"data: ") and event == b"board":
                    version = line[6:].decode()
                    if version != self.version:
                        self.version = version
                        self.record["events"].append(time.monotonic())
                        gevent.spawn(self.on_change)
                    event = None
                elif line.startswith(b"data: ") and event == b"parts":
                    data = json.loads(line[6:])
                    follows = data["from"] == self.version
                    self.version = data["to"]
                    self.record["events"].append(time.monotonic())
                    if not follows:  # the page shows an older grid: it fetches this one whole
                        gevent.spawn(self.on_change)
                    event = None
        finally:
            sock.close()

    def stop(self) -> None:
        self.greenlet.kill(block=False)


class LivePage(FastHttpUser):
    abstract = True
    page = "/board"
    grid = "/board/grid"
    parts = "grid"  # the board page's stream sends the grid's changed parts

    def on_start(self) -> None:
        with self.client.get(self.page, name=f"{self.page} page", catch_response=True) as response:
            found = re.search(rb'data-version="([0-9a-f]+)"', response.content or b"")
            if response.status_code == 200 and not found:
                response.failure("no data-version on the live page")
        self.etag = None
        self.stream = LiveStream(
            self.host,
            "/board/events",
            found.group(1).decode() if found else "",
            self.refresh,
            parts=self.parts,
        )

    def on_stop(self) -> None:
        self.stream.stop()

    def refresh(self) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        with self.client.get(
            self.grid, headers=headers, name=f"{self.grid} (on change)", catch_response=True
        ) as response:
            if response.status_code == 304:
                response.success()
            elif response.status_code == 200:
                self.etag = response.headers.get("ETag")


class Phone(LivePage):
    wait_time = constant(SESSION_EVERY_S)

    def on_start(self) -> None:
        self.number = next(_numbers)
        # Locust starts each second's new users at one instant (its spawn rate per second, then a
        # one-second wait); people in a hall do not open the board in lockstep. Each phone
        # arrives at a random moment of its second, so that the rate stays the spawn rate.
        gevent.sleep(random.uniform(0, 1))
        super().on_start()
        if self.number % 100 == 0:
            gevent.spawn_later(random.uniform(5, 50), self.act)

    @task
    def session_page(self) -> None:
        sessions = [s for s in _board_state(self.client)["stickies"] if s["kind"] == "session"]
        sticky = random.choice(sessions)
        self.client.get(f"/s/{sticky['code']}", name="/s/<code> session page")

    def act(self) -> None:
        """Claim a blank sticky (odd hundreds) or mark interest in a session (even hundreds)."""
        if (self.number // 100) % 2:
            scanned = next(_blank, None)
            if scanned is None:
                return
            page = self.client.get(scanned, name="/s/<code>?k=<key> claim form").content or b""
            form = {"title": f"Load test {self.number}", "host": "Phone", "tags": "load"}
            form["csrf_token"] = _form_token(page)
            self.client.post(
                scanned, data=form, name="/s/<code>?k=<key> claim", allow_redirects=False
            )
            return
        sessions = [s for s in _board_state(self.client)["stickies"] if s["kind"] == "session"]
        code = random.choice(sessions)["code"]
        page = self.client.get(f"/s/{code}", name="/s/<code> session page").content or b""
        self.client.post(
            f"/s/{code}/interest",
            data={"csrf_token": _form_token(page)},
            name="/s/<code>/interest",
            allow_redirects=False,
        )


def _form_token(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    return found.group(1).decode() if found else ""


class Kiosk(LivePage):
    fixed_count = 3
    page = "/kiosk"
    grid = "/board/grid?kiosk=1"
    parts = ""
    wait_time = constant(60)

    @task
    def idle(self) -> None:
        """The wall screen only follows its stream."""


class Camera(FastHttpUser):
    fixed_count = 3
    wait_time = between(4.9, 5.1)

    def on_start(self) -> None:
        self.number = next(_numbers)
        self.token = TOKENS[self.number % len(TOKENS)] if TOKENS else ""
        self.scans = itertools.count()
        with self.client.get(
            "/api/manifest",
            headers={"Authorization": f"Bearer {self.token}"},
            name="/api/manifest (setup)",
            catch_response=True,
        ) as response:
            manifest = response.json()
        rooms = [r["name"] for r in manifest["rooms"]]
        slots = [s["start"] for s in manifest["slots"]]
        placed = [s for s in _board_state(self.client)["stickies"] if s["status"] == "placed"]
        with _lock:
            if not _wall:
                _wall.update({s["code"]: (s["room"], s["slot"]) for s in placed})
            taken = set(_wall.values())
        free = [(r, s) for r in rooms for s in slots if (r, s) not in taken]
        self.mine = placed[self.number % len(placed)]["code"]
        self.cells = [_wall[self.mine], free[self.number % len(free)]]

    @task
    def post_scan(self) -> None:
        n = next(self.scans)
        with _lock:
            _wall[self.mine] = self.cells[n % 2]
            seen = dict(_wall)
        body = {
            "scan_id": f"load-{self.number}-{n}-{time.time_ns()}",
            "board_found": True,
            "warnings": [],
            "hidden_cells": [],
            "stickies": [
                {"code": code, "room": room, "slot": slot, "via": "marker"}
                for code, (room, slot) in seen.items()
            ],
        }
        started = time.monotonic()
        with self.client.post(
            "/api/scans",
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            name="/api/scans camera",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"status {response.status_code}")
                return
            with _lock:
                SCAN_MS.append((time.monotonic() - started) * 1000)
            if response.json().get("changes"):
                with _lock:
                    CHANGES.append((started, time.monotonic()))


def _intervals(stream: dict, now: float) -> list[tuple[float, float]]:
    since = stream["since"]
    return stream["opened"] + ([(since, now)] if since is not None else [])


def change_figures(*, settle_s: float = SEE_WITHIN_S) -> dict:
    """For each change, count the open streams that saw an event within ``SEE_WITHIN_S``."""
    end = time.monotonic()
    seen = missed = 0
    slowest = 0.0
    misses: list[dict] = []  # the first few, with the times around them (seconds before the end)
    for started, committed in CHANGES:
        if committed + settle_s > end:
            continue  # the run ended before it could be seen
        for stream in STREAMS:
            # A page counts for a change when its stream was open before the camera posted it:
            # a page opened while the scan was on its way may have loaded the board with the
            # change already in it, and then has nothing to hear.
            opened = _intervals(stream, end)
            if not any(a <= started and b >= committed + settle_s for a, b in opened):
                continue
            after = [t for t in stream["events"] if t >= started]
            delay = (after[0] - committed) if after else None
            if delay is not None and delay <= settle_s:
                seen += 1
                slowest = max(slowest, max(0.0, delay))
            else:
                missed += 1
                if len(misses) < 20:
                    misses.append(
                        {
                            "started": round(started - end, 3),
                            "committed": round(committed - end, 3),
                            "opened": [(round(a - end, 3), round(b - end, 3)) for a, b in opened],
                            "events": [round(t - end, 3) for t in stream["events"]],
                        }
                    )
    return {
        "changes": len(CHANGES),
        "page_changes_seen": seen,
        "page_changes_missed": missed,
        "slowest_seen_s": round(slowest, 2),
        "streams": len(STREAMS),
        "misses": misses,
        "scan_ms": sorted(round(ms, 3) for ms in SCAN_MS),
    }


@events.test_stopping.add_listener
def _write_result(environment, **kwargs) -> None:
    # Written before the users stop, while their streams are still open.
    if RESULT:
        with open(RESULT, "w", encoding="utf-8") as fh:
            json.dump(change_figures(), fh)
