"""Choose the sticky views a camera sends: only those that beat what it sent before.

A view is a flat, upright picture of one sticky cut out of a frame (`scanner.cut_views`), with a
score whose `quality` orders views of the same sticky (docs/contracts.md).
"""

from __future__ import annotations

import logging

from camera.spool import View

LOG = logging.getLogger("openspaces.camera")

# A view goes when its quality beats the best one sent for that sticky by this factor, so that
# noise between frames of an unchanged sticky sends nothing. Each scan carries at most this many
# views and bytes (a view of a 76 mm note from a 1080p webcam is about 5 kB as JPEG).
VIEW_GAIN = 1.1
MAX_VIEWS_PER_SCAN = 10
MAX_VIEWS_BYTES = 4_000_000
VIEW_JPEG_QUALITY = 85
# The key of a plain note's view among a scan's views: its place in the scan's notes.
NOTE_VIEW_PREFIX = "note:"


class ViewPicker:
    """Cut the views out of scanned frames and pick the ones worth sending."""

    def __init__(
        self, *, max_per_scan: int = MAX_VIEWS_PER_SCAN, max_bytes: int = MAX_VIEWS_BYTES
    ) -> None:
        self.max_per_scan = max_per_scan
        self.max_bytes = max_bytes
        self._sent_quality: dict[str, float] = {}

    def better_views(self, frame, manifest, scanned) -> dict[str, View]:
        """Return the frame's views that beat the ones sent before: code -> (JPEG, score).

        Best first, at most `max_per_scan` views and `max_bytes` bytes; the rest wait for a later
        frame. `scanned` is the frame's `scanner.ScanResult` with `manifest`.
        """
        import scanner

        try:
            cut = scanner.cut_views(frame, manifest, scanned)
        except (scanner.ScanError, ValueError) as exc:
            LOG.warning("views not cut: %s", exc)
            return {}
        better = [
            view
            for view in cut
            if view.score.quality > self._sent_quality.get(view.code, 0.0) * VIEW_GAIN
        ]
        better.sort(key=lambda view: view.score.quality, reverse=True)
        picked = [(view.code, view) for view in better]
        # A plain note's view goes by its place in this scan's notes (docs/contracts.md): the
        # server tells which note it shows, so every scan sent carries its notes' views.
        picked += [
            (f"{NOTE_VIEW_PREFIX}{view.index}", view) for view in _note_views(frame, scanned)
        ]
        views: dict[str, View] = {}
        total = 0
        for key, view in picked[: self.max_per_scan]:
            jpeg = view.jpeg(VIEW_JPEG_QUALITY)
            if total + len(jpeg) > self.max_bytes:
                continue
            views[key] = (jpeg, view.score.to_dict())
            total += len(jpeg)
        return views

    def sent(self, views: dict[str, View]) -> None:
        """Note the views that went out (into the spool): later ones must beat them."""
        for code, (_, score) in views.items():
            if not code.startswith(NOTE_VIEW_PREFIX):
                self._sent_quality[code] = score["quality"]


def _note_views(frame, scanned) -> list:
    """Return the views of the plain notes in a scanned frame (none when it has none)."""
    import scanner

    if not getattr(scanned, "notes", ()):
        return []
    try:
        return scanner.cut_note_views(frame, scanned)
    except (scanner.ScanError, ValueError) as exc:
        LOG.warning("note views not cut: %s", exc)
        return []
