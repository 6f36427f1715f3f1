"""Following sessions: a browser that marks "I'm interested" follows the session.

Each such browser gets a private calendar feed of the sessions it follows, at
``/my/<feed key>/calendar.ics``: its entries keep their uid, so a calendar app moves an entry when
the sticky moves on the wall and drops it when the sticky comes off. The feed key is not the
browser's cookie, so the feed's address can go into a calendar app without handing over the marks.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Follower, Interest


def follow(*, browser_id: str) -> Follower:
    """Return the browser's follower row, made with a fresh feed key the first time."""
    found = db.session.scalar(select(Follower).filter_by(browser_id=browser_id))
    if found is not None:
        return found
    follower = Follower(browser_id=browser_id, feed_key=secrets.token_urlsafe(24))
    try:
        with db.session.begin_nested():
            db.session.add(follower)
    except IntegrityError:  # the same browser's other tab made it meanwhile
        return db.session.scalar(select(Follower).filter_by(browser_id=browser_id))
    return follower


def feed_key_of(browser_id: str | None) -> str | None:
    """Return the feed key of a browser that follows sessions, None for one that never marked any."""
    if not browser_id:
        return None
    return db.session.scalar(select(Follower.feed_key).filter_by(browser_id=browser_id))


def follower_by_key(feed_key: str) -> Follower | None:
    return db.session.scalar(select(Follower).filter_by(feed_key=feed_key))


def followed_ids(follower: Follower) -> set[int]:
    """Return the ids of the stickies the follower's browser marked."""
    query = select(Interest.sticky_id).filter_by(browser_id=follower.browser_id)
    return set(db.session.scalars(query))
