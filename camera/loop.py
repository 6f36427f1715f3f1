"""The camera loop: take a frame, scan it when the wall changed, send what changed to the board.

Times are seconds since the Unix epoch (UTC) as the injected clock returns them; scan ids carry
them in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camera.client import ScanClient
from camera.delivery import MAX_BACKOFF_S, Delivery
from camera.errors import CameraError, ServerUnreachable
from camera.frames import CHANGE_FRACTION, FrameSource, changed_fraction, thumbnail
from camera.spool import Spool, View
from camera.views import MAX_VIEWS_BYTES, MAX_VIEWS_PER_SCAN, ViewPicker

LOG = logging.getLogger("openspaces.camera")

MANIFEST_REFRESH_S = 300.0


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return e.g. "1 room", "3 rooms", "0 stickies": the count with the noun that fits it.

    The camera's copy of the board's ``app.services.text.plural``: a camera machine runs without
    the web app, so it cannot import that one.
    """
    if count == 1:
        return f"{count} {singular}"
    if plural_form is None:
        if singular.endswith("y") and singular[-2:-1] not in "aeiou":
            plural_form = singular[:-1] + "ies"
        elif singular.endswith(("s", "x", "ch", "sh")):
            plural_form = singular + "es"
        else:
            plural_form = singular + "s"
    return f"{count} {plural_form}"


@dataclass(frozen=True)
class StepReport:
    """Describe one tick of the loop: what was seen and what became of the scan.

    `outcome` is ``posted``, ``spooled``, ``lost`` (the spool cannot be written and the board did
    not take it), ``skipped`` (observations unchanged), ``unchanged`` (frame unchanged, not
    scanned), ``camera-lost``, ``no-manifest`` or ``scan-failed``. `time`
    is UTC.
    """

    time: dt.datetime
    outcome: str
    seen: int = 0
    placed: int = 0
    off_grid: int = 0
    hidden: int = 0
    scan_ms: float = 0.0
    scan_id: str | None = None
    heartbeat: bool = False
    delivered: int = 0
    waiting: int = 0
    views: int = 0
    note: str = ""

    def line(self) -> str:
        """Return the log line: time, stickies seen, placed/off-grid, hidden cells, ms, outcome."""
        stamp = self.time.strftime("%Y-%m-%d %H:%M:%S")
        if self.outcome in ("camera-lost", "no-manifest", "scan-failed"):
            return f"{stamp}  {self.outcome}: {self.note}"
        extra = " (heartbeat)" if self.heartbeat else ""
        if self.views:
            extra += f" with {plural(self.views, 'sticky view')}"
        what = {
            "posted": f"posted {self.scan_id}{extra}",
            "spooled": f"spooled {self.scan_id}{extra}, {self.waiting} waiting",
            "lost": f"lost {self.scan_id}: neither spooled nor taken by the board",
            "skipped": "skipped (unchanged observations)",
            "unchanged": "skipped (unchanged frame)",
        }[self.outcome]
        text = (
            f"{stamp}  seen {self.seen}  placed {self.placed}  off-grid {self.off_grid}  "
            f"hidden {self.hidden}  {self.scan_ms:.0f} ms  {what}"
        )
        earlier = self.delivered - (1 if self.outcome == "posted" else 0)
        if earlier > 0:
            text += f"; {earlier} earlier from the spool"
        return text + (f"  [{self.note}]" if self.note else "")


def observation_key(result: dict) -> tuple:
    """Return what a scan says about the board, ignoring x/y jitter and warnings."""
    return (
        result["board_found"],
        tuple(sorted((s["code"], s["room"] or "", s["slot"] or "") for s in result["stickies"])),
        tuple(sorted(tuple(c) for c in result["hidden_cells"])),
    )


def safe_camera_name(name: str) -> str:
    """Return `name` reduced to letters, digits, dot, dash and underscore, for ids and files."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    if not cleaned:
        raise CameraError(f"the camera name {name!r} has no letters or digits")
    return cleaned[:60]


class CameraLoop:
    """Scan frames from a source and keep the board's server up to date.

    Each `step()` reads one frame, skips it when it looks like the last scanned one, scans it,
    and posts the observations when they differ from the last ones sent or when `heartbeat_s`
    passed since the last post. After a change it posts `confirm_scans` more scans even when
    they match: the server takes a sticky off only after several scans in a row miss it, and
    these confirmations make that take seconds instead of heartbeats. Every scan to send goes
    through the spool and carries the time it was captured, so that it reaches the server once
    and in order even when the server is away for a while (camera/delivery.py).

    The manifest comes from `manifest`, else from the server every `manifest_refresh_s`; the last
    one fetched is kept in the spool, so that a loop started while the server is away scans with
    it. With no manifest at all, a step waits for the server instead of reading a frame.

    `clock` returns Unix seconds and `sleep` waits; tests inject both.
    """

    def __init__(
        self,
        *,
        source: FrameSource,
        client: ScanClient,
        spool: Spool,
        name: str = "camera",
        every_s: float = 5.0,
        heartbeat_s: float = 60.0,
        confirm_scans: int = 2,
        manifest: dict | None = None,
        manifest_refresh_s: float = MANIFEST_REFRESH_S,
        change_fraction: float = CHANGE_FRACTION,
        max_backoff_s: float = MAX_BACKOFF_S,
        decoder: str = "auto",
        send_views: bool = True,
        max_views_per_scan: int = MAX_VIEWS_PER_SCAN,
        max_views_bytes: int = MAX_VIEWS_BYTES,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.client = client
        self.spool = spool
        self.delivery = Delivery(
            client=client, spool=spool, clock=clock, max_backoff_s=max_backoff_s
        )
        self.name = safe_camera_name(name)
        self.every_s = every_s
        self.heartbeat_s = heartbeat_s
        self.confirm_scans = confirm_scans
        self._confirm_left = 0
        self.fixed_manifest = manifest is not None
        self.manifest_refresh_s = manifest_refresh_s
        self.change_fraction = change_fraction
        self.max_backoff_s = max_backoff_s
        self.decoder = decoder
        self.views = (
            ViewPicker(max_per_scan=max_views_per_scan, max_bytes=max_views_bytes)
            if send_views
            else None
        )
        self._last_spool_trouble = ""
        self.clock = clock
        self.sleep = sleep
        self._manifest = None
        self._manifest_at: float | None = None
        self._waiting_for_manifest = False
        if manifest is not None:
            self._set_manifest(manifest)
        self._opened = False
        self._backoff_s = 1.0
        self._last_thumb = None
        self._last_view = None
        self._last_result: dict | None = None
        self._last_key: tuple | None = None
        self._last_sent: float | None = None
        self._last_ms = 0
        self.ticks = 0
        self.frames = 0
        self.scans = 0

    # -- manifest -------------------------------------------------------------------------------

    def _set_manifest(self, data: dict) -> None:
        import scanner

        try:
            self._manifest = scanner.Manifest.from_dict(data)
        except scanner.ScanError as exc:
            raise CameraError(f"the manifest does not fit the scanner: {exc}") from None
        # New rooms, slots or stickies change what a scan can see: scan the next frame afresh.
        self._last_thumb = None
        self._last_view = None

    def _refresh_manifest(self, now: float) -> None:
        """Fetch the manifest when due and the server is worth asking; keep it in the spool."""
        if self.fixed_manifest or not self.delivery.reachable(now):
            return
        if self._manifest_at is not None and now - self._manifest_at < self.manifest_refresh_s:
            return
        try:
            data = self.client.manifest()
        except ServerUnreachable as exc:
            self.delivery.board_away(now, str(exc))
            if self._manifest is None:
                self._use_kept_manifest(str(exc))
            return
        self.delivery.board_back()
        self._set_manifest(data)
        try:
            self.spool.keep_manifest(data)
        except OSError as exc:
            self._spool_trouble(f"cannot keep the manifest in {self.spool.root}: {exc}")
        if self._manifest_at is None:
            LOG.info(
                "manifest from %s: %s, %s, %s",
                self.client.base_url,
                plural(len(data.get("rooms", [])), "room"),
                plural(len(data.get("slots", [])), "slot"),
                plural(len(data.get("stickies", [])), "sticky"),
            )
        self._manifest_at = now
        self._waiting_for_manifest = False

    def _use_kept_manifest(self, reason: str) -> None:
        kept = self.spool.cached_manifest()
        if kept is None:
            return
        data, fetched = kept
        try:
            self._set_manifest(data)
        except CameraError as exc:
            LOG.warning("the manifest kept in %s is no use: %s", self.spool.manifest_path, exc)
            return
        LOG.warning(
            "no manifest from the board (%s); scanning with the one kept in %s, fetched %s UTC, "
            "until the board answers",
            reason,
            self.spool.manifest_path,
            fetched.strftime("%Y-%m-%d %H:%M:%S"),
        )

    def _wait_for_manifest(self, now: float) -> StepReport:
        """Wait for the server with a growing pause; say so in the log once, not every time."""
        wait = max(self.delivery.away_until - now, 1.0)
        first = not self._waiting_for_manifest
        self._waiting_for_manifest = True
        self.sleep(wait)
        note = (
            f"cannot fetch the manifest from {self.client.base_url}/api/manifest and none is "
            f"kept in {self.spool.root}; waiting for the board, trying again with a pause "
            f"growing up to {self.max_backoff_s:g} s"
        )
        report = StepReport(self._now_dt(now), "no-manifest", note=note)
        return self._log(report) if first else report

    # -- spool ----------------------------------------------------------------------------------

    def flush(self) -> int:
        """Send the spooled scans that are due, oldest first; return how many were delivered."""
        return self.delivery.flush()

    # -- one tick -------------------------------------------------------------------------------

    def _now_dt(self, now: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(now, dt.UTC)

    def _connect(self, now: float) -> StepReport | None:
        """Open the source if needed; return a report when the camera is not there."""
        if self._opened:
            return None
        if self.source.open():
            self._opened = True
            self._backoff_s = 1.0
            return None
        wait = self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, self.max_backoff_s)
        note = f"cannot open {self.source.source}; trying again in {wait:g} s"
        self.sleep(wait)
        return StepReport(self._now_dt(now), "camera-lost", note=note)

    def _lost(self, now: float) -> StepReport:
        self._opened = False
        self.source.release()
        note = f"lost {self.source.source}; reconnecting in {self._backoff_s:g} s"
        self.sleep(self._backoff_s)
        self._backoff_s = min(self._backoff_s * 2, self.max_backoff_s)
        return StepReport(self._now_dt(now), "camera-lost", note=note)

    def step(self) -> StepReport | None:
        """Read, scan and post one frame; return what happened, None at the end of a video."""
        now = self.clock()
        self.ticks += 1
        self._refresh_manifest(now)
        delivered = self.flush()
        if self._manifest is None:
            return self._wait_for_manifest(now)
        lost = self._connect(now)
        if lost is not None:
            return self._log(lost)
        frame = self.source.read()
        if frame is None:
            if not self.source.live:
                self.ticks -= 1
                return None
            return self._log(self._lost(now))
        self.frames += 1
        return self._scan_and_send(frame, now, delivered)

    def _scan_and_send(self, frame, now: float, delivered: int) -> StepReport:
        import scanner

        heartbeat_due = self._last_sent is None or now - self._last_sent >= self.heartbeat_s
        thumb = thumbnail(frame)
        frame_changed = changed_fraction(thumb, self._last_thumb) >= self.change_fraction
        scan_ms = 0.0
        views: dict[str, View] = {}
        if frame_changed or self._last_result is None:
            started = time.perf_counter()
            try:
                scanned = scanner.scan(
                    frame, self._manifest, decoder=self.decoder, previous=self._last_view
                )
            except scanner.ScanError as exc:
                note = f"frame not scanned: {exc}"
                return self._log(StepReport(self._now_dt(now), "scan-failed", note=note))
            scan_ms = (time.perf_counter() - started) * 1000
            result = scanned.to_dict()
            # A fixed camera remembers where it saw the board: a header card someone stands in
            # front of now is where it was (the scanner checks that the camera has not moved).
            self._last_view = scanned.view
            if self.views is not None:
                views = self.views.better_views(frame, self._manifest, scanned)
            self._last_thumb = thumb
            self._last_result = result
            self.scans += 1
        else:
            result = self._last_result
        key = observation_key(result)
        counts = _counts(result)
        quiet = key == self._last_key and not heartbeat_due and self._confirm_left == 0
        if quiet and not views:
            outcome = "skipped" if frame_changed else "unchanged"
            report = StepReport(
                self._now_dt(now), outcome, scan_ms=scan_ms, delivered=delivered, **counts
            )
            return self._log(report)

        unix_ms = max(int(now * 1000), self._last_ms + 1)
        self._last_ms = unix_ms
        scan_id = f"{self.name}-{unix_ms}"
        body = {**result, "scan_id": scan_id, "captured_dt": captured_dt(unix_ms)}
        outcome, sent = self._send(body, views, unix_ms=unix_ms, now=now)
        delivered += sent
        if self.views is not None:
            self.views.sent(views)
        if key != self._last_key:
            self._confirm_left = self.confirm_scans if self._last_key is not None else 0
            heartbeat = False
        elif self._confirm_left and not heartbeat_due:
            self._confirm_left -= 1
            heartbeat = False
        else:
            heartbeat = not quiet  # a post for better views alone is no heartbeat
        self._last_key = key
        self._last_sent = now
        report = StepReport(
            self._now_dt(now),
            outcome,
            scan_ms=scan_ms,
            scan_id=scan_id,
            heartbeat=heartbeat,
            delivered=delivered,
            waiting=len(self.spool.pending()),
            views=len(views),
            **counts,
        )
        return self._log(report)

    def _send(self, body: dict, views: dict[str, View], *, unix_ms: int, now: float):
        """Spool a scan and deliver what is due; return the outcome and how many were delivered.

        A spool that cannot be written (a full disk, a folder gone) must not stop the camera: the
        scan goes straight to the board, and is lost only when the board does not take it either.
        """
        try:
            path = self.spool.add(body, unix_ms=unix_ms, camera=self.name, views=views)
        except OSError as exc:
            self._spool_trouble(f"cannot write the spool {self.spool.root}: {exc}")
            return self._post_unspooled(body, views, now=now), 0
        delivered = self.flush()
        return ("spooled" if path.exists() else "posted"), delivered

    def _post_unspooled(self, body: dict, views: dict[str, View], *, now: float) -> str:
        if not self.delivery.reachable(now):
            return "lost"
        try:
            answer = self.client.post_scan(body, views)
        except ServerUnreachable as exc:
            self.delivery.board_away(now, str(exc))
            return "lost"
        if answer.status in (200, 201):
            self.delivery.board_back()
            return "posted"
        LOG.warning(
            "the board answered %s to %s: %s", answer.status, body["scan_id"], answer.message()
        )
        return "lost"

    def _spool_trouble(self, message: str) -> None:
        # Once per kind of trouble, not on every tick.
        if message != self._last_spool_trouble:
            LOG.error("%s; posting straight to the board, scans it does not take are lost", message)
            self._last_spool_trouble = message

    def _log(self, report: StepReport) -> StepReport:
        LOG.info("%s", report.line())
        return report

    def run(self, *, max_ticks: int | None = None, realtime: bool = False) -> int:
        """Step until the video ends or `max_ticks` ticks passed; return the frames taken.

        A tick takes a frame, or waits for the camera or for the manifest. Live sources wait
        `every_s` between the starts of two ticks; video files wait only when `realtime` is set,
        so that a recorded wall plays back as a live camera would see it.
        """
        try:
            while max_ticks is None or self.ticks < max_ticks:
                started = self.clock()
                if self.step() is None:
                    break
                if self.source.live or realtime:
                    self.sleep(max(0.0, self.every_s - (self.clock() - started)))
        finally:
            self.source.release()
        return self.frames


def captured_dt(unix_ms: int) -> str:
    """Return a capture time as ``POST /api/scans`` takes it: UTC ISO 8601 with ms and ``Z``."""
    moment = dt.datetime.fromtimestamp(unix_ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{unix_ms % 1000:03d}Z"


def _counts(result: dict) -> dict[str, int]:
    placed = sum(1 for s in result["stickies"] if s["room"] is not None)
    return {
        "seen": len(result["stickies"]),
        "placed": placed,
        "off_grid": len(result["stickies"]) - placed,
        "hidden": len(result["hidden_cells"]),
    }


def load_manifest_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the manifest JSON written by ``openspaces manifest -o FILE``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CameraError(f"cannot read the manifest {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CameraError(f"the manifest {path} is not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise CameraError(f"the manifest {path} is not a JSON object")
    return data
