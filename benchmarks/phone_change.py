"""Measure the phone camera page's change test against the webcam loop's, on photographed frames.

    python -m benchmarks.phone_change            # writes benchmarks/PHONE_CHANGE.md

The camera page (app/static/camera.js) decides in the browser whether a frame changed, with the
numbers of the webcam loop (camera/frames.py): a 320 px grey thumbnail blurred by 1 px, a pixel
changed when its grey level moved by more than 12, the frame changed when more than 0.05 % of the
pixels did. The browser shrinks and blurs with a canvas, not with OpenCV, so this runs both on the
same frames of the demo board, photographed at 1920 x 1080, and reports the changed fraction of
each: frames that differ only by sensor noise and JPEG must stay under the threshold, a sticky taken
off, a sticky moved and a person in front must go over it.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2

from benchmarks.demo_wall import CHROMIUM_ARGS
from benchmarks.photographer import Camera
from benchmarks.wall_video import Wall

ROOT = Path(__file__).resolve().parent.parent
CAMERA = Camera(width=1920, height=1080, hfov_deg=62.0, yaw_deg=3.0, pitch_deg=2.0, jitter=0.0)


def demo_wall():
    """Return the demo event's manifest and its board as a layout, from a throwaway instance."""
    from app import create_app
    from app.extensions import db
    from app.services.demo import seed_demo
    from app.services.events import get_current_event
    from app.services.manifest import build_manifest
    from app.services.published import board_json

    app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(), "SECRET_KEY": "bench"})
    with app.app_context():
        seed_demo()
        db.session.commit()
        event = get_current_event()
        manifest, board = build_manifest(event), board_json(event)
    layout = {
        s["code"]: (s["room"], s["slot"]) if s["status"] == "placed" else (None, None)
        for s in board["stickies"]
        if s["status"] in ("placed", "off_grid")
    }
    return manifest, layout


def frames(manifest: dict, layout: dict) -> tuple[bytes, list[tuple[str, bool, bytes]]]:
    """Return the reference frame and (condition, should change, frame) for each condition, as JPEG."""
    wall = Wall(manifest, camera=CAMERA)
    rooms = [r["name"] for r in manifest["rooms"]]
    slots = [s["start"] for s in manifest["slots"]]
    taken = set(layout.values())
    free = next((r, s) for s in slots for r in rooms if (r, s) not in taken)
    placed = [c for c, cell in layout.items() if cell[0] is not None]
    without = {c: cell for c, cell in layout.items() if c != placed[0]}
    moved = {**layout, placed[0]: free}

    def shot(lay, seed, **camera) -> bytes:
        wall.camera = dataclasses.replace(CAMERA, **camera)
        image = wall.photo(lay, seed=seed)
        return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()

    reference = shot(layout, 1)
    conditions = [
        ("same wall, new sensor noise (sigma 2)", False, shot(layout, 2)),
        ("same wall, sensor noise sigma 5", False, shot(layout, 3, noise_sigma=5.0)),
        ("same wall, sensor noise sigma 8", False, shot(layout, 4, noise_sigma=8.0)),
        ("same wall, JPEG quality 70", False, shot(layout, 5, jpeg_quality=70)),
        ("one sticky taken off", True, shot(without, 6)),
        ("one sticky moved to a free cell", True, shot(moved, 7)),
        ("a person in front", True, shot(layout, 8, people=1)),
    ]
    return reference, conditions


def python_fractions(reference: bytes, conditions) -> list[float]:
    import numpy as np

    from camera.frames import changed_fraction, thumbnail

    def thumb(data: bytes):
        return thumbnail(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))

    base = thumb(reference)
    return [changed_fraction(thumb(data), base) for _, _, data in conditions]


BROWSER_CHECK = """
async ([reference, frames, width, step]) => {
  const load = async (b64) => {
    const img = new Image();
    img.src = "data:image/jpeg;base64," + b64;
    await img.decode();
    return window.openspacesChange.thumbnail(img, img.naturalWidth, img.naturalHeight, width);
  };
  const base = await load(reference);
  const out = [];
  for (const frame of frames) {
    out.push(window.openspacesChange.changedFraction(await load(frame), base, step));
  }
  return out;
}
"""


def browser_fractions(reference: bytes, conditions) -> list[float]:
    from playwright.sync_api import sync_playwright

    from camera.frames import THUMB_LEVEL_STEP, THUMB_WIDTH

    encode = lambda data: base64.b64encode(data).decode()  # noqa: E731
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=CHROMIUM_ARGS,
        )
        try:
            page = browser.new_page()
            page.set_content("<!doctype html><title>change test</title>")
            page.add_script_tag(path=str(ROOT / "app" / "static" / "camera.js"))
            return page.evaluate(
                BROWSER_CHECK,
                [
                    encode(reference),
                    [encode(data) for _, _, data in conditions],
                    THUMB_WIDTH,
                    THUMB_LEVEL_STEP,
                ],
            )
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-o", "--output", type=Path, default=ROOT / "benchmarks" / "PHONE_CHANGE.md"
    )
    args = parser.parse_args(argv)
    from camera.frames import CHANGE_FRACTION

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    manifest, layout = demo_wall()
    reference, conditions = frames(manifest, layout)
    py = python_fractions(reference, conditions)
    js = browser_fractions(reference, conditions)
    lines = [
        "# The phone page's change test",
        "",
        f"`python -m benchmarks.phone_change`, {started}: the demo board photographed at 1920 x 1080, "
        f"each frame compared with a reference frame of the same wall. Threshold "
        f"{CHANGE_FRACTION:.2%} of the thumbnail's pixels.",
        "",
        "| condition | should change | webcam loop (OpenCV) | phone page (canvas) | page decides |",
        "|---|---|---|---|---|",
    ]
    wrong = 0
    for (name, should, _), p_frac, j_frac in zip(conditions, py, js, strict=True):
        decided = j_frac > CHANGE_FRACTION
        wrong += decided != should
        verdict = ("changed" if decided else "unchanged") + (
            "" if decided == should else " (wrong)"
        )
        lines.append(
            f"| {name} | {'yes' if should else 'no'} | {p_frac:.3%} | {j_frac:.3%} | {verdict} |"
        )
    text = "\n".join(lines) + "\n"
    args.output.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
