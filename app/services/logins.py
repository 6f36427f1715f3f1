"""Organizer log-in throttling: how long a log-in waits, and a log line for every lock-out.

An address that guesses too fast is refused for a while (the limits on the log-in view). An account
is never refused: failed log-ins to it from anywhere only make each log-in to it wait a little
longer, up to a bound, so that a stranger cannot lock the organizer out. The counts live in the rate
limiter's store (``RATELIMIT_STORAGE_URI``), so every server process sees the same ones.
"""

from __future__ import annotations

import logging

from limits import RateLimitItem, RateLimitItemPerMinute, parse

from app.extensions import limiter

log = logging.getLogger(__name__)

# Counts failures, never refuses: an amount no window reaches.
_UNBOUNDED = 1_000_000_000
# A lock-out is logged once a minute for each limit and what it counts by, however often it refuses.
_LOGGED = RateLimitItemPerMinute(1, namespace="LOGIN-LOCKOUT-LOGGED")


def _failures_item(slow_after: str) -> tuple[RateLimitItem, int]:
    """Return the counter for an account's failures over ``slow_after``'s window, and its amount."""
    item = parse(slow_after)
    return type(item)(_UNBOUNDED, item.multiples, namespace="LOGIN-FAILURES"), item.amount


def failures(*, account: str, slow_after: str) -> int:
    """Return how many log-ins to ``account`` failed within ``slow_after``'s window."""
    counter, _ = _failures_item(slow_after)
    return _UNBOUNDED - limiter.limiter.get_window_stats(counter, account).remaining


def delay_s(*, account: str, slow_after: str, step_s: float, max_s: float) -> float:
    """Return how long the next log-in to ``account`` waits before its password is checked.

    ``slow_after`` (limits notation, e.g. ``"10 per 10 minutes"``) is how many failures the account
    takes in a window without delay; each one beyond that adds ``step_s``, up to ``max_s``. Right
    and wrong passwords wait alike, so the wait tells nothing about the password.
    """
    _, free = _failures_item(slow_after)
    beyond = failures(account=account, slow_after=slow_after) - free
    return round(min(max_s, step_s * max(0, beyond)), 6)


def note_failure(*, account: str, address: str, slow_after: str) -> None:
    """Count a failed log-in to ``account``; log when it starts to slow that account's log-ins."""
    counter, free = _failures_item(slow_after)
    limiter.limiter.hit(counter, account)
    if failures(account=account, slow_after=slow_after) == free + 1:
        log.warning(
            "log-ins to account %r are slowed down: more than %s failed (the last from %s)",
            account,
            slow_after,
            address,
        )


def note_lockout(*, limit: str, key: str, account: str, address: str) -> None:
    """Log that ``address`` is refused log-ins for a while, once a minute per limit and ``key``.

    ``key`` is what the limit counts by (the address, or the account at the address): a stranger
    trying many names from one address makes one line a minute, not one a try.
    """
    if limiter.limiter.hit(_LOGGED, key):
        log.warning(
            "log-ins from %s refused for a while: over the limit %s (account %r)",
            address,
            limit,
            account,
        )
