"""A conference break on one server, measured with Locust: writes its section of benchmarks/WEB.md.

    python -m benchmarks.web_locust                           # SQLite, 2,000 phones for 60 s
    python -m benchmarks.web_locust --db postgres --workers 2 # PostgreSQL (OPENSPACES_TEST_POSTGRES_URL)
    python -m benchmarks.web_locust --users 200 --seconds 20  # a quick look

It sets up the demo event in a temporary instance (plus blank stickies to claim and one token per
camera), starts ``openspaces serve`` on a free loopback port, and measures two things on it:

1. Throughput side by side: the board page and ``/healthz`` (a route that does nothing), each in a
   closed loop from the same client threads.
2. The break (benchmarks/locustfile.py): phones on the live board, 3 kiosks and 3 cameras, Locust
   headless for ``--seconds``. The table lists every request kind with its count, errors and
   percentiles, and how many open live pages saw each camera change within 3 s.

Server and load generator share this machine; its load average is written beside the figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.servers import free_port, throwaway_postgres, wait_for

HERE = Path(__file__).parent
ROOT = HERE.parent
BLANKS = 40
CAMERAS = 3


def load_average() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def setup_instance(instance: str, database_url: str) -> dict:
    """Create the demo event, blank stickies and camera tokens; return claim pages and tokens."""
    from app import create_app
    from app.extensions import db
    from app.models import StickyKind
    from app.services.claim_keys import claim_key
    from app.services.demo import seed_demo
    from app.services.organizers import create_token
    from app.services.stickies import allocate_stickies

    app = create_app(
        {"INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "load"}
    )
    with app.app_context():
        seed_demo(base_url="http://localhost:5000")
        from app.services.events import get_current_event

        event = get_current_event()
        blanks = allocate_stickies(
            event=event, count=BLANKS, kind=StickyKind.SESSION, template="note-76", paper="a4"
        ).stickies
        tokens = [create_token(name=f"load-cam-{i}")[1] for i in range(CAMERAS)]
        db.session.commit()
        # What a phone opens from each sticky's QR code.
        claims = [f"/s/{s.code}?k={claim_key(event=event, code=s.code)}" for s in blanks]
        db.session.remove()
        db.engine.dispose()
    # Recognition is not part of this load; a venue that runs it has a core for it.
    Path(instance, "config.py").write_text("OCR_ENGINE = None\n", encoding="utf-8")
    return {"claims": claims, "tokens": tokens}


def closed_loop(port: int, path: str, *, clients: int, seconds: float) -> dict:
    """Request ``path`` from ``clients`` threads, each on one keep-alive connection, for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def run() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - started)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "per_s": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "errors": errors,
    }


def side_by_side(
    port: int, paths: dict[str, str], *, rounds: int = 5, seconds: float = 2.0
) -> dict:
    """Run ``closed_loop`` on each path in turn, ``rounds`` times, so that all see the same load."""
    runs: dict[str, list[dict]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, path in paths.items():
            runs[name].append(closed_loop(port, path, clients=20, seconds=seconds))
    return {
        name: {
            "requests": sum(r["requests"] for r in found),
            "per_s": sum(r["per_s"] for r in found) / len(found),
            "p50_ms": statistics.median(r["p50_ms"] for r in found),
            "p95_ms": max(r["p95_ms"] for r in found),
            "errors": sum(r["errors"] for r in found),
        }
        for name, found in runs.items()
    }


def _copy_lines(pipe, path: Path) -> None:
    with open(path, "a", encoding="utf-8") as out:
        for line in pipe:
            out.write(line)
            out.flush()


def run_locust(
    port: int, setup: dict, *, users: int, seconds: int, workdir: str, steady: bool = False
) -> dict:
    result = Path(workdir, "changes.json")
    env = {
        **os.environ,
        "OPENSPACES_LOAD_TOKENS": ",".join(setup["tokens"]),
        "OPENSPACES_LOAD_CLAIMS": ",".join(setup["claims"]),
        "OPENSPACES_LOAD_RESULT": str(result),
    }
    prefix = str(Path(workdir, "locust"))
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--users",
        str(users + 2 * CAMERAS),
        "--spawn-rate",
        str(max(1, users // 10)),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "5",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        prefix,
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    if steady:
        # Count from the moment every phone is connected: the arrival wave is not in the table.
        command.append("--reset-stats")
    subprocess.run(command, env=env, cwd=ROOT, check=False, timeout=seconds + 120)
    rows = list(csv.DictReader(open(prefix + "_stats.csv", encoding="utf-8")))
    changes = json.loads(result.read_text()) if result.exists() else {}
    return {"rows": rows, "changes": changes}


def postgres_database() -> tuple[str, Callable[[], None]]:
    server = os.environ.get("OPENSPACES_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("--db postgres needs OPENSPACES_TEST_POSTGRES_URL")
    return throwaway_postgres(server, prefix="openspaces_load")


def section(args, server_line: str, loads: tuple[str, str], throughput: dict, run: dict) -> str:
    label = (
        f"{args.users} phones, {args.db}, {args.workers} worker{'s' if args.workers > 1 else ''}"
    )
    if args.steady:
        label += ", steady"
    lines = [
        f"<!-- web-locust {label} -->",
        f"### {args.users:,} phones, 3 kiosks, 3 cameras for {args.seconds} s: {args.db}, "
        f"{args.workers} worker{'s' if args.workers > 1 else ''}"
        + (", counted once all phones are in" if args.steady else ", arrival wave included"),
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average before {loads[0]}, after {loads[1]} "
        "(other developers' jobs share the cores)",
        f"- command: `python -m benchmarks.web_locust --db {args.db} --workers {args.workers} "
        f"--users {args.users} --seconds {args.seconds}{' --steady' if args.steady else ''}`; "
        f"the phones arrive at {max(1, args.users // 10)} a second",
        f"- server: {server_line}; Locust {locust_version()} in one process on the same machine",
        "",
        "| request | requests | errors | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in run["rows"]:
        name = row["Name"] if row["Type"] != "" else "all"
        lines.append(
            f"| {row['Type']} {name} | {row['Request Count']} | {row['Failure Count']} | "
            f"{row['50%']} | {row['95%']} | {row['99%']} | {row['Max Response Time']} |"
        )
    c = run["changes"]
    if c:
        lines += [
            "",
            f"Live pages: {c['streams']} streams opened; {c['changes']} camera changes; "
            f"open live pages that saw a change within 3 s: {c['page_changes_seen']:,}, missed: "
            f"{c['page_changes_missed']:,}; slowest seen {c['slowest_seen_s']} s after the commit. "
            f"Errors in the server's log: {run.get('server_errors', 0)}.",
        ]
        if c.get("scan_ms"):
            scans = c["scan_ms"]
            lines += [
                "",
                f"Camera scans to the microsecond: {len(scans)} answered, p50 "
                f"{statistics.median(scans):.1f} ms, mean {statistics.fmean(scans):.1f} ms.",
            ]
    lines += [
        "",
        "| closed loop, 20 clients, 5 x 2 s each in turn | req/s | p50 ms | p95 ms | errors |",
        "|---|---|---|---|---|",
    ]
    for name, f in throughput.items():
        lines.append(
            f"| {name} | {f['per_s']:.0f} | {f['p50_ms']:.1f} | {f['p95_ms']:.1f} | {f['errors']} |"
        )
    board, trivial = throughput["/board"]["per_s"], throughput["/healthz (trivial)"]["per_s"]
    lines += ["", f"/board throughput is {100 * board / trivial:.0f}% of the trivial route's.", ""]
    lines.append(f"<!-- /web-locust {label} -->")
    return "\n".join(lines)


def locust_version() -> str:
    from importlib.metadata import version

    return version("locust")


def write_labelled(out: str, lines: list[str], label: str) -> None:
    """Close ``lines`` (which open with ``label``), put them in their section of ``out``, show them."""
    text = "\n".join([*lines, label.replace("<!-- ", "<!-- /")])
    write_section(Path(out), text, label)
    print(text)


def write_section(path: Path, text: str, label_line: str) -> None:
    start = label_line
    end = label_line.replace("<!-- ", "<!-- /")
    old = path.read_text(encoding="utf-8") if path.exists() else "# Web load benchmark\n"
    if start in old and end in old:
        before, rest = old.split(start, 1)
        _, after = rest.split(end, 1)
        new = before + text + after
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A conference break on one server, with Locust.")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--users", type=int, default=2000, help="phones")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--steady",
        action="store_true",
        help="count requests only once every phone has arrived (Locust's --reset-stats)",
    )
    parser.add_argument("--out", default=str(HERE / "WEB.md"))
    args = parser.parse_args(argv)

    drop = None
    with tempfile.TemporaryDirectory() as workdir:
        instance = str(Path(workdir, "instance"))
        if args.db == "postgres":
            database_url, drop = postgres_database()
        else:
            database_url = f"sqlite:///{instance}/openspaces.sqlite"
        try:
            Path(instance).mkdir()
            setup = setup_instance(instance, database_url)
            port = free_port()
            env = {
                **os.environ,
                "OPENSPACES_INSTANCE": instance,
                "OPENSPACES_DATABASE_URL": database_url,
            }
            server = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--port", str(port)]
                + ["--workers", str(args.workers)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            try:
                wait_for(port)
                server_line = server.stdout.readline().strip()
                # Keep reading what the server writes: a full pipe would stop it mid-request.
                server_log = Path(workdir, "server.log")
                threading.Thread(
                    target=_copy_lines, args=(server.stdout, server_log), daemon=True
                ).start()
                loads = [load_average()]
                throughput = side_by_side(
                    port, {"/healthz (trivial)": "/healthz", "/board": "/board"}
                )
                print(json.dumps(throughput), file=sys.stderr)
                run = run_locust(
                    port,
                    setup,
                    users=args.users,
                    seconds=args.seconds,
                    workdir=workdir,
                    steady=args.steady,
                )
                loads.append(load_average())
                print(json.dumps(run["changes"]), file=sys.stderr)
                logged = server_log.read_text(encoding="utf-8", errors="replace")
                if "Traceback" in logged:
                    print(f"the server logged {logged.count('Traceback')} errors:", file=sys.stderr)
                    print(logged[-4000:], file=sys.stderr)
                run["server_errors"] = logged.count("Traceback")
            finally:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    # gunicorn's master and its workers form the session the server started.
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
        finally:
            if drop:
                drop()
    text = section(args, server_line, tuple(loads), throughput, run)
    write_section(Path(args.out), text, text.splitlines()[0])
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
