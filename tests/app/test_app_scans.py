"""Scan ingest: sequences of scans against the board state, and the API's refusals."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import BoardStatus, Event, Placement, Scan, Sticky
from app.services.observations import parse_observations
from app.services.scans import apply_scan, undo_scan

A, B, T = "Hall A", "Hall B", "Terrace"
TEN, ELEVEN = "2026-09-26T10:00", "2026-09-26T11:00"


@pytest.fixture
def scan(event):
    """Apply a scan built from {code: (room, slot) | None}; return the outcome."""
    counter = iter(range(1, 1000))

    def apply(seen, *, hidden=(), board_found=True, scan_id=None):
        body = {
            "scan_id": scan_id or f"s{next(counter)}",
            "board_found": board_found,
            "stickies": [
                {
                    "code": code,
                    "room": cell[0] if cell else None,
                    "slot": cell[1] if cell else None,
                    "x": 10.0,
                    "y": 20.0,
                    "via": "marker",
                }
                for code, cell in seen.items()
            ],
            "hidden_cells": [list(c) for c in hidden],
            "warnings": [],
        }
        outcome = apply_scan(
            event=event, observations=parse_observations(body), source="test", remove_after=3
        )
        db.session.commit()
        return outcome

    return apply


def where(sticky):
    db.session.refresh(sticky)
    if sticky.on_grid:
        return (sticky.board_status, sticky.room.name, sticky.slot.key)
    return (sticky.board_status,)


def test_scan_places_then_moves_sticky_with_history(scan, create_session):
    s = create_session()
    scan({s.code: (A, TEN)})
    assert where(s) == ("placed", A, TEN)
    outcome = scan({s.code: (B, ELEVEN)})
    assert where(s) == ("placed", B, ELEVEN)
    assert outcome.changes == [
        {
            "code": s.code,
            "title": "Testing without mocks",
            "from": {"status": "placed", "room": A, "slot": TEN},
            "to": {"status": "placed", "room": B, "slot": ELEVEN},
        }
    ]
    moves = db.session.scalars(
        select(Placement).filter_by(sticky_id=s.id).order_by(Placement.id)
    ).all()
    assert [m.scan_id for m in moves] == [1, 2]


def test_scan_second_sticky_in_cell_is_conflict(scan, create_session):
    first, second = create_session(title="First"), create_session(title="Second")
    scan({first.code: (A, TEN)})
    scan({first.code: (A, TEN), second.code: (A, TEN)})
    assert where(first) == ("placed", A, TEN)
    assert where(second) == ("conflict", A, TEN)


def test_scan_two_newcomers_to_one_cell_first_issued_wins(scan, create_session):
    first, second = create_session(title="First"), create_session(title="Second")
    scan({second.code: (A, TEN), first.code: (A, TEN)})
    assert where(first)[0] == "placed" and where(second)[0] == "conflict"


def test_scan_swap_within_one_scan(scan, create_session):
    a, b = create_session(title="a"), create_session(title="b")
    scan({a.code: (A, TEN), b.code: (B, TEN)})
    scan({a.code: (B, TEN), b.code: (A, TEN)})
    assert where(a) == ("placed", B, TEN)
    assert where(b) == ("placed", A, TEN)


def test_unseen_sticky_removed_only_after_k_visible_scans(app, scan, create_session):
    assert app.config["REMOVE_AFTER_SCANS"] == 3
    s = create_session()
    scan({s.code: (A, TEN)})
    scan({})
    scan({})
    assert where(s) == ("placed", A, TEN)
    scan({})
    assert where(s) == ("none",)


def test_person_in_front_never_removes_sticky(scan, create_session):
    s = create_session()
    scan({s.code: (A, TEN)})
    for _ in range(10):
        scan({}, hidden=[(A, TEN)])
    assert where(s) == ("placed", A, TEN)
    # A hidden scan breaks the row: two visible misses, a hidden one, two more: still there.
    scan({})
    scan({})
    scan({}, hidden=[(A, TEN)])
    scan({})
    scan({})
    assert where(s) == ("placed", A, TEN)


def test_seen_again_resets_the_count(scan, create_session):
    s = create_session()
    scan({s.code: (A, TEN)})
    scan({})
    scan({})
    scan({s.code: (A, TEN)})
    scan({})
    scan({})
    assert where(s) == ("placed", A, TEN)


def test_scan_without_board_changes_nothing(scan, create_session):
    s, t = create_session(), create_session()
    scan({s.code: (A, TEN)})
    for _ in range(5):
        scan({t.code: (B, TEN)}, board_found=False)
    assert where(s) == ("placed", A, TEN)
    assert where(t) == ("none",)
    assert db.session.scalar(select(func.count(Scan.id))) == 6


def test_person_sticky_goes_to_people_board(client, scan, create_person):
    p = create_person(name="Aiko")
    scan({p.code: None})
    assert where(p) == ("off_grid",)
    assert "Aiko" in client.get("/board").get_data(as_text=True)


def test_undo_scan_puts_stickies_back(scan, create_session):
    s = create_session()
    scan({s.code: (A, TEN)})
    bad = scan({s.code: (B, ELEVEN)})
    assert undo_scan(scan=bad.scan) == 1
    db.session.commit()
    assert where(s) == ("placed", A, TEN)
    assert bad.scan.undone_dt is not None


def test_undo_leaves_later_moves_alone(scan, create_session):
    s = create_session()
    first = scan({s.code: (A, TEN)})
    scan({s.code: (B, TEN)})
    assert undo_scan(scan=first.scan) == 0
    assert where(s) == ("placed", B, TEN)


def test_api_scan_applies_and_same_id_twice_applies_once(post, create_session):
    s = create_session()
    body = {
        "scan_id": "cam-1",
        "board_found": True,
        "hidden_cells": [],
        "warnings": [],
        "stickies": [{"code": s.code, "room": A, "slot": TEN, "x": 1.5, "y": 2.5, "via": "qr"}],
    }
    first = post(body)
    assert first.status_code == 201
    assert first.get_json()["applied"] is True
    assert first.get_json()["changes"][0]["to"] == {"status": "placed", "room": A, "slot": TEN}
    body["stickies"][0]["room"] = B
    again = post(body)
    assert again.status_code == 200
    assert again.get_json() == {
        "scan": first.get_json()["scan"],
        "duplicate": True,
        "applied": False,
        "changes": [],
        "pictures": [],
    }
    assert where(s) == ("placed", A, TEN)
    assert db.session.scalar(select(func.count(Scan.id))) == 1


def test_api_scan_that_moves_a_holder_reads_the_board_once(post, create_session, count_queries):
    """A camera's scan: a holder leaves its cell (the queued sticky takes it) for a taken cell
    (where it queues); each cell's queue comes from the scan's one read of the board."""
    holder, queued, other = (create_session(title=t) for t in ("Holder", "Queued", "Other"))

    def body(n, cells):
        stickies = [
            {"code": s.code, "room": room, "slot": slot, "via": "marker"}
            for s, (room, slot) in cells.items()
        ]
        return {"scan_id": f"cam-{n}", "board_found": True, "stickies": stickies}

    assert post(body(1, {holder: (A, TEN), other: (B, TEN)})).status_code == 201
    assert post(body(2, {holder: (A, TEN), queued: (A, TEN), other: (B, TEN)})).status_code == 201
    third = body(3, {holder: (B, TEN), queued: (A, TEN), other: (B, TEN)})
    with count_queries() as run:
        moved = post(third)
    assert moved.status_code == 201
    assert [where(s) for s in (holder, queued, other)] == [
        ("conflict", B, TEN),
        ("placed", A, TEN),
        ("placed", B, TEN),
    ]
    # The answer names the sticky the camera moved; its history also has the queued one's turn.
    assert [(c["code"], c["to"]["status"]) for c in moved.get_json()["changes"]] == [
        (holder.code, "conflict")
    ]
    history = select(Placement.sticky_id, Placement.to_status).where(Placement.scan_id == 3)
    assert db.session.execute(history.order_by(Placement.id)).all() == [
        (holder.id, BoardStatus.CONFLICT),
        (queued.id, BoardStatus.PLACED),
    ]
    # The token with the event, the board's write lock (with the layout's version: the rooms and
    # slots are known), the scan (stored unless its id is, and whether it is late), the stickies;
    # then the event's change counter, once for the whole scan (what live pages compare); the two
    # stickies' places and history rows; then the moved session's board news (its message not yet
    # told, which the move replaces: app.services.outbox).
    assert len(run) == 11, "\n".join(run)


def test_api_scan_uses_the_rooms_and_slots_as_they_are_now(app, post, create_session, event):
    """Scans keep the room names and slot times between requests; an organizer's change made
    through another app on the same database (another worker) counts from the next scan."""
    from app import create_app
    from app.services.events import update_event_settings, update_room

    s = create_session()

    def body(n, room, slot):
        stickies = [{"code": s.code, "room": room, "slot": slot, "via": "marker"}]
        return {"scan_id": f"cam-{n}", "board_found": True, "stickies": stickies}

    assert post(body(1, A, TEN)).status_code == 201
    other = create_app({**app.config, "TESTING": True})
    with other.app_context():
        there = db.session.get(Event, event.id)
        update_room(room=there.rooms[0], name="Main Hall", capacity=40)
        # 10:00 in Kolkata is 08:30 in Dubai.
        update_event_settings(
            event=there,
            name=there.name,
            timezone="Asia/Dubai",
            base_url=there.base_url,
            plain_notes=None,
        )
        db.session.commit()
        db.session.remove()
    refused = post(body(2, A, TEN))
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "unknown room 'Hall A'"
    moved = post(body(3, "Main Hall", "2026-09-26T09:30"))
    assert moved.status_code == 201, moved.get_json()
    assert moved.get_json()["changes"][0]["from"] == {
        "status": "placed",
        "room": "Main Hall",
        "slot": "2026-09-26T08:30",
    }
    assert moved.get_json()["changes"][0]["to"] == {
        "status": "placed",
        "room": "Main Hall",
        "slot": "2026-09-26T09:30",
    }
    assert where(s) == ("placed", "Main Hall", "2026-09-26T09:30")


def test_api_with_a_camera_token_and_no_event_is_404(app, client):
    from app.services.organizers import create_token

    _, secret = create_token(name="early-cam")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/manifest", headers=headers).status_code == 404
    body = {"scan_id": "s1", "board_found": True, "stickies": []}
    assert client.post("/api/scans", json=body, headers=headers).status_code == 404


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic abc", "Bearer "])
def test_api_scan_without_valid_token_is_401(client, event, auth):
    headers = {"Authorization": auth} if auth else {}
    response = client.post(
        "/api/scans", json={"scan_id": "x", "board_found": True}, headers=headers
    )
    assert response.status_code == 401
    assert "camera token" in response.get_json()["error"]
    assert db.session.scalar(select(func.count(Scan.id))) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"board_found": True}, "scan_id must be a string"),
        ({"scan_id": "x"}, "board_found must be true or false"),
        ({"scan_id": "x", "board_found": True, "stickies": "no"}, "stickies must be a list"),
        (
            {
                "scan_id": "x",
                "board_found": True,
                "stickies": [{"code": "ZZZZZZ", "room": None, "slot": None}],
            },
            "codes never issued for this event: ZZZZZZ",
        ),
        (
            {
                "scan_id": "x",
                "board_found": True,
                "stickies": [{"code": "C", "room": "Hall A", "slot": None}],
            },
            "room and slot go together",
        ),
        (
            {"scan_id": "x", "board_found": True, "hidden_cells": [["Hall Z", "2026-09-26T10:00"]]},
            "unknown hidden cell",
        ),
        ({"scan_id": "x" * 101, "board_found": True}, "scan_id must be a string of 1 to 100"),
        ([1, 2], "the body must be a JSON object"),
    ],
)
def test_api_scan_bad_body_is_422_and_changes_nothing(post, body, message):
    response = post(body)
    assert response.status_code == 422
    assert message in response.get_json()["error"]
    assert db.session.scalar(select(func.count(Scan.id))) == 0


# NaN and Infinity are refused as JSON (test_app_ingest.py); these parse, but as no finite float.
@pytest.mark.parametrize("number", ["1e999", "-1e999", "1" + "0" * 400])
def test_api_scan_non_finite_coordinate_is_422_and_changes_nothing(
    client, token, create_session, number
):
    s = create_session()
    sticky = f'{{"code": "{s.code}", "room": "{A}", "slot": "{TEN}", "x": {number}, "y": 2}}'
    response = client.post(
        "/api/scans",
        data=f'{{"scan_id": "cam-1", "board_found": true, "stickies": [{sticky}]}}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"] == "stickies[0].x must be a finite number"
    assert where(s) == ("none",)
    assert db.session.scalar(select(func.count(Scan.id))) == 0


def test_api_scan_captured_dt_is_recorded_and_dates_the_moves(post, create_session):
    s = create_session()
    body = {
        "scan_id": "cam-1",
        "board_found": True,
        "captured_dt": "2026-09-26T10:00:05.250+02:00",
        "stickies": [{"code": s.code, "room": A, "slot": TEN, "x": 1, "y": 2, "via": "marker"}],
    }
    assert post(body).status_code == 201
    captured = dt.datetime(2026, 9, 26, 8, 0, 5, 250000, tzinfo=dt.UTC)
    scan = db.session.scalar(select(Scan))
    assert scan.captured_dt == captured
    assert scan.received_dt > captured
    assert db.session.scalar(select(Placement.created_dt)) == captured
    assert db.session.get(Sticky, s.id).placed_dt == captured


def test_api_scan_captured_before_the_last_applied_is_kept_and_moves_nothing(post, create_session):
    s = create_session()

    def body(scan_id, captured, room):
        cell = {"code": s.code, "room": room, "slot": TEN, "x": 1, "y": 2, "via": "marker"}
        return {
            "scan_id": scan_id,
            "board_found": True,
            "captured_dt": captured,
            "stickies": [cell],
        }

    assert post(body("cam-2", "2026-09-26T08:00:10Z", B)).get_json()["applied"] is True
    late = post(body("cam-1", "2026-09-26T08:00:05Z", A))
    assert late.status_code == 201
    assert late.get_json()["applied"] is False
    assert late.get_json()["changes"] == []
    assert where(s) == ("placed", B, TEN)
    assert db.session.scalar(select(func.count(Scan.id))) == 2


def test_api_scan_captured_in_the_future_counts_as_received(post, create_session):
    s = create_session()
    cell = {"code": s.code, "room": A, "slot": TEN, "x": 1, "y": 2, "via": "marker"}
    body = {"scan_id": "c", "board_found": True, "captured_dt": "2999-01-01T00:00:00Z"}
    assert post({**body, "stickies": [cell]}).status_code == 201
    scan = db.session.scalar(select(Scan))
    assert scan.captured_dt == scan.received_dt


@pytest.mark.parametrize("captured", ["2026-09-26T10:00:05", "yesterday", 1790000000, ""])
def test_api_scan_captured_dt_without_utc_offset_is_422(post, event, captured):
    response = post({"scan_id": "c", "board_found": True, "captured_dt": captured})
    assert response.status_code == 422
    assert response.get_json()["error"].startswith("captured_dt must be an ISO 8601 time")
    assert db.session.scalar(select(func.count(Scan.id))) == 0


def test_api_scan_unknown_room_is_422(post, create_session):
    s = create_session()
    response = post(
        {
            "scan_id": "x",
            "board_found": True,
            "stickies": [{"code": s.code, "room": "Hall Z", "slot": TEN, "via": "qr"}],
        }
    )
    assert response.status_code == 422
    assert response.get_json()["error"] == "unknown room 'Hall Z'"
    assert where(s) == ("none",)


def test_api_scan_non_json_is_422(client, token):
    response = client.post("/api/scans", data="hello", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422


def test_api_scan_upload_that_is_not_an_image_is_422(client, token):
    import io

    response = client.post(
        "/api/scans",
        data={"scan_id": "p1", "photo": (io.BytesIO(b"not an image at all"), "wall.jpg")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert "not an image" in response.get_json()["error"]


def test_api_scan_decompression_bomb_is_422(client, token):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, format="PNG")  # 144 MP of zeros in a few KB
    assert len(buffer.getvalue()) < 100_000
    response = client.post(
        "/api/scans",
        data={"scan_id": "bomb", "photo": (io.BytesIO(buffer.getvalue()), "wall.png")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert (
        "megapixels" in response.get_json()["error"]
        or "too many pixels" in response.get_json()["error"]
    )


def test_api_scan_over_upload_limit_is_413(app, client, token):
    import io

    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(
        "/api/scans",
        data={"scan_id": "big", "photo": (io.BytesIO(b"x" * 5000), "wall.jpg")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413
    assert db.session.scalar(select(func.count(Scan.id))) == 0


def test_sticky_codes_are_counted_once(create_stickies):
    stickies = create_stickies(3)
    assert db.session.scalar(select(func.count(Sticky.id))) == 3
    assert all(s.board_status == BoardStatus.NONE for s in stickies)


def test_board_rebuilds_from_history_after_a_sequence(
    runner, scan, event, create_session, create_person
):
    from app.services.board import rebuild_from_history
    from app.services.stickies import get_sticky

    a, b, c = create_session(title="a"), create_session(title="b"), create_session(title="c")
    p = create_person()
    scan({a.code: (A, TEN), b.code: (A, TEN), p.code: None})
    scan({a.code: (B, ELEVEN), b.code: (A, TEN), c.code: (T, TEN)})
    bad = scan({a.code: (T, ELEVEN), b.code: (A, TEN), c.code: (T, TEN)})
    undo_scan(scan=bad.scan)
    for _ in range(3):
        scan({a.code: (B, ELEVEN), b.code: (A, TEN)})
    db.session.commit()
    expected = {s.code: where(s) + (s.placed_dt,) for s in (a, b, c, p)}
    for s in (a, b, c, p):  # wreck the derived state
        s.board_status, s.room_id, s.slot_id, s.placed_dt = BoardStatus.NONE, None, None, None
    db.session.commit()
    codes = [s.code for s in (a, b, c, p)]
    result = runner.invoke("board", "rebuild")
    assert "4 stickies corrected" in result.output
    rebuilt = [get_sticky(code) for code in codes]
    assert {s.code: where(s) + (s.placed_dt,) for s in rebuilt} == expected
    assert rebuild_from_history(rebuilt[0].event) == 0
