"""Talk to the board's JSON API (docs/contracts.md): fetch the manifest, post scans."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException

from camera.errors import CameraError, ServerUnreachable

HTTP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PostAnswer:
    """Hold the server's answer to one posted scan."""

    status: int
    body: dict


class ScanClient:
    """Talk to the board's JSON API at `base_url` with a camera token, over urllib."""

    def __init__(self, *, base_url: str, token: str, timeout_s: float = HTTP_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def _request(self, method: str, path: str, body: dict | None = None) -> PostAnswer:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers={"Accept": "application/json"}
        )
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return PostAnswer(response.status, _json_or_empty(response.read()))
        except urllib.error.HTTPError as exc:
            answer = PostAnswer(exc.code, _json_or_empty(exc.read()))
            if exc.code == 401:
                raise CameraError(
                    f"the server at {self.base_url} refused the token (401); create one with "
                    "`openspaces token create NAME` and pass it with --token"
                ) from None
            if exc.code >= 500:
                raise ServerUnreachable(f"{method} {path}: server error {exc.code}") from None
            return answer
        except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnreachable(f"{method} {path}: {reason}") from None

    def manifest(self) -> dict:
        """Return the event's scanner manifest from ``GET /api/manifest``."""
        answer = self._request("GET", "/api/manifest")
        if answer.status != 200:
            message = answer.body.get("error") or f"HTTP {answer.status}"
            raise ServerUnreachable(f"GET /api/manifest: {message}")
        return answer.body

    def post_scan(self, body: dict) -> PostAnswer:
        """Post one scan to ``POST /api/scans``; raise ServerUnreachable to keep it for later."""
        return self._request("POST", "/api/scans", body)


def _json_or_empty(data: bytes) -> dict:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}
