"""Frames: change detection on photographed walls, and live sources that drop or never come."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
from camera_wall import expected, layouts, wall_for

from camera import (
    CHANGE_FRACTION,
    CameraLoop,
    FrameSource,
    ScanClient,
    Spool,
    changed_fraction,
    thumbnail,
)


def test_thumbnail_noise_unchanged_moved_sticky_changed(wall_event):
    wall = wall_for(wall_event)
    layout = layouts(wall_event)[0]
    moved = layouts(wall_event)[1]
    base = thumbnail(wall.photo(layout, seed=1))
    assert changed_fraction(base, thumbnail(wall.photo(layout, seed=2))) == 0.0
    assert changed_fraction(base, thumbnail(wall.photo(moved, seed=2))) > 20 * CHANGE_FRACTION


class MjpegStream:
    """Serve JPEG frames as multipart/x-mixed-replace at 20 frames per second, as a phone app does."""

    def __init__(self, photo: np.ndarray) -> None:
        self.jpeg = cv2.imencode(".jpg", photo)[1].tobytes()
        self.drop = threading.Event()
        stream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                while not stream.drop.is_set():
                    part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                    try:
                        self.wfile.write(part % len(stream.jpeg) + stream.jpeg + b"\r\n")
                    except OSError:
                        return
                    time.sleep(0.05)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/video"

    def close(self) -> None:
        self.drop.set()
        self.server.shutdown()
        self.server.server_close()


def test_camera_loop_stream_that_drops_is_reopened(live_server, wall_event, clock, tmp_path):
    wall = wall_for(wall_event)
    first, second = layouts(wall_event)[:2]
    stream = MjpegStream(wall.photo(first))
    loop = CameraLoop(
        source=FrameSource(stream.url, every_s=5.0),
        client=ScanClient(base_url=live_server.url, token=wall_event["token"], timeout_s=5),
        spool=Spool(tmp_path / "spool"),
        name="phone",
        clock=clock,
        sleep=clock.sleep,
    )
    try:
        assert loop.step().outcome == "posted"
        assert live_server.board() == expected(first)
        # The phone app restarts with the sticky moved: the open connection ends.
        stream.drop.set()
        loop.source.grabber.join(5.0)  # the grabber has seen the stream end
        lost = loop.step()
        assert (lost.outcome, lost.note) == (
            "camera-lost",
            f"lost {stream.url}; reconnecting in 1 s",
        )
        stream.jpeg = cv2.imencode(".jpg", wall.photo(second))[1].tobytes()
        stream.drop.clear()
        assert loop.step().outcome == "posted"
        assert live_server.board() == expected(second)
        assert clock.sleeps == [1.0]
    finally:
        loop.source.release()
        stream.close()


def test_camera_loop_absent_source_backs_off(
    live_server, wall_event, clock, free_port, scan_ids, tmp_path
):
    loop = CameraLoop(
        source=FrameSource(f"http://127.0.0.1:{free_port}/video", every_s=5.0),
        client=ScanClient(base_url=live_server.url, token=wall_event["token"], timeout_s=5),
        spool=Spool(tmp_path / "spool"),
        clock=clock,
        sleep=clock.sleep,
        max_backoff_s=4.0,
    )
    outcomes = [loop.step().outcome for _ in range(4)]
    assert outcomes == ["camera-lost"] * 4
    assert clock.sleeps == [1.0, 2.0, 4.0, 4.0]
    assert scan_ids() == []
