"""Small photographed boards that the scanner tests share (rendering is the slow part)."""

import dataclasses
from functools import cache

from benchmarks.photographer import (
    BoardSpec,
    Camera,
    make_board,
    photograph,
)

SMALL = BoardSpec.grid(
    3,
    3,
    n_stickies=6,
    n_person_stickies=1,
    n_unplaced=1,
    n_posters=1,
    px_per_mm=2.0,
)
SMALL_CAMERA = Camera(width=1280, height=960, hfov_deg=60.0, yaw_deg=4.0, pitch_deg=2.0)


@cache
def shot_of(spec: BoardSpec = SMALL, camera: Camera = SMALL_CAMERA, seed: int = 3):
    """Return a photographed small board; cached, since rendering is the slow part."""
    board = make_board(spec, seed=seed)
    return photograph(board, camera, seed=seed)


CLOSE = BoardSpec.grid(
    2,
    2,
    n_stickies=4,
    n_person_stickies=1,
    n_unplaced=1,
    n_posters=1,
    px_per_mm=4.0,
)
CLOSE_CAMERA = Camera(width=2400, height=1800, hfov_deg=60.0, yaw_deg=4.0, pitch_deg=2.0)
# The close board printed as the app prints stickies: each QR holds a claim key after "?".
CLOSE_KEYED = dataclasses.replace(CLOSE, claim_keys=True)
