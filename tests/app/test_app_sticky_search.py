"""The organizer's sticky list and dashboard counts, from the stickies service."""

from __future__ import annotations

from app.extensions import db
from app.services.stickies import search_stickies, set_hidden, sticky_counts


def test_sticky_counts_by_kind_and_claimed(event, create_stickies, create_session, create_person):
    create_stickies(3)
    create_session()
    create_person()
    counts = sticky_counts(event)
    assert (counts.by_kind, counts.claimed) == ({"session": 4, "person": 1}, 2)


def test_search_stickies_matches_every_filter_newest_first(
    event, create_stickies, create_session, create_person
):
    (blank,) = create_stickies(1)
    typing = create_session(title="Typing at scale", host="Priya", tags="python")
    rust = create_session(title="Rust for Pythonistas", host="Ana", tags="rust")
    mei = create_person(name="Mei", interests="python, rust")
    set_hidden(sticky=rust, hidden=True)
    db.session.commit()

    def codes(**filters):
        return [s.code for s in search_stickies(event=event, **filters).rows]

    assert codes() == [mei.code, rust.code, typing.code, blank.code]
    assert codes(text="PYTHON") == [mei.code, rust.code, typing.code]
    assert codes(text="python", kind="session") == [rust.code, typing.code]
    assert codes(status="blank") == [blank.code]
    assert codes(status="hidden") == [rust.code]
    assert codes(text=typing.code.lower()) == [typing.code]
    assert codes(kind="robot", status="everything") == codes()
    assert codes(per_page=3) == [mei.code, rust.code, typing.code]
    last = search_stickies(event=event, per_page=3, page=9)
    assert ([s.code for s in last.rows], last.page, last.pages, last.total, last.first) == (
        [blank.code],
        2,
        2,
        4,
        4,
    )
