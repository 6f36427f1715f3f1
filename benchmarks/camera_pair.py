"""Three cameras and three kiosks on SQLite and on PostgreSQL at once, with Locust: scan times
side by side.

    python -m benchmarks.camera_pair                  # needs OPENSPACES_TEST_POSTGRES_URL
    python -m benchmarks.camera_pair --seconds 120

The break of benchmarks/web_locust.py without its phones, on two servers at once: two fresh
instances with the demo event, one on SQLite and one on a PostgreSQL database made for the run,
each served by ``openspaces serve --workers 2``, and one Locust per server, started together.
Each Locust runs the three kiosks (live pages that fetch the grid on a change) and the three
cameras (a scan every 5 s, each moving its sticky). Both runs share the machine at the same
moments, so what else it does falls on both alike, and their scan times can be compared. The
table goes into its own section of benchmarks/WEB.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

from benchmarks.ingest_alone import served
from benchmarks.web_locust import postgres_database, run_locust, write_labelled

HERE = Path(__file__).parent
LABEL = "<!-- camera-pair: written by benchmarks/camera_pair.py -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cameras and kiosks on both databases at once.")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--out", default=str(HERE / "WEB.md"))
    args = parser.parse_args(argv)
    if not os.environ.get("OPENSPACES_TEST_POSTGRES_URL"):
        raise SystemExit("name a PostgreSQL server in OPENSPACES_TEST_POSTGRES_URL")

    url, drop = postgres_database()
    runs: dict[str, dict] = {}
    try:
        with contextlib.ExitStack() as stack:
            folders = [stack.enter_context(tempfile.TemporaryDirectory()) for _ in range(2)]
            urls = {"SQLite": f"sqlite:///{folders[0]}/instance.sqlite", "PostgreSQL": url}
            servers = {
                name: stack.enter_context(served(database_url, folder))
                for (name, database_url), folder in zip(urls.items(), folders, strict=True)
            }

            def run(name: str, folder: str) -> None:
                port, setup = servers[name]
                runs[name] = run_locust(port, setup, users=0, seconds=args.seconds, workdir=folder)

            threads = [
                threading.Thread(target=run, args=(name, folder))
                for name, folder in zip(servers, folders, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        drop()

    lines = [
        LABEL,
        "## Three cameras and three kiosks on each database at once",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, "
        f"load average at the end {os.getloadavg()[0]:.1f}",
        f"- command: `python -m benchmarks.camera_pair --seconds {args.seconds}`",
        "- two `openspaces serve --workers 2` (gunicorn, gevent workers), one on SQLite and one on "
        "PostgreSQL, each with a Locust of its own on the same machine, all at once: three "
        "cameras posting a scan every 5 s and three kiosks following their live streams",
        "",
        "| database | scans answered | errors | p50 ms | p90 ms | mean ms | kiosk changes seen "
        "within 3 s |",
        "|---|---|---|---|---|---|---|",
    ]
    medians = {}
    for name in servers:
        run = runs[name]
        changes = run["changes"]
        scans = changes.get("scan_ms") or []
        errors = sum(
            int(row["Failure Count"]) for row in run["rows"] if row["Name"] != "Aggregated"
        )
        if not scans:
            lines.append(f"| {name} | 0 | {errors} | | | | |")
            continue
        medians[name] = statistics.median(scans)
        lines.append(
            f"| {name} | {len(scans)} | {errors} | {medians[name]:.1f} | "
            f"{scans[int(len(scans) * 0.9)]:.1f} | {statistics.fmean(scans):.1f} | "
            f"{changes['page_changes_seen']} of "
            f"{changes['page_changes_seen'] + changes['page_changes_missed']} |"
        )
    if len(medians) == 2:
        ratio = medians["PostgreSQL"] / medians["SQLite"]
        lines += ["", f"PostgreSQL's p50 is {ratio:.2f} x SQLite's."]
    write_labelled(args.out, lines, LABEL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
