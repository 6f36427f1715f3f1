"""Sticky pictures on the pages: board, kiosk, room, session, claim form, people, API, transcription."""

import re

from app_helpers import claim_path

from app.extensions import db
from app.models import StickyKind
from app.services.board import place_sticky, put_off_grid
from app.services.pictures import store_views
from app.settings import app_settings, configure


def _picture(app, event, sticky, make_view, **score):
    store_views(
        event=event,
        views=[make_view(sticky.code, **score)],
        store=app_settings(app).scan.pictures_store,
        cap_bytes=app.config["PICTURES_MAX_BYTES"],
    )
    db.session.commit()


def _place(event, sticky, room=0, slot=0):
    place_sticky(
        sticky=sticky, room=event.rooms[room], slot=event.slots[slot], source="organizer", scan=None
    )
    db.session.commit()


def test_picture_jpg_without_picture_is_404(client, create_stickies):
    (sticky,) = create_stickies(1)
    assert client.get(f"/s/{sticky.code}/picture.jpg").status_code == 404


def test_picture_jpg_serves_the_best_view(app, client, event, create_stickies, make_view):
    (sticky,) = create_stickies(1)
    _picture(app, event, sticky, make_view)
    version = sticky.picture_file.rsplit("-", 1)[1][:-4]
    response = client.get(f"/s/{sticky.code}/picture.jpg?v={version}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.data[:3] == b"\xff\xd8\xff"
    assert len(response.data) == sticky.picture_bytes
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert (
        client.get(f"/s/{sticky.code}/picture.jpg").headers["Cache-Control"]
        == "no-cache, max-age=0"
    )


def test_picture_jpg_hidden_sticky_is_404(app, client, event, create_stickies, make_view):
    (sticky,) = create_stickies(1)
    _picture(app, event, sticky, make_view)
    sticky.hidden = True
    db.session.commit()
    assert client.get(f"/s/{sticky.code}/picture.jpg").status_code == 404


def test_api_board_gives_picture_and_suggestion(app, client, event, create_stickies, make_view):
    a, b = create_stickies(2)
    _place(event, a, 0, 0)
    _place(event, b, 1, 0)
    _picture(app, event, a, make_view)
    a.suggested_title = "Rust for Pythonistas"
    db.session.commit()
    rows = {s["code"]: s for s in client.get("/api/board").get_json()["stickies"]}
    version = a.picture_file.rsplit("-", 1)[1][:-4]
    assert rows[a.code]["picture"] == f"http://localhost:5000/s/{a.code}/picture.jpg?v={version}"
    assert rows[a.code]["suggested_title"] == "Rust for Pythonistas"
    assert (rows[b.code]["picture"], rows[b.code]["suggested_title"]) == (None, None)


def test_board_untitled_sticky_shows_picture(app, client, event, create_stickies, make_view):
    (sticky,) = create_stickies(1)
    _place(event, sticky)
    _picture(app, event, sticky, make_view)
    sticky.suggested_title = "Rust for Pythonistas"
    db.session.commit()
    html = client.get("/board").get_data(as_text=True)
    assert f'alt="Sticky {sticky.code}, written by hand"' in html
    assert f"Untitled sticky {sticky.code}" not in html
    assert "looks like: Rust for Pythonistas" in html


def test_board_typed_title_stays_text(app, client, event, create_session, make_view):
    sticky = create_session(title="Testing without mocks")
    _place(event, sticky)
    _picture(app, event, sticky, make_view)
    sticky.suggested_title = "Tesing wihout mocks"
    db.session.commit()
    html = client.get("/board").get_data(as_text=True)
    assert '<span class="note-title">Testing without mocks</span>' in html
    assert "sticky-picture" not in html
    assert "looks like" not in html


def test_kiosk_untitled_sticky_shows_large_picture(app, client, event, create_stickies, make_view):
    (sticky,) = create_stickies(1)
    _place(event, sticky)
    _picture(app, event, sticky, make_view)
    configure(app, CLOCK=lambda: event.slots[0].start_dt)
    html = client.get("/kiosk").get_data(as_text=True)
    assert re.search(r'<img class="sticky-picture large" src="/s/' + sticky.code, html)


def test_room_page_untitled_sticky_shows_picture(app, client, event, create_stickies, make_view):
    (sticky,) = create_stickies(1)
    _place(event, sticky)
    _picture(app, event, sticky, make_view)
    html = client.get("/rooms/1").get_data(as_text=True)
    assert f'alt="Sticky {sticky.code}, written by hand"' in html


def test_session_page_shows_picture_beside_typed_title(
    app, client, event, create_session, make_view
):
    sticky = create_session(title="Testing without mocks")
    _picture(app, event, sticky, make_view)
    html = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert "<h1>Testing without mocks</h1>" in html
    assert f'alt="Sticky {sticky.code}, Testing without mocks"' in html


def test_claim_form_shows_picture_and_prefills_suggestion(
    app, client, event, create_stickies, make_view
):
    (sticky,) = create_stickies(1)
    _picture(app, event, sticky, make_view)
    sticky.suggested_title = "Rust for Pythonistas"
    db.session.commit()
    html = client.get(claim_path(sticky)).get_data(as_text=True)
    assert 'class="sticky-picture medium"' in html
    assert "looks like: Rust for Pythonistas" in html
    assert re.search(r'<input[^>]*id="title"[^>]*value="Rust for Pythonistas"', html)


def test_claim_form_without_picture_is_empty(client, create_stickies):
    (sticky,) = create_stickies(1)
    html = client.get(claim_path(sticky)).get_data(as_text=True)
    assert "sticky-picture" not in html
    assert re.search(r'<input[^>]*id="title"[^>]*value=""', html)


def test_people_page_shows_unclaimed_person_pictures(
    app, client, event, create_stickies, create_person, make_view
):
    create_person(name="Mei")
    (person,) = create_stickies(1, kind=StickyKind.PERSON)
    put_off_grid(sticky=person, source="organizer", scan=None)
    _picture(app, event, person, make_view)
    html = client.get("/people").get_data(as_text=True)
    assert "<strong>Mei</strong>" in html
    assert "Written on the wall" in html
    assert f'alt="Sticky {person.code}, written by hand"' in html
    assert "Written on the wall" not in client.get("/people?q=rust").get_data(as_text=True)


def _queue(app, event, create_stickies, make_view, n=3):
    stickies = create_stickies(n)
    for i, sticky in enumerate(stickies):
        _place(event, sticky, i % 3, i // 3)
        _picture(app, event, sticky, make_view, seed=i)
    return stickies


def test_transcribe_needs_an_organizer(client, event):
    assert client.get("/admin/transcribe").status_code == 302


def test_transcribe_shows_first_untitled_prefilled(
    app, organizer_client, event, create_stickies, make_view
):
    a, b, c = _queue(app, event, create_stickies, make_view)
    a.suggested_title = "Rust for Pythonistas"
    db.session.commit()
    html = organizer_client.get("/admin/transcribe").get_data(as_text=True)
    assert f'data-code="{a.code}"' in html
    assert "3 untitled stickies with a picture" in html
    assert re.search(r'<input[^>]*autofocus[^>]*value="Rust for Pythonistas"', html) or re.search(
        r'<input[^>]*value="Rust for Pythonistas"[^>]*autofocus', html
    )


def test_transcribe_confirm_sets_title_and_shows_next(
    app, organizer_client, event, create_stickies, make_view
):
    a, b, c = _queue(app, event, create_stickies, make_view)
    response = organizer_client.post(
        f"/admin/transcribe/{a.code}", data={"title": "  Rust   talk "}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/transcribe?after={a.id}"
    assert (a.title, a.is_claimed) == ("Rust talk", False)
    html = organizer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'data-code="{b.code}"' in html
    assert "2 untitled stickies" in html
    # A confirmed title is the sticky's title on the board; its picture stays on its pages.
    board = organizer_client.get("/board").get_data(as_text=True)
    assert '<span class="note-title">Rust talk</span>' in board


def test_transcribe_empty_title_shows_same_sticky_again(
    app, organizer_client, event, create_stickies, make_view
):
    a, b, c = _queue(app, event, create_stickies, make_view)
    response = organizer_client.post(f"/admin/transcribe/{a.code}", data={"title": "  "})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'data-code="{a.code}"' in html
    assert "Type the title written on the sticky" in html
    assert a.title is None


def test_transcribe_never_replaces_a_typed_title(
    app, organizer_client, event, create_session, make_view
):
    sticky = create_session(title="Testing without mocks")
    _picture(app, event, sticky, make_view)
    response = organizer_client.post(f"/admin/transcribe/{sticky.code}", data={"title": "Other"})
    assert response.status_code == 400
    assert "has a title already" in response.get_data(as_text=True)
    assert sticky.title == "Testing without mocks"


def test_transcribe_skip_moves_on(app, organizer_client, event, create_stickies, make_view):
    a, b, c = _queue(app, event, create_stickies, make_view)
    html = organizer_client.get(f"/admin/transcribe?after={c.id}").get_data(as_text=True)
    assert f'data-code="{a.code}"' in html  # past the end: back to the first
    html = organizer_client.get(f"/admin/transcribe?after={a.id}").get_data(as_text=True)
    assert f'data-code="{b.code}"' in html


def test_transcribe_sticky_asked_for_comes_first(
    app, organizer_client, event, create_stickies, make_view
):
    a, b, c = _queue(app, event, create_stickies, make_view)
    html = organizer_client.get(f"/admin/transcribe?code={c.code}").get_data(as_text=True)
    assert f'data-code="{c.code}"' in html
    dashboard = organizer_client.get("/admin/").get_data(as_text=True)
    assert f"/admin/transcribe?code={a.code}" in dashboard


def test_transcribe_empty_queue_says_so(organizer_client, event):
    html = organizer_client.get("/admin/transcribe").get_data(as_text=True)
    assert "Every sticky on the wall with a picture has a title" in html


def test_confirmed_title_prefills_claim_and_host_can_claim(
    app, client, organizer_client, event, create_stickies, make_view
):
    (a,) = _queue(app, event, create_stickies, make_view, n=1)
    organizer_client.post(f"/admin/transcribe/{a.code}", data={"title": "Rust talk"})
    organizer_client.post("/auth/logout")
    html = client.get(claim_path(a)).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="title"[^>]*value="Rust talk"', html)
    response = client.post(claim_path(a), data={"title": "Rust for Pythonistas", "host": "Ana"})
    assert response.status_code == 302
    assert (a.title, a.host, a.is_claimed) == ("Rust for Pythonistas", "Ana", True)


def test_drop_picture_from_admin_sticky_page(
    app, organizer_client, event, create_stickies, make_view
):
    (sticky,) = create_stickies(1)
    _picture(app, event, sticky, make_view)
    html = organizer_client.get(f"/admin/stickies/{sticky.code}").get_data(as_text=True)
    assert "Drop the picture" in html
    response = organizer_client.post(f"/admin/stickies/{sticky.code}/picture/drop")
    assert response.status_code == 302
    assert sticky.picture_file is None
    assert organizer_client.get(f"/s/{sticky.code}/picture.jpg").status_code == 404
