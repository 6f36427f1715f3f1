"""Run the scanner on the server, for photos uploaded without observations.

A photo the scanner cannot analyse is refused as an upload (InvalidUpload), never left to fail
the request.
"""

from __future__ import annotations

from app.models import Event
from app.services.board import build_manifest
from app.services.uploads import InvalidUpload


def scan_photo(event: Event, image, *, decoder: str = "auto"):
    """Scan a BGR photo against the event's manifest; return the scanner's result."""
    import scanner

    manifest = scanner.Manifest.from_dict(build_manifest(event))
    try:
        return scanner.scan(image, manifest, decoder=decoder)
    except scanner.ScanError as exc:
        raise InvalidUpload(f"the photo cannot be scanned: {exc}") from None


def annotate(image, result):
    import scanner

    try:
        return scanner.annotate(image, result)
    except scanner.ScanError as exc:
        raise InvalidUpload(f"the photo cannot be annotated: {exc}") from None
