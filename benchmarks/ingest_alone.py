"""One wall camera alone on the served app, on SQLite and on PostgreSQL: what a scan costs.

    python -m benchmarks.ingest_alone                 # SQLite, then PostgreSQL if a server is named
    python -m benchmarks.ingest_alone --scans 400

For each database a fresh instance gets the demo event (as benchmarks/web_locust.py sets it up),
``openspaces serve --workers 2`` serves it on a free loopback port, and one camera posts scans
on one keep-alive connection, each moving its sticky between two cells, as the Locust cameras do:
back to back, then with a pause of 20 ms after each answer (a real camera pauses seconds, and a
server that waits between requests takes longer to answer the next). Nothing else runs: no
phones, no kiosks. The first 20 scans of each run warm the server up and are not counted. PostgreSQL runs when ``OPENSPACES_TEST_POSTGRES_URL`` names a server (a
database is created and dropped). The table goes into its own section of benchmarks/WEB.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.servers import free_port
from benchmarks.web_locust import ROOT, postgres_database, setup_instance, wait_for, write_section

HERE = Path(__file__).parent
WARM_UP = 20
LABEL = "<!-- ingest-alone: written by benchmarks/ingest_alone.py -->"


def _request(conn, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read()


PAUSES_MS = (0, 20)


def measure(database_url: str, *, scans: int) -> dict[int, list[float]]:
    """Serve a fresh demo instance on ``database_url``; return each counted scan's time in ms,
    by the pause in ms after each answer."""
    with tempfile.TemporaryDirectory() as workdir:
        instance = str(Path(workdir, "instance"))
        Path(instance).mkdir()
        token = setup_instance(instance, database_url)["tokens"][0]
        port = free_port()
        env = {
            **os.environ,
            "OPENSPACES_INSTANCE": instance,
            "OPENSPACES_DATABASE_URL": database_url,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for(port)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            auth = {"Authorization": f"Bearer {token}"}
            manifest = json.loads(_request(conn, "GET", "/api/manifest", headers=auth)[1])
            board = json.loads(_request(conn, "GET", "/api/board")[1])
            placed = [s for s in board["stickies"] if s["status"] == "placed"]
            wall = {s["code"]: (s["room"], s["slot"]) for s in placed}
            taken = set(wall.values())
            free = [
                (room["name"], slot["start"])
                for room in manifest["rooms"]
                for slot in manifest["slots"]
                if (room["name"], slot["start"]) not in taken
            ]
            mine = placed[0]["code"]
            cells = [wall[mine], free[0]]
            times: dict[int, list[float]] = {pause: [] for pause in PAUSES_MS}
            runs = [(pause, n) for pause in PAUSES_MS for n in range(WARM_UP + scans)]
            for k, (pause, n) in enumerate(runs):
                wall[mine] = cells[k % 2]
                body = {
                    "scan_id": f"alone-{k}",
                    "board_found": True,
                    "stickies": [
                        {"code": code, "room": room, "slot": slot, "via": "marker"}
                        for code, (room, slot) in wall.items()
                    ],
                }
                started = time.perf_counter()
                status, answer = _request(
                    conn,
                    "POST",
                    "/api/scans",
                    json.dumps(body),
                    {**auth, "Content-Type": "application/json"},
                )
                # Every scan but the first (the sticky where it was) moves the sticky.
                if status != 201 or (k and not json.loads(answer)["changes"]):
                    raise SystemExit(f"scan {k}: {status} {answer[:200]!r}")
                if n >= WARM_UP:
                    times[pause].append((time.perf_counter() - started) * 1000)
                time.sleep(pause / 1000)
            return times
        finally:
            os.killpg(server.pid, signal.SIGINT)  # gunicorn's quick shutdown
            server.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One camera alone, on SQLite and PostgreSQL.")
    parser.add_argument("--scans", type=int, default=400, help="counted scans per database")
    parser.add_argument("--out", default=str(HERE / "WEB.md"))
    args = parser.parse_args(argv)

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{folder}/instance.sqlite"
        rows.append(("SQLite", measure(sqlite_url, scans=args.scans)))
    if os.environ.get("OPENSPACES_TEST_POSTGRES_URL"):
        url, drop = postgres_database()
        try:
            rows.append(("PostgreSQL", measure(url, scans=args.scans)))
        finally:
            drop()
    lines = [
        LABEL,
        "## One camera alone: what a scan costs on each database",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, "
        f"load average at the end {os.getloadavg()[0]:.1f}",
        f"- command: `python -m benchmarks.ingest_alone --scans {args.scans}`",
        "- one camera posts scans to `openspaces serve --workers 2` (gunicorn, gevent workers), back "
        "to back and then with a pause after each answer; each moves its sticky between two cells; "
        "no phones, no kiosks",
        "",
        "| database | pause after each answer | scans | p50 ms | p90 ms | mean ms |",
        "|---|---|---|---|---|---|",
    ]
    for pause in PAUSES_MS:
        for name, times in rows:
            ordered = sorted(times[pause])
            lines.append(
                f"| {name} | {pause} ms | {len(ordered)} | {statistics.median(ordered):.1f} | "
                f"{ordered[int(len(ordered) * 0.9)]:.1f} | {statistics.fmean(ordered):.1f} |"
            )
    if len(rows) == 2:
        lines.append("")
        for pause in PAUSES_MS:
            sqlite, postgres = (statistics.median(times[pause]) for _, times in rows)
            lines.append(
                f"- pause {pause} ms: PostgreSQL's p50 is {postgres / sqlite:.2f} x SQLite's"
            )
    lines.append(LABEL.replace("<!-- ", "<!-- /"))
    text = "\n".join(lines)
    write_section(Path(args.out), text, LABEL)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
