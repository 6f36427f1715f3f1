"""The wall that the camera tests film: a 3 x 3 event, its layouts, and what the board should show.

Frames are rendered by the benchmark's photographer from the app's own manifest: the rooms, slots,
marker ids and sticky codes of the loaded event. Photo coordinates are pixels, origin top-left;
wall positions are millimetres, origin top-left of the wall.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from benchmarks.photographer import Camera
from benchmarks.wall_video import Wall
from benchmarks.wall_video import write_video as _write_video

WALL_TOML = textwrap.dedent(
    """\
    [event]
    name = "Camera Camp"
    slug = "camera-camp"
    timezone = "UTC"
    base_url = "http://localhost:5000"

    [[rooms]]
    name = "Hall A"

    [[rooms]]
    name = "Hall B"

    [[rooms]]
    name = "Hall C"

    [[slots]]
    start = "2026-09-26T10:00"
    end = "2026-09-26T10:45"

    [[slots]]
    start = "2026-09-26T11:00"
    end = "2026-09-26T11:45"

    [[slots]]
    start = "2026-09-26T12:00"
    end = "2026-09-26T12:45"
    """
)
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


def wall_for(manifest: dict) -> Wall:
    return Wall(manifest, camera=CAMERA)


def write_video(path: Path, photos: list[np.ndarray], *, seconds_each: float) -> Path:
    """Write the photos as a video at one frame per second: the loop takes one every 5 s or so."""
    return _write_video(path, photos, seconds_each=seconds_each, fps=1.0)


def codes(manifest: dict) -> list[str]:
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
