"""Serve a stored file (app.services.storage): a folder's by its path, a bucket's as a stream.

Both answer alike: ETag and Last-Modified, 304 to a conditional request that holds the file, and
the cache headers of Flask's ``send_file``.
"""

from __future__ import annotations

import io

from flask import request, send_file

from app.services.storage import Storage


def send_stored(store: Storage, key: str, *, mimetype: str = "image/jpeg", max_age=None):
    """Return the response that sends ``key`` from ``store``, or None when it is not there."""
    path = store.local_path(key)
    if path is not None:
        if not path.is_file():
            return None
        # Sent as today: the file itself (sendfile where the server offers it), no copy.
        return send_file(path, mimetype=mimetype, max_age=max_age)
    fetched = store.fetch(
        key,
        if_none_match=request.headers.get("If-None-Match"),
        if_modified_since=request.if_modified_since,
    )
    if fetched is None:
        return None
    response = send_file(
        fetched.body if fetched.body is not None else io.BytesIO(b""),
        mimetype=mimetype,
        etag=fetched.etag,
        last_modified=fetched.modified,
        max_age=max_age,
        conditional=False,
    )
    if fetched.body is None:
        # The store said the reader holds it already: no body, no length.
        response.status_code = 304
        response.headers.pop("Content-Length", None)
        return response
    response.content_length = fetched.size
    if request.method == "HEAD":
        # No body goes out: give the store's connection back now.
        fetched.body.close()
    return response.make_conditional(request, accept_ranges=True, complete_length=fetched.size)
