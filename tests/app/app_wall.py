"""The wall that the scan tests photograph: a 3 x 3 event, its layouts, and what the board shows.

Frames are rendered by the benchmark's photographer from the app's own manifest: the rooms, slots,
marker ids and sticky codes of the loaded event. Photo coordinates are pixels, origin top-left;
wall positions are millimetres, origin top-left of the wall.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# The shared wall's names, which the tests import from here.
from benchmarks.demo_wall import CAMERA, WALL_TOML, codes, expected, layouts  # noqa: F401
from benchmarks.wall_video import Wall
from benchmarks.wall_video import write_video as _write_video

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


def scan_ids() -> list[str]:
    """Return the ids of the scans the board holds, oldest first."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Scan

    db.session.remove()
    return list(db.session.scalars(select(Scan.client_scan_id).order_by(Scan.id)))
