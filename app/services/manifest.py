"""The scanner's manifest: what the wall holds (markers, codes, rooms, slots), as the scanner reads it."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Event, Sticky
from app.services.events import CORNER_MARKERS
from app.services.plain_notes import looks_for_notes
from app.services.published import room_url, sticky_url


def build_manifest(event: Event) -> dict:
    """Return the scanner's manifest for the event (docs/contracts.md)."""
    # printables loads reportlab (a third of a second): only what scans or prints pays for it.
    from printables import DEFAULT_MARKER_DICTIONARY, card_marker_rect, card_size, get_template

    geometry: dict[str, dict] = {}
    stickies = db.session.scalars(
        # Plain notes have no marker: the scanner finds them by their look, not in the manifest.
        select(Sticky).filter_by(event_id=event.id, plain=False).order_by(Sticky.marker_id)
    )
    entries = []
    for sticky in stickies:
        template = sticky.batch.template if sticky.batch else "note-76"
        if template not in geometry:
            t = get_template(template)
            geometry[template] = {
                "marker_offset": [round(v, 4) for v in t.marker_offset],
                "outline": [list(c) for c in t.marker_outline],
                "qr_outline": [list(c) for c in t.marker_qr_outline],
                "marker_mm": t.marker_side_mm,
            }
        entries.append(
            {
                "code": sticky.code,
                "kind": str(sticky.kind),
                "qr": sticky_url(event, sticky.code),
                "marker_id": sticky.marker_id,
                **geometry[template],
            }
        )
    # Room and slot cards share one layout; its centre marks the column or row.
    card_w, card_h = card_size("room")
    mx, my, side = card_marker_rect("room")
    header_offset = [
        round((card_w / 2 - (mx + side / 2)) / side, 4),
        round((card_h / 2 - (my + side / 2)) / side, 4),
    ]
    return {
        "event": {"name": event.name, "slug": event.slug, "base_url": event.base_url},
        "marker_dictionary": DEFAULT_MARKER_DICTIONARY,
        "header_marker_offset": header_offset,
        "corners": dict(CORNER_MARKERS),
        "rooms": [
            {"name": r.name, "marker_id": r.marker_id, "qr": room_url(event, r)}
            for r in event.rooms
        ],
        "slots": [
            {
                "start": s.key,
                "end": s.local_end.strftime("%Y-%m-%dT%H:%M"),
                "marker_id": s.marker_id,
            }
            for s in event.slots
        ],
        "stickies": entries,
        "plain_notes": looks_for_notes(event),
    }
