"""gunicorn's gevent worker with a deadline on every read from a client: ``openspaces serve``'s worker.

gunicorn bounds the wait for a request's headers (``--keep-alive``), but not the reading of its
body: a POST whose body stops coming would hold its connection for ever, and a few thousand of
them fill the worker. Here every read from a client must bring data within ``READ_TIMEOUT_S``
(env ``OPENSPACES_READ_TIMEOUT_S``), or the connection is read as ended, the same as a client that
went away. Writes have no deadline: a phone on a slow network may take its time over a page.
"""

from __future__ import annotations

import os

from gunicorn.workers.ggevent import GeventWorker

READ_TIMEOUT_S = float(os.environ.get("OPENSPACES_READ_TIMEOUT_S", "10"))


class ReadDeadline:
    """A client's socket whose reads come back empty after ``seconds`` without data."""

    def __init__(self, sock, seconds: float) -> None:
        self._sock = sock
        self._seconds = seconds
        self._ended = False

    def recv(self, size: int, *flags) -> bytes:
        if self._ended:
            return b""
        self._sock.settimeout(self._seconds)
        try:
            return self._sock.recv(size, *flags)
        except TimeoutError:
            # gunicorn drops a request whose headers end early, and the app's form parser takes
            # a body that ends early as the client having gone. Every later read ends at once.
            self._ended = True
            return b""
        finally:
            self._sock.settimeout(None)

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


class ReadDeadlineWorker(GeventWorker):
    """gunicorn's gevent worker whose clients must send within ``READ_TIMEOUT_S`` when read."""

    def handle(self, listener, client, addr) -> None:
        super().handle(listener, ReadDeadline(client, READ_TIMEOUT_S), addr)
