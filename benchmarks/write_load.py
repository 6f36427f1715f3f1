"""Measure concurrent writes: wall cameras posting scans while phones claim and edit stickies.

    python -m benchmarks.write_load                       # 60 s on SQLite, then on PostgreSQL
    python -m benchmarks.write_load --seconds 10 --no-postgres

Each database gets a fresh instance: the test event, 990 blank session stickies and one token per
camera. ``openspaces serve`` (waitress) then serves it on a free loopback port while, for the given
time, camera threads post scans without pause (every scan moves a few stickies) and claimer threads
open a blank sticky's page, claim it and, once their share of stickies is claimed, edit them. Each
client holds one keep-alive connection. An error is any answer other than the expected one (or a
dropped connection); the table goes into its own section of benchmarks/WEB.md. PostgreSQL runs
when ``--postgres URL`` or ``OPENSPACES_TEST_POSTGRES_URL`` names a server (a database is created
and dropped).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from app.views.public import MAX_KEPT_EDIT_SECRETS
from benchmarks.demo_wall import event_toml
from benchmarks.servers import free_port, throwaway_postgres

HERE = Path(__file__).parent
SECTION_START = "<!-- write-load: written by benchmarks/write_load.py -->"
SECTION_END = "<!-- /write-load -->"
STICKIES = 990
EVENT_TOML = event_toml(
    name="Write load",
    slug="write-load",
    timezone="Europe/Berlin",
    rooms=["Hall A", "Hall B"],
    slots=[("2026-09-26T10:00", "2026-09-26T10:45"), ("2026-09-26T11:00", "2026-09-26T11:45")],
)
CELLS = [
    (room, slot)
    for room in ("Hall A", "Hall B")
    for slot in ("2026-09-26T10:00", "2026-09-26T11:00")
]
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Figures:
    """Latencies and outcomes per kind of request, shared by the client threads."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if error is not None:
                self.errors.setdefault(kind, []).append(error)

    @property
    def error_count(self) -> int:
        return sum(len(v) for v in self.errors.values())

    def rows(self) -> list[tuple[str, int, int, float, float]]:
        """Return (kind, requests, errors, p50 ms, p95 ms) per kind."""
        rows = []
        for kind, values in sorted(self.latencies.items()):
            ordered = sorted(values)
            p50 = ordered[len(ordered) // 2]
            p95 = ordered[int(0.95 * (len(ordered) - 1))]
            rows.append((kind, len(values), len(self.errors.get(kind, [])), 1000 * p50, 1000 * p95))
        return rows


class Client:
    """One keep-alive connection with its own cookies: one phone, or one camera."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                if "max-age=0" in rest.lower().replace(" ", ""):
                    self.cookies.pop(key.strip(), None)  # deleted, as a browser does
                else:
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, data


def _timed(figures: Figures, kind: str, expected: tuple[int, ...], call):
    started = time.perf_counter()
    try:
        status, data = call()
    except (OSError, http.client.HTTPException) as exc:
        figures.add(kind, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
        return None, b""
    error = None if status in expected else f"HTTP {status}"
    figures.add(kind, time.perf_counter() - started, error)
    return status, data


def _camera(base_url: str, token: str, codes: list[str], index: int, until: float, figures):
    client = Client(base_url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    n = 0
    while time.monotonic() < until:
        n += 1
        shift = n % len(CELLS)
        body = {
            "scan_id": f"cam{index}-{n}-{secrets.token_hex(3)}",
            "board_found": True,
            "hidden_cells": [],
            "warnings": [],
            "stickies": [
                {
                    "code": code,
                    "room": CELLS[(i + shift) % len(CELLS)][0],
                    "slot": CELLS[(i + shift) % len(CELLS)][1],
                    "via": "marker",
                }
                for i, code in enumerate(codes)
            ],
        }
        _timed(
            figures,
            "camera scan (POST /api/scans)",
            (200, 201),
            lambda body=body: client.request("POST", "/api/scans", json.dumps(body), headers),
        )


def _claimer(base_url: str, claims: list[str], index: int, until: float, figures):
    client = Client(base_url)
    claimed: list[str] = []
    pending = list(claims)
    n = 0
    while time.monotonic() < until:
        n += 1
        if pending:
            path, kind, expected = pending.pop(0), "claim", (302,)
            code = path.removeprefix("/s/").split("?")[0]
        else:
            # A phone keeps the edit secrets of its newest stickies only.
            editable = claimed[-MAX_KEPT_EDIT_SECRETS:]
            code, kind, expected = editable[n % len(editable)], "edit", (302,)
            path = f"/s/{code}/edit"
        status, page = _timed(
            figures, f"{kind} form (GET)", (200,), lambda path=path: client.request("GET", path)
        )
        match = _CSRF.search(page.decode("utf-8", "replace")) if status == 200 else None
        if match is None:
            continue
        form = {
            "csrf_token": match.group(1),
            "title": f"Session {index}-{n}",
            "host": f"Claimer {index}",
            "tags": "load, test",
        }
        status, _ = _timed(
            figures,
            f"{kind} (POST)",
            expected,
            lambda path=path, form=form: client.request(
                "POST",
                path,
                urlencode(form),
                {"Content-Type": "application/x-www-form-urlencoded"},
            ),
        )
        if status == 302 and kind == "claim":
            claimed.append(code)


def drive(
    base_url: str,
    *,
    tokens: list[str],
    scan_codes: list[str],
    claims: list[str],
    claimers: int,
    seconds: float,
) -> Figures:
    """Run one camera per token and ``claimers`` claimers against ``base_url`` for ``seconds``.

    Claimer ``i`` claims ``claims[i::claimers]`` in turn (the pages the stickies' QR codes open,
    claim keys included), then edits the newest of what it claimed, those whose edit secrets its
    cookies keep.
    """
    figures = Figures()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_camera, args=(base_url, token, scan_codes, i, until, figures))
        for i, token in enumerate(tokens)
    ] + [
        threading.Thread(target=_claimer, args=(base_url, claims[i::claimers], i, until, figures))
        for i in range(claimers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return figures


def prepare(database_url: str | None, instance: Path, *, cameras: int) -> dict:
    """Create the event, the blank stickies and the camera tokens; return what they need."""
    from app import create_app
    from app.extensions import db
    from app.models import StickyKind
    from app.services.claim_keys import claim_key
    from app.services.events import load_event_file
    from app.services.organizers import create_token
    from app.services.stickies import allocate_stickies

    config = {"INSTANCE_PATH": str(instance)}
    if database_url:
        config["SQLALCHEMY_DATABASE_URI"] = database_url
    app = create_app(config)
    event_file = instance / "event.toml"
    event_file.write_text(EVENT_TOML, encoding="utf-8")
    with app.app_context():
        event = load_event_file(event_file).event
        batch = allocate_stickies(
            event=event, count=STICKIES, kind=StickyKind.SESSION, template="note-76", paper="a4"
        )
        codes = [s.code for s in batch.stickies]
        claims = [f"/s/{code}?k={claim_key(event=event, code=code)}" for code in codes]
        tokens = [create_token(name=f"load-cam-{i}")[1] for i in range(cameras)]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    # The cameras see the first few; the claimers claim the rest.
    return {"scan_codes": codes[:6], "claims": claims[6:], "tokens": tokens}


def run_backend(name: str, database_url: str | None, args) -> Figures:
    """Serve a fresh instance with `openspaces serve` and drive it; return the figures."""
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        setup = prepare(database_url, instance, cameras=args.cameras)
        port = free_port()
        env = {**os.environ, "OPENSPACES_INSTANCE": str(instance)}
        if database_url:
            env["OPENSPACES_DATABASE_URL"] = database_url
        command = [sys.executable, "-m", "app", "serve", "--port", str(port), "--threads", "32"]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        base_url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    Client(base_url).request("GET", "/api/board")
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise SystemExit("the server did not start")
            figures = drive(
                base_url,
                tokens=setup["tokens"],
                scan_codes=setup["scan_codes"],
                claims=setup["claims"],
                claimers=args.claimers,
                seconds=args.seconds,
            )
        finally:
            server.terminate()
            server.wait()
    print(f"{name}: {figures.error_count} errors", file=sys.stderr)
    for kind, count, errors, p50, p95 in figures.rows():
        print(
            f"  {kind:<32} {count:6d}  errors {errors:3d}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms",
            file=sys.stderr,
        )
        for error in sorted(set(figures.errors.get(kind, [])))[:3]:
            print(f"      {error}", file=sys.stderr)
    return figures


def write_section(path: Path, text: str) -> None:
    """Put ``text`` between this benchmark's markers in ``path``, leaving the rest of it alone."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{SECTION_START}\n{text.rstrip()}\n{SECTION_END}\n"
    if SECTION_START in old and SECTION_END in old:
        head, _, rest = old.partition(SECTION_START)
        _, _, tail = rest.partition(SECTION_END + "\n")
        new = head + block + tail
    else:
        new = old.rstrip() + "\n\n" + block if old else block
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cameras and claimers writing at once.")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--cameras", type=int, default=6)
    parser.add_argument("--claimers", type=int, default=10)
    parser.add_argument("--postgres", default=os.environ.get("OPENSPACES_TEST_POSTGRES_URL"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--out", default=str(HERE / "WEB.md"))
    args = parser.parse_args(argv)

    results = [("SQLite", run_backend("SQLite", None, args))]
    if args.postgres and not args.no_postgres:
        url, drop = throwaway_postgres(args.postgres, prefix="openspaces_write_load")
        try:
            results.append(("PostgreSQL", run_backend("PostgreSQL", url, args)))
        finally:
            drop()

    lines = [
        "## Concurrent writes: cameras and claimers",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; server and clients on the same machine",
        f"- command: `python -m benchmarks.write_load --seconds {args.seconds:g} "
        f"--cameras {args.cameras} --claimers {args.claimers}`",
        f"- load: {args.cameras} cameras posting scans without pause (each moves "
        f"{len(CELLS)} stickies), {args.claimers} claimers opening a blank sticky and claiming it, "
        "then editing their stickies; `openspaces serve --threads 32`, which runs gunicorn with "
        "one gevent worker where it is installed (as here) and waitress with 32 threads otherwise",
        "- an error is any answer but the expected one (302 for a claim or edit, 200/201 for a "
        "scan, 200 for a page) or a dropped connection",
        "",
        "| database | request | requests | errors | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, figures in results:
        for kind, count, errors, p50, p95 in figures.rows():
            lines.append(f"| {name} | {kind} | {count} | {errors} | {p50:.1f} | {p95:.1f} |")
    write_section(Path(args.out), "\n".join(lines))
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if any(figures.error_count for _, figures in results) else 0


if __name__ == "__main__":
    sys.exit(main())
