"""The board page, board state rules, and the board API."""

import datetime as dt
import re

from app_helpers import utc

from app.extensions import db
from app.models import BoardStatus, Placement, PlacementSource
from app.services.board import place_sticky, put_off_grid, remove_sticky
from app.services.events import add_slot, current_and_next_slot
from app.settings import configure


def cell_titles(html: str, room: str, slot: str) -> list[str]:
    match = re.search(rf'data-room="{re.escape(room)}" data-slot="{slot}">(.*?)</td>', html, re.S)
    assert match, f"no cell {room} {slot}"
    return re.findall(r'<span class="note-title">([^<]+)</span>', match.group(1))


def test_board_shows_titles_in_cells(client, event, create_session):
    sticky = create_session(title="Type hints at scale")
    place_sticky(
        sticky=sticky, room=event.rooms[1], slot=event.slots[0], source=PlacementSource.ORGANIZER
    )
    db.session.commit()
    for url in ("/", "/board"):
        html = client.get(url).get_data(as_text=True)
        assert cell_titles(html, "Hall B", "2026-09-26T10:00") == ["Type hints at scale"]
        assert cell_titles(html, "Hall A", "2026-09-26T10:00") == []
        assert "Hall A" in html and "10:00–10:45" in html


def test_second_sticky_in_a_cell_is_in_conflict_and_takes_over_when_first_leaves(
    client, event, create_session
):
    first = create_session(title="First")
    second = create_session(title="Second")
    room, slot = event.rooms[0], event.slots[0]
    place_sticky(
        sticky=first, room=room, slot=slot, source=PlacementSource.CAMERA, now=utc(2026, 9, 26, 3)
    )
    place_sticky(
        sticky=second,
        room=room,
        slot=slot,
        source=PlacementSource.CAMERA,
        now=utc(2026, 9, 26, 3, 5),
    )
    db.session.commit()
    assert (first.board_status, second.board_status) == (BoardStatus.PLACED, BoardStatus.CONFLICT)
    html = client.get("/board").get_data(as_text=True)
    assert cell_titles(html, "Hall A", "2026-09-26T10:00") == ["First", "Second"]
    assert 'class="cell has-conflict"' in html
    assert "was taken by another session first" in client.get(f"/s/{second.code}").get_data(
        as_text=True
    )

    place_sticky(
        sticky=first,
        room=event.rooms[2],
        slot=slot,
        source=PlacementSource.CAMERA,
        now=utc(2026, 9, 26, 3, 10),
    )
    db.session.commit()
    assert (first.board_status, second.board_status) == (BoardStatus.PLACED, BoardStatus.PLACED)
    history = [
        (p.from_status, p.to_status)
        for p in db.session.query(Placement).filter_by(sticky_id=second.id).order_by(Placement.id)
    ]
    assert history == [("none", "conflict"), ("conflict", "placed")]


def test_placing_again_in_same_cell_records_nothing(event, create_session):
    sticky = create_session()
    assert place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    assert (
        place_sticky(
            sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
        )
        is None
    )
    assert db.session.query(Placement).filter_by(sticky_id=sticky.id).count() == 1


def test_move_is_recorded_with_from_and_to(event, create_session):
    sticky = create_session()
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.ORGANIZER
    )
    move = place_sticky(
        sticky=sticky, room=event.rooms[1], slot=event.slots[1], source=PlacementSource.ORGANIZER
    )
    assert (move.from_room_id, move.from_slot_id) == (event.rooms[0].id, event.slots[0].id)
    assert (move.to_room_id, move.to_slot_id) == (event.rooms[1].id, event.slots[1].id)
    assert sticky.room.name == "Hall B"


def test_current_and_next_slot_by_wall_clock(event):
    first, second = event.slots
    assert current_and_next_slot(event, now=utc(2026, 9, 26, 4, 40)) == (first, second)
    assert current_and_next_slot(event, now=utc(2026, 9, 26, 5, 20)) == (None, second)
    assert current_and_next_slot(event, now=utc(2026, 9, 27)) == (None, None)


def test_board_highlights_running_and_next_slot(client, event):
    now = dt.datetime.now(dt.UTC).astimezone(event.tz)
    start = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=10)
    fmt = "%Y-%m-%dT%H:%M"
    add_slot(
        event=event, start=start.strftime(fmt), end=(start + dt.timedelta(minutes=40)).strftime(fmt)
    )
    later = start + dt.timedelta(hours=1)
    add_slot(
        event=event, start=later.strftime(fmt), end=(later + dt.timedelta(minutes=40)).strftime(fmt)
    )
    db.session.commit()
    html = client.get("/board").get_data(as_text=True)
    assert html.count('<tr class="now">') == 1
    assert html.count('<tr class="next">') == 1
    assert re.search(
        rf'<tr class="now">\s*<th scope="row" class="slot-head">\s*{start:%H:%M}', html
    )


def test_kiosk_shows_now_and_next_by_the_app_clock(app, client, event):
    configure(app, CLOCK=lambda: utc(2026, 9, 26, 4, 40))  # 10:10 in Kolkata
    html = client.get("/board?kiosk=1").get_data(as_text=True)
    assert '<body class="kiosk"' in html
    assert re.search(r'kiosk-col-now"><span class="kiosk-when">Now</span> 10:00–10:45', html)
    assert re.search(r'kiosk-col-next"><span class="kiosk-when">Next</span> 11:00–11:45', html)
    assert 'data-live="/board/grid?kiosk=1"' in html
    assert '<svg class="qr"' in html and 'aria-label="QR code: http://localhost:5000/board"' in html
    assert "<time data-clock>10:10</time>" in html


def test_kiosk_after_the_last_slot_says_so(app, client, event):
    configure(app, CLOCK=lambda: utc(2026, 9, 26, 7, 0))
    html = client.get("/kiosk").get_data(as_text=True)
    assert "That was the last slot." in html
    assert "kiosk-table" not in html


def test_kiosk_before_the_first_slot_shows_next_and_later(app, client, event):
    configure(app, CLOCK=lambda: utc(2026, 9, 26, 3, 0))
    html = client.get("/kiosk").get_data(as_text=True)
    assert "kiosk-col-now" not in html
    assert '<span class="kiosk-when">Next</span> 10:00–10:45' in html
    assert '<span class="kiosk-when">Later</span> 11:00–11:45' in html


def test_board_serves_every_asset_itself(client, event):
    html = client.get("/board").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:css|js|svg)(?:\?[^"]*)?)"', html)
    names = {asset.split("?")[0].rsplit("/", 1)[1] for asset in assets}
    assert names == {
        "style.css",
        "offline.css",
        "favicon.svg",
        "offline.js",
        "follow.js",
        "notify.js",
        "board.js",
    }
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200


def test_board_grid_fragment_for_live_refresh(client, event, create_session):
    sticky = create_session(title="Live")
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[1], source=PlacementSource.ORGANIZER
    )
    db.session.commit()
    html = client.get("/board/grid").get_data(as_text=True)
    assert "<html" not in html
    assert cell_titles(html, "Hall A", "2026-09-26T11:00") == ["Live"]


def test_off_grid_person_is_listed_in_people_area(client, event, create_person):
    person = create_person(name="Aiko")
    put_off_grid(sticky=person, source=PlacementSource.CAMERA)
    db.session.commit()
    html = client.get("/board").get_data(as_text=True)
    assert "On the wall, off the grid" in html and "Aiko" in html


def test_api_board_contract(client, event, create_session, create_person):
    placed = create_session(title="A")
    conflict = create_session(title="B")
    person = create_person()
    gone = create_session(title="C")
    room, slot = event.rooms[0], event.slots[0]
    place_sticky(
        sticky=placed, room=room, slot=slot, source=PlacementSource.CAMERA, now=utc(2026, 9, 26, 4)
    )
    place_sticky(
        sticky=conflict,
        room=room,
        slot=slot,
        source=PlacementSource.CAMERA,
        now=utc(2026, 9, 26, 4, 1),
    )
    put_off_grid(sticky=person, source=PlacementSource.CAMERA, now=utc(2026, 9, 26, 4, 2))
    place_sticky(sticky=gone, room=event.rooms[1], slot=slot, source=PlacementSource.CAMERA)
    remove_sticky(sticky=gone, source=PlacementSource.CAMERA)
    db.session.commit()
    data = client.get("/api/board").get_json()
    assert data["stickies"] == [
        {
            "code": placed.code,
            "kind": "session",
            "room": "Hall A",
            "slot": "2026-09-26T10:00",
            "status": "placed",
            "since": "2026-09-26T04:00:00Z",
            "title": "A",
            "picture": None,
            "suggested_title": None,
        },
        {
            "code": conflict.code,
            "kind": "session",
            "room": "Hall A",
            "slot": "2026-09-26T10:00",
            "status": "conflict",
            "since": "2026-09-26T04:01:00Z",
            "title": "B",
            "picture": None,
            "suggested_title": None,
        },
        {
            "code": person.code,
            "kind": "person",
            "room": None,
            "slot": None,
            "status": "off_grid",
            "since": "2026-09-26T04:02:00Z",
            "title": "Mei",
            "picture": None,
            "suggested_title": None,
        },
    ]


def test_hidden_sticky_leaves_board_and_page(client, event, create_session):
    from app.services.stickies import set_hidden

    sticky = create_session(title="Spam")
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    set_hidden(sticky=sticky, hidden=True)
    db.session.commit()
    assert "Spam" not in client.get("/board").get_data(as_text=True)
    assert client.get(f"/s/{sticky.code}").status_code == 404
    assert client.get("/api/board").get_json()["stickies"] == []


def test_room_page_lists_sessions_by_slot(client, event, create_session):
    sticky = create_session(title="Garden chat")
    place_sticky(
        sticky=sticky, room=event.rooms[2], slot=event.slots[1], source=PlacementSource.CAMERA
    )
    db.session.commit()
    html = client.get("/rooms/3").get_data(as_text=True)
    assert "Terrace" in html and "Garden chat" in html
    assert client.get("/rooms/4").status_code == 404


def test_pages_send_security_headers(client, event):
    response = client.get("/board")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in response.get_data(as_text=True)


def test_phone_list_puts_now_first_and_finished_slots_last(app, client, event):
    configure(app, CLOCK=lambda: utc(2026, 9, 26, 5, 35))  # 11:05 in Kolkata: the second slot
    html = client.get("/board").get_data(as_text=True)
    phone = html[html.index('<div class="slot-list">') : html.index('<section class="day"')]
    headings = re.findall(r'<h2 id="slot-\d+">([^<]+)', phone)
    assert [h.strip() for h in headings] == ["11:00–11:45", "10:00–10:45"]
    assert phone.index("badge-now") < phone.index("<summary>Earlier (1 slot)</summary>")
    assert '<p class="slot-free">Free: Hall A, Hall B, Terrace</p>' in phone


def test_kiosk_names_the_day_of_a_next_slot_on_another_day(app, client, event):
    add_slot(event=event, start="2026-09-27T10:00", end="2026-09-27T10:45")
    db.session.commit()
    configure(app, CLOCK=lambda: utc(2026, 9, 26, 6, 0))  # 11:30, in the last slot of the day
    html = client.get("/kiosk").get_data(as_text=True)
    assert '<span class="kiosk-when">Now</span> 11:00–11:45' in html
    assert '<span class="kiosk-when">Next</span> Sun 10:00–10:45' in html
