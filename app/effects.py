"""What a transaction leaves to do once it has ended: every after-commit and after-rollback effect.

A service queues an effect on the current transaction, ``after_commit(Effect.DELETE_FILE, path)``
or ``after_rollback(Effect.DELETE_FILE, path)``, and ``create_app`` lists in one place who carries
out each kind (``init_app``). Once the transaction commits, the subscribers of the app whose
transaction it was run, in the order listed, each with the items queued for its kind (a kind
nothing was queued for is skipped), and what was queued for a rollback is dropped; a rollback does
the same the other way round. Subscribers to every commit (``on_every_commit``) run after each
commit, whether anything was queued or not.

The app is Flask's current one: Flask-SQLAlchemy keeps one session per app context, so the app
whose transaction ends is the current app. A session that ends outside any app context (none of
this app's do) runs nothing.

Every listener on SQLAlchemy's ``Session`` is registered here, the rules that count changes too
(``app.models.count_layout_changes``, ``count_board_changes`` and ``count_bulk_board_changes``,
before each flush and around each bulk statement). The ``Engine`` listeners of ``app.db`` stay
there: they are the database's plumbing (SQLite's writer queue and its settings), not effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import count_board_changes, count_bulk_board_changes, count_layout_changes


class Effect(StrEnum):
    """A kind of effect a service queues on its transaction, named by what its item is."""

    # Item: the pathlib.Path of a file to delete.
    DELETE_FILE = "delete-file"
    # Item: the id of a sticky whose new best picture the transaction stored.
    NEW_PICTURE = "new-picture"
    # Item: the message_id of an outbox message the transaction wrote or replaced.
    OUTBOX_MESSAGE = "outbox-message"


class Ending(StrEnum):
    """How a transaction ended."""

    COMMIT = "commit"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Subscriber:
    """``run(items)`` once a transaction ends in ``ending``, with the items queued for ``kind``.

    ``kind`` None: ``run()`` after every such ending, with no items.
    """

    ending: Ending
    kind: Effect | None
    run: Callable[..., None]


def on_commit(kind: Effect, run: Callable[[list[Any]], None]) -> Subscriber:
    """Return a subscriber that does ``run(items)`` once a transaction that queued ``kind`` commits."""
    return Subscriber(Ending.COMMIT, kind, run)


def on_rollback(kind: Effect, run: Callable[[list[Any]], None]) -> Subscriber:
    """Return a subscriber that does ``run(items)`` once a transaction that queued ``kind`` rolls back."""
    return Subscriber(Ending.ROLLBACK, kind, run)


def on_every_commit(run: Callable[[], None]) -> Subscriber:
    """Return a subscriber that does ``run()`` after every commit."""
    return Subscriber(Ending.COMMIT, None, run)


_EXTENSION = "openspaces.effects"
_QUEUED = {
    Ending.COMMIT: "openspaces.effects.after_commit",
    Ending.ROLLBACK: "openspaces.effects.after_rollback",
}


def init_app(app: Flask, *subscribers: Subscriber) -> None:
    """Make ``subscribers`` carry out the effects of the app's transactions, in this order."""
    app.extensions[_EXTENSION] = subscribers
    for name, listener in _SESSION_LISTENERS:
        # One listener per process, however many apps it creates (the tests make one per test).
        if not sa_event.contains(Session, name, listener):
            sa_event.listen(Session, name, listener)


def subscribers(app: Flask) -> tuple[Subscriber, ...]:
    """Return the app's subscribers, in the order they run."""
    return app.extensions.get(_EXTENSION, ())


def after_commit(kind: Effect, item: Any) -> None:
    """Queue ``item`` for the subscribers of ``kind``, to run once the current transaction commits."""
    _queue(Ending.COMMIT, kind, item)


def after_rollback(kind: Effect, item: Any) -> None:
    """Queue ``item`` for the subscribers of ``kind``, to run if the current transaction rolls back."""
    _queue(Ending.ROLLBACK, kind, item)


def _queue(ending: Ending, kind: Effect, item: Any) -> None:
    db.session().info.setdefault(_QUEUED[ending], {}).setdefault(kind, []).append(item)


def _ended(session: Session, ending: Ending) -> None:
    queued = session.info.pop(_QUEUED[ending], {})
    for other in _QUEUED.values():
        session.info.pop(other, None)
    if not has_app_context():
        return
    for subscriber in subscribers(current_app):
        if subscriber.ending != ending:
            continue
        if subscriber.kind is None:
            subscriber.run()
        elif queued.get(subscriber.kind):
            subscriber.run(queued[subscriber.kind])


def _committed(session: Session) -> None:
    _ended(session, Ending.COMMIT)


def _rolled_back(session: Session) -> None:
    _ended(session, Ending.ROLLBACK)


_SESSION_LISTENERS = (
    ("before_flush", count_layout_changes),
    ("before_flush", count_board_changes),
    ("do_orm_execute", count_bulk_board_changes),
    ("after_commit", _committed),
    ("after_rollback", _rolled_back),
)
