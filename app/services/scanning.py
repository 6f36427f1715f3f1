"""Run the scanner on the server, for photos uploaded without observations.

A photo the scanner cannot analyse is refused as an upload (InvalidUpload), never left to fail
the request.

Decoding, scanning, annotating and encoding a photo take seconds of CPU. They run here, in turns:
at most ``workers`` photos at once (one per core), up to ``queue`` more waiting, and beyond that
ScannerBusy, which the pages and the API answer with 503 and Retry-After. A turn's work runs in
a pool of ``workers`` threads at a lower CPU priority (Linux gives each thread its own), so that
the kernel runs page requests first; OpenCV lets go of the GIL in its heavy calls. Under gunicorn's
gevent workers the pool is gevent's, of real threads: the greenlet waits for the work and the
worker goes on answering its other requests.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from app.models import Event
from app.services.manifest import build_manifest
from app.services.uploads import InvalidUpload

T = TypeVar("T")

# A full queue asks the client to come back after this many seconds.
RETRY_AFTER_S = 10
# How much nicer than requests the photo work runs (as `nice -n`; title reading runs at 19).
SCAN_NICENESS = 10


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


def _lower_priority() -> None:
    """Let this thread's CPU time come after the requests' (per thread on Linux; else nothing)."""
    if sys.platform != "linux":
        return
    try:
        now = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(now, SCAN_NICENESS))
    except OSError:
        pass


def _in_background(func: Callable[..., T], args, kwargs) -> T:
    _lower_priority()
    return func(*args, **kwargs)


class ScanTurns:
    """At most ``workers`` photos worked on at once, ``queue`` more waiting, the rest refused."""

    def __init__(self, *, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self._running = threading.BoundedSemaphore(workers)
        self._admitted = 0
        self._lock = threading.Lock()
        self._gevent_pool = None
        self._pool = None
        if _under_gevent():
            from gevent.threadpool import ThreadPool

            _load_scanner()
            self._gevent_pool = ThreadPool(workers)
        else:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="scan")

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
        """Return ``func(*args, **kwargs)``, computed in the pool (off gevent's loop, under it).

        ``func`` must not touch the database or the request: it runs in another thread.
        """
        if self._gevent_pool is not None:
            return self._gevent_pool.spawn(_in_background, func, args, kwargs).get()
        return self._pool.submit(_in_background, func, args, kwargs).result()


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


def event_manifest(event: Event):
    """Return the event's manifest as the scanner takes it (``scanner.Manifest``), read once per
    photo: scanning it and cutting its stickies' views share it."""
    import scanner

    return scanner.Manifest.from_dict(build_manifest(event))


def scan_photo(
    event: Event,
    image,
    *,
    manifest=None,
    decoder: str = "auto",
    turns: ScanTurns | None = None,
    params: Mapping[str, float] | None = None,
):
    """Scan a BGR photo against the event's manifest (``event_manifest``, read here when not
    given), with the scanner's knobs set as ``params`` names them (``ScanSettings.scan_params``);
    return the scanner's result."""
    import scanner

    manifest = manifest if manifest is not None else event_manifest(event)
    knobs = scanner.ScanParams(**(params or {}))
    try:
        return (turns or scan_turns()).run(
            scanner.scan, image, manifest, decoder=decoder, params=knobs
        )
    except scanner.ScanError as exc:
        raise InvalidUpload(f"the photo cannot be scanned: {exc}") from None


def annotate(image, result, *, turns: ScanTurns | None = None):
    import scanner

    try:
        return (turns or scan_turns()).run(scanner.annotate, image, result)
    except scanner.ScanError as exc:
        raise InvalidUpload(f"the photo cannot be annotated: {exc}") from None
