"""Board news: the outbox written with each change, and its Standard Webhooks to a real receiver."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from app_helpers import printed_key
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Delivery, MessageType, OutboxMessage, utcnow
from app.services import ServiceError
from app.services.scans import find_scan, undo_scan
from app.services.stickies import SessionFields, claim_sticky, edit_sticky, set_hidden
from app.services.webhooks import (
    DeliverySettings,
    add_hook,
    deliver_due,
    deliverer,
    parse_events,
    remove_hook,
)
from app.settings import configure

A, B = "Hall A", "Hall B"
TEN, ELEVEN = "2026-09-26T10:00", "2026-09-26T11:00"
SETTLE_S = 20.0
SETTINGS = DeliverySettings(
    settle_s=SETTLE_S, removal_settle_s=SETTLE_S, max_attempts=3, backoff_s=5.0, timeout_s=5.0
)


@pytest.fixture
def hook(event, receiver):
    made = add_hook(url=receiver.url)
    db.session.commit()
    return made


def later(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)


def settled() -> dt.datetime:
    return later(SETTLE_S + 1)


def data(sticky, event, *, room=A, start="10:00", end="10:45", title="Testing without mocks"):
    return {
        "code": sticky.code,
        "title": title,
        "room": room,
        "start": f"2026-09-26T{start}:00+05:30" if start else None,
        "end": f"2026-09-26T{end}:00+05:30" if end else None,
        "url": f"{event.base_url}/s/{sticky.code}",
        "picture_url": None,
    }


def test_outbox_scanned_session_reaches_the_hook_signed_once_settled(
    event, hook, receiver, scan, create_session
):
    s = create_session()
    scan({s: (A, TEN)})
    assert deliver_due(settings=SETTINGS, now=later(SETTLE_S - 1)) == 0
    assert receiver.received == []

    assert deliver_due(settings=SETTINGS, now=settled()) == 1
    (message,) = receiver.messages(hook.secret)
    assert message["type"] == "session.posted"
    assert message["data"] == data(s, event)
    stored = db.session.scalars(select(OutboxMessage)).one()
    assert receiver.received[0][0]["webhook-id"] == stored.message_id
    assert stored.message_id.startswith("msg_")
    assert message["timestamp"] == stored.created_dt.isoformat().replace("+00:00", "Z")
    # Delivered once: the next round sends nothing.
    assert deliver_due(settings=SETTINGS, now=later(SETTLE_S + 60)) == 0
    assert len(receiver.received) == 1


def test_outbox_receiver_that_is_down_gets_the_message_later_with_the_same_id(
    hook, receiver, scan, create_session
):
    s = create_session()
    scan({s: (A, TEN)})
    receiver.answers = [503, 503]
    first = settled()
    assert deliver_due(settings=SETTINGS, now=first) == 0
    delivery = db.session.scalars(select(Delivery)).one()
    assert (delivery.attempts, delivery.last_status, delivery.delivered_dt) == (1, 503, None)
    assert delivery.next_try_dt == first + dt.timedelta(seconds=5)
    # Not due before its backoff is over; then the backoff doubles.
    assert deliver_due(settings=SETTINGS, now=first + dt.timedelta(seconds=4)) == 0
    assert deliver_due(settings=SETTINGS, now=first + dt.timedelta(seconds=5)) == 0
    db.session.refresh(delivery)
    assert delivery.next_try_dt == first + dt.timedelta(seconds=15)
    assert deliver_due(settings=SETTINGS, now=first + dt.timedelta(seconds=15)) == 1

    assert len(receiver.received) == 3
    assert len({headers["webhook-id"] for headers, _ in receiver.received}) == 1
    assert [m["type"] for m in receiver.messages(hook.secret)] == ["session.posted"] * 3
    db.session.refresh(delivery)
    assert (delivery.attempts, delivery.last_status, delivery.next_try_dt) == (3, 204, None)
    assert delivery.delivered_dt is not None


def test_outbox_receiver_that_never_answers_ends_as_a_dead_letter(hook, scan, create_session):
    s = create_session()
    scan({s: (A, TEN)})
    remove_hook(hook_id=hook.id)
    unreachable = add_hook(url="http://127.0.0.1:9/nobody")  # the discard port: refused
    db.session.commit()
    now = settled()
    for wait in (0, 5, 15):
        deliver_due(settings=SETTINGS, now=now + dt.timedelta(seconds=wait))
    delivery = db.session.scalars(select(Delivery)).one()
    assert delivery.hook_id == unreachable.id
    assert (delivery.attempts, delivery.last_status, delivery.next_try_dt) == (3, None, None)
    assert delivery.dead_dt is not None and delivery.last_error


def test_outbox_sticky_posted_and_undone_within_the_settle_window_says_nothing(
    event, hook, receiver, scan, create_session
):
    s = create_session()
    scan({s: (A, TEN)})
    undo_scan(scan=find_scan(event, "cam-1"))
    db.session.commit()
    assert deliver_due(settings=SETTINGS, now=settled()) == 0
    assert receiver.received == []
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_outbox_sticky_flickering_out_of_view_and_back_says_nothing(
    app, hook, receiver, scan, create_session
):
    s = create_session()
    scan({s: (A, TEN)})
    assert deliver_due(settings=SETTINGS, now=settled()) == 1
    # Out of view for three scans in a row (REMOVE_AFTER_SCANS), then back in its cell.
    for _ in range(app.config["REMOVE_AFTER_SCANS"]):
        scan({})
    db.session.refresh(s)
    assert s.board_status == "none"
    scan({s: (A, TEN)})
    assert deliver_due(settings=SETTINGS, now=later(2 * SETTLE_S)) == 0
    assert [m["type"] for m in receiver.messages(hook.secret)] == ["session.posted"]


def test_outbox_sticky_moved_and_removed_within_the_window_sends_the_final_state(
    event, hook, receiver, scan, create_session
):
    s = create_session()
    scan({s: (A, TEN)})
    assert deliver_due(settings=SETTINGS, now=settled()) == 1
    scan({s: (B, ELEVEN)})
    for _ in range(3):
        scan({})
    assert deliver_due(settings=SETTINGS, now=later(2 * SETTLE_S)) == 1
    posted, removed = receiver.messages(hook.secret)
    assert removed["type"] == "session.removed"
    # A removed session names the cell it left.
    assert removed["data"] == data(s, event, room=B, start="11:00", end="11:45")
    assert len({headers["webhook-id"] for headers, _ in receiver.received}) == 2


def test_outbox_by_default_a_new_session_is_told_in_seconds_and_a_flicker_off_the_wall_never(
    event, hook, receiver, scan, create_session
):
    default = DeliverySettings()
    assert (default.settle_s, default.removal_settle_s) == (5.0, 60.0)
    s = create_session()
    scan({s: (A, TEN)})
    assert deliver_due(settings=default, now=later(4)) == 0
    assert deliver_due(settings=default, now=later(6)) == 1
    # Off the wall for a while (three empty scans), then back in its cell: nothing to tell.
    for _ in range(3):
        scan({})
    assert deliver_due(settings=default, now=later(40)) == 0
    scan({s: (A, TEN)})
    assert deliver_due(settings=default, now=later(120)) == 0
    # Off the wall for good: told once it has been gone a minute.
    for _ in range(3):
        scan({})
    assert deliver_due(settings=default, now=later(50)) == 0
    assert deliver_due(settings=default, now=later(61)) == 1
    assert [m["type"] for m in receiver.messages(hook.secret)] == [
        "session.posted",
        "session.removed",
    ]


def test_outbox_session_moved_before_it_was_told_is_posted_where_it_ended(
    event, hook, receiver, scan, create_session
):
    s = create_session()
    scan({s: (A, TEN)})
    scan({s: (B, ELEVEN)})
    assert deliver_due(settings=SETTINGS, now=settled()) == 1
    (message,) = receiver.messages(hook.secret)
    assert message["type"] == "session.posted"
    assert message["data"] == data(s, event, room=B, start="11:00", end="11:45")


def test_outbox_blank_sticky_on_the_wall_claimed_is_titled(
    event, hook, receiver, scan, create_stickies
):
    (s,) = create_stickies(1)
    scan({s: (A, TEN)})
    assert deliver_due(settings=SETTINGS, now=settled()) == 1
    claim_sticky(
        sticky=s, fields=SessionFields(title="Rust for Pythonistas", host="Ana"), key=printed_key(s)
    )
    db.session.commit()
    assert deliver_due(settings=SETTINGS, now=later(2 * SETTLE_S + 1)) == 1
    edit_sticky(
        sticky=s, fields=SessionFields(title="Rust for Pythonistas", host="Ana"), by_organizer=True
    )
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2  # the same title: no news
    posted, titled = receiver.messages(hook.secret)
    assert posted["data"]["title"] is None
    assert titled["type"] == "session.titled"
    assert titled["data"] == data(s, event, title="Rust for Pythonistas")


def test_outbox_hook_gets_only_the_types_it_asked_for(event, receiver, scan, create_session):
    only_removed = add_hook(url=receiver.url, events=parse_events("session.removed"))
    db.session.commit()
    s = create_session()
    scan({s: (A, TEN)})
    assert deliver_due(settings=SETTINGS, now=settled()) == 0
    assert receiver.received == []
    for _ in range(3):
        scan({})
    assert deliver_due(settings=SETTINGS, now=later(2 * SETTLE_S)) == 1
    assert [m["type"] for m in receiver.messages(only_removed.secret)] == ["session.removed"]


def test_outbox_session_hidden_by_an_organizer_is_not_told(hook, receiver, scan, create_session):
    s = create_session()
    scan({s: (A, TEN)})
    set_hidden(sticky=s, hidden=True)
    db.session.commit()
    assert deliver_due(settings=SETTINGS, now=settled()) == 0
    assert receiver.received == []
    assert db.session.scalar(select(func.count(Delivery.id))) == 0


def test_outbox_person_sticky_makes_no_news(hook, scan, create_person):
    p = create_person()
    scan({p: (A, TEN)})
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_outbox_a_message_outlives_its_process(app, hook, receiver, scan, create_session):
    """The message is in the database: an app started afresh on it (a restart) delivers it."""
    s = create_session()
    scan({s: (A, TEN)})
    code, secret = s.code, hook.secret
    db.session.remove()
    restarted = create_app({**app.config, "TESTING": True})
    with restarted.app_context():
        assert deliver_due(settings=SETTINGS, now=settled()) == 1
    assert [m["data"]["code"] for m in receiver.messages(secret)] == [code]


def test_outbox_parse_events_refuses_a_type_there_is_not():
    assert parse_events(" session.moved,session.posted,session.moved") == [
        MessageType.MOVED,
        MessageType.POSTED,
    ]
    with pytest.raises(ServiceError, match="no such event type: session.exploded"):
        parse_events("session.exploded")


def test_outbox_hooks_add_list_and_remove_from_the_command_line(event, runner):
    added = runner.invoke(
        "hooks", "add", "https://chat.example.org/in", "--events", "session.moved"
    )
    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32

    listed = runner.invoke("hooks", "list")
    assert listed.output.splitlines() == [
        "1\thttps://chat.example.org/in\tstandard\tsession.moved\t"
        "0 delivered, 0 waiting, 0 dead; no answer yet"
    ]
    removed = runner.invoke("hooks", "remove", "1")
    assert removed.output == "Hook 1 for https://chat.example.org/in removed.\n"
    assert runner.invoke("hooks", "list").output == "No hooks.\n"

    again = runner.invoke("hooks", "remove", "1")
    assert again.exit_code == 1
    assert "there is no hook 1" in again.output
    wrong = runner.invoke("hooks", "add", "https://x.example.org", "--events", "session.exploded")
    assert wrong.exit_code == 1
    assert "no such event type: session.exploded" in wrong.output
    not_http = runner.invoke("hooks", "add", "ftp://x.example.org")
    assert not_http.exit_code == 1


def test_outbox_served_app_delivers_by_itself(app, client, hook, receiver, scan, create_session):
    """The one test of the running worker: a request starts it, a scan's commit wakes it."""
    configure(app, WEBHOOK_DELIVERY=True, OUTBOX_SETTLE_S=0.2)
    s = create_session()
    code, secret = s.code, hook.secret
    db.session.remove()  # the worker writes: this test's session holds no transaction open
    try:
        scan({s: (A, TEN)})
        assert receiver.arrived.wait(10), "no webhook within 10 s"
    finally:
        deliverer(app).stop(timeout=10)
    (message,) = receiver.messages(secret)
    assert (message["type"], message["data"]["code"]) == ("session.posted", code)
