"""Pages without signal, server side: the service worker's route, what it may keep, kept taps."""

from __future__ import annotations

from app.extensions import db
from app.services.claim_keys import claim_key
from app.views.offline import WORKER


def test_service_worker_is_served_from_the_root_and_checked_every_load(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.get_data() == WORKER.read_bytes()


def test_service_worker_keeps_a_separate_place_for_web_push():
    text = WORKER.read_text(encoding="utf-8")
    # Push and notificationclick handlers go below this heading, after the offline pages.
    assert text.index("\n// Web Push") > text.index('addEventListener("fetch"')


def test_public_board_may_be_kept_by_the_phone(client, event):
    response = client.get("/board")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_public_pages_rendered_for_an_organizer_are_never_kept(organizer_client, event):
    for path in ("/board", "/people", "/admin/"):
        response = organizer_client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path


def test_page_with_the_private_edit_link_is_never_kept(client, create_stickies):
    (sticky,) = create_stickies(1)
    key = claim_key(event=sticky.event, code=sticky.code)
    response = client.post(f"/s/{sticky.code}?k={key}", data={"title": "Kept?", "host": "Ana"})
    assert response.status_code == 302
    page = client.get(f"/s/{sticky.code}")
    assert "Keep this link to edit later" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"
    again = client.get(f"/s/{sticky.code}")
    assert "Keep this link to edit later" not in again.get_data(as_text=True)
    assert "no-store" not in again.headers.get("Cache-Control", "")


def test_interest_tap_with_its_state_sent_twice_counts_once(app, client, create_session):
    sticky = create_session()
    for _ in range(2):
        assert client.post(f"/s/{sticky.code}/interest", data={"state": "on"}).status_code == 302
    db.session.expire_all()
    assert len(sticky.interests) == 1
    for _ in range(2):
        assert client.post(f"/s/{sticky.code}/interest", data={"state": "off"}).status_code == 302
    db.session.expire_all()
    assert len(sticky.interests) == 0


def test_interest_tap_with_an_unknown_state_is_refused_and_changes_nothing(client, create_session):
    sticky = create_session()
    response = client.post(f"/s/{sticky.code}/interest", data={"state": "maybe"})
    assert response.status_code == 400
    assert "The interest mark must be on or off." in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(sticky.interests) == 0


def test_session_page_form_asks_for_the_mark_it_shows_next(client, create_session):
    sticky = create_session()
    html = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert '<input type="hidden" name="state" value="on">' in html
    client.post(f"/s/{sticky.code}/interest", data={"state": "on"})
    html = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert '<input type="hidden" name="state" value="off">' in html
