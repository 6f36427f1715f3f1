"""Pages rendered once per board version: statements per request, renders per change, ETags."""

import re

import pytest
from flask import g

from app.extensions import db
from app.live import stamp
from app.models import PlacementSource
from app.services.board import place_sticky


@pytest.fixture(autouse=True)
def slow_clock(app, monkeypatch):
    """Keep stamps and pages for a minute, so that a busy machine cannot expire them mid-test."""
    monkeypatch.setattr(stamp, "CACHE_SECONDS", 60.0)
    app.extensions["openspaces.pages"].max_age = 60.0
    stamp.forget_versions()
    yield
    stamp.forget_versions()


@pytest.fixture
def renders(app):
    """Return how many pages the app has rendered into its cache so far."""
    return lambda: app.extensions["openspaces.pages"].renders


@pytest.mark.parametrize(
    ("path", "statements"),
    [("/board", 0), ("/kiosk", 0), ("/board/grid", 0), ("/api/board", 0), ("/rooms/1", 0)],
)
def test_shared_page_runs_no_statement_when_kept(
    client, create_session, count_queries, path, statements
):
    create_session()
    assert client.get(path).status_code == 200
    with count_queries() as run:
        response = client.get(path)
    assert response.status_code == 200
    assert len(run) == statements


def test_shared_page_reads_the_board_again_after_the_stamps_time(
    client, create_session, count_queries
):
    create_session()
    client.get("/board")
    stamp.forget_versions()
    with count_queries() as run:
        assert client.get("/board").status_code == 200
    # The current event, then the stamp: its change counter alone, since nothing changed.
    assert len(run) == 2
    assert run[1].split() == "SELECT events.board_version FROM events WHERE events.id = ?".split()


def test_room_page_is_404_for_a_room_the_event_lacks(client, create_session):
    create_session()
    assert client.get("/rooms/1").status_code == 200
    assert client.get("/rooms/9").status_code == 404


def test_session_page_runs_two_statements_when_kept(client, create_session, count_queries):
    sticky = create_session()
    client.get(f"/s/{sticky.code}")
    with count_queries() as run:
        response = client.get(f"/s/{sticky.code}")
    assert "Testing without mocks" in response.get_data(as_text=True)
    # The sticky by its code, and whether this browser marked interest.
    assert len(run) == 2


def test_board_page_renders_once_for_many_phones(client, app, create_session, renders):
    create_session()
    pages = {client.get("/board").get_data(as_text=True) for _ in range(20)}
    assert len(pages) == 1
    assert renders() == 1


def test_board_page_renders_again_once_after_a_change(client, event, create_session, renders):
    sticky = create_session(title="Ferris wheels")
    client.get("/board")
    before = client.get("/board/grid").get_data(as_text=True)
    place_sticky(
        sticky=sticky, room=event.rooms[1], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.commit()
    after = [client.get("/board/grid").get_data(as_text=True) for _ in range(5)]
    assert after[0] != before
    assert len(set(after)) == 1
    assert 'data-code="' + sticky.code + '"' in after[0]
    # The board page and the grid, each rendered before and after the change.
    assert renders() == 3


def test_board_page_answers_304_to_its_etag(client, create_session):
    create_session()
    first = client.get("/board")
    etag = first.headers["ETag"]
    again = client.get("/board", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag


def test_board_json_answers_304_until_the_board_changes(client, event, create_session):
    sticky = create_session()
    first = client.get("/api/board")
    etag = first.headers["ETag"]
    assert client.get("/api/board", headers={"If-None-Match": etag}).status_code == 304
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[1], source=PlacementSource.CAMERA
    )
    db.session.commit()
    changed = client.get("/api/board", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    (row,) = changed.get_json()["stickies"]
    assert (row["code"], row["room"], row["status"]) == (sticky.code, "Hall A", "placed")


def test_organizer_board_is_rendered_for_the_organizer(organizer_client, create_session, renders):
    create_session()
    page = organizer_client.get("/board").get_data(as_text=True)
    assert "Organize" in page
    assert "ETag" not in organizer_client.get("/board").headers
    assert renders() == 0


def test_session_page_carries_each_browsers_own_form_token(app, create_session, renders):
    app.config["WTF_CSRF_ENABLED"] = True
    sticky = create_session()
    tokens = []
    for _ in range(2):
        # The tests' app context outlives a request: forget the token it keeps for the last one.
        g.pop("csrf_token", None)
        page = app.test_client().get(f"/s/{sticky.code}").get_data(as_text=True)
        (token,) = re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        tokens.append(token)
    assert tokens[0] != tokens[1]
    assert "__openspaces_csrf_token__" not in page
    assert renders() == 1


def test_session_page_shows_an_edit_at_once(client, create_session):
    sticky = create_session(description="First words")
    assert "First words" in client.get(f"/s/{sticky.code}").get_data(as_text=True)
    sticky.description = "Second thoughts"
    db.session.commit()
    page = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert "Second thoughts" in page
    assert "First words" not in page
