"""The demo event: rooms, slots, claimed sessions and people, and a filled board."""

from __future__ import annotations

import datetime as dt

from app.extensions import db
from app.models import PlacementSource, StickyKind, utcnow
from app.services import ServiceError
from app.services.board import place_sticky, put_off_grid
from app.services.events import (
    EventData,
    RoomData,
    SlotData,
    apply_event_data,
    get_current_event,
    get_event_by_slug,
    use_event,
)
from app.services.stickies import (
    PersonFields,
    SessionFields,
    allocate_stickies,
    claim_sticky,
    toggle_interest,
)

DEMO_SLUG = "demo"
DEMO_TZ = "Europe/Berlin"

ROOMS = [("Main Hall", 120), ("Garden", 30), ("Library", 20), ("Workshop", 16), ("Café", 12)]

# (title, host, tags, description, room index, slot index)
SESSIONS = [
    (
        "Testing without mocks",
        "Priya",
        "python, testing",
        "Real databases, real browsers, fast suites.",
        0,
        0,
    ),
    ("Open source sustainability", "Jonas", "community, funding", "Who pays, who maintains?", 1, 0),
    ("Rust for Pythonistas", "Mei", "rust, python", "PyO3, maturin and when it is worth it.", 2, 0),
    (
        "Accessible web forms",
        "Sam",
        "accessibility, web",
        "Labels, errors and keyboard flow.",
        0,
        1,
    ),
    ("Home automation show and tell", "Ola", "hardware, iot", "Bring your Raspberry Pi.", 3, 1),
    ("Burnout and boundaries", "Chris", "community, wellbeing", "A peer circle, no slides.", 4, 1),
    ("Type hints in big codebases", "Ana", "python, typing", "Gradual typing that sticks.", 1, 2),
    ("Maps with open data", "Tomás", "gis, open data", "OpenStreetMap and friends.", 2, 2),
    ("Live coding music", "Ines", "music, creative coding", "Sonic Pi jam.", 3, 2),
    ("Hiring juniors well", "Kwame", "community, careers", "Onboarding that works.", 0, 3),
    ("SQLite in production", "Lena", "databases, python", "Yes, really.", 1, 3),
    ("Photography walk", "Yuki", "photography, outdoors", "Meet at the entrance.", 4, 4),
    (
        "Postgres performance clinic",
        "Omar",
        "databases, postgres",
        "Bring your slow queries.",
        0,
        4,
    ),
    ("Teaching kids to code", "Fatima", "education, python", "Scratch to Python.", 2, 5),
]
# Came second to the Main Hall's first slot: shows first come, first served.
CONFLICT = ("Async Python deep dive", "Viktor", "python, async", "Event loops explained.", 0, 0)

# Session index -> interest marks. "Burnout and boundaries" draws more people than the Café seats.
INTEREST = {0: 9, 2: 6, 5: 15, 10: 4}

PEOPLE = [
    ("Priya", "python, testing, climbing", True),
    ("Mei", "rust, python, tea", False),
    ("Sam", "accessibility, web, design", True),
    ("Lena", "databases, sqlite, running", False),
    ("Diego", "python, databases, music", True),
    ("Aiko", "testing, rust, photography", False),
    ("Noor", "community, education", True),
    ("Ben", "gis, open data, cycling", False),
]


def _demo_event_data(*, base_url: str, now: dt.datetime) -> EventData:
    """Build the demo event around ``now``, so that its second slot is running when it is opened."""
    # Hourly slots of 45 minutes; the second starts on the last quarter hour, so it is running now.
    quarter = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    first = quarter - dt.timedelta(hours=1)
    slots = []
    for i in range(6):
        start = first + dt.timedelta(hours=i)
        slots.append(
            SlotData(
                start.astimezone(dt.UTC), (start + dt.timedelta(minutes=45)).astimezone(dt.UTC)
            )
        )
    return EventData(
        name="Open Spaces Demo Camp",
        slug=DEMO_SLUG,
        timezone=DEMO_TZ,
        base_url=base_url.rstrip("/"),
        rooms=tuple(RoomData(name, cap) for name, cap in ROOMS),
        slots=tuple(slots),
    )


def seed_demo(*, base_url: str = "http://localhost:5000", switch: bool = False) -> bool:
    """Create the demo event once and serve it; return False when it exists already.

    Nothing is duplicated. An instance that serves another event keeps serving it: the demo is
    refused there unless ``switch`` asks to serve the demo instead.
    """
    served = get_current_event()
    if served is not None and served.slug != DEMO_SLUG and not switch:
        raise ServiceError(
            f"this instance serves the event {served.slug!r}; the demo would take its place. "
            "Run the demo in an instance folder of its own "
            "(`openspaces --instance demo-instance demo`), or serve it here with "
            f"`openspaces demo --switch` (`openspaces event use {served.slug}` switches back)"
        )
    if get_event_by_slug(DEMO_SLUG) is not None:
        use_event(slug=DEMO_SLUG)
        return False
    data = _demo_event_data(base_url=base_url, now=utcnow())
    event = apply_event_data(data, new_event=True, where="the demo").event
    event.base_url_auto = True
    rooms, slots = event.rooms, event.slots
    sessions = allocate_stickies(
        event=event,
        count=len(SESSIONS) + 1 + 6,
        kind=StickyKind.SESSION,
        template="note-76",
        paper="a4",
    ).stickies
    people = allocate_stickies(
        event=event, count=len(PEOPLE) + 4, kind=StickyKind.PERSON, template="note-76", paper="a4"
    ).stickies
    start = utcnow() - dt.timedelta(hours=2)
    for i, (title, host, tags, description, room, slot) in enumerate([*SESSIONS, CONFLICT]):
        sticky = sessions[i]
        claim_sticky(
            sticky=sticky,
            fields=SessionFields(title=title, host=host, description=description, tags=tags),
            by_organizer=True,
        )
        place_sticky(
            sticky=sticky,
            room=rooms[room],
            slot=slots[slot],
            source=PlacementSource.DEMO,
            now=start + dt.timedelta(minutes=i),
        )
    for i, (name, interests, public) in enumerate(PEOPLE):
        person = people[i]
        claim_sticky(
            sticky=person,
            fields=PersonFields(
                name=name,
                interests=interests,
                contact=f"{name.lower()}@example.org",
                contact_public=public,
            ),
            by_organizer=True,
        )
        if i < 4:
            put_off_grid(sticky=person, source=PlacementSource.DEMO, now=start)
    # Interest marks, so the board shows a session that has outgrown its room.
    for index, count in INTEREST.items():
        for n in range(count):
            toggle_interest(sticky=sessions[index], browser_id=f"demo-visitor-{n:04d}")
    db.session.flush()
    return True


def follow_served_address(*, url: str) -> str | None:
    """Point the served event's links at ``url`` when its base URL is automatic; return the URL.

    The demo's QR codes, pairing code and picture links then lead to where the board is served
    now. An event whose base URL an organizer set keeps it: None when there is no event, else the
    event's base URL as it is now.
    """
    event = get_current_event()
    if event is None:
        return None
    if event.base_url_auto and event.base_url != url.rstrip("/"):
        event.base_url = url.rstrip("/")
        db.session.flush()
    return event.base_url
