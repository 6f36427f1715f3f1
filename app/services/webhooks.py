"""Webhooks: the board news of the outbox (app.services.outbox), posted to every hook that wants it.

Each hook is a URL with a ``whsec_`` secret (Standard Webhooks). Once a message has settled it is
released: one delivery row per hook that wants its type. ``deliver_due`` posts every delivery
whose try is due, signed afresh on each try and with the message's own ``webhook-id`` every
time; a failed try is tried again after a backoff that doubles each time (``WEBHOOK_BACKOFF_S``,
at most ``MAX_BACKOFF_S``), and after ``WEBHOOK_MAX_ATTEMPTS`` tries the delivery is dead. All of
it lives in the database: a process that dies leaves its deliveries due, and the next worker
(any process, after a restart) picks them up.

One worker thread per served app process (``Deliverer``), started by the app's first request
(a command line that writes messages starts none: the server's worker finds them) and woken by
every commit that wrote a message; several processes may run one each: a worker
moves a delivery's next try on before it posts, so no other worker posts it meanwhile.

Settings: the app's ``NewsSettings`` (app.settings): ``WEBHOOK_DELIVERY`` (False: no thread;
tests call ``deliver_due``), ``OUTBOX_SETTLE_S``, ``OUTBOX_REMOVAL_SETTLE_S``,
``WEBHOOK_MAX_ATTEMPTS``, ``WEBHOOK_BACKOFF_S``, ``WEBHOOK_TIMEOUT_S``.
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import functools
import hashlib
import hmac
import html
import json
import logging
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update

from app.extensions import db
from app.models import (
    Delivery,
    Event,
    Hook,
    HookFormat,
    MessageType,
    OutboxMessage,
    Room,
    Slot,
    Sticky,
    utcnow,
)
from app.services import ServiceError, push
from app.services.outbox import (
    DEFAULT_REMOVAL_SETTLE_S,
    DEFAULT_SETTLE_S,
    next_settled_dt,
    note_starting,
    release_settled,
    wall_news,
)
from app.services.published import sticky_url
from app.settings import NewsSettings, app_settings

log = logging.getLogger(__name__)

_EXTENSION = "openspaces.webhooks"
SECRET_PREFIX = "whsec_"
MAX_BACKOFF_S = 60 * 60.0
# A worker looks again this often even when nothing woke it: a command line (`openspaces scan`)
# writes messages in a process of its own, which runs no worker.
LONGEST_SLEEP_S = 10.0
USER_AGENT = "openspaces-webhooks"


@dataclass(frozen=True)
class DeliverySettings:
    """How the outbox is delivered: the app's ``NewsSettings`` (``from_news``), or a test's own."""

    settle_s: float = DEFAULT_SETTLE_S
    removal_settle_s: float = DEFAULT_REMOVAL_SETTLE_S
    max_attempts: int = 12
    backoff_s: float = 5.0
    timeout_s: float = 10.0

    @classmethod
    def from_news(cls, news: NewsSettings) -> DeliverySettings:
        return cls(
            settle_s=news.outbox_settle_s,
            removal_settle_s=news.outbox_removal_settle_s,
            max_attempts=news.webhook_max_attempts,
            backoff_s=news.webhook_backoff_s,
            timeout_s=news.webhook_timeout_s,
        )


# Hooks ---------------------------------------------------------------------------------------


def new_hook_secret() -> str:
    """Return a fresh Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def parse_events(text: str | None) -> list[str]:
    """Return the message types a comma-separated list names; refuse a type there is not."""
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    known = [t.value for t in MessageType]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ServiceError(f"no such event type: {', '.join(unknown)} (known: {', '.join(known)})")
    return list(dict.fromkeys(names))


def add_hook(
    *,
    url: str,
    events: Iterable[str] = (),
    format: HookFormat = HookFormat.STANDARD,
    room: str | None = None,
    token: str | None = None,
) -> Hook:
    """Add a hook for ``url``; it gets the messages released from now on.

    A ``standard`` hook gets a fresh signing secret. A ``matrix`` hook posts to ``room`` (its id,
    ``!...``; the API takes no alias) on the homeserver at ``url``, with the access ``token`` of
    the account that posts; both are refused when missing.
    """
    url = url.strip().rstrip("/") if format == HookFormat.MATRIX else url.strip()
    if not url.startswith(("http://", "https://")):
        raise ServiceError("a hook's URL starts with http:// or https://")
    secret = new_hook_secret() if format == HookFormat.STANDARD else ""
    if format == HookFormat.MATRIX:
        if not room or not room.startswith("!") or len(room) > 255:
            raise ServiceError(
                "a Matrix hook needs the room's id, which starts with ! "
                "(in Element: the room's settings, Advanced)"
            )
        if not token:
            raise ServiceError("a Matrix hook needs the access token of the account that posts")
        if len(token) > 100:
            raise ServiceError("a Matrix access token is at most 100 characters")
        url = f"{url}/_matrix/client/v3/rooms/{urllib.parse.quote(room, safe='')}"
        secret = token
    if len(url) > 500:
        raise ServiceError("a hook's URL is at most 500 characters")
    hook = Hook(url=url, format=format, events=",".join(events), secret=secret)
    db.session.add(hook)
    db.session.flush()
    return hook


def list_hooks() -> list[Hook]:
    return list(db.session.scalars(select(Hook).order_by(Hook.id)))


def remove_hook(*, hook_id: int) -> Hook:
    """Remove a hook and its deliveries, done or not."""
    hook = db.session.get(Hook, hook_id)
    if hook is None:
        raise ServiceError(f"there is no hook {hook_id}")
    db.session.execute(delete(Delivery).where(Delivery.hook_id == hook_id))
    db.session.delete(hook)
    return hook


@dataclass(frozen=True)
class HookState:
    """A hook and how its deliveries went."""

    hook_id: int
    url: str
    format: str
    events: str
    delivered: int
    waiting: int
    dead: int
    last_status: int | None
    last_error: str | None


def hook_states() -> list[HookState]:
    """Return every hook with its deliveries counted, and the last try's answer or error."""
    states = []
    for hook in list_hooks():
        counts = db.session.execute(
            select(
                func.count(Delivery.delivered_dt),
                func.count(Delivery.next_try_dt),
                func.count(Delivery.dead_dt),
            ).where(Delivery.hook_id == hook.id)
        ).one()
        last = db.session.execute(
            select(Delivery.last_status, Delivery.last_error)
            .where(Delivery.hook_id == hook.id, Delivery.attempts > 0)
            .order_by(Delivery.id.desc())
            .limit(1)
        ).first()
        states.append(
            HookState(
                hook.id,
                hook.url,
                hook.format,
                hook.events,
                *counts,
                last_status=last[0] if last else None,
                last_error=last[1] if last else None,
            )
        )
    return states


@dataclass(frozen=True)
class DeadLetter:
    """A message a hook never took: what it was, and the last answer or error."""

    delivery_id: int
    type: str
    code: str | None
    title: str | None
    attempts: int
    last_status: int | None
    last_error: str | None
    dead_dt: dt.datetime


def dead_letters(*, hook_id: int, limit: int = 20) -> list[DeadLetter]:
    """Return the hook's newest dead deliveries, newest first."""
    rows = db.session.execute(
        select(Delivery, OutboxMessage)
        .join(OutboxMessage, OutboxMessage.id == Delivery.message_id)
        .where(Delivery.hook_id == hook_id, Delivery.dead_dt.is_not(None))
        .order_by(Delivery.dead_dt.desc(), Delivery.id.desc())
        .limit(limit)
    ).all()
    return [
        DeadLetter(
            delivery.id,
            message.type,
            message.data.get("code"),
            message.data.get("title") or message.data.get("text"),
            delivery.attempts,
            delivery.last_status,
            delivery.last_error,
            delivery.dead_dt,
        )
        for delivery, message in rows
    ]


def retry_dead(*, hook_id: int, now: dt.datetime | None = None) -> int:
    """Make the hook's dead deliveries due again, with a fresh count of tries; return how many."""
    if db.session.get(Hook, hook_id) is None:
        raise ServiceError(f"there is no hook {hook_id}")
    revived = db.session.execute(
        update(Delivery)
        .where(Delivery.hook_id == hook_id, Delivery.dead_dt.is_not(None))
        .values(dead_dt=None, attempts=0, next_try_dt=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return revived.rowcount


# Signing and the payload ---------------------------------------------------------------------


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` of a body: ``v1,`` and its HMAC-SHA256 in base64.

    The key is the base64-decoded part of the ``whsec_`` secret; the signed content is
    ``{message_id}.{timestamp}.{body}``, as the Standard Webhooks specification says.
    """
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def news_data(message: OutboxMessage) -> dict:
    """Return what a message tells, as the ``data`` of its Standard Webhooks body.

    For a session: its code, title, room name, local start and end (ISO 8601 with the event's
    offset), page URL and picture URL (None without a picture); a removed session names the cell
    it left. A full room adds ``interested``, ``seats`` and ``free_room`` (a larger room free in its
    slot, or None). An announcement: its ``text``.
    """
    if message.type == MessageType.ANNOUNCEMENT:
        return {"text": message.data["text"]}
    event = db.session.get(Event, message.event_id)
    sticky = db.session.get(Sticky, message.sticky_id) if message.sticky_id else None
    room_id, slot_id = message.data.get("room_id"), message.data.get("slot_id")
    room = db.session.get(Room, room_id) if room_id else None
    slot = db.session.get(Slot, slot_id) if slot_id else None
    code = message.data["code"]
    page = sticky_url(event, code)
    data = {
        "code": code,
        "title": message.data.get("title"),
        "room": room.name if room else None,
        "start": slot.local_start.isoformat() if slot else None,
        "end": slot.local_end.isoformat() if slot else None,
        "url": page,
        # The picture may come in the scan's transaction after the move: ask for it now.
        "picture_url": f"{page}/picture.jpg"
        if sticky is not None and sticky.picture_file
        else None,
    }
    if message.type == MessageType.OVER_CAPACITY:
        data |= {k: message.data.get(k) for k in ("interested", "seats", "free_room")}
    return data


def payload(message: OutboxMessage) -> bytes:
    """Return the Standard Webhooks body of a message: its type, when it was written, its data."""
    stamp = message.created_dt.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    body = {"type": message.type, "timestamp": stamp, "data": news_data(message)}
    return json.dumps(body).encode()


@dataclass(frozen=True)
class Line:
    """A message as one short line for people: its words and the session page it links to."""

    text: str
    title: str | None = None
    url: str | None = None

    def plain(self) -> str:
        """Return the words with the title in quotes, where ``{}`` stands for it."""
        return self.text if self.title is None else self.text.replace("{}", f"“{self.title}”", 1)


def _when(data: dict) -> str:
    if not data.get("start"):
        return ""
    start, end = dt.datetime.fromisoformat(data["start"]), dt.datetime.fromisoformat(data["end"])
    return f"{start:%a %H:%M}–{end:%H:%M}"


def _where(data: dict) -> str:
    return ", ".join(part for part in (data.get("room"), _when(data)) if part)


def human_line(type: str, data: dict) -> Line:
    """Return a message as people read it in a chat: what happened, to which session, where and when."""
    if type == MessageType.ANNOUNCEMENT:
        return Line(f"📣 {data['text']}")
    title = data.get("title") or f"Session {data['code']}"
    where = _where(data)
    words = {
        MessageType.POSTED: ("New session: {}", f" — {where}"),
        MessageType.TITLED: ("Session titled: {}", f" — {where}"),
        MessageType.MOVED: ("Session moved: {}", f" is now in {where}"),
        MessageType.REMOVED: ("Session taken off the wall: {}", f" (was {where})"),
        MessageType.STARTING: ("Starting in 5 minutes: {}", f" — {where}"),
    }
    if type == MessageType.OVER_CAPACITY:
        free = f"; {data['free_room']} is free" if data.get("free_room") else ""
        lead = f" — {data.get('interested')} interested, {data.get('seats')} seats{free}"
        return Line("Full room: {}" + lead, title, data["url"])
    head, tail = words[MessageType(type)]
    return Line(head + (tail if where else ""), title, data["url"])


def _defused(text: str) -> str:
    """Return user text that pings nobody: a zero-width space after every @ (Mattermost's @channel)."""
    return text.replace("@", "@\u200b")


def _slack_text(line: Line) -> str:
    def escape(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    if line.title is None:
        return escape(_defused(line.text))
    link = f"<{line.url}|{escape(_defused(line.title)).replace('|', '¦')}>"
    return escape(_defused(line.text)).replace("{}", link, 1)


def _plain_text(line: Line) -> str:
    if line.title is None:
        return line.text
    return line.plain() + f" {line.url}"


def notice_for(message: OutboxMessage) -> push.Notice:
    """Return a message as a phone's notification: what happened as its heading, then the line."""
    data = news_data(message)
    line = human_line(message.type, data)
    if line.title is None:
        return push.Notice(
            "Announcement", data["text"], None, message.message_id, message.message_id
        )
    heading, _, body = line.plain().partition(": ")
    return push.Notice(heading, body, line.url, data["code"], message.message_id)


@dataclass(frozen=True)
class WallLine:
    """One piece of news as the wall screen shows it."""

    type: str
    text: str


def wall_lines(*, event: Event, now: dt.datetime) -> list[WallLine]:
    """Return the wall screen's news of the last minute (outbox.wall_news) as lines, newest first."""
    lines = []
    for message in wall_news(event=event, now=now):
        if message.type == MessageType.ANNOUNCEMENT:
            lines.append(WallLine(message.type, message.data["text"]))
            continue
        line = human_line(message.type, news_data(message))
        lines.append(WallLine(message.type, line.plain()))
    return lines


@dataclass(frozen=True)
class Request:
    """One delivery try as it goes on the wire."""

    method: str
    url: str
    body: bytes
    headers: dict[str, str]


def request_for(hook: Hook, message: OutboxMessage, *, timestamp: int) -> Request:
    """Return the request that delivers a message to a hook in the hook's format.

    ``standard`` is signed; ``slack`` and ``discord`` post a short line to the hook's URL (which
    is their secret); ``matrix`` sends an ``m.notice`` to the room with the hook's access token,
    under the message id as its transaction id, so that a retry posts nothing twice.
    """
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    message_id = message.message_id
    if hook.format == HookFormat.STANDARD:
        body = payload(message)
        headers |= {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                secret=hook.secret, message_id=message_id, timestamp=timestamp, body=body
            ),
        }
        return Request("POST", hook.url, body, headers)
    line = human_line(message.type, news_data(message))
    if hook.format == HookFormat.SLACK:
        body = {"text": _slack_text(line)}
        return Request("POST", hook.url, json.dumps(body).encode(), headers)
    if hook.format == HookFormat.DISCORD:
        body = {"content": _plain_text(line), "allowed_mentions": {"parse": []}}
        return Request("POST", hook.url, json.dumps(body).encode(), headers)
    body = {"msgtype": "m.notice", "body": _plain_text(line), "m.mentions": {}}
    if line.title is not None:
        link = f'<a href="{html.escape(line.url)}">{html.escape(line.title)}</a>'
        body |= {
            "format": "org.matrix.custom.html",
            "formatted_body": html.escape(line.text).replace("{}", link, 1),
        }
    headers["Authorization"] = f"Bearer {hook.secret}"
    url = f"{hook.url}/send/m.room.message/{urllib.parse.quote(message_id)}"
    return Request("PUT", url, json.dumps(body).encode(), headers)


def _post(request: Request, timeout_s: float) -> int:
    """Send the request; return the answer's status, or raise OSError when none came."""
    sent = urllib.request.Request(
        request.url, data=request.body, headers=request.headers, method=request.method
    )
    try:
        with urllib.request.urlopen(sent, timeout=timeout_s) as response:  # noqa: S310 - http(s) only
            return response.status
    except urllib.error.HTTPError as answer:
        answer.close()
        return answer.code


# Delivery ------------------------------------------------------------------------------------


def release(*, settings: DeliverySettings, now: dt.datetime) -> int:
    """Make the deliveries of the messages that settled: one per hook that wants each, and one
    per push subscription it is for (app.services.push.audience).

    A sticky an organizer hid when its message settled is news to nobody: it is not told.
    """
    released = release_settled(
        settle_s=settings.settle_s, removal_settle_s=settings.removal_settle_s, now=now
    )
    if not released:
        return 0
    hooks = list_hooks()
    made = 0
    for message in released:
        sticky = db.session.get(Sticky, message.sticky_id) if message.sticky_id else None
        if message.sticky_id and (sticky is None or sticky.hidden):
            continue
        for hook in hooks:
            if hook.wants(message.type):
                db.session.add(Delivery(message_id=message.id, hook_id=hook.id, next_try_dt=now))
                made += 1
        subscribers = push.audience(message)
        if subscribers:
            rows = [
                {"message_id": message.id, "subscription_id": i, "next_try_dt": now, "attempts": 0}
                for i in subscribers
            ]
            db.session.execute(insert(Delivery), rows)
            made += len(rows)
    return made


def deliver_due(*, settings: DeliverySettings, now: dt.datetime | None = None) -> int:
    """Release settled messages, then try every delivery that is due; return how many got through.

    Deliveries go in batches: each batch is leased in one statement, sent by up to ``SENDERS``
    threads at once (a slow receiver holds up only its own send), and its answers recorded in one
    commit.
    """
    now = now or utcnow()
    note_starting(now=now)
    release(settings=settings, now=now)
    db.session.commit()
    due = db.session.scalars(
        select(Delivery.id)
        .where(Delivery.next_try_dt <= now)
        .order_by(Delivery.next_try_dt, Delivery.id)
    ).all()
    delivered = 0
    for start in range(0, len(due), BATCH):
        delivered += _try_batch(due[start : start + BATCH], settings=settings, now=now)
    return delivered


BATCH = 64
SENDERS = 16
Send = Callable[[], int]


def _try_batch(ids: list[int], *, settings: DeliverySettings, now: dt.datetime) -> int:
    sends = _lease(ids, settings=settings, now=now)
    if not sends:
        return 0
    answers = _send_all(sends)
    delivered = sum(_record(i, *answers[i], settings=settings, now=now) for i in sends)
    db.session.commit()
    return delivered


def _lease(ids: list[int], *, settings: DeliverySettings, now: dt.datetime) -> dict[int, Send]:
    """Take the deliveries still due and make each one's send; a worker elsewhere leaves them."""
    lease = now + dt.timedelta(seconds=settings.timeout_s + 30)
    taken = db.session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.next_try_dt <= now)
        .values(next_try_dt=lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    sends: dict[int, Send] = {}
    notices: dict[int, push.Notice] = {}
    timestamp = int(utcnow().timestamp())
    for delivery in db.session.scalars(select(Delivery).where(Delivery.id.in_(taken))):
        message = delivery.message
        if delivery.hook is not None:
            request = request_for(delivery.hook, message, timestamp=timestamp)
            sends[delivery.id] = functools.partial(_post, request, settings.timeout_s)
        elif delivery.subscription is not None:
            if message.id not in notices:
                notices[message.id] = notice_for(message)
            sends[delivery.id] = push.send_for(
                delivery.subscription, message, notices[message.id], timeout_s=settings.timeout_s
            )
    db.session.commit()
    return sends


def _answer(send: Send) -> tuple[int | None, str | None]:
    try:
        return send(), None
    except (OSError, ValueError) as exc:
        return None, str(exc) or type(exc).__name__


def _send_all(sends: dict[int, Send]) -> dict[int, tuple[int | None, str | None]]:
    """Send each, at most ``SENDERS`` at once; return each one's status or error."""
    if len(sends) == 1:
        ((delivery_id, send),) = sends.items()
        return {delivery_id: _answer(send)}
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(sends))) as pool:
        answers = pool.map(_answer, sends.values())
        return dict(zip(sends, answers, strict=True))


def _record(
    delivery_id: int,
    status: int | None,
    error: str | None,
    *,
    settings: DeliverySettings,
    now: dt.datetime,
) -> bool:
    """Write down one try's answer: delivered, due again after a backoff, or dead."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:  # its hook or subscription was removed meanwhile
        return False
    if delivery.subscription_id is not None and status in push.GONE:
        # The push service forgot the subscription (the browser left): so does the board.
        db.session.execute(
            delete(Delivery).where(Delivery.subscription_id == delivery.subscription_id)
        )
        push.drop(delivery.subscription_id)
        return False
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = error[:300] if error else None
    ok = status is not None and 200 <= status < 300
    if ok:
        delivery.delivered_dt, delivery.next_try_dt = utcnow(), None
    elif delivery.attempts >= settings.max_attempts:
        delivery.dead_dt, delivery.next_try_dt = utcnow(), None
        log.warning("delivery %d is dead after %d tries", delivery_id, delivery.attempts)
    else:
        wait = min(settings.backoff_s * 2 ** (delivery.attempts - 1), MAX_BACKOFF_S)
        delivery.next_try_dt = now + dt.timedelta(seconds=wait)
    return ok


def next_due_dt(*, settings: DeliverySettings) -> dt.datetime | None:
    """Return when the next delivery is due or the next message settles, None when nothing waits."""
    tries = db.session.scalar(
        select(Delivery.next_try_dt)
        .where(Delivery.next_try_dt.is_not(None))
        .order_by(Delivery.next_try_dt)
        .limit(1)
    )
    settles = next_settled_dt(
        settle_s=settings.settle_s, removal_settle_s=settings.removal_settle_s
    )
    times = [t for t in (tries, settles) if t is not None]
    return min(times) if times else None


# The worker ----------------------------------------------------------------------------------


def note_request(app) -> None:
    """Start the app's delivery worker with its first request: it picks up what a stopped one left."""
    worker = deliverer(app)
    if worker is not None:
        worker.start()


def wake(app, message_ids: Iterable[str]) -> None:
    """Wake the app's delivery worker: a commit wrote messages (subscribed in create_app)."""
    worker = deliverer(app)
    if worker is not None:
        worker.wake()


def deliverer(app) -> Deliverer | None:
    """Return the app's delivery worker, made on first use; None when ``WEBHOOK_DELIVERY`` is off."""
    if not app_settings(app).news.webhook_delivery:
        return None
    worker = app.extensions.get(_EXTENSION)
    if worker is None:
        worker = app.extensions.setdefault(_EXTENSION, Deliverer(app))
    return worker


class Deliverer:
    """Deliver the outbox in one daemon thread: whenever woken, and when the next try is due."""

    def __init__(self, app):
        self.app = app
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        atexit.register(self.stop, timeout=5.0)

    def start(self) -> None:
        """Start the thread unless it runs."""
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(
                target=self._run, name="openspaces-webhooks", daemon=True
            )
            self._thread.start()

    def wake(self) -> None:
        """Have the thread, if it runs, look at the outbox now (only a request starts it)."""
        self._wake.set()

    def stop(self, timeout: float) -> None:
        """End the thread after the try it is in (at most ``timeout`` seconds)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            wait = LONGEST_SLEEP_S
            with self.app.app_context():
                try:
                    # Read at each wake: a setting changed meanwhile (app.settings.configure)
                    # holds from this round on.
                    settings = DeliverySettings.from_news(app_settings(self.app).news)
                    deliver_due(settings=settings)
                    upcoming = next_due_dt(settings=settings)
                    if upcoming is not None:
                        left = (upcoming - utcnow()).total_seconds()
                        wait = min(max(left, 0.05), LONGEST_SLEEP_S)
                except Exception:  # noqa: BLE001 - the worker outlives any one failure
                    log.exception("delivering webhooks failed")
                    wait = 5.0
                finally:
                    db.session.remove()
            self._wake.wait(wait)
