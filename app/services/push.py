"""Web Push: board news on the lock screen of the phones that asked for it.

A browser subscribes (the Push API in the page, ``/push/subscriptions``) to hear of the sessions it
follows, which it marked "I'm interested": moved, taken off the wall, starting in five minutes. On a
person sticky's page it may subscribe to new sessions on that person's interests, matched as the
people page matches people (``people_matching``). Announcements reach every subscription.

Messages are encrypted for the browser (RFC 8291, aes128gcm) and signed with the instance's VAPID
key (RFC 8292), made once and kept in the database so that every process of the instance signs
with it. app.services.webhooks delivers them beside the hooks, with the same retries; a push
service that answers 404 or 410 has dropped the subscription, and so does the board.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    Event,
    InstanceKey,
    Interest,
    MessageType,
    OutboxMessage,
    PushSubscription,
    Sticky,
    StickyKind,
)
from app.services import ServiceError
from app.services.stickies import people_matching

VAPID_KEY = "vapid_private_pem"
# News for the browsers that follow the session; news for the people whose interests match it.
FOLLOWER_TYPES = (MessageType.MOVED, MessageType.REMOVED, MessageType.STARTING)
INTEREST_TYPES = (MessageType.POSTED,)
# How long a push service keeps a message for a phone that is off: "starting" is stale in minutes.
TTL_S = {MessageType.STARTING: 5 * 60}
DEFAULT_TTL_S = 6 * 60 * 60
GONE = (404, 410)
# The browsers' push services. The board posts to whatever endpoint a subscription names, so it
# takes endpoints at these hosts (and their subdomains) only: never an address inside the board's
# own network. ``PUSH_SERVICE_HOSTS`` adds hosts (a test's local endpoint, a self-hosted service).
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",  # Chrome, Edge, Opera, Samsung Internet
    "android.googleapis.com",
    "push.services.mozilla.com",  # Firefox (updates.push.services.mozilla.com)
    "push.apple.com",  # Safari (web.push.apple.com)
    "notify.windows.com",  # Edge on Windows (*.notify.windows.com)
)


# The instance's key ---------------------------------------------------------------------------


def _private_pem() -> str:
    """Return the instance's VAPID private key (PEM), made and stored the first time."""
    pem = db.session.scalar(select(InstanceKey.value).filter_by(name=VAPID_KEY))
    if pem is not None:
        return pem
    key = Vapid02()
    key.generate_keys()
    pem = key.private_pem().decode()
    try:
        with db.session.begin_nested():
            db.session.add(InstanceKey(name=VAPID_KEY, value=pem))
    except IntegrityError:  # another process made it first: use theirs
        return db.session.scalar(select(InstanceKey.value).filter_by(name=VAPID_KEY))
    db.session.commit()
    return pem


@lru_cache(maxsize=4)
def _vapid(pem: str) -> Vapid02:
    return Vapid02.from_pem(pem.encode())


def vapid() -> Vapid02:
    return _vapid(_private_pem())


def public_key() -> str:
    """Return the application server key browsers subscribe with: the public point, base64url."""
    raw = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# Subscriptions --------------------------------------------------------------------------------


def _key_bytes(text: str, *, name: str, size: int) -> None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != size:
        raise ServiceError(f"the subscription's {name} key is not a {size}-byte base64url value")


def _known_service(endpoint: str, hosts: tuple[str, ...]) -> bool:
    """Return whether the endpoint is at one of ``hosts`` (or a subdomain): https, or plain http
    for a host named outright beyond the browsers' own services."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    known = [h for h in hosts if host == h or host.endswith("." + h)]
    if not known or len(endpoint) > 1000:
        return False
    return parts.scheme == "https" or (
        parts.scheme == "http" and any(h not in PUSH_SERVICE_HOSTS for h in known)
    )


def subscribe(
    *,
    browser_id: str,
    endpoint: str,
    p256dh: str,
    auth: str,
    person: Sticky | None = None,
    extra_hosts: tuple[str, ...] = (),
) -> PushSubscription:
    """Keep a browser's push subscription (again: the keys of a known endpoint are renewed).

    ``person``: the person sticky whose interests the browser wants new sessions on; without
    one, the subscription is for the sessions the browser follows. The endpoint must be at a
    browser's push service (``PUSH_SERVICE_HOSTS``) or one of ``extra_hosts``.
    """
    if not _known_service(endpoint or "", PUSH_SERVICE_HOSTS + tuple(extra_hosts)):
        raise ServiceError(
            "a push subscription's endpoint is an https:// URL of a browser's push service"
        )
    _key_bytes(p256dh or "", name="p256dh", size=65)
    _key_bytes(auth or "", name="auth", size=16)
    if person is not None and (person.kind != StickyKind.PERSON or person.hidden):
        raise ServiceError("new sessions can be followed on a person sticky's interests only")
    person_id = person.id if person is not None else None
    found = db.session.scalar(
        select(PushSubscription).where(
            PushSubscription.endpoint == endpoint,
            PushSubscription.person_id.is_(None)
            if person_id is None
            else PushSubscription.person_id == person_id,
        )
    )
    if found is None:
        found = PushSubscription(endpoint=endpoint, person_id=person_id)
        db.session.add(found)
    found.browser_id, found.p256dh, found.auth = browser_id, p256dh, auth
    db.session.flush()
    return found


def unsubscribe(*, browser_id: str, endpoint: str) -> int:
    """Forget a browser's subscriptions at ``endpoint``; return how many there were."""
    gone = db.session.execute(
        delete(PushSubscription).where(
            PushSubscription.browser_id == browser_id, PushSubscription.endpoint == endpoint
        )
    )
    return gone.rowcount


def drop(subscription_id: int) -> None:
    """Forget a subscription its push service no longer knows (it answered 404 or 410)."""
    db.session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))


# Who hears what --------------------------------------------------------------------------------


def audience(message: OutboxMessage) -> list[int]:
    """Return the ids of the subscriptions a released message goes to."""
    if message.type == MessageType.ANNOUNCEMENT:
        query = select(PushSubscription.id)
    elif message.type in FOLLOWER_TYPES:
        followers = select(Interest.browser_id).where(Interest.sticky_id == message.sticky_id)
        query = select(PushSubscription.id).where(
            PushSubscription.person_id.is_(None), PushSubscription.browser_id.in_(followers)
        )
    elif message.type in INTEREST_TYPES:
        sticky = db.session.get(Sticky, message.sticky_id)
        people = [p.id for p in people_matching(sticky)] if sticky is not None else []
        if not people:
            return []
        query = select(PushSubscription.id).where(PushSubscription.person_id.in_(people))
    else:
        return []
    return list(db.session.scalars(query.order_by(PushSubscription.id)))


# Sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """What the notification shows: a heading, a line, the page it opens, and its tag; and the
    message's id, the same on every try, for a browser to drop a repeat."""

    title: str
    body: str
    url: str | None
    tag: str
    id: str

    def json(self) -> str:
        return json.dumps(
            {
                "title": self.title,
                "body": self.body,
                "url": self.url,
                "tag": self.tag,
                "id": self.id,
            }
        )


_connections = threading.local()


def _session() -> requests.Session:
    """Return this thread's HTTP session: pushes to one push service reuse its connections."""
    session = getattr(_connections, "session", None)
    if session is None:
        session = _connections.session = requests.Session()
    return session


@dataclass(frozen=True)
class PushSend:
    """One push, ready to send from any thread: no database access is left in it."""

    info: dict
    data: str
    ttl: int
    topic: str
    contact: str
    key: Vapid02
    timeout_s: float

    def __call__(self) -> int:
        """Send it; return the push service's status, or raise OSError when none came."""
        claims = {"sub": self.contact}
        try:
            response = webpush(
                self.info,
                data=self.data,
                vapid_private_key=self.key,
                vapid_claims=claims,
                ttl=self.ttl,
                timeout=self.timeout_s,
                headers={"Topic": self.topic, "Urgency": "high"},
                requests_session=_session(),
            )
        except WebPushException as exc:
            if exc.response is None:
                raise OSError(str(exc)) from exc
            return exc.response.status_code
        except Exception as exc:  # noqa: BLE001 - requests' errors are no OSError
            raise OSError(str(exc) or type(exc).__name__) from exc
        return response.status_code


def contact(event: Event) -> str:
    """Return the VAPID ``sub`` claim: the board's https address, or a mailto push services take."""
    base = (event.base_url or "").rstrip("/")
    return base if base.startswith("https://") else "mailto:board@openspaces.invalid"


def topic(message: OutboxMessage) -> str:
    """Return the push Topic: a newer message of the same session replaces one not yet shown."""
    seed = message.data.get("code") or message.message_id
    return base64.urlsafe_b64encode(seed.encode()[:24]).rstrip(b"=").decode()[:32]


def send_for(
    subscription: PushSubscription, message: OutboxMessage, notice: Notice, *, timeout_s: float
) -> PushSend:
    event = db.session.get(Event, message.event_id)
    return PushSend(
        info={
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        },
        data=notice.json(),
        ttl=TTL_S.get(message.type, DEFAULT_TTL_S),
        topic=topic(message),
        contact=contact(event),
        key=vapid(),
        timeout_s=timeout_s,
    )
