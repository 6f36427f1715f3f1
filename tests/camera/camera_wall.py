"""The wall that the camera tests film: a 3 x 3 event, its layouts, and what the board should show.

Frames are rendered by the benchmark's photographer from the app's own manifest: the rooms, slots,
marker ids and sticky codes of the loaded event. Photo coordinates are pixels, origin top-left;
wall positions are millimetres, origin top-left of the wall.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# The shared wall's names, which the tests import from here.
from benchmarks.demo_wall import A10, B11, C12, CAMERA, WALL_TOML, codes, expected, layouts  # noqa: F401
from benchmarks.wall_video import Wall
from benchmarks.wall_video import write_video as _write_video


def wall_for(manifest: dict) -> Wall:
    return Wall(manifest, camera=CAMERA)


def write_video(path: Path, photos: list[np.ndarray], *, seconds_each: float) -> Path:
    """Write the photos as a video at one frame per second: the loop takes one every 5 s or so."""
    return _write_video(path, photos, seconds_each=seconds_each, fps=1.0)
