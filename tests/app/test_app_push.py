"""Web Push end to end: a local push endpoint that checks the VAPID signature and decrypts each
message with the browser's keys (RFC 8291, http_ece), as a browser's push service and browser do."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import func, select

from app.extensions import db
from app.models import Delivery, OutboxMessage, PushSubscription, utcnow
from app.services.outbox import note_announcement
from app.services.webhooks import DeliverySettings, deliver_due
from app.settings import configure

A, B = "Hall A", "Hall B"
TEN, ELEVEN = "2026-09-26T10:00", "2026-09-26T11:00"
SETTINGS = DeliverySettings(settle_s=0.0, max_attempts=3, backoff_s=5.0, timeout_s=5.0)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """A browser's side of a push subscription: its key pair and auth secret."""

    def __init__(self, endpoint: str):
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = {
            "endpoint": endpoint,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def read(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.private, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


def check_vapid(headers: dict[str, str], *, server_key: str, audience: str) -> dict:
    """Check the push's VAPID Authorization as a push service does (RFC 8292); return its claims."""
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == server_key
    head, claims, signature = fields["t"].split(".")
    assert json.loads(unb64url(head)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(server_key))
    key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    claims = json.loads(unb64url(claims))
    assert claims["aud"] == audience
    assert claims["exp"] > utcnow().timestamp()
    return claims


@pytest.fixture(autouse=True)
def local_push_services(app):
    """This test's push endpoints, on loopback and at an example host, count as push services."""
    configure(app, PUSH_SERVICE_HOSTS=("127.0.0.1", "push.example"))


@pytest.fixture
def push_service(receiver):
    """The push service of every browser here: a local endpoint that keeps what it is sent."""
    return receiver


def deliver() -> int:
    return deliver_due(settings=SETTINGS, now=utcnow() + dt.timedelta(seconds=1))


def test_push_follower_is_told_of_a_move_encrypted_for_its_browser_and_signed(
    client, event, scan, create_session, push_service
):
    s = create_session(title="Rust for Pythonistas")
    scan({s: (A, TEN)})
    deliver()  # the posted news: nobody follows yet
    browser = Browser(push_service.url)
    assert client.post(f"/s/{s.code}/interest").status_code == 302
    answer = client.post("/push/subscriptions", json=browser.subscription)
    assert answer.status_code == 201

    scan({s: (B, ELEVEN)})
    assert deliver() == 1
    ((headers, body),) = push_service.received
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == str(6 * 60 * 60)
    assert headers["urgency"] == "high"
    server_key = client.get("/push/key").get_json()["key"]
    origin = push_service.url.removesuffix("/hook")
    claims = check_vapid(headers, server_key=server_key, audience=origin)
    assert claims["sub"].startswith(("mailto:", "https://"))
    moved = db.session.scalars(
        select(OutboxMessage.message_id).where(OutboxMessage.type == "session.moved")
    ).one()
    assert browser.read(body) == {
        "title": "Session moved",
        "body": "“Rust for Pythonistas” is now in Hall B, Sat 11:00–11:45",
        "url": f"{event.base_url}/s/{s.code}",
        "tag": s.code,
        "id": moved,
    }


def test_push_person_subscription_hears_of_new_sessions_on_its_interests_only(
    client, event, scan, create_session, create_stickies, push_service
):
    from app_helpers import printed_key

    from app.models import StickyKind
    from app.services.stickies import PersonFields, claim_sticky

    (person,) = create_stickies(1, kind=StickyKind.PERSON)
    claim_sticky(
        sticky=person,
        fields=PersonFields(name="Asha", interests="maps, open data"),
        key=printed_key(person),
    )
    db.session.commit()
    browser = Browser(push_service.url)
    body = {**browser.subscription, "person": person.code}
    assert client.post("/push/subscriptions", json=body).status_code == 201

    matching = create_session(title="Maps with open data", tags="maps")
    other = create_session(title="Async deep dive", tags="python")
    scan({matching: (A, TEN), other: (B, TEN)})
    assert deliver() == 1
    ((_, sent),) = push_service.received
    notice = browser.read(sent)
    assert (notice["title"], notice["body"]) == (
        "New session",
        "“Maps with open data” — Hall A, Sat 10:00–10:45",
    )


def test_push_announcement_reaches_every_subscription_and_a_gone_one_is_dropped(
    client, event, push_service
):
    phones = [Browser(push_service.url + f"/{n}") for n in range(3)]
    for phone in phones:
        assert client.post("/push/subscriptions", json=phone.subscription).status_code == 201
    push_service.answers = [201, 410, 201]
    note_announcement(event=event, text="Lunch is served")
    db.session.commit()
    assert deliver() == 2
    notices = [
        phones[int(path.rsplit("/", 1)[1])].read(body)
        for (_, body), (_, path) in zip(push_service.received, push_service.requests, strict=True)
    ]
    assert {(n["title"], n["body"], n["url"]) for n in notices} == {
        ("Announcement", "Lunch is served", None)
    }
    # The one the push service no longer knows is gone, with its delivery.
    assert db.session.scalar(select(func.count(PushSubscription.id))) == 2
    assert db.session.scalar(select(func.count(Delivery.id))) == 2


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"endpoint": "ftp://push.example/1"}, "endpoint"),
        ({"endpoint": "https://push.example.evil/1"}, "push service"),
        ({"keys": {"p256dh": "abc", "auth": b64url(os.urandom(16))}}, "p256dh"),
        ({"keys": {"p256dh": None, "auth": None}}, "p256dh"),
    ],
)
def test_push_bad_subscription_is_refused_and_keeps_nothing(client, event, change, error):
    good = Browser("https://push.example/1").subscription
    answer = client.post("/push/subscriptions", json={**good, **change})
    assert answer.status_code == 400
    assert error in answer.get_json()["error"]
    assert db.session.scalar(select(func.count(PushSubscription.id))) == 0


@pytest.mark.parametrize(
    ("endpoint", "kept"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc", True),
        ("https://updates.push.services.mozilla.com/wpush/v2/abc", True),
        ("https://web.push.apple.com/QGZ", True),
        ("http://fcm.googleapis.com/fcm/send/abc", False),  # a browser's service: https only
        ("https://169.254.169.254/latest/meta-data", False),  # the board's own network
        ("http://localhost:5432/", False),
        ("https://fcm.googleapis.com.evil.example/send", False),
        ("https://evilfcm.googleapis.com.example/", False),
    ],
)
def test_push_endpoint_must_be_a_browsers_push_service(client, event, app, endpoint, kept):
    configure(app, PUSH_SERVICE_HOSTS=())
    answer = client.post("/push/subscriptions", json=Browser(endpoint).subscription)
    assert answer.status_code == (201 if kept else 400)
    assert db.session.scalar(select(func.count(PushSubscription.id))) == (1 if kept else 0)


def test_push_subscription_is_json_only_and_can_be_withdrawn(client, event):
    good = Browser("https://push.example/1").subscription
    form = client.post("/push/subscriptions", data={"endpoint": good["endpoint"]})
    assert form.status_code == 400
    assert client.post("/push/subscriptions", json=good).status_code == 201
    assert client.post("/push/subscriptions", json=good).status_code == 201  # renewed, not doubled
    assert db.session.scalar(select(func.count(PushSubscription.id))) == 1
    gone = client.post("/push/subscriptions/delete", json={"endpoint": good["endpoint"]})
    assert gone.get_json() == {"removed": 1}
    assert db.session.scalar(select(func.count(PushSubscription.id))) == 0
