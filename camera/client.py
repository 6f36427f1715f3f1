"""Talk to the board's JSON API (docs/contracts.md): fetch the manifest, post scans."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException

from camera.errors import CameraError, ServerUnreachable

HTTP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PostAnswer:
    """Hold the server's answer to one request: its status, its JSON object and its text."""

    status: int
    body: dict
    text: str = ""

    def message(self) -> str:
        """Return the server's own words: its JSON ``error``, else the start of its text."""
        error = self.body.get("error")
        if isinstance(error, str) and error:
            return error
        return " ".join(self.text.split())[:300] or "no message"


class ScanClient:
    """Talk to the board's JSON API at `base_url` with a camera token, over urllib."""

    def __init__(self, *, base_url: str, token: str, timeout_s: float = HTTP_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def _request(
        self, method: str, path: str, data: bytes | None = None, content_type: str | None = None
    ) -> PostAnswer:
        """Send one request and return the answer, whatever its status.

        Raise CameraError for 401 (the loop cannot go on with this token) and ServerUnreachable
        when no answer came: refused, reset, timed out, or not HTTP.
        """
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers={"Accept": "application/json"}
        )
        request.add_header("Authorization", f"Bearer {self.token}")
        if content_type is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return _answer(response.status, response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                raise CameraError(
                    f"the server at {self.base_url} refused the token (401); create one with "
                    "`openspaces token create NAME` and pass it with --token"
                ) from None
            try:
                return _answer(exc.code, exc.read())
            except (OSError, HTTPException):
                return _answer(exc.code, b"")
        except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnreachable(f"{method} {self.base_url}{path}: {reason}") from None

    def manifest(self) -> dict:
        """Return the event's scanner manifest from ``GET /api/manifest``.

        Raise ServerUnreachable when the server gives none now (no answer, no event loaded, 5xx).
        """
        answer = self._request("GET", "/api/manifest")
        if answer.status != 200:
            raise ServerUnreachable(
                f"GET {self.base_url}/api/manifest: {answer.status} {answer.message()}"
            )
        return answer.body

    def post_scan(
        self, body: dict, views: dict[str, tuple[bytes, dict]] | None = None
    ) -> PostAnswer:
        """Post one scan to ``POST /api/scans`` and return the answer, 4xx and 5xx included.

        With `views` (code -> (JPEG bytes, score)) the scan goes as a multipart form: the scan's
        JSON in ``scan``, each view in ``view.<CODE>`` and its score in ``score.<CODE>``.
        """
        scan = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if not views:
            return self._request("POST", "/api/scans", scan, "application/json")
        parts = [("scan", None, "application/json", scan)]
        for code, (jpeg, score) in sorted(views.items()):
            parts.append((f"view.{code}", f"{code}.jpg", "image/jpeg", jpeg))
            parts.append((f"score.{code}", None, "application/json", json.dumps(score).encode()))
        data, content_type = _multipart(parts)
        return self._request("POST", "/api/scans", data, content_type)


def _multipart(parts: list[tuple[str, str | None, str, bytes]]) -> tuple[bytes, str]:
    """Return a multipart/form-data body of (name, filename, content type, bytes) parts."""
    boundary = secrets.token_hex(16)
    chunks = []
    for name, filename, content_type, payload in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = (
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: {content_type}\r\n\r\n"
        )
        chunks += [head.encode("utf-8"), payload, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _answer(status: int, data: bytes) -> PostAnswer:
    text = data.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    return PostAnswer(status, value if isinstance(value, dict) else {}, text[:2000])
