"""Live pages: version stamps, conditional refresh, server-sent events, and a real browser."""

import datetime as dt
import json
import shutil
import threading

import pytest

from app.extensions import db
from app.live import stamp
from app.live.parts import split_parts
from app.models import Event, PlacementSource, Sticky
from app.services.board import place_sticky
from app.settings import configure

NOW = dt.datetime(2026, 9, 26, 4, 40, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fresh_versions():
    stamp.forget_versions()
    yield
    stamp.forget_versions()


def test_grid_answers_304_when_nothing_changed(client, event, create_session):
    first = client.get("/board/grid")
    etag = first.headers["ETag"]
    assert first.status_code == 200
    assert client.get("/board/grid", headers={"If-None-Match": etag}).status_code == 304
    sticky = create_session()
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.commit()
    stamp.forget_versions()
    changed = client.get("/board/grid", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "Testing without mocks" in changed.get_data(as_text=True)


def test_version_changes_with_title_and_interest(client, event, create_session):
    sticky = create_session()
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.commit()
    before = stamp.board_version(event, now=NOW)
    stamp.forget_versions()
    client.post(f"/s/{sticky.code}/interest")
    stamp.forget_versions()
    after_interest = stamp.board_version(event, now=NOW)
    sticky.title = "Renamed"
    db.session.commit()
    stamp.forget_versions()
    assert len({before, after_interest, stamp.board_version(event, now=NOW)}) == 3


def test_version_changes_at_a_slot_boundary_alone(event):
    inside = stamp.board_version(event, now=NOW)
    assert stamp.board_version(event, now=NOW + dt.timedelta(minutes=4)) == inside
    assert stamp.board_version(event, now=dt.datetime(2026, 9, 26, 5, 15, tzinfo=dt.UTC)) != inside


def test_version_changes_with_rooms_slots_and_settings(event):
    from app.services import events as event_service

    seen = {stamp.board_version(event, now=NOW)}
    for change in (
        lambda: event_service.add_room(event=event, name="Roof", capacity=10),
        lambda: event_service.add_slot(
            event=event, start="2026-09-26T12:00", end="2026-09-26T12:45"
        ),
        lambda: event_service.update_event_settings(
            event=event,
            name="Renamed camp",
            timezone="Asia/Kolkata",
            base_url=event.base_url,
            plain_notes=None,
        ),
    ):
        change()
        db.session.commit()
        stamp.forget_versions()
        seen.add(stamp.board_version(event, now=NOW))
    assert len(seen) == 4


def test_event_stream_sends_board_event_after_change(app, client, event, create_session):
    configure(app, LIVE_STREAM_SECONDS=3)
    version = stamp.board_version(event, now=NOW)
    response = client.get(f"/board/events?v={version}", buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    first = next(chunks)
    assert (first if isinstance(first, bytes) else first.encode()) == b"retry: 1500\n\n"
    sticky = create_session()
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.commit()
    stamp.forget_versions()
    received = b""
    for chunk in chunks:
        received += chunk if isinstance(chunk, bytes) else chunk.encode()
        if b"event: board" in received:
            break
    response.close()
    assert b"event: board\ndata: " in received


def _read_event(chunks, name: bytes) -> bytes:
    received = b""
    for chunk in chunks:
        received += chunk if isinstance(chunk, bytes) else chunk.encode()
        if b"event: " + name in received and received.endswith(b"\n\n"):
            return received
    raise AssertionError(f"the stream ended without a {name!r} event: {received!r}")


def test_event_stream_sends_changed_cells_to_the_board_page(app, client, event, create_session):

    configure(app, LIVE_STREAM_SECONDS=3)
    sticky = create_session(title="Parts, not pages")
    db.session.commit()
    shown = client.get("/board/grid")
    version, before = shown.headers["ETag"].strip('"'), shown.get_data(as_text=True)
    sticky_id, event_id = sticky.id, event.id
    response = client.get(f"/board/events?v={version}&parts=grid", buffered=False)
    chunks = iter(response.response)
    next(chunks)  # retry: 1500
    # The stream let go of the database session the test shares with it: read the rows again.
    sticky, event = db.session.get(Sticky, sticky_id), db.session.get(Event, event_id)
    place_sticky(
        sticky=sticky, room=event.rooms[1], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.commit()
    stamp.forget_versions()
    received = _read_event(chunks, b"parts")
    response.close()
    data = json.loads(received.split(b"data: ", 1)[1])
    now_shown = client.get("/board/grid")
    new_version, after = now_shown.headers["ETag"].strip('"'), now_shown.get_data(as_text=True)
    assert (data["from"], data["to"], data["etag"]) == (version, new_version, new_version)
    cell = f"cell-{event.rooms[1].id}-{event.slots[0].id}"
    # The cell and the phone list's slot changed, and the page's clock; nothing else.
    assert sorted(data["parts"]) == sorted([cell, f"slot-{event.slots[0].id}", "clock"])
    assert "Parts, not pages" in data["parts"][cell]
    # Swapping them into the grid the page showed gives the grid of the new version.
    skeleton, parts = split_parts(before)
    parts.update(data["parts"])
    patched = skeleton
    for key, html in parts.items():
        patched = patched.replace(f"\x00{key}\x00", html)
    assert split_parts(patched)[1] | {"clock": ""} == split_parts(after)[1] | {"clock": ""}


def test_event_stream_without_the_shown_grid_says_board(app, client, event, create_session):
    configure(app, LIVE_STREAM_SECONDS=3)
    create_session()
    db.session.commit()
    # A version this process never rendered: the page must fetch the grid.
    response = client.get("/board/events?v=0123456789&parts=grid", buffered=False)
    chunks = iter(response.response)
    received = _read_event(chunks, b"board")
    response.close()
    assert b"event: parts" not in received


def test_event_stream_refuses_when_all_slots_taken(app, client, event):
    semaphore = app.extensions["openspaces.live_streams"]
    taken = 0
    while semaphore.acquire(blocking=False):
        taken += 1
    try:
        assert client.get("/board/events").status_code == 503
    finally:
        for _ in range(taken):
            semaphore.release()


@pytest.fixture
def live_server(app):
    """Serve the test app on a free loopback port in a thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_browser_board_follows_a_scan_without_reload(
    app, event, create_session, live_server, browser
):
    from app.services.organizers import create_token

    sticky = create_session(title="Live in the browser")
    _, token = create_token(name="cam")
    db.session.commit()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live_server}/board")
        page.evaluate("window.loadedOnce = true")
        fetched = []
        page.on("request", lambda r: fetched.append(r.url) if "/board/grid" in r.url else None)
        cell = page.locator('td[data-room="Hall B"][data-slot="2026-09-26T11:00"]')
        assert cell.inner_text().strip() == ""
        body = {
            "scan_id": "browser-1",
            "board_found": True,
            "hidden_cells": [],
            "warnings": [],
            "stickies": [
                {
                    "code": sticky.code,
                    "room": "Hall B",
                    "slot": "2026-09-26T11:00",
                    "x": 1.0,
                    "y": 1.0,
                    "via": "marker",
                }
            ],
        }
        posted = page.request.post(
            f"{live_server}/api/scans",
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert posted.status == 201
        cell.locator(".note-title", has_text="Live in the browser").wait_for(timeout=5000)
        assert page.evaluate("window.loadedOnce") is True  # the page was not reloaded
        assert cell.locator(".note.fresh").count() == 1
        # The changed cell came in the stream: the page fetched no grid.
        assert fetched == []
    finally:
        context.close()
