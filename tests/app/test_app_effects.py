"""After-commit effects: one module listens to the session, and each effect follows its transaction."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app import effects
from app.effects import Effect, Ending
from app.extensions import db
from app.live import stamp
from app.models import PlacementSource, Sticky
from app.services.board import place_sticky
from app.services.recognition import recogniser
from app.settings import configure

APP = Path(__file__).resolve().parents[2] / "app"
NOW = dt.datetime(2026, 9, 26, 4, 40, tzinfo=dt.UTC)


def event_listeners(path: Path) -> list[str]:
    """Return the SQLAlchemy event registrations in ``path``, as ``target event``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and len(node.args) >= 2):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in ("listen", "listens_for"):
            event = node.args[1]
            named = event.value if isinstance(event, ast.Constant) else ast.unparse(event)
            found.append(f"{ast.unparse(node.args[0])} {named}")
    return found


def test_effects_no_module_but_app_effects_listens_to_the_session():
    """After-commit effects have one place: a Session listener anywhere else fails here.

    app.db keeps its Engine listeners, the database's plumbing (SQLite's writer queue, pragmas).
    """
    elsewhere = {
        str(path.relative_to(APP)): event_listeners(path)
        for path in sorted(APP.rglob("*.py"))
        if path.name != "effects.py" or path.parent != APP
    }
    assert {name: found for name, found in elsewhere.items() if found} == {
        "db.py": [
            "Engine before_cursor_execute",
            "Engine commit",
            "Engine rollback",
            "Engine connect",
        ]
    }


def test_effects_every_kind_has_a_subscriber(app):
    subscribed = {(s.ending, s.kind) for s in effects.subscribers(app)}
    assert subscribed == {
        (Ending.COMMIT, None),
        (Ending.COMMIT, Effect.DELETE_FILE),
        (Ending.ROLLBACK, Effect.DELETE_FILE),
        (Ending.COMMIT, Effect.NEW_PICTURE),
        (Ending.COMMIT, Effect.OUTBOX_MESSAGE),
    }


@pytest.fixture
def files(tmp_path):
    def make(*names):
        paths = [tmp_path / name for name in names]
        for path in paths:
            path.write_bytes(b"jpeg")
        return paths

    return make


def test_effects_commit_deletes_the_files_it_stopped_using_and_keeps_those_it_wrote(app, files):
    unused, written = files("unused.jpg", "written.jpg")
    db.session.execute(select(1))
    effects.after_commit(Effect.DELETE_FILE, unused)
    effects.after_rollback(Effect.DELETE_FILE, written)
    db.session.commit()
    assert (unused.exists(), written.exists()) == (False, True)
    # Nothing is left over for the next transaction to carry out.
    db.session.execute(select(1))
    db.session.rollback()
    assert written.exists()


def test_effects_rollback_deletes_the_files_it_wrote_and_keeps_those_it_stopped_using(app, files):
    unused, written = files("unused.jpg", "written.jpg")
    db.session.execute(select(1))
    effects.after_commit(Effect.DELETE_FILE, unused)
    effects.after_rollback(Effect.DELETE_FILE, written)
    db.session.rollback()
    assert (unused.exists(), written.exists()) == (True, False)
    db.session.execute(select(1))
    db.session.commit()
    assert unused.exists()


def test_effects_commit_makes_live_stamps_due_and_rollback_does_not(
    app, event, create_session, monkeypatch
):
    monkeypatch.setattr(stamp, "CACHE_SECONDS", 3600.0)
    sticky = create_session(title="Before")
    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source=PlacementSource.CAMERA
    )
    db.session.commit()
    stamp.forget_versions()
    before = stamp.board_version(event, now=NOW)
    # Changed behind the session's back: the stamp stays cached, and a rollback leaves it so.
    with db.engine.begin() as connection:
        connection.execute(update(Sticky).where(Sticky.id == sticky.id).values(title="Behind"))
    db.session.execute(select(1))
    db.session.rollback()
    assert stamp.board_version(event, now=NOW) == before
    sticky.title = "Committed"
    db.session.commit()
    assert stamp.board_version(event, now=NOW) != before


def test_effects_new_pictures_are_read_after_commit_once_each_and_not_after_rollback(app):
    configure(app, OCR_ENGINE="engine-not-installed")
    worker = recogniser(app)
    worker.stop(timeout=5)  # nothing reads the queue: what it holds stays there
    db.session.execute(select(1))
    effects.after_commit(Effect.NEW_PICTURE, 5)
    db.session.rollback()
    assert worker.queue.qsize() == 0
    db.session.execute(select(1))
    for sticky_id in (7, 8, 7):
        effects.after_commit(Effect.NEW_PICTURE, sticky_id)
    db.session.commit()
    assert [worker.queue.get_nowait() for _ in range(worker.queue.qsize())] == [7, 8]
