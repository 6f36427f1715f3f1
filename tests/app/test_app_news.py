"""Board news for people: chat formats, announcements, full rooms, starting sessions, the news page,
and the calendar feed of the sessions a browser follows."""

from __future__ import annotations

import datetime as dt
import json

import icalendar
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Delivery, HookFormat, MessageType, OutboxMessage, Slot, utcnow
from app.services import ServiceError
from app.services.outbox import note_starting
from app.services.stickies import toggle_interest
from app.services.webhooks import (
    DeliverySettings,
    add_hook,
    dead_letters,
    deliver_due,
    retry_dead,
)
from app.settings import configure

A, B = "Hall A", "Hall B"
TEN, ELEVEN = "2026-09-26T10:00", "2026-09-26T11:00"
SETTLE_S = 20.0
SETTINGS = DeliverySettings(settle_s=SETTLE_S, max_attempts=2, backoff_s=5.0, timeout_s=5.0)


def later(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)


def bodies(receiver) -> list[dict]:
    return [json.loads(body) for _, body in receiver.received]


# Chat formats -------------------------------------------------------------------------------


def test_news_slack_hook_gets_one_line_with_the_session_link_and_pings_nobody(
    event, receiver, scan, create_session
):
    add_hook(url=receiver.url, format=HookFormat.SLACK)
    db.session.commit()
    s = create_session(title="Rust & <!channel> for @here Pythonistas")
    scan({s: (A, TEN)})
    assert deliver_due(settings=SETTINGS, now=later(SETTLE_S + 1)) == 1
    ((headers, _),) = receiver.received
    assert "webhook-signature" not in headers
    assert bodies(receiver) == [
        {
            "text": f"New session: <{event.base_url}/s/{s.code}|Rust &amp; &lt;!channel&gt; for "
            "@\u200bhere Pythonistas> — Hall A, Sat 10:00–10:45"
        }
    ]


def test_news_discord_hook_gets_the_line_with_mentions_turned_off(
    event, receiver, scan, create_session
):
    add_hook(url=receiver.url, format=HookFormat.DISCORD)
    db.session.commit()
    s = create_session(title="Async deep dive")
    scan({s: (A, TEN)})
    deliver_due(settings=SETTINGS, now=later(SETTLE_S + 1))
    scan({s: (B, ELEVEN)})
    deliver_due(settings=SETTINGS, now=later(2 * SETTLE_S + 2))
    url = f"{event.base_url}/s/{s.code}"
    assert bodies(receiver) == [
        {
            "content": f"New session: “Async deep dive” — Hall A, Sat 10:00–10:45 {url}",
            "allowed_mentions": {"parse": []},
        },
        {
            "content": f"Session moved: “Async deep dive” is now in Hall B, Sat 11:00–11:45 {url}",
            "allowed_mentions": {"parse": []},
        },
    ]


def test_news_matrix_hook_puts_a_notice_under_the_message_id_with_the_token(
    event, receiver, scan, create_session
):
    base = receiver.url.removesuffix("/hook")
    add_hook(url=base + "/", format=HookFormat.MATRIX, room="!abc:example.org", token="syt_x")
    db.session.commit()
    s = create_session(title="Maps <with> open data")
    scan({s: (A, TEN)})
    deliver_due(settings=SETTINGS, now=later(SETTLE_S + 1))
    message_id = db.session.scalars(select(OutboxMessage.message_id)).one()
    assert receiver.requests == [
        ("PUT", f"/_matrix/client/v3/rooms/%21abc%3Aexample.org/send/m.room.message/{message_id}")
    ]
    ((headers, _),) = receiver.received
    assert headers["authorization"] == "Bearer syt_x"
    url = f"{event.base_url}/s/{s.code}"
    assert bodies(receiver) == [
        {
            "msgtype": "m.notice",
            "body": f"New session: “Maps <with> open data” — Hall A, Sat 10:00–10:45 {url}",
            "m.mentions": {},
            "format": "org.matrix.custom.html",
            "formatted_body": f'New session: <a href="{url}">Maps &lt;with&gt; open data</a>'
            " — Hall A, Sat 10:00–10:45",
        }
    ]


@pytest.mark.parametrize(
    ("room", "token", "error"),
    [
        (None, "syt_x", "room's id"),
        ("#board:example.org", "syt_x", "room's id"),
        ("!abc:example.org", None, "access token"),
    ],
)
def test_news_matrix_hook_without_room_or_token_is_refused(event, room, token, error):
    with pytest.raises(ServiceError, match=error):
        add_hook(url="https://matrix.example.org", format=HookFormat.MATRIX, room=room, token=token)


# Announcements, full rooms, starting sessions -------------------------------------------------


def test_news_announcement_from_the_command_line_is_told_at_once(event, runner, receiver):
    secret = add_hook(url=receiver.url).secret
    db.session.commit()
    result = runner.invoke("announce", "  Lunch is   served on the terrace ")
    assert result.exit_code == 0, result.output
    assert "Announced to PyCon India Open Spaces: Lunch is served on the terrace" in result.output
    # No settling: an announcement is no change of the wall that could flicker.
    assert deliver_due(settings=SETTINGS, now=utcnow() + dt.timedelta(seconds=1)) == 1
    (message,) = receiver.messages(secret)
    assert message["type"] == "announcement"
    assert message["data"] == {"text": "Lunch is served on the terrace"}


def test_news_empty_or_long_announcement_is_refused_and_writes_nothing(event, runner):
    assert runner.invoke("announce", "   ").exit_code == 1
    result = runner.invoke("announce", "x" * 501)
    assert result.exit_code == 1
    assert "at most 500 characters" in result.output
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_news_session_outgrowing_its_room_is_told_once_with_a_larger_free_room(
    event, receiver, scan, create_session
):
    hook = add_hook(url=receiver.url, events=["session.over_capacity"])
    db.session.commit()
    s = create_session(title="Burnout and boundaries")
    scan({s: (B, TEN)})  # Hall B seats 2
    for browser in ("b1", "b2", "b3", "b4"):
        toggle_interest(sticky=s, browser_id=browser)
        db.session.commit()
    assert deliver_due(settings=SETTINGS, now=later(SETTLE_S + 1)) == 1
    (message,) = receiver.messages(hook.secret)
    assert message["type"] == "session.over_capacity"
    assert {k: message["data"][k] for k in ("interested", "seats", "free_room", "room")} == {
        "interested": 3,
        "seats": 2,
        "free_room": "Hall A",
        "room": "Hall B",
    }


def test_news_full_room_that_empties_again_before_it_settles_says_nothing(
    event, receiver, scan, create_session
):
    add_hook(url=receiver.url)
    db.session.commit()
    s = create_session()
    scan({s: (B, TEN)})
    deliver_due(settings=SETTINGS, now=later(SETTLE_S + 1))  # the posted news
    for browser in ("b1", "b2", "b3"):
        toggle_interest(sticky=s, browser_id=browser)
    toggle_interest(sticky=s, browser_id="b3")  # back to 2 of 2 seats
    db.session.commit()
    assert deliver_due(settings=SETTINGS, now=later(2 * SETTLE_S + 2)) == 0
    assert [b["type"] for b in bodies(receiver)] == ["session.posted"]


def test_news_session_starting_is_told_once_five_minutes_before_its_slot(
    event, receiver, scan, create_session
):
    hook = add_hook(url=receiver.url, events=["session.starting"])
    db.session.commit()
    s = create_session(title="Testing without mocks")
    scan({s: (A, TEN)})
    start = db.session.scalars(select(Slot).order_by(Slot.start_dt)).first().start_dt
    assert note_starting(now=start - dt.timedelta(minutes=6)) == []
    assert len(note_starting(now=start - dt.timedelta(minutes=5))) == 1
    assert note_starting(now=start - dt.timedelta(minutes=2)) == []
    db.session.commit()
    assert deliver_due(settings=SETTINGS, now=start - dt.timedelta(minutes=2)) == 1
    (message,) = receiver.messages(hook.secret)
    assert message["type"] == "session.starting"
    assert message["data"]["start"] == "2026-09-26T10:00:00+05:30"
    assert message["data"]["title"] == "Testing without mocks"


# The news page ---------------------------------------------------------------------------------


def test_news_page_needs_a_login(client, event):
    assert client.get("/admin/news/").status_code == 302
    assert client.post("/admin/news/announce", data={"news-text": "hi"}).status_code == 302
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_news_page_adds_a_hook_showing_its_secret_once_and_announces(
    organizer_client, event, receiver
):
    page = organizer_client.post(
        "/admin/news/hooks", data={"hook-url": receiver.url, "hook-format": "standard"}
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    (hook,) = db.session.scalars(select(OutboxMessage.__table__.metadata.tables["hooks"].c.secret))
    assert hook.startswith("whsec_") and hook in html
    again = organizer_client.get("/admin/news/").get_data(as_text=True)
    assert receiver.url in again and hook not in again

    sent = organizer_client.post("/admin/news/announce", data={"news-text": "Doors close at 6"})
    assert sent.status_code == 302
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert (message.type, message.data) == (MessageType.ANNOUNCEMENT, {"text": "Doors close at 6"})


def test_news_page_refuses_a_matrix_hook_without_a_room_and_keeps_the_form(organizer_client, event):
    page = organizer_client.post(
        "/admin/news/hooks",
        data={"hook-url": "https://matrix.example.org", "hook-format": "matrix"},
    )
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "a Matrix hook needs the room" in html
    assert 'value="https://matrix.example.org"' in html


def test_news_page_lists_dead_messages_and_tries_them_again(
    organizer_client, event, receiver, scan, create_session
):
    hook = add_hook(url=receiver.url)
    db.session.commit()
    s = create_session(title="Maps with open data")
    scan({s: (A, TEN)})
    receiver.answers = [500, 500]
    first = later(SETTLE_S + 1)
    deliver_due(settings=SETTINGS, now=first)
    deliver_due(settings=SETTINGS, now=first + dt.timedelta(seconds=5))
    (letter,) = dead_letters(hook_id=hook.id)
    assert (letter.type, letter.code, letter.attempts, letter.last_status) == (
        "session.posted",
        s.code,
        2,
        500,
    )
    html = organizer_client.get("/admin/news/").get_data(as_text=True)
    assert "1 dead" in html and "Maps with open data" in html

    answer = organizer_client.post(f"/admin/news/hooks/{hook.id}/retry")
    assert answer.status_code == 302
    assert deliver_due(settings=SETTINGS, now=later(SETTLE_S + 10)) == 1
    delivery = db.session.scalars(select(Delivery)).one()
    db.session.refresh(delivery)
    assert delivery.delivered_dt is not None and delivery.dead_dt is None
    assert retry_dead(hook_id=hook.id) == 0


# Following sessions ---------------------------------------------------------------------------


def _feed_locations(client, key: str) -> dict[str, str]:
    response = client.get(f"/my/{key}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-cache"
    calendar = icalendar.Calendar.from_ical(response.data)
    return {str(e["summary"]): str(e["location"]) for e in calendar.walk("VEVENT")}


def test_news_marked_session_is_followed_in_a_calendar_feed_that_moves_with_the_sticky(
    client, event, scan, create_session
):
    s, other = create_session(title="Rust for Pythonistas"), create_session(title="Other")
    scan({s: (A, TEN), other: (B, TEN)})
    assert client.post(f"/s/{s.code}/interest").status_code == 302
    cookie = client.get_cookie("openspaces_feed")
    assert cookie is not None and cookie.http_only is False
    key = cookie.value
    assert _feed_locations(client, key) == {"Rust for Pythonistas": "Hall A"}

    scan({s: (B, ELEVEN), other: (B, TEN)})
    assert _feed_locations(client, key) == {"Rust for Pythonistas": "Hall B"}
    # Unmarked, it leaves the feed; another browser's key shows nothing of this one's.
    client.post(f"/s/{s.code}/interest")
    assert _feed_locations(client, key) == {}
    assert client.get("/my/not-a-key/calendar.ics").status_code == 404


# The wall screen -------------------------------------------------------------------------------


def test_news_wall_screen_shows_announcements_and_moves_for_a_minute(
    app, client, event, scan, create_session
):
    from app.services.outbox import note_announcement

    s = create_session(title="Async deep dive")
    scan({s: (A, TEN)})
    note_announcement(event=event, text="Lunch is served on the terrace")
    db.session.commit()
    html = client.get("/kiosk").get_data(as_text=True)
    assert '<li class="kiosk-news-announcement">Lunch is served on the terrace</li>' in html
    assert "New session: “Async deep dive” — Hall A, Sat 10:00–10:45" in html
    before = client.get("/kiosk").headers.get("ETag")

    configure(app, CLOCK=lambda: utcnow() + dt.timedelta(seconds=61))
    later_html = client.get("/kiosk").get_data(as_text=True)
    assert "kiosk-news" not in later_html and "Lunch is served" not in later_html
    assert client.get("/kiosk").headers.get("ETag") != before
