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

Settings: ``WEBHOOK_DELIVERY`` (False: no thread; tests call ``deliver_due``), ``OUTBOX_SETTLE_S``,
``WEBHOOK_MAX_ATTEMPTS``, ``WEBHOOK_BACKOFF_S``, ``WEBHOOK_TIMEOUT_S``.
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

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
from app.services import ServiceError
from app.services.board import sticky_url
from app.services.outbox import DEFAULT_SETTLE_S, next_settled_dt, release_settled

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
    """How the outbox is delivered: from the app's config."""

    settle_s: float = DEFAULT_SETTLE_S
    max_attempts: int = 12
    backoff_s: float = 5.0
    timeout_s: float = 10.0

    @classmethod
    def from_config(cls, config) -> DeliverySettings:
        return cls(
            settle_s=float(config.get("OUTBOX_SETTLE_S", DEFAULT_SETTLE_S)),
            max_attempts=int(config.get("WEBHOOK_MAX_ATTEMPTS", 12)),
            backoff_s=float(config.get("WEBHOOK_BACKOFF_S", 5.0)),
            timeout_s=float(config.get("WEBHOOK_TIMEOUT_S", 10.0)),
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
    *, url: str, events: Iterable[str] = (), format: HookFormat = HookFormat.STANDARD
) -> Hook:
    """Add a hook for ``url`` with a fresh secret; it gets the messages released from now on."""
    if not url.startswith(("http://", "https://")):
        raise ServiceError("a hook's URL starts with http:// or https://")
    if len(url) > 500:
        raise ServiceError("a hook's URL is at most 500 characters")
    hook = Hook(url=url, format=format, events=",".join(events), secret=new_hook_secret())
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
                hook.events,
                *counts,
                last_status=last[0] if last else None,
                last_error=last[1] if last else None,
            )
        )
    return states


# Signing and the payload ---------------------------------------------------------------------


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` of a body: ``v1,`` and its HMAC-SHA256 in base64.

    The key is the base64-decoded part of the ``whsec_`` secret; the signed content is
    ``{message_id}.{timestamp}.{body}``, as the Standard Webhooks specification says.
    """
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def payload(message: OutboxMessage) -> bytes:
    """Return the JSON body of a message: its type, when it was written, and the session's data.

    The data: the session's code, title, room name, local start and end (ISO 8601 with the
    event's offset), page URL and picture URL (None without a picture). A removed session names
    the cell it left.
    """
    event = db.session.get(Event, message.event_id)
    sticky = db.session.get(Sticky, message.sticky_id)
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
    stamp = message.created_dt.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": message.type, "timestamp": stamp, "data": data}).encode()


def _post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    """POST the body; return the answer's status, or raise OSError when none came."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - http(s) only
            return response.status
    except urllib.error.HTTPError as answer:
        answer.close()
        return answer.code


# Delivery ------------------------------------------------------------------------------------


def release(*, settings: DeliverySettings, now: dt.datetime) -> int:
    """Make the deliveries of the messages that settled, one per hook that wants each.

    A sticky an organizer hid when its message settled is news to nobody: it is not told.
    """
    released = release_settled(settle_s=settings.settle_s, now=now)
    if not released:
        return 0
    hooks = list_hooks()
    made = 0
    for message in released:
        sticky = db.session.get(Sticky, message.sticky_id)
        if sticky is None or sticky.hidden:
            continue
        for hook in hooks:
            if hook.wants(message.type):
                db.session.add(Delivery(message_id=message.id, hook_id=hook.id, next_try_dt=now))
                made += 1
    return made


def deliver_due(*, settings: DeliverySettings, now: dt.datetime | None = None) -> int:
    """Release settled messages, then try every delivery that is due; return how many got through."""
    now = now or utcnow()
    release(settings=settings, now=now)
    db.session.commit()
    due = db.session.scalars(
        select(Delivery.id)
        .where(Delivery.next_try_dt <= now)
        .order_by(Delivery.next_try_dt, Delivery.id)
    ).all()
    delivered = 0
    for delivery_id in due:
        delivered += _try(delivery_id, settings=settings, now=now)
    return delivered


def _try(delivery_id: int, *, settings: DeliverySettings, now: dt.datetime) -> bool:
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.next_try_dt is None or delivery.next_try_dt > now:
        return False
    # Take the delivery: a worker elsewhere that read it as due finds it moved on and leaves it.
    lease = now + dt.timedelta(seconds=settings.timeout_s + 30)
    taken = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.next_try_dt == delivery.next_try_dt)
        .values(next_try_dt=lease)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        db.session.rollback()
        return False
    message, hook = delivery.message, delivery.hook
    body = payload(message)
    secret, url, message_id = hook.secret, hook.url, message.message_id
    db.session.commit()

    timestamp = int(utcnow().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            secret=secret, message_id=message_id, timestamp=timestamp, body=body
        ),
    }
    status, error = None, None
    try:
        status = _post(url, body, headers, settings.timeout_s)
    except (OSError, ValueError) as exc:
        error = str(exc) or type(exc).__name__
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:  # the hook was removed meanwhile
        return False
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = error[:300] if error else None
    ok = status is not None and 200 <= status < 300
    if ok:
        delivery.delivered_dt, delivery.next_try_dt = utcnow(), None
    elif delivery.attempts >= settings.max_attempts:
        delivery.dead_dt, delivery.next_try_dt = utcnow(), None
        log.warning("webhook %s to %s is dead after %d tries", message_id, url, delivery.attempts)
    else:
        wait = min(settings.backoff_s * 2 ** (delivery.attempts - 1), MAX_BACKOFF_S)
        delivery.next_try_dt = now + dt.timedelta(seconds=wait)
    db.session.commit()
    return ok


def next_due_dt(*, settings: DeliverySettings) -> dt.datetime | None:
    """Return when the next delivery is due or the next message settles, None when nothing waits."""
    tries = db.session.scalar(
        select(Delivery.next_try_dt)
        .where(Delivery.next_try_dt.is_not(None))
        .order_by(Delivery.next_try_dt)
        .limit(1)
    )
    times = [t for t in (tries, next_settled_dt(settle_s=settings.settle_s)) if t is not None]
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
    if not app.config.get("WEBHOOK_DELIVERY", True):
        return None
    worker = app.extensions.get(_EXTENSION)
    if worker is None:
        worker = app.extensions.setdefault(
            _EXTENSION, Deliverer(app, settings=DeliverySettings.from_config(app.config))
        )
    return worker


class Deliverer:
    """Deliver the outbox in one daemon thread: whenever woken, and when the next try is due."""

    def __init__(self, app, *, settings: DeliverySettings):
        self.app = app
        self.settings = settings
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
                    deliver_due(settings=self.settings)
                    upcoming = next_due_dt(settings=self.settings)
                    if upcoming is not None:
                        left = (upcoming - utcnow()).total_seconds()
                        wait = min(max(left, 0.05), LONGEST_SLEEP_S)
                except Exception:  # noqa: BLE001 - the worker outlives any one failure
                    log.exception("delivering webhooks failed")
                    wait = 5.0
                finally:
                    db.session.remove()
            self._wake.wait(wait)
