"""Several server processes on one PostgreSQL: a change through one reaches live pages on all."""

import http.client
import json
import threading
import time

import pytest

pytestmark = pytest.mark.slow


def wait_until_up(server, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", "/board/grid")
            response = conn.getresponse()
            response.read()
            if response.status == 200 and len(server.worker_pids()) == 2:
                return response.getheader("ETag").strip('"')
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not start:\n" + server.stop())


class Stream:
    """One live page's event stream: notes when a board event other than ``version`` arrives."""

    def __init__(self, port: int, version: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.conn.request("GET", f"/board/events?v={version}")
        self.response = self.conn.getresponse()
        self.local_port = self.conn.sock.getsockname()[1]
        self.changed_at: float | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.response:
                if line.startswith(b"event: board"):
                    self.changed_at = time.monotonic()
                    return
        except (OSError, AttributeError, ValueError):
            return  # closed by the test

    def close(self) -> None:
        self.conn.close()


def test_change_through_one_worker_reaches_streams_on_every_worker(workers_server):
    server = workers_server
    version = wait_until_up(server)
    streams: list[Stream] = []
    holders: dict[int, int] = {}
    # The kernel hands each connection to one worker: open streams until both workers hold some.
    while len(holders) < 2 and len(streams) < 40:
        stream = Stream(server.port, version)
        streams.append(stream)
        time.sleep(0.05)
        pid = server.worker_of(stream.local_port)
        if pid is not None:
            holders[pid] = holders.get(pid, 0) + 1
    try:
        assert len(holders) == 2
        room, slot = server.manifest["rooms"][0]["name"], server.manifest["slots"][0]["start"]
        body = {
            "scan_id": "two-workers-1",
            "board_found": True,
            "warnings": [],
            "hidden_cells": [],
            "stickies": [{"code": server.codes[0], "room": room, "slot": slot, "via": "marker"}],
        }
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request(
            "POST",
            "/api/scans",
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"},
        )
        posted = conn.getresponse()
        assert posted.status == 201, posted.read()
        sent = time.monotonic()
        poster = server.worker_of(conn.sock.getsockname()[1])
        for stream in streams:
            stream.thread.join(timeout=max(0.0, sent + 2.0 - time.monotonic()))
        late = [s.local_port for s in streams if s.changed_at is None or s.changed_at - sent > 2.0]
        assert late == []
        assert poster in holders
        assert sum(n for pid, n in holders.items() if pid != poster) >= 1
    finally:
        for stream in streams:
            stream.close()
