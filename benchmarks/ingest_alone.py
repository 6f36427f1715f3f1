"""One wall camera on the served app, on SQLite and on PostgreSQL in turn: what a scan costs.

    python -m benchmarks.ingest_alone                 # needs OPENSPACES_TEST_POSTGRES_URL
    python -m benchmarks.ingest_alone --scans 400 --idle-scans 60

Two fresh instances get the demo event (as benchmarks/web_locust.py sets it up), one on SQLite
and one on a PostgreSQL database created for the run (and dropped after it). Each is served by
``openspaces serve --workers 2`` on a free loopback port, both at once. One camera posts scans
to each on a keep-alive connection, each scan moving its sticky between two cells as the Locust
cameras do, to the two servers in turn, so that what else the shared machine does at a moment
falls on both alike. First back to back, then with a pause of 20 ms after each answer, then with
a pause of a second (a real camera pauses seconds: the server and the database sleep between its
scans, and take longer to answer the next). Nothing else runs: no phones, no kiosks. The first 20
scans to each warm the servers up and are not counted. The table goes into its own section of
benchmarks/WEB.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.servers import serving
from benchmarks.web_locust import postgres_database, setup_instance, write_labelled

HERE = Path(__file__).parent
WARM_UP = 20
LABEL = "<!-- ingest-alone: written by benchmarks/ingest_alone.py -->"
PAUSES_MS = (0, 20, 1000)
# Fewer scans with a long pause: each takes a second.
IDLE_PAUSE_MS = 1000


def _request(conn, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read()


class Camera:
    """One camera posting to one served instance: its sticky goes back and forth between two cells."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.auth = {"Authorization": f"Bearer {token}"}
        manifest = json.loads(_request(self.conn, "GET", "/api/manifest", headers=self.auth)[1])
        board = json.loads(_request(self.conn, "GET", "/api/board")[1])
        placed = [s for s in board["stickies"] if s["status"] == "placed"]
        self.wall = {s["code"]: (s["room"], s["slot"]) for s in placed}
        taken = set(self.wall.values())
        free = [
            (room["name"], slot["start"])
            for room in manifest["rooms"]
            for slot in manifest["slots"]
            if (room["name"], slot["start"]) not in taken
        ]
        self.mine = placed[0]["code"]
        self.cells = [self.wall[self.mine], free[0]]
        self.sent = 0

    def scan(self) -> float:
        """Post the next scan; return its time in ms."""
        k = self.sent
        self.sent += 1
        self.wall[self.mine] = self.cells[k % 2]
        body = {
            "scan_id": f"alone-{k}",
            "board_found": True,
            "stickies": [
                {"code": code, "room": room, "slot": slot, "via": "marker"}
                for code, (room, slot) in self.wall.items()
            ],
        }
        started = time.perf_counter()
        status, answer = _request(
            self.conn,
            "POST",
            "/api/scans",
            json.dumps(body),
            {**self.auth, "Content-Type": "application/json"},
        )
        elapsed = (time.perf_counter() - started) * 1000
        # Every scan but the first (the sticky where it was) moves the sticky.
        if status != 201 or (k and not json.loads(answer)["changes"]):
            raise SystemExit(f"scan {k}: {status} {answer[:200]!r}")
        return elapsed


@contextlib.contextmanager
def served(database_url: str, workdir: str):
    """Serve a fresh demo instance on ``database_url`` with two workers; yield its port and what
    ``setup_instance`` made (blank codes, camera tokens)."""
    instance = str(Path(workdir, "instance"))
    Path(instance).mkdir()
    setup = setup_instance(instance, database_url)
    with serving(instance, "--workers", "2", database_url=database_url) as (port, _):
        yield port, setup


def measure(cameras: dict[str, Camera], *, scans: int, idle_scans: int) -> dict:
    """Post to the cameras' servers in turn; return each counted scan's time in ms, by database
    and by the pause in ms after each answer."""
    times = {name: {pause: [] for pause in PAUSES_MS} for name in cameras}
    for pause in PAUSES_MS:
        count = idle_scans if pause >= IDLE_PAUSE_MS else scans
        for n in range(-WARM_UP if pause == PAUSES_MS[0] else 0, count):
            for name, camera in cameras.items():
                elapsed = camera.scan()
                if n >= 0:
                    times[name][pause].append(elapsed)
                time.sleep(pause / 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One camera, on SQLite and PostgreSQL in turn.")
    parser.add_argument(
        "--scans", type=int, default=400, help="counted scans per database and short pause"
    )
    parser.add_argument(
        "--idle-scans", type=int, default=60, help="counted scans with a pause of a second"
    )
    parser.add_argument("--out", default=str(HERE / "WEB.md"))
    args = parser.parse_args(argv)
    if not os.environ.get("OPENSPACES_TEST_POSTGRES_URL"):
        raise SystemExit("name a PostgreSQL server in OPENSPACES_TEST_POSTGRES_URL")

    url, drop = postgres_database()
    try:
        with contextlib.ExitStack() as stack:
            folders = [stack.enter_context(tempfile.TemporaryDirectory()) for _ in range(2)]
            urls = {"SQLite": f"sqlite:///{folders[0]}/instance.sqlite", "PostgreSQL": url}
            cameras = {}
            for (name, database_url), folder in zip(urls.items(), folders, strict=True):
                port, setup = stack.enter_context(served(database_url, folder))
                cameras[name] = Camera(port, setup["tokens"][0])
            times = measure(cameras, scans=args.scans, idle_scans=args.idle_scans)
    finally:
        drop()
    lines = [
        LABEL,
        "## One camera: what a scan costs on each database, measured in turn",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, "
        f"load average at the end {os.getloadavg()[0]:.1f}",
        f"- command: `python -m benchmarks.ingest_alone --scans {args.scans} "
        f"--idle-scans {args.idle_scans}`",
        "- one camera posts scans to each of two `openspaces serve --workers 2` (gunicorn, gevent "
        "workers), one on SQLite and one on PostgreSQL, to the two in turn: back to back, then "
        "with a pause after each answer; each scan moves its sticky between two cells; no phones, "
        "no kiosks",
        "",
        "| database | pause after each answer | scans | p50 ms | p90 ms | mean ms |",
        "|---|---|---|---|---|---|",
    ]
    for pause in PAUSES_MS:
        for name, by_pause in times.items():
            ordered = sorted(by_pause[pause])
            lines.append(
                f"| {name} | {pause} ms | {len(ordered)} | {statistics.median(ordered):.1f} | "
                f"{ordered[int(len(ordered) * 0.9)]:.1f} | {statistics.fmean(ordered):.1f} |"
            )
    lines.append("")
    for pause in PAUSES_MS:
        sqlite, postgres = (statistics.median(times[name][pause]) for name in times)
        lines.append(f"- pause {pause} ms: PostgreSQL's p50 is {postgres / sqlite:.2f} x SQLite's")
    write_labelled(args.out, lines, LABEL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
