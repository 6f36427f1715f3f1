"""The scanner's tuning knobs: what a deployment or a benchmark may change, with today's values.

`scan(image, manifest, params=ScanParams())` hands them down to the stages; the defaults are the
values the benchmarks (benchmarks/RESULTS.md) were measured with. Geometry that follows from the
printed kit (card and sticky layouts, the QR's module count) is no knob and stays in its module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScanParams:
    """Say how hard the scanner looks, and how sure it must be before it places or hides."""

    # -- markers (scanner.markers, scanner.pipeline) --
    # Photos are searched for markers reduced to this long side (px): above it a 4K frame costs
    # four times the time for markers that are large enough at half the size.
    detect_long_side: int = 2304
    # Marker-like quads that did not decode are looked at again enlarged, up to this many (count),
    # on frames up to `enlarge_max_side`: the slow part of a small, far-away board.
    marker_retries: int = 40
    # Frames whose long side is at most this (px, 720p) are also searched enlarged when their
    # sticky markers are smaller than `small_marker_px` (px, median side).
    enlarge_max_side: int = 1280
    small_marker_px: float = 16.0

    # -- QR codes looked at again (scanner.qrcodes) --
    # Crops around unexplained marker-like shapes read with every decoder: this many per
    # megapixel, at least `qr_crops_min` (count: ~10 ms per megapixel on 2 cores); past them the
    # warnings name what was left unread.
    qr_crops_per_mp: float = 1.5
    qr_crops_min: int = 4

    # -- the second look at unreadable cells (scanner.closeup) --
    # At most this many cells (count) are rectified and read again, each scaled so that a
    # sticky marker's side gets `closeup_px_per_marker` pixels.
    closeup_cells: int = 12
    closeup_px_per_marker: float = 48.0

    # -- the grid (scanner.placement) --
    # A sticky whose centre lies within this share of a cell's width or height of its border is
    # in doubt and left unplaced, rather than put in the wrong cell.
    boundary_margin: float = 0.05

    # -- occlusion (scanner.occlusion) --
    # A cell is hidden (a person in front) when more than this share of it is dark, and not bare
    # when more than `covered_fraction` of its inside is coloured or glare (a sticky unread).
    dark_fraction: float = 0.1
    covered_fraction: float = 0.15

    # -- pictures (scanner.views) --
    # A sticky's view is cut only when at least this share of the sticky lies in the photo, not
    # hidden: a sliver of a sticky is no picture of it.
    view_min_coverage: float = 0.5


DEFAULT_PARAMS = ScanParams()
