"""Pages rendered once per live stamp and served from memory to every phone that asks.

A conference hall of phones asks for the same few pages at once. Each page is keyed by what it
shows (which page, which room or sticky) and by the live stamp of the board (app.live.stamp): the
first request after a change renders it, every other request, including those that arrived while
it rendered, gets the same text, and a browser that holds it already gets 304. Pages carry the
server's clock for the phone's Now and Next, so an entry is also renewed after ``MAX_AGE_SECONDS``.

Only pages that look the same to everyone are kept: the views say which (an organizer's pages, and
pages with a message for this browser, are rendered for the request as before).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Flask, Response, current_app, request
from sqlalchemy import inspect

from app.live.parts import changed_parts

# The pages' clock (data-now) drifts at most this far from the server's.
MAX_AGE_SECONDS = 5.0
# Board, kiosk, grids and rooms are a handful; the rest are sticky pages, one per code.
MAX_ENTRIES = 4096
# Stands for the form token in a kept page; each request puts its own token back in.
CSRF_PLACEHOLDER = "__openspaces_csrf_token__"


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
            self._keep(key, version, text)
        return text

    def _keep(self, key: Hashable, version: str, text: str) -> None:
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

    def changes(
        self,
        key: Hashable,
        since: str,
        version: str,
        render: Callable[[], str],
        as_text: Callable[[dict[str, str]], str],
    ) -> str | None:
        """Return ``as_text`` of the parts of the page at ``version`` that differ from the page
        at ``since`` (app.live.parts), worked out and written once for every stream that asks.

        None when the page at ``since`` is not kept (this process never rendered it, or more than
        one version passed) or when more than its parts changed: the page then fetches it whole.
        """
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


def init_app(app: Flask) -> None:
    app.extensions["openspaces.pages"] = PageCache()


def page_cache() -> PageCache:
    return current_app.extensions["openspaces.pages"]


def not_modified(etag: str) -> bool:
    """Return whether the browser already holds ``etag`` (send 304 then)."""
    return request.if_none_match.contains(etag)


def revalidated(etag: str, render: Callable[[], str], *, mimetype: str | None = None) -> Response:
    """Answer 304 when the browser holds ``etag``, else ``render()``'s page for it to revalidate."""
    if not_modified(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    response = Response(render(), mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


def kept(key: Hashable, version: str, render: Callable[[], str], *, shared: bool) -> str:
    """Return the page at ``version``: rendered once for everyone when ``shared``, else for this
    request alone."""
    return page_cache().get(key, version, render) if shared else render()


def shared_page(
    key: tuple, version: str, render: Callable[[], str], *, shared: bool
) -> Response | str:
    """Answer the page ``key`` names (``(name, event id, *what)``): once per version for everyone,
    revalidated by its ETag, when ``shared``; else rendered for this request alone."""
    if not shared:
        return render()
    name, _, *what = key
    etag = "-".join([version, name, *map(str, what)])
    return revalidated(etag, lambda: page_cache().get(key, version, render))


def with_token(key: Hashable, version: str, render: Callable[[], str], *, token: str | None) -> str:
    """Return a kept page that holds a form: kept with a placeholder for the form's token, served
    with this request's ``token`` in it (None: forms without tokens)."""

    def render_shared() -> str:
        html = render()
        return html.replace(token, CSRF_PLACEHOLDER) if token else html

    html = page_cache().get(key, version, render_shared)
    return html.replace(CSRF_PLACEHOLDER, token) if token else html


def fingerprint(row) -> str:
    """Return a digest of every stored field of ``row``: part of a kept page's key, so that an
    edit makes a new one."""
    values = [getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs]
    return hashlib.sha1(repr(values).encode()).hexdigest()
