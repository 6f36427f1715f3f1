"""Run the scanner on the server, for photos uploaded without observations."""

from __future__ import annotations

from app.models import Event
from app.services.board import build_manifest


def scan_photo(event: Event, image, *, decoder: str = "auto"):
    """Scan a BGR photo against the event's manifest; return the scanner's result."""
    import scanner

    manifest = scanner.Manifest.from_dict(build_manifest(event))
    return scanner.scan(image, manifest, decoder=decoder)


def annotate(image, result):
    import scanner

    return scanner.annotate(image, result)
