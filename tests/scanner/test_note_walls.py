"""Plain notes on a wall with no board kit: the wall generator's truth, and the finder on it."""

from __future__ import annotations

from functools import cache

import numpy as np

from benchmarks.note_walls import match
from benchmarks.walls import PhoneCamera, WallSpec, make_wall
from scanner import find_notes

# A 2 MP phone, its photo kept as taken: small enough for a fast test.
CAMERA = PhoneCamera(width=1600, height=1200, long_side=None, max_yaw_deg=10.0)
SCATTERED = WallSpec("paint", "scattered", 6, sizes="square", distractors=(), camera=CAMERA)
TOUCHING = WallSpec("paint", "touching", 12, sizes="square", distractors=(), camera=CAMERA)


@cache
def _wall(spec: WallSpec, seed: int = 1):
    return make_wall(spec, seed)


def test_make_wall_truth_scattered_notes_in_frame():
    wall = _wall(SCATTERED)
    assert wall.image.shape == (1200, 1600, 3)
    assert wall.image.dtype == np.uint8
    assert len(wall.notes) == 6
    assert all(n.in_frame and n.covered == 0.0 for n in wall.notes)
    for n in wall.notes:
        assert n.quad_px.shape == (4, 2)
        assert (n.quad_px >= 0).all() and (n.quad_px <= (1599, 1199)).all()
        # A 76 mm square photographed: its sides agree within perspective's stretch.
        sides = np.linalg.norm(np.roll(n.quad_px, -1, axis=0) - n.quad_px, axis=1)
        assert sides.max() / sides.min() < 1.3


def test_make_wall_same_seed_same_photo():
    a = make_wall(SCATTERED, 1)
    assert np.array_equal(a.image, _wall(SCATTERED).image)


def test_make_wall_truth_touching_grid_of_one_paper():
    wall = _wall(TOUCHING)
    assert len(wall.notes) == 12
    assert len({n.paper for n in wall.notes}) == 1
    assert all(n.in_frame for n in wall.notes)
    centres = np.array([n.centre_px for n in wall.notes])
    # Neighbours in a row are about one note's side apart: touching, not overlapping.
    side = np.linalg.norm(wall.notes[0].quad_px[1] - wall.notes[0].quad_px[0])
    gap = np.linalg.norm(centres[1] - centres[0])
    assert side * 0.97 < gap < side * 1.08


def test_find_notes_scattered_wall_finds_all_six():
    wall = _wall(SCATTERED)
    found = find_notes(wall.image)
    pairs, false, duplicates, merged = match(wall, found)
    assert sorted(pairs.values()) == [0, 1, 2, 3, 4, 5]
    assert (false, duplicates, merged) == ([], [], [])
