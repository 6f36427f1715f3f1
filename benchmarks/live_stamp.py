"""Time the live stamp with a cold cache: the board's change counter against hashing the board.

`python -m benchmarks.live_stamp [--stickies 200] [--runs 200]` loads an event of 10 rooms and 20
slots into a fresh SQLite database (or ``--database-url``), claims and places ``--stickies``
session stickies with an interest mark on every other one, then times each way of reading the
stamp with nothing kept, a fresh database session per read as the board's watch has:

- ``hash``: the stamp before the counter (the board's JSON, the interest counts, the event's
  settings, rooms and slots, dumped and hashed with SHA-1 on every read), kept here to compare;
- ``counter``: ``app.live.stamp.board_version``, which reads ``Event.board_version``.

It prints the median and 95th percentile of each, in milliseconds, and the statements each ran;
the counter is timed twice, with the board unchanged between reads (the slots and the wall's news
kept with the count) and with a change committed before each read (they are read again).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.live import stamp
from app.models import Event, Interest, PlacementSource, Sticky
from app.services.board import place_sticky
from app.services.events import load_event_file
from app.services.outbox import WALL_NEWS_FOR, wall_news
from app.services.published import board_json
from app.services.stickies import SessionFields, allocate_stickies, claim_sticky
from benchmarks.demo_wall import event_toml

ROOMS, SLOTS = 10, 20


def hashed_stamp(event: Event, now) -> str:
    """Return the stamp as it was made before the counter: the stored state dumped and hashed."""
    interests = db.session.execute(
        select(Interest.sticky_id, func.count(Interest.id))
        .join(Sticky)
        .where(Sticky.event_id == event.id)
        .group_by(Interest.sticky_id)
        .order_by(Interest.sticky_id)
    ).all()
    slots = tuple((s.id, s.start_dt, s.end_dt) for s in event.slots)
    rooms = [(r.id, r.name, r.capacity, r.position) for r in event.rooms]
    settings = [event.name, event.timezone, event.base_url]
    payload = json.dumps(
        [board_json(event), [list(row) for row in interests], settings, rooms, slots],
        sort_keys=True,
        default=str,
    )
    stored = hashlib.sha1(payload.encode()).hexdigest()[:16]
    news = [(m.id, m.changed_dt) for m in wall_news(event=event, now=now)]
    current = next((sid for sid, start, end in slots if start <= now < end), None)
    upcoming = next((sid for sid, start, _ in slots if start > now), None)
    shown = [i for i, changed in news if now - changed < WALL_NEWS_FOR]
    return hashlib.sha1(f"{stored}:{current}:{upcoming}:{shown}".encode()).hexdigest()[:16]


def counted_stamp(event: Event, now) -> str:
    stamp.forget_versions()
    return stamp.board_version(event, now=now)


def load_board(stickies: int) -> int:
    """Load the event and put ``stickies`` claimed sessions on its grid; return its id."""
    path = Path(tempfile.mkdtemp()) / "event.toml"
    starts = [(f"2026-09-26T{8 + i // 2:02d}:{30 * (i % 2):02d}") for i in range(SLOTS)]
    slots = [(start, start[:-2] + ("25" if start.endswith("00") else "55")) for start in starts]
    rooms = [f"Room {i + 1}" for i in range(ROOMS)]
    path.write_text(event_toml(name="Stamp", slug="stamp", rooms=rooms, slots=slots))
    event = load_event_file(path).event
    batch = allocate_stickies(
        event=event, count=stickies, kind="session", template="note-76", paper="a4"
    )
    db.session.flush()
    for i, sticky in enumerate(batch.stickies):
        fields = SessionFields(title=f"Session {i}", host="Host", tags="python")
        claim_sticky(sticky=sticky, fields=fields, by_organizer=True)
        cell = i % (ROOMS * SLOTS)
        place_sticky(
            sticky=sticky,
            room=event.rooms[cell % ROOMS],
            slot=event.slots[cell // ROOMS],
            source=PlacementSource.ORGANIZER,
        )
        if i % 2 == 0:
            db.session.add(Interest(sticky_id=sticky.id, browser_id=f"{i:032d}"))
    db.session.commit()
    return event.id


def bump(event_id: int) -> None:
    """Count a change, as a committed change of the board does."""
    events = Event.__table__
    db.session.execute(
        events.update()
        .where(events.c.id == event_id)
        .values(board_version=events.c.board_version + 1)
    )
    db.session.commit()


def timed(read, event_id: int, now, runs: int, *, changed: bool) -> tuple[list[float], int]:
    """Return each read's milliseconds, and the statements the second read ran; ``changed``:
    the board changed before each read."""
    statements = []

    def count(*_args) -> None:
        statements.append(1)

    times = []
    for run in range(runs):
        if changed:
            bump(event_id)
        db.session.remove()
        event = db.session.get(Event, event_id)
        if run == 1:
            sa_event.listen(db.engine, "before_cursor_execute", count)
        started = time.perf_counter()
        read(event, now)
        times.append((time.perf_counter() - started) * 1000)
        if run == 1:
            sa_event.remove(db.engine, "before_cursor_execute", count)
    return times, len(statements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.live_stamp", description=__doc__)
    parser.add_argument("--stickies", type=int, default=200)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database-url", help="a database to use instead of a fresh SQLite file")
    args = parser.parse_args(argv)
    config = {"INSTANCE_PATH": tempfile.mkdtemp(), "SECRET_KEY": "bench", "OCR_ENGINE": None}
    config["WEBHOOK_DELIVERY"] = False
    if args.database_url:
        config["SQLALCHEMY_DATABASE_URI"] = args.database_url
    app = create_app(config)
    with app.app_context():
        event_id = load_board(args.stickies)
        now = db.session.get(Event, event_id).slots[3].start_dt
        print(f"{args.stickies} stickies on the grid, {args.runs} cold reads each")
        print("| stamp | median ms | p95 ms | statements per read |")
        print("|---|---:|---:|---:|")
        ways = (
            ("hash of the board", hashed_stamp, False),
            ("counter, board unchanged", counted_stamp, False),
            ("counter, board changed before each read", counted_stamp, True),
        )
        for name, read, changed in ways:
            times, statements = timed(read, event_id, now, args.runs, changed=changed)
            p95 = statistics.quantiles(times, n=20)[18]
            print(f"| {name} | {statistics.median(times):.2f} | {p95:.2f} | {statements} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
