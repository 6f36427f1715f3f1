"""Render the README's screenshots of the web app in headless Chromium.

Run ``python -m docs.screenshots`` from the project folder: it sets up the demo in a temporary instance, serves it on a free
loopback port and writes PNGs into ``docs/img/``. ``--web-only`` leaves the annotated scan as it is.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).parent / "img"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def annotated_scan() -> None:
    """Photograph a synthetic wall with a person in front, scan it, and save the annotated photo."""
    import cv2

    import scanner
    from benchmarks.photographer import (
        BoardSpec,
        Camera,
        default_rooms,
        default_slots,
        make_board,
        photograph,
    )

    board = make_board(
        BoardSpec(rooms=default_rooms(6), slots=default_slots(8), n_stickies=30), seed=11
    )
    shot = photograph(board, Camera.webcam_1080p(yaw_deg=12.0, people=1), seed=17)
    result = scanner.scan(shot.image, scanner.Manifest.from_dict(board.manifest))
    cv2.imwrite(str(OUT / "annotated-scan.png"), scanner.annotate(shot.image, result))
    print(OUT / "annotated-scan.png", f"{len(result.stickies)} stickies placed")


PASSWORD = "screenshot only"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    if "--web-only" not in sys.argv:
        annotated_scan()
    port = free_port()
    with tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "OPENSPACES_INSTANCE": instance}
        server = subprocess.Popen(
            [sys.executable, "-m", "app", "demo", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/api/board", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            subprocess.run(
                [sys.executable, "-m", "app", "admin", "set-password"],
                env={**env, "OPENSPACES_ADMIN_PASSWORD": PASSWORD},
                check=True,
                stdout=subprocess.DEVNULL,
            )
            with urllib.request.urlopen(base + "/api/board") as response:
                import json

                code = json.load(response)["stickies"][0]["code"]
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
                )
                organizer = browser.new_context()
                login = organizer.new_page()
                login.goto(base + "/auth/login")
                login.fill("input[name=username]", "admin")
                login.fill("input[name=password]", PASSWORD)
                login.click("button[type=submit]")
                login.wait_for_url(base + "/admin/")
                login.goto(base + "/admin/stickies?kind=session&status=blank")
                blank = login.locator("td code").first.inner_text()
                state = organizer.storage_state()
                organizer.close()
                phone = {"width": 390, "height": 844}
                shots = [
                    ("board.png", "/board", {"width": 1400, "height": 860}, False),
                    ("board-phone.png", "/board", phone, False),
                    ("session-phone.png", f"/s/{code}", phone, False),
                    ("claim-phone.png", f"/s/{blank}", phone, False),
                    ("kiosk.png", "/kiosk", {"width": 1920, "height": 1080}, False),
                    ("people-phone.png", "/people?q=python", phone, False),
                    ("dashboard.png", "/admin/", {"width": 1440, "height": 900}, True),
                ]
                for name, path, viewport, as_organizer in shots:
                    context = browser.new_context(
                        viewport=viewport, storage_state=state if as_organizer else None
                    )
                    page = context.new_page()
                    page.goto(base + path)
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(OUT / name))
                    context.close()
                    print(OUT / name)
                browser.close()
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
