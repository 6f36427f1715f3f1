"""The stamp reader that wakes every open live page of a process."""

import threading
import time

from app import create_app
from app.extensions import db
from app.live.stream import board_watch
from app.models import PlacementSource
from app.services.board import place_sticky


def test_watch_wakes_a_waiting_stream_after_a_change_through_another_app(
    app, event, create_session
):
    sticky = create_session()
    other = create_app({"INSTANCE_PATH": app.instance_path, "SECRET_KEY": "test"})
    watch = board_watch(other, event.id)
    first = watch.wait(None, timeout=5)
    assert first is not None
    woke: list[tuple[str | None, float]] = []
    waiter = threading.Thread(
        target=lambda: woke.append((watch.wait(first, timeout=5), time.monotonic()))
    )
    waiter.start()
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.commit()
    changed = time.monotonic()
    waiter.join()
    ((version, at),) = woke
    assert version not in (None, first)
    assert at - changed < 2.0


def test_watch_answers_the_same_stamp_when_nothing_changed(app, event):
    watch = board_watch(app, event.id)
    first = watch.wait(None, timeout=5)
    started = time.monotonic()
    assert watch.wait(first, timeout=0.5) == first
    assert time.monotonic() - started >= 0.5
    assert board_watch(app, event.id) is watch
