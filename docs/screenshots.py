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

from benchmarks.demo_wall import CHROMIUM_ARGS

OUT = Path(__file__).parent / "img"


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
        make_board,
        photograph,
    )

    board = make_board(BoardSpec.grid(6, 8, n_stickies=30), seed=11)
    shot = photograph(board, Camera.webcam_1080p(yaw_deg=12.0, people=1), seed=17)
    result = scanner.scan(shot.image, scanner.Manifest.from_dict(board.manifest))
    cv2.imwrite(str(OUT / "annotated-scan.png"), scanner.annotate(shot.image, result))
    print(OUT / "annotated-scan.png", f"{len(result.stickies)} stickies placed")


PASSWORD = "screenshot only"
HANDWRITTEN = ["Kubernetes for humans", "Zine making", "Pair programming kata", "Mentoring"]


def post_handwritten_wall(base: str, env: dict) -> None:
    """Photograph the demo wall with a few blank stickies written on by hand, and scan it.

    The photo goes through ``POST /api/scans`` like a wall camera's: the server places the
    stickies and keeps their pictures.
    """
    import json
    import secrets

    import cv2

    from benchmarks.photographer import Camera
    from benchmarks.wall_video import Wall

    token = subprocess.run(
        [sys.executable, "-m", "app", "token", "create", "screenshot-cam"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(base + "/api/manifest", headers=auth)
    with urllib.request.urlopen(request) as response:
        manifest = json.load(response)
    with urllib.request.urlopen(base + "/api/board") as response:
        board = json.load(response)["stickies"]
    on_board = {s["code"] for s in board}
    taken = {(s["room"], s["slot"]) for s in board if s["room"]}
    free = [
        (room["name"], slot["start"])
        for slot in manifest["slots"]
        for room in manifest["rooms"]
        if (room["name"], slot["start"]) not in taken
    ]
    blank = [
        s["code"]
        for s in manifest["stickies"]
        if s["kind"] == "session" and s["code"] not in on_board
    ]
    layout = dict(zip(blank, free[: len(HANDWRITTEN)], strict=False))
    writing = dict(zip(blank, HANDWRITTEN, strict=False))
    wall = Wall(manifest, camera=Camera.phone_12mp(yaw_deg=4.0, pitch_deg=3.0), px_per_mm=4.0)
    ok, photo = cv2.imencode(".jpg", wall.photo(layout, handwriting=writing, seed=3))
    boundary = secrets.token_hex(12)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="wall.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo.tobytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        base + "/api/scans",
        data=body,
        headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request) as response:
        answer = json.load(response)
    print(f"handwritten wall: {len(answer['changes'])} placed, pictures of {answer['pictures']}")


def claim_page(instance: str, code: str) -> str:
    """Return the page a blank sticky's printed QR code opens, its claim key included."""
    from app import create_app
    from app.services.claim_keys import claim_key
    from app.services.events import get_current_event

    with create_app({"INSTANCE_PATH": instance}).app_context():
        return f"/s/{code}?k={claim_key(event=get_current_event(), code=code)}"


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
            post_handwritten_wall(base, env)
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
                    ("board-handwritten.png", "/board", {"width": 1400, "height": 560}, False),
                    ("board-phone.png", "/board", phone, False),
                    ("session-phone.png", f"/s/{code}", phone, False),
                    ("claim-phone.png", claim_page(instance, blank), phone, False),
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
