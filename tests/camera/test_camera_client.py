"""The camera's HTTP client: a refused token stops the loop, a server error keeps the scan."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from camera import CameraError


def test_camera_loop_wrong_token_stops_with_message(live_server, make_loop, tmp_path):
    loop = make_loop(live_server, tmp_path / "never-opened.avi", token="not-a-token")
    with pytest.raises(CameraError, match=r"refused the token \(401\)"):
        loop.step()


def test_camera_loop_server_error_keeps_scan_in_spool(make_loop, tmp_path):
    class Unavailable(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    busy = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    threading.Thread(target=busy.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{busy.server_port}"
        loop = make_loop(url, tmp_path / "never-opened.avi", token="t", name="camera")
        body = {"scan_id": "camera-1", "board_found": False, "stickies": [], "hidden_cells": []}
        path = loop.spool.add(body, unix_ms=1, camera="camera")
        assert loop.flush() == 0
        assert loop.spool.pending() == [path]
    finally:
        busy.shutdown()
        busy.server_close()
