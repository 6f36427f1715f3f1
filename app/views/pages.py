"""Pages rendered once per board version and served from memory to every phone that asks.

A conference hall of phones asks for the same few pages at once. Each page is keyed by what it
shows (which page, which room or sticky) and by the live stamp of the board (``live.board_version``):
the first request after a change renders it, every other request, including those that arrived while
it rendered, gets the same text. Pages carry the server's clock for the phone's Now and Next, so an
entry is also renewed after ``MAX_AGE_SECONDS``.

Only pages that look the same to everyone are kept: an organizer's pages, and pages with a message
for this browser, are rendered for the request as before.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app, request, session

# The pages' clock (data-now) drifts at most this far from the server's.
MAX_AGE_SECONDS = 5.0
# Board, kiosk, grids and rooms are a handful; the rest are sticky pages, one per code.
MAX_ENTRIES = 4096


class PageCache:
    """Rendered text by key, valid for one version and ``max_age`` seconds; one render at a time."""

    def __init__(self, *, max_age: float = MAX_AGE_SECONDS, max_entries: int = MAX_ENTRIES):
        self.max_age = max_age
        self.max_entries = max_entries
        self.renders = 0
        self._entries: OrderedDict[Hashable, tuple[str, float, str]] = OrderedDict()
        # The text each key had at the version before its current one, and what changed since.
        self._previous: dict[Hashable, tuple[str, str]] = {}
        self._changes: dict[Hashable, tuple[tuple[str, str], str | None]] = {}
        self._rendering: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def _fresh(self, key: Hashable, version: str) -> str | None:
        entry = self._entries.get(key)
        if entry and entry[0] == version and time.monotonic() - entry[1] < self.max_age:
            self._entries.move_to_end(key)
            return entry[2]
        return None

    def get(self, key: Hashable, version: str, render: Callable[[], str]) -> str:
        """Return the text for ``key`` at ``version``, calling ``render`` only if none is kept."""
        with self._lock:
            text = self._fresh(key, version)
            if text is not None:
                return text
            key_lock = self._rendering.setdefault(key, threading.Lock())
        # Requests for the same page wait for the one render instead of rendering it again.
        with key_lock:
            with self._lock:
                text = self._fresh(key, version)
            if text is not None:
                return text
            text = render()
            with self._lock:
                self.renders += 1
                kept = self._entries.get(key)
                if kept is not None and kept[0] != version:
                    self._previous[key] = (kept[0], kept[2])
                self._entries[key] = (version, time.monotonic(), text)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    old, _ = self._entries.popitem(last=False)
                    self._rendering.pop(old, None)
                    self._previous.pop(old, None)
                    self._changes.pop(old, None)
        return text

    def changes(
        self,
        key: Hashable,
        since: str,
        version: str,
        render: Callable[[], str],
        as_text: Callable[[dict[str, str]], str],
    ) -> str | None:
        """Return ``as_text`` of the parts of the page at ``version`` that differ from the page
        at ``since`` (app.views.parts), worked out and written once for every stream that asks.

        None when the page at ``since`` is not kept (this process never rendered it, or more than
        one version passed) or when more than its parts changed: the page then fetches it whole.
        """
        from app.views.parts import changed_parts

        with self._lock:
            known = self._changes.get(key)
            if known is not None and known[0] == (since, version):
                return known[1]
        text = self.get(key, version, render)
        with self._lock:
            before = self._previous.get(key)
        if before is None or before[0] != since:
            return None
        found = changed_parts(before[1], text)
        written = None if found is None else as_text(found)
        with self._lock:
            self._changes[key] = ((since, version), written)
        return written

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._previous.clear()
            self._changes.clear()


def init_app(app) -> None:
    app.extensions["openspaces.pages"] = PageCache()


def page_cache() -> PageCache:
    return current_app.extensions["openspaces.pages"]


def shared_view() -> bool:
    """Return whether this request sees what everyone sees: no organizer, no message waiting."""
    from app.views.common import is_organizer

    return not is_organizer() and not session.get("_flashes")


def not_modified(etag: str) -> bool:
    """Return whether the browser already holds ``etag`` (send 304 then)."""
    return request.if_none_match.contains(etag)
