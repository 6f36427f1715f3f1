"""The organizer's "needs attention" list and the scan detail page."""

import datetime as dt
import re

from app_helpers import utc

from app.extensions import db
from app.models import PlacementSource, StickyKind
from app.services.attention import needs_attention
from app.services.board import build_grid, place_sticky, put_off_grid
from app.services.observations import parse_observations
from app.services.scans import apply_scan
from app.services.stickies import toggle_interest
from app.settings import configure

DURING = utc(2026, 9, 26, 4, 40)  # 10:10 in Kolkata, inside the first slot


def findings(event, now=DURING):
    return [(f.kind, f.text) for f in needs_attention(event=event, grid=build_grid(event), now=now)]


def place(sticky, room, slot):
    place_sticky(sticky=sticky, room=room, slot=slot, source=PlacementSource.ORGANIZER)
    db.session.commit()


def record_scan(event, *, source="wall-cam", when=DURING, seen=None, scan_id="s1"):
    body = {
        "scan_id": scan_id,
        "board_found": True,
        "stickies": [
            {"code": code, "room": room, "slot": slot, "x": 1.0, "y": 1.0, "via": "marker"}
            for code, (room, slot) in (seen or {}).items()
        ],
        "hidden_cells": [],
        "warnings": [],
    }
    outcome = apply_scan(
        event=event,
        observations=parse_observations(body),
        source=source,
        remove_after=3,
        now=when,
    )
    db.session.commit()
    return outcome.scan


def test_attention_lists_a_conflict_with_the_holder(event, create_session):
    record_scan(event)
    first, second = create_session(title="First"), create_session(title="Second")
    place(first, event.rooms[0], event.slots[0])
    place(second, event.rooms[0], event.slots[0])
    assert findings(event) == [
        ("conflict", "“Second” sits in Hall A, Sat 10:00, a cell taken first by “First”.")
    ]


def test_attention_lists_a_full_room_with_a_larger_free_room_or_without(event, create_session):
    record_scan(event)
    packed = create_session(title="Packed")
    place(packed, event.rooms[1], event.slots[0])  # Hall B seats 2
    for n in range(3):
        toggle_interest(sticky=packed, browser_id=f"browser-{n:04d}")
    db.session.commit()
    (finding,) = needs_attention(event=event, grid=build_grid(event), now=DURING)
    assert finding.kind == "over_capacity"
    assert finding.text == (
        "“Packed” has 3 interested for 2 seats in Hall B; Hall A (40 seats) is free at 10:00."
    )
    assert (finding.room.name, finding.slot.id) == ("Hall A", event.slots[0].id)
    place(create_session(title="Hall A taken"), event.rooms[0], event.slots[0])
    # The board still says FULL: the warning stays, without a room to move to.
    (finding,) = needs_attention(event=event, grid=build_grid(event), now=DURING)
    assert (finding.kind, finding.room) == ("over_capacity", None)
    assert finding.text == (
        "“Packed” has 3 interested for 2 seats in Hall B; no bigger room is free at 10:00."
    )


def test_dashboard_full_room_without_a_larger_room_offers_the_sticky(
    event, create_session, organizer_client
):
    record_scan(event)
    packed = create_session(title="Packed")
    place(packed, event.rooms[1], event.slots[0])
    place(create_session(title="Hall A taken"), event.rooms[0], event.slots[0])
    for n in range(3):
        toggle_interest(sticky=packed, browser_id=f"browser-{n:04d}")
    db.session.commit()
    html = organizer_client.get("/admin/").get_data(as_text=True)
    item = html.split('<li class="finding finding-over_capacity">', 1)[1].split("</li>", 1)[0]
    assert "no bigger room is free at 10:00." in item
    assert "Move to" not in item
    assert f'href="/admin/stickies/{packed.code}">Open it' in item


def test_attention_lists_untitled_stickies_on_the_board(event, create_stickies):
    record_scan(event)
    (blank,) = create_stickies(1)
    place(blank, event.rooms[2], event.slots[1])
    assert findings(event) == [("untitled", "Untitled sticky in Terrace, Sat 11:00.")]


def test_attention_counts_a_phone_scan_for_the_camera(event):
    assert findings(event) == [("camera_quiet", "No scan of the wall yet.")]
    record_scan(event, source="organizer", when=DURING - dt.timedelta(seconds=100))
    assert findings(event) == []
    assert findings(event, now=DURING + dt.timedelta(minutes=3)) == [
        ("camera_quiet", "No scan for 4 minutes (the last came from organizer).")
    ]
    assert findings(event, now=utc(2026, 9, 27, 12, 0)) == []


def test_attention_lists_sessions_off_the_grid_but_not_people(event, create_session, create_person):
    record_scan(event)
    stray, person = create_session(title="Stray"), create_person()
    for sticky in (stray, person):
        put_off_grid(sticky=sticky, source=PlacementSource.ORGANIZER)
    db.session.commit()
    assert person.kind == StickyKind.PERSON
    assert findings(event) == [("off_grid", "Session “Stray” is on the wall but outside the grid.")]


def test_dashboard_offers_the_move_to_a_larger_room(app, organizer_client, event, create_session):
    configure(app, CLOCK=lambda: DURING)
    packed = create_session(title="Packed")
    place(packed, event.rooms[1], event.slots[0])
    for n in range(3):
        toggle_interest(sticky=packed, browser_id=f"browser-{n:04d}")
    db.session.commit()
    html = organizer_client.get("/admin/").get_data(as_text=True)
    assert f'action="/admin/stickies/{packed.code}/place"' in html
    assert f'name="cell" value="{event.rooms[0].id}:{event.slots[0].id}"' in html
    assert "Move to Hall A</button>" in html
    assert "No scan of the wall yet." in html
    response = organizer_client.post(
        f"/admin/stickies/{packed.code}/place",
        data={"cell": f"{event.rooms[0].id}:{event.slots[0].id}"},
    )
    assert response.status_code == 302
    db.session.refresh(packed)
    assert packed.room.name == "Hall A"


def test_dashboard_offers_the_next_slot_in_24_hour_time(organizer_client, event):
    html = organizer_client.get("/admin/").get_data(as_text=True)
    start = re.search(r'<input [^>]*id="slot-start"[^>]*>', html).group(0)
    assert 'value="2026-09-26 12:00"' in start
    assert 'type="text"' in start and "datetime-local" not in html
    assert 'placeholder="2026-09-26 14:00"' in start
    assert re.search(r'<input [^>]*id="slot-end"[^>]*value="2026-09-26 12:45"', html)


def test_organizer_adds_a_slot_typed_in_24_hour_time(organizer_client, event):
    organizer_client.post(
        "/admin/slots", data={"slot-start": "2026-09-26 13:00", "slot-end": "2026-09-26 13:45"}
    )
    db.session.expire_all()
    assert (event.slots[-1].key, event.slots[-1].label) == ("2026-09-26T13:00", "13:00–13:45")


def test_scan_page_shows_photo_changes_and_undo(organizer_client, event, create_session):
    sticky = create_session(title="Seen")
    scan = record_scan(event, seen={sticky.code: ("Hall B", "2026-09-26T11:00")})
    html = organizer_client.get(f"/admin/scans/{scan.id}").get_data(as_text=True)
    assert "<h2>1 change</h2>" in html
    assert "1 sticky read · 0 cells hidden" in " ".join(html.split())
    assert f"<code>{sticky.code}</code></a> Seen:" in html
    assert "<strong>Hall B 11:00</strong>" in html
    assert f'action="/admin/scans/{scan.id}/undo"' in html
    response = organizer_client.post(f"/admin/scans/{scan.id}/undo")
    assert response.headers["Location"] == f"/admin/scans/{scan.id}"
    db.session.refresh(sticky)
    assert sticky.board_status == "none"
    html = organizer_client.get(f"/admin/scans/{scan.id}").get_data(as_text=True)
    assert "Undo this scan" not in html and 'badge-ended">undone' in html


def test_scan_page_of_an_unknown_scan_is_404(organizer_client, event):
    assert organizer_client.get("/admin/scans/999").status_code == 404
