"""The camera's two exceptions: one that stops the loop, one that means "try again later"."""

from __future__ import annotations


class CameraError(Exception):
    """The camera loop cannot go on: a refused token, a video that will not open, a bad answer."""


class ServerUnreachable(Exception):
    """The server did not take the request now (refused, timed out, 5xx); try again later."""
