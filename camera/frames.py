"""Read frames from a webcam, a video file or a stream, and tell whether the wall changed.

Photo coordinates are pixels, origin at the top-left pixel's centre, x right, y down. OpenCV is
imported inside the functions that need it, so that importing the package stays fast.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from camera.errors import CameraError

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

# The frame size asked of a webcam (device index); the driver may give less.
DEVICE_SIZE = (1920, 1080)
# A live source with no new frame for this long counts as lost.
LIVE_FRAME_TIMEOUT_S = 10.0


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
