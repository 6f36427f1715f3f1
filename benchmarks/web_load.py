"""Measure how the web app holds up when a conference hall of phones opens it.

    python -m benchmarks.web_load            # about a minute; writes benchmarks/WEB.md
    python -m benchmarks.web_load --against ../previous-release   # and its camera rows after

It sets up the demo in a temporary instance, serves it with waitress (``openspaces serve``) on a free
loopback port, and sends bounded bursts of requests from concurrent client threads: the board page,
the live grid with and without a matching ETag (what a polling phone sends), a session page, the board
JSON, and camera scans. Every request goes to 127.0.0.1 only, and every loop stops by itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.servers import free_port

HERE = Path(__file__).parent


class Client:
    """One keep-alive HTTP connection, as one phone would hold."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()


def burst(port: int, make_request, *, clients: int, per_client: int) -> dict:
    """Send `clients` x `per_client` requests from concurrent threads; return the figures."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def run(index: int) -> None:
        client = Client(port)
        for n in range(per_client):
            method, path, body, headers = make_request(index, n)
            started = time.perf_counter()
            status, _, _ = client.request(method, path, body, headers)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return figures(latencies, statuses, clients=clients, wall=wall)


def figures(latencies: list[float], statuses: dict, *, clients: int, wall: float) -> dict:
    latencies = sorted(latencies)
    return {
        "requests": len(latencies),
        "clients": clients,
        "per_s": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "statuses": statuses,
        "latencies": latencies,
        "wall": wall,
    }


def alternate(cases, *, clients: int, per_client: int, rounds: int = 5) -> list[dict]:
    """Run bursts of each case, a (port, make_request) pair, in turn, `rounds` times; sum each
    case's figures.

    Cases measured in turn see the same load from the rest of the machine, so their figures
    compare even when that load changes during the run.
    """
    parts: list[list[dict]] = [[] for _ in cases]
    for r in range(rounds):
        for k, (port, make) in enumerate(cases):
            share = per_client // rounds + (1 if r < per_client % rounds else 0)
            offset = sum(p["requests"] // clients for p in parts[k])
            parts[k].append(
                burst(
                    port,
                    lambda i, n, m=make, o=offset: m(i, o + n),
                    clients=clients,
                    per_client=share,
                )
            )
    out = []
    for runs in parts:
        statuses: dict[int, int] = {}
        for run in runs:
            for status, count in run["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        out.append(
            figures(
                [t for run in runs for t in run["latencies"]],
                statuses,
                clients=clients,
                wall=sum(run["wall"] for run in runs),
            )
        )
    return out


def sticky_view_jpeg() -> bytes:
    """Return a camera's view of one 76 mm sticky at 4 px/mm as JPEG, as scanner.cut_views cuts it."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(1)
    image = np.full((304, 304, 3), (130, 235, 255), np.uint8)
    for _ in range(40):  # pen strokes
        a, b = rng.integers(20, 284, 2), rng.integers(20, 284, 2)
        cv2.line(image, tuple(int(v) for v in a), tuple(int(v) for v in b), (90, 30, 20), 2)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return data.tobytes()


def multipart(fields: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """Encode form fields {name: (filename or "", content, content type)} as multipart/form-data."""
    boundary = "openspacesloadboundary"
    parts = []
    for name, (filename, content, content_type) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        head += f"Content-Type: {content_type}\r\n\r\n"
        parts.append(head.encode() + content + b"\r\n")
    data = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return data, f"multipart/form-data; boundary={boundary}"


class Served:
    """The demo event served by one checkout of the app, on a free loopback port."""

    def __init__(self, instance: str, tree: str | None = None) -> None:
        env = {**os.environ, "OPENSPACES_INSTANCE": instance}
        if tree:
            env["PYTHONPATH"] = str(Path(tree).resolve())
        run = {"env": env, "check": True, "cwd": tree or None}
        subprocess.run(
            [sys.executable, "-m", "app", "demo", "--no-serve"], stdout=subprocess.DEVNULL, **run
        )
        made = subprocess.run(
            [sys.executable, "-m", "app", "token", "create", "load-cam"],
            capture_output=True,
            text=True,
            **run,
        )
        self.token = made.stdout.strip().splitlines()[-1]
        self.port = free_port()
        usage = subprocess.run(
            [sys.executable, "-m", "app", "serve", "--help"], capture_output=True, text=True, **run
        ).stdout
        # Releases before the choice of servers served with waitress only.
        server = ["--server", "waitress"] if "--server" in usage else []
        self.server = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", *server]
            + ["--port", str(self.port), "--threads", "32"],
            env=env,
            cwd=tree or None,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        probe = None
        for _ in range(100):
            try:
                probe = Client(self.port).request("GET", "/api/board")
                break
            except OSError:
                time.sleep(0.1)
        if probe is None:
            self.stop()
            raise SystemExit("the server did not start")
        self.board = json.loads(probe[2])
        self.placed = [s for s in self.board["stickies"] if s["status"] == "placed"]

    def stop(self) -> None:
        self.server.terminate()
        self.server.wait()

    def scan(self, index: int, n: int, *, prefix: str = "load"):
        """A camera's scan of the whole board, as JSON: every placed sticky where it is."""
        body = {
            "scan_id": f"{prefix}-{index}-{n}",
            "board_found": True,
            "warnings": [],
            "hidden_cells": [],
            "stickies": [
                {"code": s["code"], "room": s["room"], "slot": s["slot"], "via": "marker"}
                for s in self.placed
            ],
        }
        return (
            "POST",
            "/api/scans",
            json.dumps(body),
            {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )

    def scan_with_views(self, index: int, n: int, *, view: bytes, prefix: str = "views"):
        """The same scan with two sticky views, each better than the last: all are kept."""
        body = json.loads(self.scan(index, n, prefix=prefix)[2])
        fields = {"scan": ("", json.dumps(body).encode(), "application/json")}
        for k in range(2):
            code = self.placed[(2 * index + k) % len(self.placed)]["code"]
            score = {"px_per_mm": 2.0 + 0.01 * n, "sharpness": 0.6, "glare": 0.0, "coverage": 1.0}
            fields[f"view.{code}"] = (f"{code}.jpg", view, "image/jpeg")
            fields[f"score.{code}"] = ("", json.dumps(score).encode(), "application/json")
        data, content_type = multipart(fields)
        return (
            "POST",
            "/api/scans",
            data,
            {"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
        )


def _measure(tree: str | None, args, *, view: bytes, pages: bool) -> list[tuple[str, dict]]:
    """Serve the demo from the checkout `tree` (None: this one) and time it; return the rows."""
    with tempfile.TemporaryDirectory() as instance:
        served = Served(instance, tree)
        try:
            port = served.port
            rows = []
            if pages:
                code = next(s["code"] for s in served.board["stickies"] if s["kind"] == "session")
                _, headers, _ = Client(port).request("GET", "/board/grid")
                etag = {k.lower(): v for k, v in headers.items()}["etag"]
                cases = [
                    ("board page", lambda i, n: ("GET", "/board", None, {})),
                    ("live grid, changed", lambda i, n: ("GET", "/board/grid", None, {})),
                    (
                        "live grid, unchanged (304)",
                        lambda i, n: ("GET", "/board/grid", None, {"If-None-Match": etag}),
                    ),
                    ("session page", lambda i, n: ("GET", f"/s/{code}", None, {})),
                    ("board JSON", lambda i, n: ("GET", "/api/board", None, {})),
                ]
                for name, make in cases:
                    rows.append(
                        (name, burst(port, make, clients=args.clients, per_client=args.requests))
                    )
            # A camera's scans with and without sticky views, in turn (see `alternate`): one
            # camera (a wall camera posts every few seconds, so scans seldom wait for each
            # other), then four posting back to back.
            for cameras, per_camera in ((1, 4 * args.camera_requests), (4, args.camera_requests)):
                scans = [
                    (port, lambda i, n, c=cameras: served.scan(i, n, prefix=f"load{c}")),
                    (
                        port,
                        lambda i, n, c=cameras: served.scan_with_views(
                            i, n, view=view, prefix=f"views{c}"
                        ),
                    ),
                ]
                plain, with_views = alternate(scans, clients=cameras, per_client=per_camera)
                clients = f"{cameras} client{'s' if cameras > 1 else ''}"
                rows += [
                    (f"camera scan ({clients})", plain),
                    (f"camera scan with 2 sticky views ({clients})", with_views),
                ]
        finally:
            served.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load the web app on loopback and time it.")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients per burst")
    parser.add_argument("--requests", type=int, default=25, help="requests per client per burst")
    parser.add_argument(
        "--camera-requests", type=int, default=100, help="scans per camera for each camera row"
    )
    parser.add_argument(
        "--against",
        metavar="DIR",
        help="another checkout of the project (a previous release): its camera rows are "
        "measured right after this one's, each server alone on the machine",
    )
    parser.add_argument("--out", default=str(HERE / "WEB.md"), help="where to write the table")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    view = sticky_view_jpeg()
    rows = _measure(None, args, view=view, pages=True)
    if args.against:
        # One server at a time: a server's title reading in the background must not load the
        # other's turn.
        rows += [
            (f"{name}, {args.against}", f)
            for name, f in _measure(args.against, args, view=view, pages=False)
        ]
    for name, f in rows:
        print(
            f"{name:<28} {f['per_s']:7.0f} req/s  p50 {f['p50_ms']:6.1f} ms  "
            f"p95 {f['p95_ms']:6.1f} ms  {f['statuses']}",
            file=sys.stderr,
        )

    lines = [
        "# Web load benchmark",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; 1-minute load average {load:.1f} at the start",
        "- command: `python -m benchmarks.web_load --clients "
        f"{args.clients} --requests {args.requests} --camera-requests {args.camera_requests}"
        + (f" --against {args.against}" if args.against else "")
        + "`",
        "- server: `openspaces serve --threads 32` (waitress) on the demo event, SQLite; clients on the "
        "same 2-core machine, one keep-alive connection each",
        "",
        "| request | clients | requests | req/s | p50 ms | p95 ms | statuses |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, f in rows:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(f["statuses"].items()))
        lines.append(
            f"| {name} | {f['clients']} | {f['requests']} | {f['per_s']:.0f} | {f['p50_ms']:.1f} | "
            f"{f['p95_ms']:.1f} | {statuses} |"
        )
    if args.against:
        revision = subprocess.run(
            ["git", "-C", args.against, "log", "-1", "--format=%h (%cs)"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        lines += ["", f"`{args.against}` is a checkout of {revision or 'another release'}."]
    lines += [
        "",
        "The camera rows of a server are measured in pairs, one camera and then four posting back "
        "to back, and the two rows of a pair in turn, five bursts each, so that both see "
        "the same load from the rest of the machine. With `--against`, the other checkout's rows "
        "come after, from a server and demo event of its own, once this one has stopped. A scan "
        "lists every placed "
        "sticky where it is. A scan with views posts the scan and two 304 x 304 JPEG views of placed "
        "stickies, each better than the last, so every view is stored (the worst case: a camera "
        "sends a view only when it beats what it sent before).",
    ]
    # Other benchmarks append their own sections (benchmarks/write_load.py): keep them.
    out = Path(args.out)
    previous = out.read_text(encoding="utf-8") if out.exists() else ""
    kept = previous[previous.index("<!--") :] if "<!--" in previous else ""
    out.write_text("\n".join(lines) + "\n" + ("\n" + kept if kept else ""), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
