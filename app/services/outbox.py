"""The outbox of board news: one message per change people care about, written with the change.

Every change of a session sticky's place (app.services.board.set_place) and of the title of a
session on the wall (app.services.stickies) calls ``note_change`` in its own transaction, so a
change and its message commit, or roll back, together; nothing is lost when a process dies, and
app.services.webhooks delivers what the database holds.

Changes settle before they are told: a message is released to the hooks only once its sticky has
not changed for ``OUTBOX_SETTLE_S`` seconds (5), a removal for ``OUTBOX_REMOVAL_SETTLE_S`` (60;
``release_settled``). Until then a newer change of the
same sticky replaces it (``note_change``), so a sticky flickering in and out of view, or a scan that
is undone, does not spam the receivers: they hear of the state that settled, once. A session that
outgrew its room (app.services.capacity) settles the same way, on its own.

What is no change of the wall is told at once: a session about to start (``note_starting``, which
the delivery worker calls on every round) and an organizer's announcement (``note_announcement``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.effects import Effect, after_commit
from app.extensions import db
from app.models import (
    PLACE_TYPES,
    UNSETTLED_TYPES,
    BoardStatus,
    Event,
    MessageType,
    OutboxMessage,
    Slot,
    Sticky,
    StickyKind,
    utcnow,
)
from app.services import ServiceError

# A new session, a move or a title is told once it has held this long; a sticky gone from the
# wall only after a minute, since a sticky flickering out of view and back is the usual spam.
DEFAULT_SETTLE_S = 5.0
DEFAULT_REMOVAL_SETTLE_S = 60.0
# A session's "starting" news goes out this long before its slot.
STARTING_LEAD = dt.timedelta(minutes=5)
ANNOUNCEMENT_MAX = 500


def new_message_id() -> str:
    """Return a fresh message id, the ``webhook-id`` of every delivery of the message."""
    return "msg_" + secrets.token_urlsafe(18)


def sticky_data(sticky: Sticky) -> dict:
    """Return what a message says about a sticky now: its code, title and cell (ids, or None).

    Ids, not names: a scan moves stickies by ids alone, and the names are read when the message
    goes out (app.services.webhooks.payload).
    """
    return {
        "code": sticky.code,
        "title": sticky.title or None,
        "room_id": sticky.room_id,
        "slot_id": sticky.slot_id,
    }


def _merged(
    pending: MessageType, newer: MessageType, *, back_where_it_was: bool
) -> MessageType | None:
    """Return what one message says for two changes in a row, or None when together they say nothing.

    Receivers know the state before ``pending``: a session posted and then moved, titled or removed
    before anyone heard of it was posted where it ended, or never there at all.
    """
    if pending == MessageType.POSTED:
        return None if newer == MessageType.REMOVED else MessageType.POSTED
    if pending == MessageType.REMOVED and newer == MessageType.POSTED:
        return None if back_where_it_was else MessageType.MOVED
    if newer == MessageType.TITLED:
        return pending
    return newer


def note_change(
    *,
    sticky: Sticky,
    type: MessageType,
    data: dict | None = None,
    now: dt.datetime | None = None,
) -> OutboxMessage | None:
    """Write the message of a change of a session sticky, in the change's transaction.

    The one rule of settling: a message of the same sticky that has not been released yet is
    replaced by this one (or both go, when together they say nothing, ``_merged``); its id stays.
    ``data``: what the message says, when not the sticky as it is now (``sticky_data``). Person
    stickies make no news. Return the message written, None when there is none.
    """
    if sticky.kind != StickyKind.SESSION:
        return None
    now = now or utcnow()
    data = data or sticky_data(sticky)
    # Place and title news replace each other; other news of a sticky only its own kind.
    kinds = PLACE_TYPES if type in PLACE_TYPES else (type,)
    pending = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.sticky_id == sticky.id,
            OutboxMessage.released_dt.is_(None),
            OutboxMessage.type.in_(kinds),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).first()
    if pending is not None and type not in PLACE_TYPES:
        pending.data, pending.changed_dt = data, now
        after_commit(Effect.OUTBOX_MESSAGE, pending.message_id)
        return pending
    if pending is not None:
        back = all(pending.data.get(k) == data[k] for k in ("room_id", "slot_id"))
        merged = _merged(MessageType(pending.type), type, back_where_it_was=back)
        if merged is None:
            db.session.delete(pending)
            return None
        pending.type, pending.data, pending.changed_dt = merged, data, now
        after_commit(Effect.OUTBOX_MESSAGE, pending.message_id)
        return pending
    return _write(event_id=sticky.event_id, sticky_id=sticky.id, type=type, data=data, now=now)


def _write(
    *, event_id: int, sticky_id: int | None, type: MessageType, data: dict, now: dt.datetime
) -> OutboxMessage:
    message = OutboxMessage(
        message_id=new_message_id(),
        event_id=event_id,
        sticky_id=sticky_id,
        type=type,
        data=data,
        created_dt=now,
        changed_dt=now,
    )
    db.session.add(message)
    after_commit(Effect.OUTBOX_MESSAGE, message.message_id)
    return message


def note_announcement(*, event: Event, text: str, now: dt.datetime | None = None) -> OutboxMessage:
    """Write an organizer's announcement to everyone: told at once, to every hook that wants it."""
    text = " ".join((text or "").split())
    if not text:
        raise ServiceError("an announcement needs some text")
    if len(text) > ANNOUNCEMENT_MAX:
        raise ServiceError(f"an announcement is at most {ANNOUNCEMENT_MAX} characters")
    return _write(
        event_id=event.id,
        sticky_id=None,
        type=MessageType.ANNOUNCEMENT,
        data={"text": text},
        now=now or utcnow(),
    )


# What the wall screen shows for a minute: announcements, new sessions and moves.
WALL_TYPES = (MessageType.ANNOUNCEMENT, MessageType.POSTED, MessageType.MOVED)
WALL_NEWS_FOR = dt.timedelta(minutes=1)


def wall_news(*, event: Event, now: dt.datetime) -> list[OutboxMessage]:
    """Return the news the wall screen shows now: of the last minute, newest first.

    A move or a new session shows as it happens, before it settles for the hooks; one that is
    undone within the minute goes from the wall screen too (its message goes).
    """
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.event_id == event.id,
                OutboxMessage.type.in_(WALL_TYPES),
                OutboxMessage.changed_dt > now - WALL_NEWS_FOR,
                OutboxMessage.changed_dt <= now,
            )
            .order_by(OutboxMessage.changed_dt.desc(), OutboxMessage.id.desc())
            .limit(5)
        )
    )


def note_starting(*, now: dt.datetime | None = None, lead=STARTING_LEAD) -> list[OutboxMessage]:
    """Write "starting" news of every session on the wall whose slot starts within ``lead``.

    Once per session and slot start: the delivery worker calls this on every round, and a session
    moved to a later slot is told again before that one.
    """
    now = now or utcnow()
    slots = db.session.scalars(
        select(Slot).where(Slot.start_dt > now, Slot.start_dt <= now + lead)
    ).all()
    written = []
    for slot in slots:
        stickies = db.session.scalars(
            select(Sticky).where(
                Sticky.slot_id == slot.id,
                Sticky.board_status == BoardStatus.PLACED,
                Sticky.kind == StickyKind.SESSION,
                Sticky.hidden.is_(False),
            )
        ).all()
        for sticky in stickies:
            message = _note_starting(sticky, slot, now)
            if message is not None:
                written.append(message)
    return written


def _note_starting(sticky: Sticky, slot: Slot, now: dt.datetime) -> OutboxMessage | None:
    """Write a session's "starting" news for this slot start, unless it is written already.

    Its id is made from the session and the start, so that two workers writing it at once make
    one message: the second one's insert fails, in a savepoint of its own, and is let go.
    """
    start = slot.start_dt.isoformat()
    seed = f"{sticky.id}:{start}".encode()
    message_id = "msg_start_" + hashlib.sha256(seed).hexdigest()[:24]
    if db.session.scalar(select(OutboxMessage.id).filter_by(message_id=message_id)) is not None:
        return None
    message = OutboxMessage(
        message_id=message_id,
        event_id=sticky.event_id,
        sticky_id=sticky.id,
        type=MessageType.STARTING,
        data={**sticky_data(sticky), "start_dt": start},
        created_dt=now,
        changed_dt=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        return None
    after_commit(Effect.OUTBOX_MESSAGE, message_id)
    return message


def withdraw(*, sticky: Sticky, type: MessageType) -> int:
    """Take back the news of a sticky of one type not yet told; return how many messages went."""
    pending = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.sticky_id == sticky.id,
            OutboxMessage.released_dt.is_(None),
            OutboxMessage.type == type,
        )
    ).all()
    for message in pending:
        db.session.delete(message)
    return len(pending)


def note_place_change(*, sticky: Sticky, left: BoardStatus, was: dict) -> OutboxMessage | None:
    """Note a sticky's move from a place of status ``left`` to where it is now.

    ``was``: the ``sticky_data`` before the move; a removal tells where the sticky was (and
    the title it has now).
    """
    if sticky.board_status == BoardStatus.NONE:
        data = {**was, "title": sticky.title or None}
        return note_change(sticky=sticky, type=MessageType.REMOVED, data=data)
    if left == BoardStatus.NONE:
        return note_change(sticky=sticky, type=MessageType.POSTED)
    return note_change(sticky=sticky, type=MessageType.MOVED)


def note_title(*, sticky: Sticky) -> OutboxMessage | None:
    """Note a new title of a sticky; only a session on the wall makes news of it."""
    if sticky.board_status == BoardStatus.NONE:
        return None
    return note_change(sticky=sticky, type=MessageType.TITLED)


def _settled(settle_s: float, removal_settle_s: float, now: dt.datetime):
    """The condition of a message that has settled: its sticky has not changed for ``settle_s``
    (``removal_settle_s`` for a removal, at least ``settle_s``)."""
    removal_s = max(settle_s, removal_settle_s)
    return or_(
        (OutboxMessage.type != MessageType.REMOVED)
        & (OutboxMessage.changed_dt <= now - dt.timedelta(seconds=settle_s)),
        (OutboxMessage.type == MessageType.REMOVED)
        & (OutboxMessage.changed_dt <= now - dt.timedelta(seconds=removal_s)),
        OutboxMessage.type.in_(UNSETTLED_TYPES),
    )


def release_settled(
    *,
    settle_s: float,
    removal_settle_s: float = DEFAULT_REMOVAL_SETTLE_S,
    now: dt.datetime | None = None,
) -> list[OutboxMessage]:
    """Return the messages that have settled (``_settled``), marked released now."""
    now = now or utcnow()
    settled = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.released_dt.is_(None),
                _settled(settle_s, removal_settle_s, now),
            )
            .order_by(OutboxMessage.id)
        )
    )
    for message in settled:
        message.released_dt = now
    return settled


def next_settled_dt(
    *, settle_s: float, removal_settle_s: float = DEFAULT_REMOVAL_SETTLE_S
) -> dt.datetime | None:
    """Return when the next unreleased message settles, None when there is none."""
    times = []
    for removal, wait_s in ((False, settle_s), (True, max(settle_s, removal_settle_s))):
        kind = OutboxMessage.type == MessageType.REMOVED
        oldest = db.session.scalar(
            select(OutboxMessage.changed_dt)
            .where(OutboxMessage.released_dt.is_(None), kind if removal else ~kind)
            .order_by(OutboxMessage.changed_dt)
            .limit(1)
        )
        if oldest is not None:
            times.append(oldest + dt.timedelta(seconds=wait_s))
    return min(times, default=None)
