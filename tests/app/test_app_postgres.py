"""The same data model on PostgreSQL: migrations, board rules and exports use no SQLite-only SQL.

Runs when ``OPENSPACES_TEST_POSTGRES_URL`` names a server (CI starts one with .ci/postgres.sh).
"""

import datetime as dt
import os
import secrets

import pytest
from app_helpers import printed_key
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.models import BoardStatus, Event, Placement, StickyKind
from app.services.events import parse_event_data
from app.services.observations import parse_observations
from app.services.scans import apply_scan, undo_scan
from app.services.stickies import SessionFields, allocate_stickies, claim_sticky, toggle_interest

SERVER = os.environ.get("OPENSPACES_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not SERVER, reason="OPENSPACES_TEST_POSTGRES_URL is not set")


@pytest.fixture
def pg_app(tmp_path):
    name = f"openspaces_test_{secrets.token_hex(4)}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "t",
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": True,
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}"'))
    admin.dispose()


def test_postgres_migrations_and_board_rules(pg_app):
    from app.services.events import apply_event_data

    data = parse_event_data(
        {
            "event": {
                "name": "PG Camp",
                "slug": "pg-camp",
                "timezone": "Europe/Berlin",
                "base_url": "http://localhost:5000",
            },
            "rooms": [{"name": "A", "capacity": 10}, {"name": "B"}],
            "slots": [
                {"start": "2026-03-29T01:00", "end": "2026-03-29T01:45"},
                {"start": "2026-03-29T03:00", "end": "2026-03-29T03:45"},
            ],
        }
    )
    event = apply_event_data(data).event
    assert apply_event_data(data).changes == ()
    # Across the spring DST switch: 01:00 CET is 00:00 UTC, 03:00 CEST is 01:00 UTC.
    assert [s.start_dt.hour for s in event.slots] == [0, 1]
    batch = allocate_stickies(
        event=event, count=3, kind=StickyKind.SESSION, template="note-76", paper="a4"
    )
    first, second, third = batch.stickies
    for sticky in batch.stickies:
        claim_sticky(
            sticky=sticky,
            fields=SessionFields(title=f"Talk {sticky.marker_id}", host="Ann"),
            key=printed_key(sticky),
        )
    assert toggle_interest(sticky=first, browser_id="b" * 20) is True
    db.session.commit()

    def scan(scan_id, seen, hidden=()):
        body = {
            "scan_id": scan_id,
            "board_found": True,
            "warnings": [],
            "hidden_cells": list(hidden),
            "stickies": [
                {"code": s.code, "room": r, "slot": k, "via": "marker"} for s, r, k in seen
            ],
        }
        outcome = apply_scan(
            event=event, observations=parse_observations(body), source="pg", remove_after=3
        )
        # A camera's observation commits without waiting for the disk; the next
        # transaction on the connection waits again, as what people type always does.
        assert db.session.scalar(text("SHOW synchronous_commit")) == "off"
        db.session.commit()
        assert db.session.scalar(text("SHOW synchronous_commit")) == "on"
        db.session.rollback()
        return outcome

    scan("1", [(first, "A", "2026-03-29T01:00"), (second, "A", "2026-03-29T01:00")])
    assert (first.board_status, second.board_status) == (BoardStatus.PLACED, BoardStatus.CONFLICT)
    assert scan("1", []).duplicate
    moved = scan("2", [(first, "B", "2026-03-29T03:00"), (second, "A", "2026-03-29T01:00")])
    assert second.board_status == BoardStatus.PLACED
    # Back in its cell, the first sticky queues behind the one that holds it now.
    assert undo_scan(scan=moved.scan) == 1
    db.session.commit()
    assert (first.room.name, first.board_status) == ("A", BoardStatus.CONFLICT)
    assert (second.room.name, second.board_status) == ("A", BoardStatus.PLACED)
    assert db.session.scalar(select(func.count(Placement.id))) == 5
    assert db.session.scalar(select(func.count(Event.id))) == 1
    assert third.board_status == BoardStatus.NONE

    # A camera's spooled scans keep their capture time; one captured before the last applied
    # from that camera moves nothing.
    def camera_scan(scan_id, captured, room):
        body = {
            "scan_id": scan_id,
            "board_found": True,
            "captured_dt": captured,
            "stickies": [{"code": third.code, "room": room, "slot": "2026-03-29T03:00"}],
        }
        outcome = apply_scan(
            event=event, observations=parse_observations(body), source="cam", remove_after=3
        )
        db.session.commit()
        return outcome

    assert not camera_scan("c2", "2026-03-29T01:00:10+02:00", "B").late
    assert camera_scan("c1", "2026-03-28T23:00:05Z", "A").late
    assert (third.room.name, third.placed_dt) == (
        "B",
        dt.datetime(2026, 3, 28, 23, 0, 10, tzinfo=dt.UTC),
    )


def test_postgres_pages_render(pg_app):
    from app.services.events import apply_event_data

    apply_event_data(
        parse_event_data(
            {
                "event": {
                    "name": "PG",
                    "slug": "pg",
                    "timezone": "UTC",
                    "base_url": "http://x.org",
                },
                "rooms": [{"name": "A"}],
                "slots": [{"start": "2026-01-01T10:00", "end": "2026-01-01T11:00"}],
            }
        )
    )
    event = db.session.scalar(select(Event))
    (sticky,) = allocate_stickies(
        event=event, count=1, kind=StickyKind.SESSION, template="note-76", paper="a4"
    ).stickies
    claim_sticky(
        sticky=sticky,
        fields=SessionFields(title="On Postgres", host="Ann", tags="sql"),
        key=printed_key(sticky),
    )
    toggle_interest(sticky=sticky, browser_id="c" * 20)
    from app.models import PlacementSource
    from app.services.board import place_sticky

    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.commit()
    client = pg_app.test_client()
    urls = [
        "/board",
        "/people?q=x",
        "/api/board",
        "/rooms/1",
        "/board/grid",
        f"/s/{sticky.code}",
        "/schedule.json",
        "/schedule.xml",
        "/schedule.ics",
        "/rooms/1/schedule.ics",
        "/rooms/1/schedule.pdf",
        f"/s/{sticky.code}/calendar.ics",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "On Postgres" in client.get("/schedule.json").get_data(as_text=True)


# Run under gevent's patches, as `openspaces serve`'s workers are: two requests of one worker,
# the first holding a row lock while it waits for something else, the second writing that row.
_TWO_REQUESTS_OF_ONE_WORKER = """
from gevent import monkey

monkey.patch_all()
import json, sys, time

import gevent
import gevent.event
import psycopg
from psycopg import waiting

from app import db
from app.db import wait_in_place_first

# A second in place, not 3 ms: a busy test machine must not make the quick read look slow.
db.IN_PLACE_SECONDS = float(sys.argv[2])
assert wait_in_place_first() and waiting.wait.in_place_first
url = sys.argv[1]
setup = psycopg.connect(url, autocommit=True)
setup.execute("CREATE TABLE walls (id integer PRIMARY KEY, name text)")
setup.execute("INSERT INTO walls VALUES (1, 'main')")
done = {}
read = read_in_place = None
ticks = 0
running = True
# Each step waits for the other's, not for a time: connecting may take a while on a busy machine.
locked = gevent.event.Event()
read_done = gevent.event.Event()

def ticker():
    # Another request of the worker, always ready to run: it runs only when one waits in gevent's loop.
    global ticks
    while running:
        ticks += 1
        gevent.sleep(0)

def holder():
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE walls SET name = 'renamed' WHERE id = 1")
        locked.set()
        read_done.wait(10)
        gevent.sleep(0.3)  # the request waits for something else, its lock held
        done["holder"] = time.monotonic()

def writer():
    global read, read_in_place
    # Were the worker kept while the write waits, the holder could never commit: fail, not hang.
    with psycopg.connect(url, options="-c lock_timeout=5s") as conn:
        conn.execute("SELECT 1")  # the connection's first answer sets it up
        locked.wait(10)
        before = ticks
        read = conn.execute("SELECT name FROM walls WHERE id = 1").fetchone()[0]
        read_in_place = ticks == before
        done["read"] = time.monotonic()
        read_done.set()
        conn.execute("UPDATE walls SET name = name || '!' WHERE id = 1")
        done["writer"] = time.monotonic()

other = gevent.spawn(ticker)
first = gevent.spawn(holder)
second = gevent.spawn(writer)
gevent.joinall([first, second], timeout=10)
running = False
other.join()
name = setup.execute("SELECT name FROM walls").fetchone()[0]
order = sorted(done, key=done.get)
print(json.dumps({"name": name, "read": read, "in_place": read_in_place, "order": order}))
"""


def test_postgres_waits_in_place_and_lets_a_lock_holder_of_its_worker_go_on(pg_app):
    """Under gevent, an answer is awaited in place, and a statement that waits for a lock that
    another request of the same worker holds lets that request finish (app.db.wait_in_place_first).

    A read never waits for a lock, so it is answered at once even while the row is locked. The
    write waits for the holder, which can commit because the write did not keep the worker.
    """
    import json
    import subprocess
    import sys

    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    run = subprocess.run(
        [sys.executable, "-c", _TWO_REQUESTS_OF_ONE_WORKER, url, "1.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout)
    assert answer["name"] == "renamed!"
    assert answer["read"] == "main"  # the committed name, read past the lock
    assert answer["in_place"] is True  # no other request ran while the read was answered
    assert answer["order"] == ["read", "holder", "writer"]


def test_postgres_outbox_delivers_a_scanned_session_to_a_hook(pg_app):
    from app_helpers import WebhookReceiver

    from app.services.events import apply_event_data
    from app.services.webhooks import DeliverySettings, add_hook, deliver_due

    data = parse_event_data(
        {
            "event": {"name": "PG", "slug": "pg", "timezone": "UTC", "base_url": "http://b"},
            "rooms": [{"name": "A"}],
            "slots": [{"start": "2026-03-29T10:00", "end": "2026-03-29T10:45"}],
        }
    )
    event = apply_event_data(data).event
    (sticky,) = allocate_stickies(
        event=event, count=1, kind=StickyKind.SESSION, template="note-76", paper="a4"
    ).stickies
    receiver = WebhookReceiver()
    try:
        hook = add_hook(url=receiver.url)
        body = {
            "scan_id": "1",
            "board_found": True,
            "stickies": [{"code": sticky.code, "room": "A", "slot": "2026-03-29T10:00"}],
        }
        apply_scan(event=event, observations=parse_observations(body), source="pg", remove_after=3)
        db.session.commit()
        settings = DeliverySettings(settle_s=0, backoff_s=1)
        receiver.answers = [500]
        now = dt.datetime.now(dt.UTC)
        assert deliver_due(settings=settings, now=now) == 0
        assert deliver_due(settings=settings, now=now + dt.timedelta(seconds=1)) == 1
        first, second = receiver.messages(hook.secret)
        assert first == second
        assert first["data"]["room"] == "A"
        assert first["data"]["start"] == "2026-03-29T10:00:00+00:00"
    finally:
        receiver.close()
