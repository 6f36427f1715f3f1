"""Organizer log-in and moderation pages."""

import pytest
from app_helpers import claim_path

from app.extensions import db
from app.models import BoardStatus, StickyKind
from app.services.manifest import build_manifest


@pytest.mark.parametrize("url", ["/admin/", "/admin/stickies"])
def test_admin_pages_require_login(client, event, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/auth/login?next=" in response.headers["Location"]


def test_login_with_wrong_password_is_401(client, organizer_client):
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"username": "admin", "password": "wrong"})
    assert response.status_code == 401
    assert "Wrong user name or password." in response.get_data(as_text=True)


def test_login_never_redirects_off_site(app, event):
    from app.services.organizers import set_password

    set_password(username="admin", password="correct horse")
    db.session.commit()
    client = app.test_client()
    response = client.post(
        "/auth/login?next=//evil.example/x", data={"username": "admin", "password": "correct horse"}
    )
    assert response.headers["Location"] == "/admin/"


def test_dashboard_shows_event_rooms_and_counts(organizer_client, event, create_session):
    create_session()
    html = organizer_client.get("/admin/").get_data(as_text=True)
    assert "Organize PyCon India Open Spaces" in html
    assert "<span>1 session sticky</span>" in html and "<span>0 person stickies</span>" in html
    assert "Hall A" in html and "Terrace" in html


def test_organizer_edits_event_settings(organizer_client, event):
    response = organizer_client.post(
        "/admin/",
        data={
            "name": "PyCon IN",
            "timezone": "Asia/Kolkata",
            "base_url": "https://os.example.org/",
        },
    )
    assert response.status_code == 302
    assert (event.name, event.base_url) == ("PyCon IN", "https://os.example.org")


def test_organizer_turns_the_plain_note_search_on_and_back_to_automatic(organizer_client, event):
    settings = {"name": event.name, "timezone": event.timezone, "base_url": event.base_url}
    page = organizer_client.get("/admin/").get_data(as_text=True)
    assert '<option selected value="auto">' in page
    assert (
        organizer_client.post("/admin/", data={**settings, "notes_search": "on"}).status_code == 302
    )
    db.session.expire_all()
    assert (event.plain_notes, build_manifest(event)["plain_notes"]) == (True, True)
    page = organizer_client.get("/admin/").get_data(as_text=True)
    assert '<option selected value="on">' in page
    organizer_client.post("/admin/", data={**settings, "notes_search": "auto"})
    db.session.expire_all()
    assert event.plain_notes is None
    response = organizer_client.post("/admin/", data={**settings, "notes_search": "sometimes"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    db.session.expire_all()
    assert event.plain_notes is None


def test_organizer_bad_timezone_changes_nothing(organizer_client, event):
    organizer_client.post(
        "/admin/", data={"name": "X", "timezone": "Nowhere/City", "base_url": "http://x.org"}
    )
    db.session.expire_all()
    assert event.name == "PyCon India Open Spaces"
    html = organizer_client.get("/admin/").get_data(as_text=True)
    assert "unknown timezone &#39;Nowhere/City&#39;" in html


def test_organizer_adds_room_and_slot(organizer_client, event):
    organizer_client.post("/admin/rooms", data={"room-name": "Garden", "room-capacity": "12"})
    organizer_client.post(
        "/admin/slots", data={"slot-start": "2026-09-26T12:00", "slot-end": "2026-09-26T12:45"}
    )
    db.session.expire_all()
    assert [r.name for r in event.rooms][-1] == "Garden"
    assert event.slots[-1].key == "2026-09-26T12:00"


def test_organizer_overlapping_slot_is_refused(organizer_client, event):
    organizer_client.post(
        "/admin/slots", data={"slot-start": "2026-09-26T10:30", "slot-end": "2026-09-26T11:15"}
    )
    db.session.expire_all()
    assert len(event.slots) == 2


def test_organizer_hides_and_releases_sticky(organizer_client, app, create_session):
    sticky = create_session()
    organizer_client.post(f"/admin/stickies/{sticky.code}/hide")
    db.session.refresh(sticky)
    assert sticky.hidden
    assert app.test_client().get(f"/s/{sticky.code}").status_code == 404
    organizer_client.post(f"/admin/stickies/{sticky.code}/release")
    db.session.refresh(sticky)
    assert (sticky.claimed_dt, sticky.title, sticky.edit_secret_hash, sticky.hidden) == (
        None,
        None,
        None,
        False,
    )
    # Released, the sticky is blank again: the phone at the wall claims it anew.
    assert "Claim this sticky for your session" in app.test_client().get(
        claim_path(sticky)
    ).get_data(as_text=True)


def test_organizer_places_sticky_by_hand(organizer_client, event, create_session):
    sticky = create_session()
    room, slot = event.rooms[1], event.slots[0]
    organizer_client.post(
        f"/admin/stickies/{sticky.code}/place", data={"cell": f"{room.id}:{slot.id}"}
    )
    db.session.refresh(sticky)
    assert (sticky.room_id, sticky.slot_id, sticky.board_status) == (
        room.id,
        slot.id,
        BoardStatus.PLACED,
    )
    organizer_client.post(f"/admin/stickies/{sticky.code}/place", data={"cell": "off"})
    db.session.refresh(sticky)
    assert sticky.board_status == BoardStatus.NONE


def test_organizer_sticky_list_filters(organizer_client, create_session, create_stickies):
    create_session(title="Findable")
    create_stickies(2)
    html = organizer_client.get("/admin/stickies?status=claimed").get_data(as_text=True)
    assert html.count("<tr>") == 2  # the head row and one sticky
    assert "Findable" in html


def test_stickies_list_pages_fifty_at_a_time_and_keeps_the_filter(
    organizer_client, create_stickies
):
    create_stickies(55)
    create_stickies(2, kind=StickyKind.PERSON)
    first = organizer_client.get("/admin/stickies?kind=session").get_data(as_text=True)
    assert "55 stickies, showing 1–50" in first
    assert first.count('<td><a href="/admin/stickies/') == 50
    assert 'href="/admin/stickies?page=2&amp;kind=session" rel="next"' in first
    last = organizer_client.get("/admin/stickies?kind=session&page=9").get_data(as_text=True)
    assert "55 stickies, showing 51–55" in last and "Page 2 of 2" in last
    assert last.count('<td><a href="/admin/stickies/') == 5
    assert 'rel="next"' not in last and 'rel="prev"' in last
    one = organizer_client.get("/admin/stickies?kind=person").get_data(as_text=True)
    assert "2 stickies" in one and "Page 1" not in one
