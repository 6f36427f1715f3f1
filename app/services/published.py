"""What the board publishes: the addresses of its pages and pictures, and the public board state.

Each is read by the pages, the feeds, the QR codes, the hooks and the scanner's manifest alike, so it
lives apart from the rules that change the board (app.services.board) and the pictures' storage
(app.services.pictures).
"""

from __future__ import annotations

from app.models import Event, Room, Sticky
from app.services.board import board_stickies


def sticky_url(event: Event, code: str) -> str:
    """Return what a sticky's QR holds: the page a phone opens."""
    return f"{event.base_url}/s/{code}"


def room_url(event: Event, room: Room) -> str:
    return f"{event.base_url}/rooms/{room.position + 1}"


def picture_version(sticky: Sticky) -> str | None:
    """Return a stamp that changes with the sticky's picture (for cache-busting URLs), or None."""
    if not sticky.picture_file:
        return None
    return sticky.picture_file.rsplit("-", 1)[-1].removesuffix(".jpg")


def picture_url(event: Event, sticky: Sticky) -> str | None:
    """Return the picture's public URL under the event's base URL, or None without a picture."""
    version = picture_version(sticky)
    if version is None:
        return None
    return f"{event.base_url}/s/{sticky.code}/picture.jpg?v={version}"


def board_json(event: Event) -> dict:
    """Return the board state in the ``GET /api/board`` contract."""
    return {
        "event": event.slug,
        "stickies": [
            {
                "code": s.code,
                "kind": str(s.kind),
                "room": s.room.name if s.on_grid else None,
                "slot": s.slot.key if s.on_grid else None,
                "status": str(s.board_status),
                "since": s.placed_dt.isoformat().replace("+00:00", "Z") if s.placed_dt else None,
                "title": s.title,
                "picture": picture_url(event, s),
                "suggested_title": s.suggested_title,
            }
            for s in board_stickies(event)
        ],
    }
