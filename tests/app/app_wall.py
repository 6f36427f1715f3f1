"""The wall that the scan tests photograph: a 3 x 3 event, its layouts, and what the board shows.

Frames are rendered by the benchmark's photographer from the app's own manifest: the rooms, slots,
marker ids and sticky codes of the loaded event. Photo coordinates are pixels, origin top-left;
wall positions are millimetres, origin top-left of the wall.
"""

from __future__ import annotations

import json
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


# The wall event's stickies get these codes in every test (sessions first, then the person), so
# that its wall is drawn once a run and each layout photographed once.
WALL_CODES = ("WA11S1", "WA11S2", "WA11S3", "WA11P1")


class _PhotoCache:
    """A wall that photographs each layout once; every caller gets a copy of the photo."""

    def __init__(self, wall: Wall) -> None:
        self._wall = wall
        self._photos: dict[str, np.ndarray] = {}

    def photo(self, layout: dict, **options) -> np.ndarray:
        key = json.dumps([sorted(layout.items()), options], sort_keys=True, default=str)
        if key not in self._photos:
            self._photos[key] = self._wall.photo(layout, **options)
        return self._photos[key].copy()

    def __getattr__(self, name: str):
        return getattr(self._wall, name)


_WALLS: dict[str, _PhotoCache] = {}


def wall_for(manifest: dict) -> Wall:
    """Return the wall of this manifest, drawn once per run (the camera token aside)."""
    key = json.dumps({k: v for k, v in manifest.items() if k != "token"}, sort_keys=True)
    if key not in _WALLS:
        _WALLS[key] = _PhotoCache(Wall(manifest, camera=CAMERA))
    return _WALLS[key]


def write_video(path: Path, photos: list[np.ndarray], *, seconds_each: float) -> Path:
    return _write_video(path, photos, seconds_each=seconds_each)


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


def scan_ids() -> list[str]:
    """Return the ids of the scans the board holds, oldest first."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Scan

    db.session.remove()
    return list(db.session.scalars(select(Scan.client_scan_id).order_by(Scan.id)))
