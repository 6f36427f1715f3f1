"""Claim keys: what claiming a blank sticky takes besides its code, which the board publishes.

Every sticky has a key of six characters, made from its code with its event's secret
(``Event.claim_secret``). The key is printed on the sticky and nowhere else: in its QR code
(``<base_url>/s/<code>?k=<key>``) and as text beside the QR, for a phone that cannot scan. So a
person at the wall can claim the sticky and a stranger who only reads the board cannot. No key is
stored: a reprint of a batch prints the same keys, and a sticky printed before keys existed gets
its key when it is printed again.

Wrong keys are counted per client address in the rate-limit store; past the limit the address gets
no answer about any key for a while, so that keys cannot be guessed one after another.
"""

from __future__ import annotations

import hmac
import logging

from limits import RateLimitItem, RateLimitItemPerMinute, parse_many

from app.extensions import limiter
from app.models import Event, Sticky
from app.services.codes import keyed_code, normalize_code
from app.services.plain_notes import claim_code_matches
from app.services.published import sticky_url

log = logging.getLogger(__name__)

# 30 bits: with the wrong tries an address gets an hour, guessing one key takes years.
KEY_LENGTH = 6
# The query parameter of the sticky's page that carries its key: short, for a small QR code.
KEY_PARAM = "k"
# A refusal is logged once a minute per address, however often the address is refused.
_LOGGED = RateLimitItemPerMinute(1, namespace="CLAIM-KEY-REFUSED-LOGGED")


def claim_key(*, event: Event, code: str) -> str:
    """Return the claim key of the sticky with ``code`` in ``event``, e.g. ``K3Y9AB``."""
    return keyed_code(event.claim_secret, f"claim:{code}", length=KEY_LENGTH)


def claim_url(*, event: Event, code: str) -> str:
    """Return what a sticky's QR holds: its page with its claim key."""
    return f"{sticky_url(event, code)}?{KEY_PARAM}={claim_key(event=event, code=code)}"


def key_matches(*, sticky: Sticky, key: str | None) -> bool:
    """Tell whether ``key`` (scanned or typed, in any case, with spaces) is the sticky's claim key.

    A plain note has no printed key: its key is the one-time code the wall screen shows beside it
    (app.services.plain_notes), while it lasts.
    """
    if sticky.plain:
        return claim_code_matches(sticky=sticky, code=key)
    typed = normalize_code(key or "", length=KEY_LENGTH)
    if typed is None:
        return False
    return hmac.compare_digest(typed, claim_key(event=sticky.event, code=sticky.code))


def _items(limit: str) -> list[RateLimitItem]:
    """Return the counters of ``limit`` (limits notation, e.g. ``"20 per minute; 100 per hour"``)."""
    return [
        type(item)(item.amount, item.multiples, namespace="CLAIM-KEY-WRONG")
        for item in parse_many(limit)
    ]


def keys_refused(*, address: str, limit: str) -> bool:
    """Tell whether ``address`` has had ``limit``'s wrong keys: then no key of it is checked."""
    refused = any(not limiter.limiter.test(item, address) for item in _items(limit))
    if refused and limiter.limiter.hit(_LOGGED, address):
        log.warning(
            "claim keys from %s refused for a while: more wrong keys than %s", address, limit
        )
    return refused


def note_wrong_key(*, address: str, limit: str) -> None:
    """Count a wrong claim key from ``address`` against ``limit``."""
    for item in _items(limit):
        limiter.limiter.hit(item, address)
