"""Run the scanner on the server, for photos uploaded without observations.

A photo the scanner cannot analyse is refused as an upload (InvalidUpload), never left to fail
the request.

Decoding, scanning, annotating and encoding a photo take seconds of CPU. They run here, in turns:
at most ``workers`` photos at once (one per core), up to ``queue`` more waiting, and beyond that
ScannerBusy, which the pages and the API answer with 503 and Retry-After. Under gunicorn's gevent
workers a turn's work runs in a pool of real threads (OpenCV lets go of the GIL in its heavy
calls), while the greenlet waits and the worker goes on answering its other requests; under
waitress each request is a thread already, and the work runs in it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from app.models import Event
from app.services.board import build_manifest
from app.services.uploads import InvalidUpload

T = TypeVar("T")

# A full queue asks the client to come back after this many seconds.
RETRY_AFTER_S = 10


class ScannerBusy(Exception):
    """Every scan turn is taken and the queue is full: the client should try again later.

    Not a ServiceError: the upload itself is fine, and views answer 503, not 422.
    """

    def __init__(self, *, retry_after: int = RETRY_AFTER_S) -> None:
        super().__init__(f"the server is scanning other photos; try again in {retry_after} seconds")
        self.retry_after = retry_after


def _under_gevent() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def _load_scanner() -> None:
    """Import the scanner with its decoders on gevent's loop, before any runs in the pool.

    Loading a native decoder may start a process (ctypes looks for the library with ldconfig),
    and gevent's patched subprocess can only be started from the loop's own thread.
    """
    import scanner  # noqa: F401
    import scanner.decoders  # noqa: F401


class ScanTurns:
    """At most ``workers`` photos worked on at once, ``queue`` more waiting, the rest refused."""

    def __init__(self, *, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self._running = threading.BoundedSemaphore(workers)
        self._admitted = 0
        self._lock = threading.Lock()
        self._pool = None
        if _under_gevent():
            from gevent.threadpool import ThreadPool

            _load_scanner()
            self._pool = ThreadPool(workers)

    @property
    def admitted(self) -> int:
        """Photos worked on or waiting now."""
        return self._admitted

    @contextmanager
    def turn(self) -> Iterator[ScanTurns]:
        """Wait for a turn to work on one photo; raise ScannerBusy when the queue is full."""
        with self._lock:
            if self._admitted >= self.workers + self.queue:
                raise ScannerBusy()
            self._admitted += 1
        try:
            with self._running:
                yield self
        finally:
            with self._lock:
                self._admitted -= 1

    def run(self, func: Callable[..., T], /, *args, **kwargs) -> T:
        """Return ``func(*args, **kwargs)``, computed off gevent's loop when the app runs on it.

        ``func`` must not touch the database or the request: it may run in another thread.
        """
        if self._pool is None:
            return func(*args, **kwargs)
        return self._pool.spawn(func, *args, **kwargs).get()


_turns: dict[tuple[int, int], ScanTurns] = {}
_turns_lock = threading.Lock()


def scan_turns(*, workers: int | None = None, queue: int | None = None) -> ScanTurns:
    """Return this process's scan turns: ``workers`` (default: the cores) and ``queue`` (twice that)."""
    workers = workers or os.cpu_count() or 1
    queue = 2 * workers if queue is None else queue
    with _turns_lock:
        key = (workers, queue)
        if key not in _turns:
            _turns[key] = ScanTurns(workers=workers, queue=queue)
        return _turns[key]


def scan_photo(event: Event, image, *, decoder: str = "auto", turns: ScanTurns | None = None):
    """Scan a BGR photo against the event's manifest; return the scanner's result."""
    import scanner

    manifest = scanner.Manifest.from_dict(build_manifest(event))
    try:
        return (turns or scan_turns()).run(scanner.scan, image, manifest, decoder=decoder)
    except scanner.ScanError as exc:
        raise InvalidUpload(f"the photo cannot be scanned: {exc}") from None


def annotate(image, result, *, turns: ScanTurns | None = None):
    import scanner

    try:
        return (turns or scan_turns()).run(scanner.annotate, image, result)
    except scanner.ScanError as exc:
        raise InvalidUpload(f"the photo cannot be annotated: {exc}") from None
