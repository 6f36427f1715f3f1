"""Measure many tabs of the live board in one browser: do they all load, and all follow a scan?

    python -m benchmarks.live_tabs            # writes benchmarks/LIVE_TABS.md (about two minutes)

Over HTTP/1.1 a browser opens at most six connections to one host. When every board page held its
own live stream, the seventh tab never loaded. Now the pages of one browser share one stream
(app/static/board.js, live-worker.js). This opens 1, 6, 10 and 12 tabs of /board in one Chromium
context, against the app on waitress on loopback, in four ways:

- ``per-page``: each page its own stream, as the release before (the board.js of e21e414^, served
  in place of today's, and no service worker);
- ``shared-worker``: today's board.js, one SharedWorker holding the stream;
- ``leading-tab``: today's, without SharedWorker (as Chrome on Android): one tab leads through a
  Web Lock and tells the others on a BroadcastChannel;
- ``polling``: today's, with neither: every page polls the grid every two seconds.

For each: how many tabs loaded within 15 s, the slowest load, the live streams the server held,
and the time from a camera's scan to the last tab showing it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.demo_wall import CHROMIUM_ARGS, WALL_TOML

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "LIVE_TABS.md"
BEFORE = "e21e414^"  # the release whose pages each held a stream
LOAD_TIMEOUT_S = 15.0
CELL = 'td[data-room="Hall B"][data-slot="2026-09-26T11:00"]'
WITHOUT = {
    "shared-worker": "",
    "leading-tab": "delete window.SharedWorker;",
    "polling": "delete window.SharedWorker; delete window.BroadcastChannel;",
}


class Server:
    """The wall event on waitress in a thread, on a free loopback port, CSRF and limits on."""

    def __init__(self) -> None:
        from waitress import create_server

        from app import create_app
        from app.cli import WAITRESS_OPTIONS
        from app.extensions import db
        from app.services.events import load_event_file
        from app.services.organizers import create_token

        folder = Path(tempfile.mkdtemp())
        (folder / "wall.toml").write_text(WALL_TOML, encoding="utf-8")
        self.app = create_app(
            {"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench", "OCR_ENGINE": None}
        )
        with self.app.app_context():
            load_event_file(folder / "wall.toml")
            _, self.token = create_token(name="bench-cam")
            db.session.commit()
        self.server = create_server(
            self.app, host="127.0.0.1", port=0, threads=32, **WAITRESS_OPTIONS
        )
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        threading.Thread(target=self.server.run, daemon=True).start()

    def session_sticky(self, title: str) -> str:
        from app.extensions import db
        from app.models import StickyKind
        from app.services.events import get_current_event
        from app.services.stickies import SessionFields, allocate_stickies, claim_sticky

        with self.app.app_context():
            batch = allocate_stickies(
                event=get_current_event(),
                count=1,
                kind=StickyKind.SESSION,
                template="note-76",
                paper="a4",
            )
            sticky = batch.stickies[0]
            claim_sticky(
                sticky=sticky, fields=SessionFields(title=title, host="Bench"), by_organizer=True
            )
            db.session.commit()
            return sticky.code

    def scan(self, code: str, scan_id: str) -> None:
        import requests

        body = {
            "scan_id": scan_id,
            "board_found": True,
            "hidden_cells": [],
            "warnings": [],
            "stickies": [
                {
                    "code": code,
                    "room": "Hall B",
                    "slot": "2026-09-26T11:00",
                    "x": 1.0,
                    "y": 1.0,
                    "via": "marker",
                }
            ],
        }
        response = requests.post(
            f"{self.url}/api/scans",
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            timeout=30,
        )
        response.raise_for_status()

    def streams(self) -> int:
        from app.live.stream import address_streams

        return address_streams(self.app).held("127.0.0.1")


def old_board_js() -> str:
    return subprocess.run(
        ["git", "show", f"{BEFORE}:app/static/board.js"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def run(browser, server: Server, mode: str, tabs: int, old_js: str) -> dict:
    """Open ``tabs`` board pages in one context, then scan a sticky; return what was measured."""
    # The release before had no service worker (which would answer a starved tab from its copy).
    context = browser.new_context(service_workers="block" if mode == "per-page" else "allow")
    if mode == "per-page":
        context.route(
            "**/static/board.js*",
            lambda route: route.fulfill(body=old_js, content_type="text/javascript"),
        )
    elif WITHOUT[mode]:
        context.add_init_script(WITHOUT[mode])
    # Each page notes when it showed the change, on this machine's clock.
    context.add_init_script(
        'document.addEventListener("openspaces:updated", () => { window.updatedAt = Date.now(); });'
    )
    code = server.session_sticky(f"{mode} {tabs}")
    loads, pages = [], []
    try:
        for _ in range(tabs):
            page = context.new_page()
            started = time.monotonic()
            try:
                page.goto(f"{server.url}/board", timeout=LOAD_TIMEOUT_S * 1000)
                loads.append(time.monotonic() - started)
                pages.append(page)
            except Exception:  # a tab that never loads is what is measured
                loads.append(None)
        time.sleep(2.0)  # every loaded tab has joined its stream (or started polling)
        held = server.streams()
        posted_ms = time.time() * 1000
        server.scan(code, f"{mode}-{tabs}-{time.time()}")
        posted = time.monotonic()
        followed = []
        for page in pages:
            left = max(0.05, 10.0 - (time.monotonic() - posted))
            try:
                page.locator(CELL).locator(".note-title", has_text=f"{mode} {tabs}").wait_for(
                    timeout=left * 1000
                )
                followed.append((page.evaluate("window.updatedAt") - posted_ms) / 1000)
            except Exception:
                followed.append(None)
    finally:
        context.close()
    time.sleep(1.5)  # the server notices the closed streams before the next run counts
    loaded = [s for s in loads if s is not None]
    return {
        "mode": mode,
        "tabs": tabs,
        "loaded": len(loaded),
        "slowest_load_s": max(loaded) if loaded else None,
        "streams": held,
        "followed": sum(1 for s in followed if s is not None),
        "last_update_s": max((s for s in followed if s is not None), default=None),
    }


def seconds(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def write(rows: list[dict], started: dt.datetime) -> str:
    lines = [
        "# Many tabs of the live board in one browser",
        "",
        f"`python -m benchmarks.live_tabs`, {started:%Y-%m-%d %H:%M} UTC: Chromium (headless, one "
        "context) against the app on waitress on loopback, two shared cores. A tab that has not "
        f'loaded in {LOAD_TIMEOUT_S:.0f} s counts as not loaded; "last tab updated" is the time '
        "from a camera's scan to the last loaded tab showing it (10 s at most).",
        "",
        "| way | tabs | loaded | slowest load (s) | streams held | updated | last tab updated (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['mode']} | {r['tabs']} | {r['loaded']} | {seconds(r['slowest_load_s'])} | "
            f"{r['streams']} | {r['followed']} | {seconds(r['last_update_s'])} |"
        )
    lines += [
        "",
        "With a stream per page the browser's six connections to the host are all held by "
        "streams from the sixth tab on: further tabs wait for a connection to come free, and in "
        "this run most of the tabs that loaded did not show the scan within 10 s either. Shared, "
        "the browser holds one stream whatever the number of tabs; polling holds none and shows a "
        "change at the next two-second poll.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, nargs="*", default=[1, 6, 10, 12])
    parser.add_argument("--modes", nargs="*", default=["per-page", *WITHOUT])
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    started = dt.datetime.now(dt.UTC)
    server, old_js, rows = Server(), old_board_js(), []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for mode in args.modes:
            for tabs in args.tabs:
                rows.append(run(browser, server, mode, tabs, old_js))
                print(json.dumps(rows[-1]), flush=True)
        browser.close()
    table = write(rows, started)
    print(table)
    if not args.no_write:
        OUT.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
