"""Sticky pages at /s/<code>: claiming, editing, interest, people, calendar."""

import re

import icalendar
import pytest
from app_helpers import claim_path, printed_key, utc

from app.extensions import db
from app.models import PlacementSource, StickyKind
from app.services.board import place_sticky
from app.services.codes import hash_secret
from app.services.stickies import SessionFields, claim_sticky
from app.settings import configure
from app.views.public import MAX_KEPT_EDIT_SECRETS


def test_sticky_unknown_code_is_404(client, event):
    response = client.get("/s/ZZZZZZ")
    assert response.status_code == 404
    assert b"There is no sticky with the code" in response.data


def test_sticky_malformed_code_is_404(client, event):
    assert client.get("/s/not-a-code!").status_code == 404


def test_sticky_lowercase_code_redirects_to_canonical(client, create_stickies):
    (sticky,) = create_stickies(1)
    response = client.get(f"/s/{sticky.code.lower()}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/s/{sticky.code}")


def test_blank_session_sticky_shows_claim_form(client, create_stickies):
    (sticky,) = create_stickies(1)
    page = client.get(claim_path(sticky)).get_data(as_text=True)
    assert "Claim this sticky for your session" in page
    assert 'name="title"' in page and 'name="host"' in page and 'name="tags"' in page


def test_claim_form_marks_required_fields_and_folds_the_rest(client, create_stickies):
    (sticky,) = create_stickies(1)
    page = client.get(claim_path(sticky)).get_data(as_text=True)
    assert page.count('<span class="required">(required)</span>') == 2
    assert re.search(r'<input id="title" maxlength="120" name="title" required type="text"', page)
    before, details = page.split('<details class="more">')
    assert 'name="title"' in before and 'name="host"' in before
    assert all(f'name="{name}"' in details for name in ("description", "tags", "contact", "links"))
    assert 'aria-describedby="tags-hint"' in details and 'id="tags-hint"' in details


def test_claim_error_is_tied_to_its_field(client, create_stickies):
    (sticky,) = create_stickies(1)
    page = client.post(
        claim_path(sticky), data={"title": "", "host": "Mei", "tags": "x" * 301}
    ).get_data(as_text=True)
    title = re.search(r"<input [^>]*id=\"title\"[^>]*>", page).group(0)
    assert 'aria-describedby="title-error"' in title and 'aria-invalid="true"' in title
    assert '<small class="error" id="title-error">This field is required.</small>' in page
    assert '<details class="more" open>' in page
    assert 'aria-describedby="tags-hint tags-error"' in page


def test_claimed_session_lists_free_cells_now_and_next(app, client, event, create_stickies):
    configure(app, CLOCK=lambda: utc(2026, 9, 26, 4, 40))  # 10:10 in Kolkata, in the first slot
    taken, (sticky,) = create_stickies(1)[0], create_stickies(1)
    claim_sticky(
        sticky=taken, fields=SessionFields(title="Taken", host="Ana"), key=printed_key(taken)
    )
    place_sticky(
        sticky=taken, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.ORGANIZER
    )
    db.session.commit()
    client.post(claim_path(sticky), data={"title": "New one", "host": "Mei"})
    page = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert "<li><strong>Now 10:00–10:45:</strong> Hall B, Terrace</li>" in page
    assert "<li><strong>Next 11:00–11:45:</strong> Hall A, Hall B, Terrace</li>" in page
    assert 'data-copy="edit-link"' in page
    visitor = app.test_client().get(f"/s/{sticky.code}").get_data(as_text=True)
    assert "Free cells on the board" not in visitor


def test_session_page_of_a_conflict_shows_the_lost_cell_as_not_placed(
    client, event, create_session
):
    first, second = create_session(title="First"), create_session(title="Second")
    for sticky in (first, second):
        place_sticky(
            sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
        )
    db.session.commit()
    page = client.get(f"/s/{second.code}").get_data(as_text=True)
    assert '<p class="where lost">Not placed: <strong>Hall A</strong>' in page
    assert '<p class="where">' not in page
    assert "Add to calendar" not in page


def test_session_page_marks_an_ended_session(app, client, event, create_session):
    sticky = create_session()
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.commit()
    configure(app, CLOCK=lambda: utc(2026, 9, 26, 4, 40))
    assert "badge-ended" not in client.get(f"/s/{sticky.code}").get_data(as_text=True)
    configure(app, CLOCK=lambda: utc(2026, 9, 26, 5, 16))
    page = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert '<span class="badge badge-ended">ended</span>' in page


def test_matching_people_leave_out_the_host(client, create_session, create_person):
    sticky = create_session(host="Priya", tags="python")
    create_person(name=" priya ", interests="python")
    create_person(name="Diego", interests="python")
    page = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert re.findall(r'class="chip person" href="/s/\w+">([^<]+)<', page) == ["Diego"]


def test_claim_session_sets_fields_cookie_and_shows_edit_link_once(client, create_stickies):
    (sticky,) = create_stickies(1)
    response = client.post(
        claim_path(sticky),
        data={
            "title": "Rust for Pythonistas",
            "host": "Mei",
            "tags": "rust, #python, Rust",
            "description": "PyO3 and maturin",
            "links": "https://pyo3.rs\n\n",
        },
    )
    assert response.status_code == 302
    db.session.refresh(sticky)
    assert (sticky.title, sticky.host, sticky.tags) == (
        "Rust for Pythonistas",
        "Mei",
        "rust, python",
    )
    assert sticky.links == "https://pyo3.rs"
    cookie = client.get_cookie(f"osb_edit_{sticky.code}")
    assert cookie is not None
    assert sticky.edit_secret_hash == hash_secret(cookie.value)
    first = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert f"/s/{sticky.code}/edit?key={cookie.value}" in first
    second = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert "key=" not in second
    assert "Not on the board yet." in second


def test_claim_person_sticky(client, create_stickies):
    (sticky,) = create_stickies(1, kind=StickyKind.PERSON)
    response = client.post(
        claim_path(sticky),
        data={"name": "Aiko", "interests": "testing, photography", "contact": "aiko@example.org"},
    )
    assert response.status_code == 302
    db.session.refresh(sticky)
    assert (sticky.title, sticky.tags, sticky.contact_public) == (
        "Aiko",
        "testing, photography",
        False,
    )


def test_claim_without_title_is_refused_and_changes_nothing(client, create_stickies):
    (sticky,) = create_stickies(1)
    response = client.post(claim_path(sticky), data={"title": "", "host": "Mei"})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    db.session.refresh(sticky)
    assert sticky.claimed_dt is None and sticky.title is None


def test_claim_with_too_long_title_is_refused(client, create_stickies):
    (sticky,) = create_stickies(1)
    response = client.post(claim_path(sticky), data={"title": "x" * 121, "host": "Mei"})
    assert response.status_code == 400
    assert "Field cannot be longer than 120 characters." in response.get_data(as_text=True)
    db.session.refresh(sticky)
    assert sticky.claimed_dt is None


def test_claim_twice_is_refused(client, create_session):
    sticky = create_session()
    response = client.post(claim_path(sticky), data={"title": "Hijack", "host": "Eve"})
    assert response.status_code == 409
    db.session.refresh(sticky)
    assert sticky.title == "Testing without mocks"


def test_user_text_is_escaped(client, create_session):
    sticky = create_session(title="<script>alert(1)</script>", host="<b>Eve</b>")
    page = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    board = client.get("/board").get_data(as_text=True)
    assert "<b>Eve</b>" not in board


def test_edit_without_secret_is_403(client, create_session):
    sticky = create_session()
    assert client.get(f"/s/{sticky.code}/edit").status_code == 403
    response = client.post(f"/s/{sticky.code}/edit", data={"title": "Hijacked", "host": "Eve"})
    assert response.status_code == 403
    db.session.refresh(sticky)
    assert sticky.title == "Testing without mocks"


def test_edit_with_wrong_key_is_403(client, create_session):
    sticky = create_session()
    assert client.get(f"/s/{sticky.code}/edit?key=guess").status_code == 403


def test_edit_with_private_link_saves_and_remembers_browser(client, create_session):
    sticky = create_session()
    response = client.post(
        f"/s/{sticky.code}/edit?key={sticky.secret}",
        data={"title": "Testing with real things", "host": "Priya"},
    )
    assert response.status_code == 302
    db.session.refresh(sticky)
    assert sticky.title == "Testing with real things"
    assert client.get(f"/s/{sticky.code}/edit").status_code == 200


def _claim_all(client, stickies) -> dict[str, str]:
    """Claim each sticky from one browser, in order; return code -> the secret it was given."""
    secrets = {}
    for number, sticky in enumerate(stickies, 1):
        response = client.post(claim_path(sticky), data={"title": f"Talk {number}", "host": "Ann"})
        assert response.status_code == 302
        secrets[sticky.code] = client.get_cookie(f"osb_edit_{sticky.code}").value
    return secrets


def test_claims_beyond_the_limit_keep_the_newest_edit_secrets(client, create_stickies):
    stickies = create_stickies(MAX_KEPT_EDIT_SECRETS + 5)
    codes = [sticky.code for sticky in stickies]
    _claim_all(client, stickies[:MAX_KEPT_EDIT_SECRETS])
    response = client.post(claim_path(stickies[-5]), data={"title": "One more", "host": "Ann"})
    # The claim past the limit sets its own secret and deletes the oldest one, nothing else.
    set_cookies = response.headers.getlist("Set-Cookie")
    assert [header.split("=", 1)[0] for header in set_cookies] == [
        f"osb_edit_{codes[-5]}",
        f"osb_edit_{codes[0]}",
        "session",
    ]
    assert set_cookies[1].startswith(f"osb_edit_{codes[0]}=; Expires=Thu, 01 Jan 1970")
    _claim_all(client, stickies[-4:])
    kept = [code for code in codes if client.get_cookie(f"osb_edit_{code}") is not None]
    assert len(kept) == MAX_KEPT_EDIT_SECRETS == 40
    assert kept == codes[5:]
    sent = client.get("/board").request.headers["Cookie"]
    edit_cookies = [part for part in sent.split("; ") if part.startswith("osb_edit_")]
    assert len(edit_cookies) == 40
    assert len("; ".join(edit_cookies)) == 1998
    assert len(sent) < 4000


def test_sticky_whose_secret_dropped_out_is_edited_through_its_edit_link(client, create_stickies):
    stickies = create_stickies(MAX_KEPT_EDIT_SECRETS + 1)
    oldest, second, newest = stickies[0].code, stickies[1].code, stickies[-1].code
    secrets = _claim_all(client, stickies)
    assert client.get(f"/s/{newest}/edit").status_code == 200
    assert client.get(f"/s/{second}/edit").status_code == 200
    assert client.get(f"/s/{oldest}/edit").status_code == 403
    client.get(f"/s/{newest}")  # the page the claim led to, with its private edit link once
    edit_button = '<a class="button" href="/s/{}/edit">Edit</a>'
    assert edit_button.format(newest) in client.get(f"/s/{newest}").get_data(as_text=True)
    assert edit_button.format(oldest) not in client.get(f"/s/{oldest}").get_data(as_text=True)
    response = client.post(
        f"/s/{oldest}/edit?key={secrets[oldest]}", data={"title": "Talk 1, moved", "host": "Ann"}
    )
    assert response.status_code == 302
    db.session.refresh(stickies[0])
    assert stickies[0].title == "Talk 1, moved"
    # Its secret is the newest again, so the one claimed second is now the oldest and goes.
    assert client.get(f"/s/{oldest}/edit").status_code == 200
    assert client.get(f"/s/{second}/edit").status_code == 403
    assert client.get(f"/s/{newest}/edit").status_code == 200


def test_organizer_can_edit_any_sticky(organizer_client, create_session):
    sticky = create_session()
    response = organizer_client.post(
        f"/s/{sticky.code}/edit", data={"title": "Moderated", "host": "Priya"}
    )
    assert response.status_code == 302
    db.session.refresh(sticky)
    assert sticky.title == "Moderated"


def test_interest_toggle_counts_one_per_browser(app, client, create_session):
    sticky = create_session()
    client.post(f"/s/{sticky.code}/interest")
    assert '<strong id="interest-count">1</strong>' in client.get(f"/s/{sticky.code}").get_data(
        as_text=True
    )
    other = app.test_client()
    other.post(f"/s/{sticky.code}/interest")
    db.session.expire_all()
    assert len(sticky.interests) == 2
    client.post(f"/s/{sticky.code}/interest")
    db.session.expire_all()
    assert len(sticky.interests) == 1
    assert "I&#39;m interested" in client.get(f"/s/{sticky.code}").get_data(as_text=True)


def test_interest_on_blank_sticky_is_refused(client, create_stickies):
    (sticky,) = create_stickies(1)
    assert client.post(f"/s/{sticky.code}/interest").status_code == 409


def test_session_page_shows_room_slot_and_matching_people(
    client, event, create_session, create_person
):
    sticky = create_session(tags="Rust, databases")
    create_person(name="Mei", interests="rust, tea")
    create_person(name="Lena", interests="databases, rust")
    create_person(name="Omar", interests="gardening")
    place_sticky(
        sticky=sticky, room=event.rooms[1], slot=event.slots[1], source=PlacementSource.ORGANIZER
    )
    db.session.commit()
    page = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert "<strong>Hall B</strong> · Sat 26 Sep · 11:00–11:45" in page
    people = re.findall(r'class="chip person" href="/s/\w+">([^<]+)<', page)
    assert people == ["Lena", "Mei"]
    assert "Add to calendar" in page


def test_session_calendar_is_valid_ics_in_event_timezone(client, event, create_session):
    sticky = create_session()
    assert client.get(f"/s/{sticky.code}/calendar.ics").status_code == 404
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.ORGANIZER
    )
    db.session.commit()
    response = client.get(f"/s/{sticky.code}/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(response.data)
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Testing without mocks"
    assert str(vevent["LOCATION"]) == "Hall A"
    start = vevent.decoded("DTSTART")
    assert start.isoformat() == "2026-09-26T10:00:00+05:30"
    assert str(start.tzinfo) == "Asia/Kolkata"
    assert cal.walk("VTIMEZONE")


def test_person_page_hides_contact_unless_opted_in(app, client, create_person, create_session):
    private = create_person(name="Mei", contact="mei@example.org", public=False)
    public = create_person(name="Sam", contact="sam@example.org", public=True)
    create_session(title="Rust for Pythonistas", host="mei")
    stranger = app.test_client()
    assert "mei@example.org" not in stranger.get(f"/s/{private.code}").get_data(as_text=True)
    assert "sam@example.org" in stranger.get(f"/s/{public.code}").get_data(as_text=True)
    page = stranger.get(f"/s/{private.code}").get_data(as_text=True)
    assert "Rust for Pythonistas" in page


def test_people_search_by_interest(client, create_person):
    create_person(name="Mei", interests="rust, tea")
    create_person(name="Lena", interests="databases")
    page = client.get("/people?q=RUST").get_data(as_text=True)
    assert "Mei" in page and "Lena" not in page
    everyone = client.get("/people").get_data(as_text=True)
    assert "Mei" in everyone and "Lena" in everyone


@pytest.mark.parametrize("url", ["/", "/board", "/people", "/rooms/1"])
def test_pages_without_event_say_so(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "No event is set up yet" in response.get_data(as_text=True)


def test_forms_without_csrf_token_are_refused(app, create_stickies):
    (sticky,) = create_stickies(1)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post(f"/s/{sticky.code}", data={"title": "No token", "host": "Eve"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    db.session.refresh(sticky)
    assert sticky.claimed_dt is None


def test_forms_with_csrf_token_are_accepted(app, create_stickies):
    from app_helpers import csrf_token

    (sticky,) = create_stickies(1)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    token = csrf_token(client.get(claim_path(sticky)).get_data(as_text=True))
    response = client.post(
        claim_path(sticky), data={"title": "With token", "host": "Ann", "csrf_token": token}
    )
    assert response.status_code == 302
    db.session.refresh(sticky)
    assert sticky.title == "With token"


def test_session_in_conflict_has_no_calendar_entry(client, event, create_session):
    first, second = create_session(title="First"), create_session(title="Second")
    for sticky in (first, second):
        place_sticky(
            sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
        )
    db.session.commit()
    assert client.get(f"/s/{second.code}/calendar.ics").status_code == 404
    assert "Add to calendar" not in client.get(f"/s/{second.code}").get_data(as_text=True)
    assert client.get(f"/s/{first.code}/calendar.ics").status_code == 200
