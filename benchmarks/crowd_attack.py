"""Phones on the board while one laptop attacks it, on each server `openspaces serve` starts.

    python -m benchmarks.crowd_attack                       # both servers, 60 s of attack each
    python -m benchmarks.crowd_attack --phones 300 --seconds 60 --server waitress

A fresh demo instance on SQLite (benchmarks/web_locust.py's set-up) is served by
``openspaces serve --server gunicorn`` (one gevent worker) and then by ``--server waitress``, one
at a time, on a free loopback port. For each, phones first fetch ``/board`` alone (quiet), then
the same phones go on while one client, from the same loopback address, holds:

- slowloris sockets: a GET whose headers never end, one more header line every 5 s, each socket
  opened again as soon as the server drops it;
- slow POSTs: a log-in form that promises a megabyte, sends its first 10 bytes and then nothing,
  opened again when dropped;
- uploads of a PNG of a few hundred kilobytes that decodes to 49 megapixels, posted to
  ``/api/scans`` for the server to scan, each uploader posting again as soon as it is answered
  (201 scanned, or 503 with Retry-After when the scan queue is full).

A phone fetches ``/board`` on a kept-alive connection (opened again when the server closes it),
then waits 1 to 3 s, as a page that someone reloads. Every fetch is timed from request to the
last byte of the answer; a fetch that fails or takes longer than 30 s counts as an error. The
server's memory is the largest resident size of its processes, sampled every half second. All
of it runs in one asyncio loop, on the same machine as the server. The table goes into its own
section of benchmarks/WEB.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.servers import serving
from benchmarks.web_locust import setup_instance, write_labelled

HERE = Path(__file__).parent
LABEL = "<!-- crowd-attack: written by benchmarks/crowd_attack.py -->"
HOST = "127.0.0.1"
FETCH_TIMEOUT_S = 30.0
TRICKLE_S = 5.0


def giant_png(compression: int = 9) -> bytes:
    """Return a PNG of a few hundred kilobytes that decodes to 7000 x 7000 pixels, plain grey
    with a word (``compression``: PNG's 0 to 9; 1 encodes it in a fraction of the time)."""
    import cv2
    import numpy as np

    image = np.full((7000, 7000), 200, np.uint8)
    cv2.putText(image, "board", (100, 3000), cv2.FONT_HERSHEY_SIMPLEX, 20, 0, 40)
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, compression])
    assert ok
    return data.tobytes()


@dataclass
class Tally:
    """What one phase saw: /board fetch times, errors, and what the attackers got."""

    board_ms: list[float] = field(default_factory=list)
    board_errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    slowloris_opened: int = 0
    slow_posts_opened: int = 0
    uploads: dict[int, int] = field(default_factory=dict)
    upload_errors: int = 0
    peak_rss_mb: float = 0.0


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one HTTP/1.1 answer with a Content-Length; return status, body, and keep-alive."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection", "").lower() != "close"


async def phone(port: int, stop: asyncio.Event, tally_of) -> None:
    """Fetch /board on a kept-alive connection, then wait 1 to 3 s; again until ``stop``."""
    reader = writer = None
    await asyncio.sleep(random.uniform(0, 2))
    while not stop.is_set():
        tally: Tally = tally_of()
        start = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(HOST, port), FETCH_TIMEOUT_S
                )
            writer.write(b"GET /board HTTP/1.1\r\nHost: board\r\n\r\n")
            status, _, keep = await asyncio.wait_for(_read_answer(reader), FETCH_TIMEOUT_S)
            if status != 200:
                raise OSError(f"status {status}")
            tally.board_ms.append((time.monotonic() - start) * 1000)
            if not keep:
                writer.close()
                writer = None
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            # A kept-alive connection the server closed while idle is a reconnect, not an error.
            if writer is not None and time.monotonic() - start < FETCH_TIMEOUT_S - 1:
                writer.close()
                writer = None
                continue
            tally.board_errors += 1
            kind = type(exc).__name__
            tally.error_kinds[kind] = tally.error_kinds.get(kind, 0) + 1
            if writer is not None:
                writer.close()
            writer = None
        await asyncio.sleep(random.uniform(1, 3))
    if writer is not None:
        writer.close()


async def trickler(port: int, stop: asyncio.Event, opening: bytes, drip: bytes, count) -> None:
    """Send ``opening``, then ``drip`` every TRICKLE_S (if any), reopening whenever the server
    drops it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        count()
        try:
            writer.write(opening)
            while not stop.is_set():
                try:
                    # Whatever comes back (an answer, or the end) means the server gave up on it.
                    data = await asyncio.wait_for(reader.read(4096), TRICKLE_S)
                    if not data or reader.at_eof():
                        break
                except TimeoutError:
                    if drip:
                        writer.write(drip)
                        await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


async def uploader(port: int, stop: asyncio.Event, token: str, png: bytes, n: int, tally_of):
    """Post the giant PNG for the server to scan, again as soon as it answers."""
    boundary = "crowdattack"
    k = 0
    while not stop.is_set():
        k += 1
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="scan_id"\r\n\r\n'
                f"giant-{n}-{k}-{random.getrandbits(32)}\r\n"
                f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
                f'filename="giant.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
            + png
            + f"\r\n--{boundary}--\r\n".encode()
        )
        head = (
            f"POST /api/scans HTTP/1.1\r\nHost: board\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        tally: Tally = tally_of()
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(head + body)
            status, _, _ = await asyncio.wait_for(_read_answer(reader), 300)
            writer.close()
            tally.uploads[status] = tally.uploads.get(status, 0) + 1
            if status == 503:
                await asyncio.sleep(1)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            tally.upload_errors += 1
            await asyncio.sleep(1)


def _sample_rss(pid: int, stop: threading.Event, tally_of) -> None:
    import psutil

    root = psutil.Process(pid)
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
            rss = sum(p.memory_info().rss for p in procs) / 1e6
            tally = tally_of()
            tally.peak_rss_mb = max(tally.peak_rss_mb, rss)
        except psutil.Error:
            pass
        stop.wait(0.5)


async def run_phases(port: int, pid: int, token: str, png: bytes, args) -> dict[str, Tally]:
    tallies = {"quiet": Tally(), "attack": Tally()}
    phase = ["quiet"]

    def tally_of() -> Tally:
        return tallies[phase[0]]

    sampling = threading.Event()
    sampler = threading.Thread(target=_sample_rss, args=(pid, sampling, tally_of), daemon=True)
    sampler.start()
    stop_phones, stop_attack = asyncio.Event(), asyncio.Event()
    phones = [asyncio.create_task(phone(port, stop_phones, tally_of)) for _ in range(args.phones)]
    await asyncio.sleep(args.quiet_seconds)
    phase[0] = "attack"
    attack = tallies["attack"]

    def opened_slowloris() -> None:
        attack.slowloris_opened += 1

    def opened_slow_post() -> None:
        attack.slow_posts_opened += 1

    attackers = [
        asyncio.create_task(
            trickler(
                port,
                stop_attack,
                b"GET /board HTTP/1.1\r\nHost: board\r\n",
                b"X-Wait: a\r\n",
                opened_slowloris,
            )
        )
        for _ in range(args.slowloris)
    ]
    attackers += [
        asyncio.create_task(
            trickler(
                port,
                stop_attack,
                b"POST /auth/login HTTP/1.1\r\nHost: board\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 1000000\r\n\r\nusername=a",
                b"",
                opened_slow_post,
            )
        )
        for _ in range(args.slow_posts)
    ]
    attackers += [
        asyncio.create_task(uploader(port, stop_attack, token, png, n, tally_of))
        for n in range(args.uploads)
    ]
    await asyncio.sleep(args.seconds)
    stop_phones.set()
    stop_attack.set()
    await asyncio.wait(phones, timeout=FETCH_TIMEOUT_S + 5)
    for task in attackers:
        task.cancel()
    await asyncio.gather(*attackers, return_exceptions=True)
    sampling.set()
    sampler.join(timeout=5)
    return tallies


def serve_and_attack(server: str, png: bytes, args) -> dict[str, Tally]:
    with tempfile.TemporaryDirectory(prefix="crowd-attack-") as workdir:
        instance = str(Path(workdir, "instance"))
        Path(instance).mkdir()
        setup = setup_instance(instance, f"sqlite:///{instance}/openspaces.sqlite")
        with serving(instance, "--server", server) as (port, process):
            return asyncio.run(run_phases(port, process.pid, setup["tokens"][0], png, args))


def _p(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _errors(tally: Tally) -> str:
    if not tally.board_errors:
        return "0"
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(tally.error_kinds.items()))
    return f"{tally.board_errors} ({kinds})"


def rows(server: str, tallies: dict[str, Tally], args) -> list[str]:
    out = []
    for phase, tally in tallies.items():
        ms = tally.board_ms
        if phase == "attack":
            uploads = ", ".join(f"{k}: {v}" for k, v in sorted(tally.uploads.items()))
            if tally.upload_errors:
                uploads += f", failed: {tally.upload_errors}"
            reopened = (
                f"{tally.slowloris_opened - args.slowloris} / "
                f"{tally.slow_posts_opened - args.slow_posts}"
            )
            attackers = f"{reopened} | {uploads or 'none'}"
        else:
            attackers = "- | -"
        out.append(
            f"| {server} | {phase} | {len(ms)} | {_errors(tally)} | {_p(ms, 50):.0f} | "
            f"{_p(ms, 95):.0f} | {max(ms, default=float('nan')):.0f} | {attackers} | "
            f"{tally.peak_rss_mb:.0f} |"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Phones on /board while one client attacks.")
    parser.add_argument("--server", choices=["gunicorn", "waitress", "both"], default="both")
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--slowloris", type=int, default=200)
    parser.add_argument("--slow-posts", type=int, default=200)
    parser.add_argument("--uploads", type=int, default=8)
    parser.add_argument("--quiet-seconds", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--out", default=str(HERE / "WEB.md"))
    args = parser.parse_args(argv)
    # Bounded on purpose: this machine is shared, and the point is the server's limits.
    if args.phones > 500 or args.slowloris > 300 or args.slow_posts > 300 or args.uploads > 16:
        parser.error("at most 500 phones, 300 slowloris, 300 slow POSTs and 16 uploads")
    servers = ["gunicorn", "waitress"] if args.server == "both" else [args.server]
    png = giant_png()
    load_before = os.getloadavg()[0]
    table = []
    for server in servers:
        table += rows(server, serve_and_attack(server, png, args), args)
    command = "python -m benchmarks.crowd_attack" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:])
    )
    lines = [
        LABEL,
        "## A crowd and an attacker: /board on each server `serve` starts",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, "
        f"load average {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end; "
        "server and clients on the same machine",
        f"- command: `{command}`",
        f"- {args.phones} phones fetch `/board` on kept-alive connections, each every 1 to 3 s: "
        f"{args.quiet_seconds} s alone (quiet), then {args.seconds} s while one client on the "
        f"same address keeps {args.slowloris} slowloris sockets (a header line every "
        f"{TRICKLE_S:.0f} s) and {args.slow_posts} slow POSTs (10 bytes of a promised megabyte, "
        "then nothing) open, each reopened as soon as the server drops it, and "
        f"{args.uploads} uploaders post a {len(png) // 1000} kB PNG of 49 megapixels for the "
        "server to scan, each again as soon as it is answered",
        "- `openspaces serve --server gunicorn` (one gevent worker) and `--server waitress`, "
        "as they start with no options, on the demo event, SQLite",
        "- reopened: how often the attacker had to open a slowloris socket / a slow POST again "
        "because the server dropped it; uploads: answers by status (503: the scan queue was "
        "full, with Retry-After); memory: the server's largest resident size",
        "",
        "| server | phase | /board fetches | errors | p50 ms | p95 ms | max ms | reopened "
        "(slowloris / slow POST) | uploads | memory MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *table,
        "",
    ]
    write_labelled(args.out, lines, LABEL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
