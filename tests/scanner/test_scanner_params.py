"""The scanner's knobs (scanner.params): today's values by default, each one reaching its stage."""

from __future__ import annotations

import dataclasses

from scanner import ScanParams, cut_views, markers, scan


def _placed(result) -> dict:
    return {s.code: (s.room, s.slot, s.x, s.y, s.via) for s in result.stickies}


def test_params_default_scan_is_the_scan_without_params(small_shot):
    plain = scan(small_shot.image, small_shot.board.manifest)
    tuned = scan(small_shot.image, small_shot.board.manifest, params=ScanParams())
    assert tuned == plain
    assert _placed(tuned) == _placed(plain)


def test_params_defaults_are_the_modules_constants():
    params = ScanParams()
    assert (markers.DETECT_LONG_SIDE, markers.RETRY_LIMIT) == (2304, 40)
    assert (params.detect_long_side, params.marker_retries) == (2304, 40)
    assert dataclasses.asdict(params) == {
        "detect_long_side": 2304,
        "marker_retries": 40,
        "enlarge_max_side": 1280,
        "small_marker_px": 16.0,
        "qr_crops_per_mp": 1.5,
        "qr_crops_min": 4,
        "closeup_cells": 12,
        "closeup_px_per_marker": 48.0,
        "boundary_margin": 0.05,
        "dark_fraction": 0.1,
        "covered_fraction": 0.15,
        "view_min_coverage": 0.5,
    }


def test_params_every_cell_dark_hides_every_empty_cell(small_shot):
    manifest = small_shot.board.manifest
    plain = scan(small_shot.image, manifest)
    # No share of a cell may be dark: every cell without a sticky read counts as covered.
    dark = scan(small_shot.image, manifest, params=ScanParams(dark_fraction=-1.0))
    assert plain.hidden_cells == ()
    filled = {(s.room, s.slot) for s in dark.stickies}
    every = {(c.room, c.slot) for c in dark.cells}
    assert set(dark.hidden_cells) >= every - filled


def test_params_view_coverage_above_one_cuts_no_view(small_shot):
    manifest = small_shot.board.manifest
    result = scan(small_shot.image, manifest)
    assert len(cut_views(small_shot.image, manifest, result)) == len(result.stickies)
    strict = ScanParams(view_min_coverage=1.01)
    assert cut_views(small_shot.image, manifest, result, params=strict) == []
