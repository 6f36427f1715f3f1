"""Measure how soon the phone camera page takes a sticky off the board, and puts it back.

    python -m benchmarks.phone_removal [--minutes 3]     # writes benchmarks/PHONE_REMOVAL.md

Chromium's fake camera plays a film of the camera wall (benchmarks.demo_wall, 960 x 720): three
stickies for 20 s, then one of them gone for 20 s, over and over. The camera page runs at its
default settings (a frame every 5 s, a confirming frame 5 s after a change) against the board served
in this process. A watcher in the page notes when the film changed, by the page's own change test
sampled every 100 ms; this process reads GET /api/board every 200 ms and notes when the sticky left
the board and came back. Each latency runs from the film's change to the board's.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from benchmarks.demo_wall import CAMERA, CHROMIUM_ARGS, wall_toml
from benchmarks.wall_video import Wall, write_mjpeg

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "PHONE_REMOVAL.md"

# Every 100 ms: the time of each sample that differs from the one before by the page's change test.
WATCHER = """
window.addEventListener("DOMContentLoaded", () => {
  window.filmChanges = [];
  let last = null;
  setInterval(() => {
    const video = document.getElementById("camera-video");
    const test = window.openspacesChange;
    if (!video || !test || video.readyState < 2 || !video.videoWidth) return;
    const thumb = test.thumbnail(video, video.videoWidth, video.videoHeight, 320);
    if (last && test.changedFraction(thumb, last, 12) > 0.0005) window.filmChanges.push(Date.now());
    last = thumb;
  }, 100);
});
"""


def serve(tmp: Path):
    """Start the board on a free loopback port; return its URL, the film and the sticky taken off."""
    from werkzeug.serving import make_server

    from app import create_app
    from app.extensions import db
    from app.models import StickyKind
    from app.services.board import build_manifest
    from app.services.events import load_event_file
    from app.services.organizers import create_token
    from app.services.stickies import allocate_stickies

    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "bench"})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    with app.app_context():
        path = tmp / "wall.toml"
        path.write_text(wall_toml(base_url=url), encoding="utf-8")
        event = load_event_file(path).event
        allocate_stickies(
            event=event, count=3, kind=StickyKind.SESSION, template="note-76", paper="a4"
        )
        _, token = create_token(name="phone-BENCH1")
        db.session.commit()
        manifest = build_manifest(event)
    s1, s2, s3 = (s["code"] for s in manifest["stickies"])
    scene = Wall(manifest, camera=CAMERA)
    rest = {s2: ("Hall B", "2026-09-26T11:00"), s3: ("Hall C", "2026-09-26T12:00")}
    photos = [scene.photo({s1: ("Hall A", "2026-09-26T10:00"), **rest}), scene.photo(rest)]
    film = write_mjpeg(tmp / "film.mjpeg", photos, seconds_each=20)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, url, token, film, s1


def on_board(url: str, code: str) -> bool:
    with urllib.request.urlopen(f"{url}/api/board", timeout=10) as answer:
        return any(s["code"] == code and s["room"] for s in json.load(answer)["stickies"])


def run(minutes: float) -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        server, url, token, film, code = serve(Path(folder))
        camera = json.dumps({"name": "phone-BENCH1", "token": token})
        board_moves: list[tuple[float, bool]] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    *CHROMIUM_ARGS,
                    "--use-fake-device-for-media-stream",
                    "--use-fake-ui-for-media-stream",
                    f"--use-file-for-fake-video-capture={film}",
                ],
            )
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.add_init_script(f"localStorage.setItem('openspaces-camera', {camera!r});")
            page.add_init_script(WATCHER)
            page.goto(f"{url}/camera")
            present = None
            deadline = time.time() + minutes * 60
            while time.time() < deadline:
                now = on_board(url, code)
                if now != present:
                    board_moves.append((time.time() * 1000, now))
                    present = now
                time.sleep(0.2)
            changes = page.evaluate("window.filmChanges")
            state = page.evaluate("window.openspacesCamera")
            browser.close()
        server.shutdown()
    return {"changes": changes, "moves": board_moves, "frames": len(state["delivered"])}


def latencies(
    changes: list[float], moves: list[tuple[float, bool]], *, placed: bool
) -> list[float]:
    """Seconds from the film's last change before each move of the board to that move."""
    out = []
    for moment, present in moves[1:]:
        before = [c for c in changes if c <= moment]
        if present == placed and before:
            out.append((moment - before[-1]) / 1000)
    return out


def table(result: dict, minutes: float) -> str:
    rows = []
    for what, placed in (
        ("taken off the wall -> off the board", False),
        ("put up -> on the board", True),
    ):
        seconds = latencies(result["changes"], result["moves"], placed=placed)
        if seconds:
            rows.append(
                f"| {what} | {len(seconds)} | {statistics.median(seconds):.1f} s | "
                f"{max(seconds):.1f} s |"
            )
    return "\n".join(
        [
            f"Phone camera page at its default settings, {minutes:g} minutes, "
            f"{result['frames']} frames sent:",
            "",
            "| change | times | median | worst |",
            "|---|---|---|---|",
            *rows,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()
    result = run(args.minutes)
    text = table(result, args.minutes)
    print(text)
    OUT.write_text(
        "# Phone camera: removals and placements reaching the board\n\n"
        "`python -m benchmarks.phone_removal` (see its docstring for the set-up).\n\n"
        + text
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
