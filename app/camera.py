"""Watch the wall with a camera: scan the frames that changed and post observations to the board.

The loop is a client of the board's JSON API (docs/contracts.md): it fetches the scanner manifest
from ``GET /api/manifest``, scans frames with the scanner and posts the scan results to
``POST /api/scans``. Scans the server cannot take yet wait in a spool folder, one JSON file per
scan, and are sent later, oldest first.

Photo coordinates are pixels, origin at the top-left pixel's centre, x right, y down. Times are
seconds since the Unix epoch (UTC) as the injected clock returns them; scan ids carry them in
milliseconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

LOG = logging.getLogger("openspaces.camera")

# Thumbnail for change detection: width in pixels, blur in thumbnail pixels, and the grey-level
# step that counts a thumbnail pixel as changed. Measured on photographed 1080p frames of a 2.1 m
# board: sensor noise (sigma 2 to 8 levels) and JPEG at quality 70 move no pixel by more than 3
# levels, so no pixel counts as changed.
THUMB_WIDTH = 320
THUMB_BLUR_SIGMA = 1.0
THUMB_LEVEL_STEP = 12
# The frame changed when at least this fraction of thumbnail pixels changed. On that board,
# taking one 76 mm sticky off changes 0.15 % of the thumbnail and moving one 0.27 %; a person in
# front 5 %. A third of the smallest change leaves room for smaller stickies or a wider view.
CHANGE_FRACTION = 0.0005

MANIFEST_REFRESH_S = 300.0
HTTP_TIMEOUT_S = 10.0
MAX_BACKOFF_S = 30.0
# The frame size asked of a webcam (device index); the driver may give less.
DEVICE_SIZE = (1920, 1080)
# A live source with no new frame for this long counts as lost.
LIVE_FRAME_TIMEOUT_S = 10.0


class CameraError(Exception):
    """The camera loop cannot go on: a refused token, a video that will not open, a bad answer."""


class ServerUnreachable(Exception):
    """The server did not take the request now (refused, timed out, 5xx); try again later."""


# ----------------------------------------------------------------------------------------------
# Frames


def parse_source(text: str) -> int | str:
    """Return a device index for a number such as ``0``, else the path or URL unchanged."""
    text = text.strip()
    return int(text) if text.isdigit() else text


def is_stream_url(text: str) -> bool:
    return re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE) is not None


class _Grabber(threading.Thread):
    """Grab a live source's frames as they come, and decode the one after each request.

    A live source queues frames while nobody reads them (in the driver, in FFmpeg, in the TCP
    window), so a frame read after a pause would be seconds old. Grabbing all the time keeps the
    queue empty; only the frame that follows a request is decoded.
    """

    def __init__(self, capture) -> None:
        super().__init__(name="camera-grabber", daemon=True)
        self.capture = capture
        self.stopping = threading.Event()
        self.wanted = threading.Event()
        self.ready = threading.Event()
        self.frame = None
        self.failed = False

    def run(self) -> None:
        while not self.stopping.is_set():
            if not self.capture.grab():
                self.failed = True
                self.frame = None
                self.ready.set()
                return
            if self.wanted.is_set():
                ok, frame = self.capture.retrieve()
                self.frame = frame if ok else None
                self.wanted.clear()
                self.ready.set()

    def latest(self, timeout_s: float):
        """Return the next frame, or None when the source failed or sent nothing in time."""
        if self.failed:
            return None
        self.ready.clear()
        self.wanted.set()
        if not self.ready.wait(timeout_s):
            return None
        return self.frame


class FrameSource:
    """Read frames from a device index, a video file or a stream URL (RTSP, HTTP MJPEG).

    A video file is read at video time: each `read()` moves `every_s` seconds of video further
    and returns None at its end. A live source (device or URL) returns its newest frame, and None
    when the source failed; `open()` connects again.
    """

    def __init__(
        self, source: str, *, every_s: float, frame_timeout_s: float = LIVE_FRAME_TIMEOUT_S
    ) -> None:
        self.source = source
        self.target = parse_source(source)
        self.live = isinstance(self.target, int) or is_stream_url(source)
        self.every_s = every_s
        self.frame_timeout_s = frame_timeout_s
        self.capture = None
        self.grabber: _Grabber | None = None
        self.frames_read = 0
        self.video_s = 0.0

    def open(self) -> bool:
        """Open the source; return whether it delivers frames."""
        import cv2

        self.release()
        if not self.live and not Path(self.target).is_file():
            raise CameraError(f"no such video file: {self.source}")
        capture = cv2.VideoCapture(self.target)
        if not capture.isOpened():
            capture.release()
            if not self.live:
                raise CameraError(f"cannot open the video file {self.source}")
            return False
        if isinstance(self.target, int):
            # Webcams open at 640 x 480, where a 25 mm marker on a 2 m board is too small to read.
            # Ask for 1080p as MJPG (raw 1080p does not fit through USB 2 at a usable rate); the
            # driver picks the nearest size it has.
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, DEVICE_SIZE[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, DEVICE_SIZE[1])
            width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
            height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
            LOG.info("camera %s opened at %d x %d", self.source, width, height)
        self.capture = capture
        if self.live:
            self.grabber = _Grabber(capture)
            self.grabber.start()
        return True

    def release(self) -> None:
        grabber, self.grabber = self.grabber, None
        if grabber is not None:
            grabber.stopping.set()
            grabber.join(self.frame_timeout_s)
            if grabber.is_alive():
                # Still blocked inside the backend: releasing under it would crash the process.
                LOG.warning("the camera did not stop in time; leaving it to the backend")
                self.capture = None
                return
        if self.capture is not None:
            self.capture.release()
            self.capture = None

    def read(self):
        """Return the next BGR frame to scan, or None (end of the video, or the live read failed)."""
        import cv2

        if self.capture is None:
            return None
        if self.grabber is not None:
            return self.grabber.latest(self.frame_timeout_s)
        return self._read_video(cv2)

    def _read_video(self, cv2):
        fps = self.capture.get(cv2.CAP_PROP_FPS) or 25.0
        if self.frames_read == 0:
            skip = 0
        else:
            # The frame at video time k * every_s: grab up to it, decode only that one.
            target = round((self.video_s + self.every_s) * fps)
            skip = target - round(self.video_s * fps) - 1
            self.video_s += self.every_s
        for _ in range(max(skip, 0)):
            if not self.capture.grab():
                return None
        ok, frame = self.capture.read()
        if not ok or frame is None:
            return None
        self.frames_read += 1
        return frame


def thumbnail(frame):
    """Return a small blurred grayscale copy of a BGR frame for change detection (int16)."""
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    h, w = grey.shape[:2]
    size = (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w)))
    small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (0, 0), THUMB_BLUR_SIGMA).astype("int16")


def changed_fraction(a, b) -> float:
    """Return the fraction of thumbnail pixels whose grey level moved by more than the step."""
    import numpy as np

    if a is None or b is None or a.shape != b.shape:
        return 1.0
    return float(np.mean(np.abs(a - b) > THUMB_LEVEL_STEP))


# ----------------------------------------------------------------------------------------------
# The server and the spool


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


class Spool:
    """Keep scans that wait for the server: one JSON file each, named so that they sort in order.

    A file is named ``<unix-ms, 13 digits>-<camera>.json``. Scans the server refused with 422 go
    to ``rejected/`` beside a ``.txt`` file with the server's message.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.rejected = self.root / "rejected"

    def add(self, body: dict, *, unix_ms: int, camera: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{unix_ms:013d}-{camera}.json"
        partial = path.with_suffix(".part")
        # Write then rename: a crash never leaves half a scan that looks complete.
        partial.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)
        return path

    def pending(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob("*.json"))

    def reject(self, path: Path, message: str) -> Path:
        self.rejected.mkdir(parents=True, exist_ok=True)
        target = self.rejected / path.name
        os.replace(path, target)
        target.with_suffix(".txt").write_text(message + "\n", encoding="utf-8")
        return target


# ----------------------------------------------------------------------------------------------
# The loop


@dataclass(frozen=True)
class StepReport:
    """Describe one tick of the loop: what was seen and what became of the scan.

    `outcome` is ``posted``, ``spooled``, ``skipped`` (observations unchanged), ``unchanged``
    (frame unchanged, not scanned), ``camera-lost``, ``no-manifest`` or ``scan-failed``. `time`
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
    note: str = ""

    def line(self) -> str:
        """Return the log line: time, stickies seen, placed/off-grid, hidden cells, ms, outcome."""
        stamp = self.time.strftime("%Y-%m-%d %H:%M:%S")
        if self.outcome in ("camera-lost", "no-manifest", "scan-failed"):
            return f"{stamp}  {self.outcome}: {self.note}"
        what = {
            "posted": f"posted {self.scan_id}" + (" (heartbeat)" if self.heartbeat else ""),
            "spooled": f"spooled {self.scan_id}, {self.waiting} waiting"
            + (" (heartbeat)" if self.heartbeat else ""),
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
    these confirmations make that take seconds instead of heartbeats. Every scan to send goes through the spool, so that scans reach
    the server in the order they were taken, each once. `clock` returns Unix seconds and
    `sleep` waits; tests inject both.
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
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.client = client
        self.spool = spool
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
        self.clock = clock
        self.sleep = sleep
        self._manifest = None
        self._manifest_at: float | None = None
        if manifest is not None:
            self._set_manifest(manifest)
        self._opened = False
        self._backoff_s = 1.0
        self._last_thumb = None
        self._last_result: dict | None = None
        self._last_key: tuple | None = None
        self._last_sent: float | None = None
        self._last_ms = 0
        self.frames = 0
        self.scans = 0

    # -- manifest -------------------------------------------------------------------------------

    def _set_manifest(self, data: dict) -> None:
        import scanner

        try:
            self._manifest = scanner.Manifest.from_dict(data)
        except scanner.ScanError as exc:
            raise CameraError(f"the manifest does not fit the scanner: {exc}") from None

    def _refresh_manifest(self, now: float) -> str:
        """Fetch the manifest when due; return a note for the log when it failed."""
        if self.fixed_manifest:
            return ""
        if self._manifest_at is not None and now - self._manifest_at < self.manifest_refresh_s:
            return ""
        try:
            data = self.client.manifest()
        except ServerUnreachable as exc:
            # Keep scanning with the manifest we have; ask again on the next step.
            return f"manifest not refreshed: {exc}"
        self._set_manifest(data)
        self._manifest_at = now
        # New rooms, slots or stickies change what a scan can see: scan the next frame.
        self._last_thumb = None
        return ""

    # -- spool ----------------------------------------------------------------------------------

    def flush(self) -> int:
        """Send spooled scans, oldest first, until the server stops answering; return how many."""
        sent = 0
        for path in self.spool.pending():
            try:
                body = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                self.spool.reject(path, f"unreadable spool file: {exc}")
                LOG.warning("spool: %s is unreadable, moved to rejected/", path.name)
                continue
            try:
                answer = self.client.post_scan(body)
            except ServerUnreachable:
                break
            if answer.status in (200, 201):
                path.unlink()
                sent += 1
            elif answer.status in (400, 413, 422):
                message = answer.body.get("error") or f"HTTP {answer.status}"
                self.spool.reject(path, message)
                LOG.warning("server rejected %s (%s): %s", path.name, answer.status, message)
            else:
                # 404 (no event loaded yet) and the like: keep it and try again later.
                LOG.warning("server answered %s to %s; kept in the spool", answer.status, path.name)
                break
        return sent

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

    def step(self) -> StepReport | None:
        """Read, scan and post one frame; return what happened, None at the end of a video."""
        import scanner

        now = self.clock()
        manifest_note = self._refresh_manifest(now)
        delivered = self.flush()
        if self._manifest is None:
            note = manifest_note or "no manifest"
            return self._log(StepReport(self._now_dt(now), "no-manifest", note=note))
        lost = self._connect(now)
        if lost is not None:
            return self._log(lost)
        frame = self.source.read()
        if frame is None:
            if not self.source.live:
                return None
            self._opened = False
            self.source.release()
            note = f"lost {self.source.source}; reconnecting in {self._backoff_s:g} s"
            self.sleep(self._backoff_s)
            self._backoff_s = min(self._backoff_s * 2, self.max_backoff_s)
            return self._log(StepReport(self._now_dt(now), "camera-lost", note=note))
        self.frames += 1

        heartbeat_due = self._last_sent is None or now - self._last_sent >= self.heartbeat_s
        thumb = thumbnail(frame)
        frame_changed = changed_fraction(thumb, self._last_thumb) >= self.change_fraction
        scan_ms = 0.0
        if frame_changed or self._last_result is None:
            started = time.perf_counter()
            try:
                result = scanner.scan(frame, self._manifest, decoder=self.decoder).to_dict()
            except scanner.ScanError as exc:
                note = f"frame not scanned: {exc}"
                return self._log(StepReport(self._now_dt(now), "scan-failed", note=note))
            scan_ms = (time.perf_counter() - started) * 1000
            self._last_thumb = thumb
            self._last_result = result
            self.scans += 1
        else:
            result = self._last_result
        key = observation_key(result)
        counts = _counts(result)
        if key == self._last_key and not heartbeat_due and self._confirm_left == 0:
            outcome = "skipped" if frame_changed else "unchanged"
            report = StepReport(
                self._now_dt(now), outcome, scan_ms=scan_ms, delivered=delivered, **counts
            )
            return self._log(report, manifest_note)

        unix_ms = max(int(now * 1000), self._last_ms + 1)
        self._last_ms = unix_ms
        scan_id = f"{self.name}-{unix_ms}"
        path = self.spool.add({**result, "scan_id": scan_id}, unix_ms=unix_ms, camera=self.name)
        delivered += self.flush()
        if key != self._last_key:
            self._confirm_left = self.confirm_scans if self._last_key is not None else 0
            heartbeat = False
        elif self._confirm_left and not heartbeat_due:
            self._confirm_left -= 1
            heartbeat = False
        else:
            heartbeat = True
        self._last_key = key
        self._last_sent = now
        report = StepReport(
            self._now_dt(now),
            "spooled" if path.exists() else "posted",
            scan_ms=scan_ms,
            scan_id=scan_id,
            heartbeat=heartbeat,
            delivered=delivered,
            waiting=len(self.spool.pending()),
            **counts,
        )
        return self._log(report, manifest_note)

    def _log(self, report: StepReport, note: str = "") -> StepReport:
        if note:
            report = dataclasses.replace(report, note=note)
        LOG.info("%s", report.line())
        return report

    def run(self, *, max_frames: int | None = None, realtime: bool = False) -> int:
        """Step until the video ends or `max_frames` frames were taken; return the frames taken.

        Live sources wait `every_s` between the starts of two ticks; video files wait only when
        `realtime` is set, so that a recorded wall plays back as a live camera would see it.
        """
        try:
            while max_frames is None or self.frames < max_frames:
                started = self.clock()
                if self.step() is None:
                    break
                if self.source.live or realtime:
                    self.sleep(max(0.0, self.every_s - (self.clock() - started)))
        finally:
            self.source.release()
        return self.frames


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
