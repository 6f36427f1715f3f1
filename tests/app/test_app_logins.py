"""Organizer log-in: what a stranger guessing passwords can do, and sessions that can be ended."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OrganizerSession, utcnow
from app.services import logins
from app.services.organizers import set_password
from app.settings import configure

ATTACKER = "198.51.100.7"
ORGANIZER = "203.0.113.5"
TOO_MANY = "Too many log-in attempts from your address. Wait a minute, then try again."
ENDED = "Your organizer session has ended. Log in again."


@pytest.fixture
def admin(app, event):
    organizer = set_password(username="admin", password="correct horse")
    db.session.commit()
    return organizer


def log_in(client, password: str, address: str, username: str = "admin"):
    return client.post(
        "/auth/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def browser(app):
    """Return a browser logged in as ``admin`` from an address of its own."""
    client = app.test_client()
    assert log_in(client, "correct horse", ORGANIZER).status_code == 302
    return client


def copied(app, client):
    """Return another browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


# Throttling: an address is refused, an account only slowed down.


def test_login_after_ten_wrong_tries_from_one_address_succeeds_from_another(app, admin, caplog):
    attacker = app.test_client()
    caplog.set_level(logging.WARNING, logger="app.services.logins")
    tries = [log_in(attacker, f"guess {n}", ATTACKER).status_code for n in range(10)]
    assert tries == [401] * 10
    refused = log_in(attacker, "correct horse", ATTACKER)
    assert refused.status_code == 429
    assert TOO_MANY in refused.get_data(as_text=True)
    organizer = app.test_client()
    response = log_in(organizer, "correct horse", ORGANIZER)
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/")
    assert organizer.get("/admin/").status_code == 200
    assert [r.getMessage() for r in caplog.records] == [
        f"log-ins from {ATTACKER} refused for a while: over the limit 10 per 1 minute "
        "(account 'admin')"
    ]


def test_login_lockout_is_logged_once_a_minute_per_address(app, admin, caplog):
    configure(app, LOGIN_LIMIT_PER_ADDRESS="2 per minute")
    attacker = app.test_client()
    caplog.set_level(logging.WARNING, logger="app.services.logins")
    statuses = [
        log_in(attacker, "guess", ATTACKER, username=f"name{n}").status_code for n in range(5)
    ]
    assert statuses == [401, 401, 429, 429, 429]
    assert [r.getMessage() for r in caplog.records] == [
        f"log-ins from {ATTACKER} refused for a while: over the limit 2 per 1 minute "
        "(account 'name2')"
    ]


def test_login_delay_grows_past_the_slowdown_and_stops_at_the_bound(app, admin, caplog):
    configure(
        app,
        LOGIN_SLOWDOWN_PER_ACCOUNT="2 per minute",
        LOGIN_SLOWDOWN_STEP_S=0.05,
        LOGIN_SLOWDOWN_MAX_S=0.1,
    )
    caplog.set_level(logging.WARNING, logger="app.services.logins")
    settings = {"account": "admin", "slow_after": "2 per minute", "step_s": 0.05, "max_s": 0.1}
    delays = []
    for n in range(5):
        # From five addresses: no address limit is near, only the account's count grows.
        assert log_in(app.test_client(), "guess", f"192.0.2.{n}").status_code == 401
        delays.append(logins.delay_s(**settings))
    assert delays == [0.0, 0.0, 0.05, 0.1, 0.1]
    assert logins.delay_s(**{**settings, "account": "bob"}) == 0.0
    started = time.monotonic()
    assert log_in(app.test_client(), "correct horse", ORGANIZER).status_code == 302
    assert time.monotonic() - started >= 0.1
    assert [r.getMessage() for r in caplog.records] == [
        "log-ins to account 'admin' are slowed down: more than 2 per minute failed "
        "(the last from 192.0.2.2)"
    ]


def test_login_delay_by_default_stays_within_two_seconds(app, admin):
    config = app.config
    settings = {
        "account": "admin",
        "slow_after": config["LOGIN_SLOWDOWN_PER_ACCOUNT"],
        "step_s": config["LOGIN_SLOWDOWN_STEP_S"],
        "max_s": config["LOGIN_SLOWDOWN_MAX_S"],
    }
    for n in range(40):
        logins.note_failure(
            account="admin", address=f"192.0.2.{n}", slow_after=settings["slow_after"]
        )
    assert logins.failures(account="admin", slow_after=settings["slow_after"]) == 40
    assert logins.delay_s(**settings) == 2.0


# Sessions: a copied cookie stops working once its session ends.


def test_copied_cookie_stops_working_after_logout(app, admin):
    organizer = browser(app)
    thief = copied(app, organizer)
    assert thief.get("/admin/").status_code == 200
    organizer.post("/auth/logout")
    response = thief.get("/admin/")
    assert (response.status_code, response.headers["Location"]) == (
        302,
        "/auth/login?next=/admin/?",
    )
    assert ENDED in thief.get("/auth/login").get_data(as_text=True)
    assert db.session.scalars(select(OrganizerSession)).all() == []


def test_logout_in_one_browser_keeps_the_others_logged_in(app, admin):
    laptop, phone = browser(app), browser(app)
    laptop.post("/auth/logout")
    assert laptop.get("/admin/").status_code == 302
    assert phone.get("/admin/").status_code == 200


def test_copied_cookie_stops_working_after_set_password(app, admin, runner):
    organizer = browser(app)
    thief = copied(app, organizer)
    result = runner.invoke("admin", "set-password", "--password", "battery staple")
    assert result.exit_code == 0
    assert thief.get("/admin/").status_code == 302
    assert organizer.get("/admin/").status_code == 302
    assert log_in(app.test_client(), "battery staple", ORGANIZER).status_code == 302


def test_copied_cookie_stops_working_after_logout_all(app, admin, runner):
    organizer, other = browser(app), browser(app)
    thief = copied(app, organizer)
    result = runner.invoke("admin", "logout-all")
    assert (result.exit_code, result.output) == (0, "Ended 2 organizer sessions.\n")
    assert [c.get("/admin/").status_code for c in (organizer, other, thief)] == [302, 302, 302]
    assert runner.invoke("admin", "logout-all").output == "Ended 0 organizer sessions.\n"


def _age(**moments: dt.timedelta) -> None:
    record = db.session.scalar(select(OrganizerSession))
    for column, ago in moments.items():
        setattr(record, column, utcnow() - ago)
    db.session.commit()


def test_session_older_than_the_max_age_is_sent_to_login(app, admin):
    organizer = browser(app)
    _age(created_dt=dt.timedelta(hours=11, minutes=59))
    assert organizer.get("/admin/").status_code == 200
    _age(created_dt=dt.timedelta(hours=12, minutes=1))
    response = organizer.get("/admin/stickies")
    assert (response.status_code, response.headers["Location"]) == (
        302,
        "/auth/login?next=/admin/stickies?",
    )
    assert db.session.scalars(select(OrganizerSession)).all() == []


def test_session_idle_past_the_timeout_is_sent_to_login(app, admin):
    organizer = browser(app)
    _age(seen_dt=dt.timedelta(hours=1, minutes=59))
    assert organizer.get("/admin/").status_code == 200
    # The request was noted: the session is idle from now on, not from two hours ago.
    db.session.expire_all()
    seen = db.session.scalar(select(OrganizerSession.seen_dt))
    assert utcnow() - seen < dt.timedelta(minutes=1)
    _age(seen_dt=dt.timedelta(hours=2, minutes=1))
    assert organizer.get("/admin/").status_code == 302
    assert ENDED in organizer.get("/auth/login").get_data(as_text=True)


def test_session_limits_are_an_event_day_by_default(app):
    assert (app.config["ORGANIZER_SESSION_IDLE_S"], app.config["ORGANIZER_SESSION_MAX_S"]) == (
        7200,
        43200,
    )


def test_ended_session_shows_public_pages_as_to_everyone(app, admin, create_session):
    sticky = create_session()
    organizer = browser(app)
    assert organizer.get(f"/s/{sticky.code}/edit").status_code == 200
    _age(created_dt=dt.timedelta(hours=13))
    assert organizer.get(f"/s/{sticky.code}/edit").status_code == 403
