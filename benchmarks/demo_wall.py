"""The demo-like wall that tests, benchmarks and docs share: its event file, layouts and camera.

The wall is a 3 x 3 event (rooms Hall A to C, slots 10:00 to 12:00 on 2026-09-26) with three
session stickies and one person sticky. Wall positions are millimetres, origin top-left of the
wall; photo coordinates are pixels, origin top-left.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable

from benchmarks.photographer import BASE_URL, Camera

# Chromium's arguments for a headless run on a shared machine with no network.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def event_toml(
    *,
    name: str,
    slug: str,
    rooms: Iterable[str | tuple[str, int]],
    slots: Iterable[tuple[str, str]],
    timezone: str = "UTC",
    base_url: str = BASE_URL,
) -> str:
    """Return an event file's text: a room is a name or (name, capacity), a slot (start, end)."""
    lines = [
        "[event]",
        f'name = "{name}"',
        f'slug = "{slug}"',
        f'timezone = "{timezone}"',
        f'base_url = "{base_url}"',
    ]
    for room in rooms:
        room_name, capacity = (room, None) if isinstance(room, str) else room
        lines += ["", "[[rooms]]", f'name = "{room_name}"']
        if capacity is not None:
            lines.append(f"capacity = {capacity}")
    for start, end in slots:
        lines += ["", "[[slots]]", f'start = "{start}"', f'end = "{end}"']
    return "\n".join(lines) + "\n"


WALL_ROOMS = ("Hall A", "Hall B", "Hall C")
WALL_SLOTS = (
    ("2026-09-26T10:00", "2026-09-26T10:45"),
    ("2026-09-26T11:00", "2026-09-26T11:45"),
    ("2026-09-26T12:00", "2026-09-26T12:45"),
)


def wall_toml(*, base_url: str = BASE_URL) -> str:
    """Return the wall event's file, its stickies' QR codes pointing at ``base_url``."""
    return event_toml(
        name="Camera Camp",
        slug="camera-camp",
        rooms=WALL_ROOMS,
        slots=WALL_SLOTS,
        base_url=base_url,
    )


WALL_TOML = wall_toml()
A10, B11, C12 = (
    ("Hall A", "2026-09-26T10:00"),
    ("Hall B", "2026-09-26T11:00"),
    ("Hall C", "2026-09-26T12:00"),
)
A11, C10, B10 = (
    ("Hall A", "2026-09-26T11:00"),
    ("Hall C", "2026-09-26T10:00"),
    ("Hall B", "2026-09-26T10:00"),
)
A12 = ("Hall A", "2026-09-26T12:00")
OFF = (None, None)
CAMERA = Camera(width=960, height=720, hfov_deg=60.0, yaw_deg=3.0, pitch_deg=2.0, jitter=0.0)


def codes(manifest: dict) -> list[str]:
    """Return the codes of the manifest's stickies, in its order."""
    return [s["code"] for s in manifest["stickies"]]


def layouts(manifest: dict) -> list[dict]:
    """Return five layouts of the three sessions and the person, one for each 10 s of the video."""
    s1, s2, s3, p = codes(manifest)
    return [
        {s1: A10, s2: B11, s3: C12, p: OFF},
        {s1: A11, s2: B11, s3: C12, p: OFF},
        {s1: A11, s2: C10, s3: C12, p: OFF},
        {s1: B10, s2: C10, s3: A12, p: OFF},
        {s1: C10, s2: B10, s3: OFF, p: OFF},
    ]


def expected(layout: dict) -> dict:
    """Return what ``GET /api/board`` shows for a layout: code -> (room, slot, status)."""
    return {
        code: (room, slot, "off_grid" if room is None else "placed")
        for code, (room, slot) in layout.items()
    }


def board_at(url: str) -> dict:
    """Return the board that ``GET {url}/api/board`` shows: code -> (room, slot, status)."""
    with urllib.request.urlopen(url + "/api/board", timeout=10) as response:
        data = json.load(response)
    return {s["code"]: (s["room"], s["slot"], s["status"]) for s in data["stickies"]}
