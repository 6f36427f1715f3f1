"""Deliver spooled scans to the board: oldest first, each once, never stuck behind a bad one.

- No answer (refused, timed out): the board is away. Nothing is sent until a pause has passed
  that doubles each time, 1 s up to `max_backoff_s`; one log line when it goes, one when it is back.
- 2xx: delivered, the file goes. A 4xx other than 401 and "come back later" (404 while no event is
  loaded, 408, 425, 429): the scan itself is wrong, so it moves to ``rejected/`` with the answer.
  When it carried sticky views, they move there first and the scan is posted again without them.
- 5xx: either the scan or the server is at fault. The next scan in the spool tells which: when it
  goes through, the failed scan waits on its own growing pause (from `retry_base_s` up to
  `max_retry_s`) while newer scans go ahead; when it fails too, the server is in trouble and
  everything waits as if it were away. With nothing newer to tell, a scan that failed alone before
  waits on its own pause again, any other as if the board were away.

Times are Unix seconds from the injected clock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from camera.client import PostAnswer, ScanClient
from camera.errors import ServerUnreachable
from camera.spool import Spool

LOG = logging.getLogger("openspaces.camera")

MAX_BACKOFF_S = 30.0
RETRY_BASE_S = 10.0
MAX_RETRY_S = 600.0
# Answers that say "not now" rather than "not this scan".
COME_BACK_LATER = frozenset({404, 408, 425, 429})


@dataclass
class _Retry:
    failures: int
    next_at: float


class Delivery:
    """Send the spool's scans to the board and keep track of when to try again."""

    def __init__(
        self,
        *,
        client: ScanClient,
        spool: Spool,
        clock: Callable[[], float],
        max_backoff_s: float = MAX_BACKOFF_S,
        retry_base_s: float = RETRY_BASE_S,
        max_retry_s: float = MAX_RETRY_S,
    ) -> None:
        self.client = client
        self.spool = spool
        self.clock = clock
        self.max_backoff_s = max_backoff_s
        self.retry_base_s = retry_base_s
        self.max_retry_s = max_retry_s
        self.away_until = 0.0
        self._away_backoff_s = 0.0
        self._retries: dict[str, _Retry] = {}

    # -- the board as a whole -------------------------------------------------------------------

    @property
    def away(self) -> bool:
        return self._away_backoff_s > 0

    def reachable(self, now: float) -> bool:
        """Return whether it is time to talk to the board (it answered, or the pause is over)."""
        return now >= self.away_until

    def board_away(self, now: float, reason: str) -> None:
        """Note that the board gave no usable answer: wait, longer each time, before trying again."""
        first = not self.away
        self._away_backoff_s = 1.0 if first else min(self._away_backoff_s * 2, self.max_backoff_s)
        self.away_until = now + self._away_backoff_s
        if first:
            LOG.warning(
                "the board is not answering (%s); scans wait in %s, trying again with a pause "
                "growing up to %g s",
                reason,
                self.spool.root,
                self.max_backoff_s,
            )

    def board_back(self) -> None:
        if self.away:
            LOG.info("the board at %s answers again", self.client.base_url)
        self._away_backoff_s = 0.0
        self.away_until = 0.0

    # -- scans ----------------------------------------------------------------------------------

    def flush(self) -> int:
        """Send the waiting scans that are due, oldest first; return how many were delivered."""
        now = self.clock()
        if not self.reachable(now):
            return 0
        sent = 0
        suspect: tuple[Path, PostAnswer] | None = None
        for path in self.spool.pending():
            retry = self._retries.get(path.name)
            if retry is not None and retry.next_at > now:
                continue
            body = self._read(path)
            if body is None:
                continue
            try:
                answer = self._post(path, body)
            except ServerUnreachable as exc:
                self.board_away(now, str(exc))
                return sent
            if answer.status >= 500 and suspect is None:
                suspect = (path, answer)  # the next scan tells whether this one is the trouble
                continue
            if answer.status >= 500 or answer.status in COME_BACK_LATER:
                self.board_away(now, f"{answer.status} {answer.message()}")
                return sent
            self.board_back()
            if suspect is not None:
                self._retry_later(*suspect, now=now)
                suspect = None
            self._retries.pop(path.name, None)
            if answer.status in (200, 201):
                self.spool.remove(path)
                sent += 1
            else:
                self.spool.reject(path, f"HTTP {answer.status}: {answer.message()}")
                LOG.warning(
                    "the board refused %s (%s): %s; moved to %s",
                    path.name,
                    answer.status,
                    answer.message(),
                    self.spool.rejected,
                )
        if suspect is not None:
            path, answer = suspect
            if path.name in self._retries:
                self._retry_later(path, answer, now=now)  # it failed alone before
            else:
                # Nothing newer to tell the scan from the server: wait as if the board were away.
                self.board_away(now, f"{answer.status} {answer.message()}")
        return sent

    def _post(self, path: Path, body: dict) -> PostAnswer:
        """Post a scan with its views; when the board refuses them, post the scan without them.

        A view the board will not take must not cost the scan: the views move to ``rejected/``
        with the answer, and the scan goes again on its own.
        """
        try:
            views = self.spool.views(path)
        except (OSError, ValueError) as exc:
            self._set_views_aside(path, f"unreadable views: {exc}")
            views = {}
        answer = self.client.post_scan(body, views)
        if views and 400 <= answer.status < 500 and answer.status not in COME_BACK_LATER:
            self._set_views_aside(path, f"HTTP {answer.status}: {answer.message()}")
            answer = self.client.post_scan(body)
        return answer

    def _set_views_aside(self, path: Path, answer: str) -> None:
        target = self.spool.reject_views(path, answer)
        LOG.warning(
            "the views sent with %s were refused (%s); moved to %s", path.name, answer, target
        )

    def _read(self, path: Path) -> dict | None:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            self.spool.reject(path, f"unreadable spool file: {exc}")
            LOG.warning("spool: %s is unreadable, moved to %s", path.name, self.spool.rejected)
            return None
        return body

    def _retry_later(self, path: Path, answer: PostAnswer, *, now: float) -> None:
        retry = self._retries.setdefault(path.name, _Retry(0, now))
        retry.failures += 1
        wait = min(self.retry_base_s * 2 ** (retry.failures - 1), self.max_retry_s)
        retry.next_at = now + wait
        LOG.warning(
            "the board answered %s to %s (%s; attempt %d); newer scans go first, this one again "
            "in %g s",
            answer.status,
            path.name,
            answer.message(),
            retry.failures,
            wait,
        )
