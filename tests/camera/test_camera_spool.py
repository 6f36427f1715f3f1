"""Scans that wait for the board: kept while it is away, delivered once, set aside when refused."""

from __future__ import annotations

from camera_wall import expected, layouts

from camera import Spool


def test_camera_loop_server_down_spools_and_delivers_each_scan_once(
    live_server, wall_event, video, clock, make_loop, scan_ids, tmp_path
):
    # A heartbeat on every tick: each of the ten frames is a scan to deliver.
    loop = make_loop(live_server, video, heartbeat_s=5.0)
    reports = []

    def tick():
        reports.append(loop.step())
        clock.now += 5.0

    tick()
    tick()
    live_server.stop()
    for _ in range(5):
        tick()
    spool = Spool(tmp_path / "spool")
    assert [r.outcome for r in reports] == ["posted"] * 2 + ["spooled"] * 5
    assert [p.name for p in spool.pending()] == [
        f"{int((clock.now - 5.0 * k) * 1000):013d}-wall-cam.json" for k in range(5, 0, -1)
    ]
    live_server.start()
    tick()
    assert reports[-1].outcome == "posted"
    assert reports[-1].delivered == 6
    while (report := loop.step()) is not None:
        reports.append(report)
        clock.now += 5.0
    sent = [r.scan_id for r in reports]
    assert len(sent) == 10
    assert scan_ids() == sent
    assert spool.pending() == []
    assert live_server.board() == expected(layouts(wall_event)[-1])

    # A scan the server has seen already is answered 200 and leaves the spool too.
    body = {"scan_id": sent[0], "board_found": True, "stickies": [], "hidden_cells": []}
    spool.add(body, unix_ms=1, camera="wall-cam")
    assert loop.flush() == 1
    assert spool.pending() == []
    assert scan_ids() == sent


def test_camera_loop_rejected_scan_moves_to_rejected(live_server, make_loop, scan_ids, tmp_path):
    loop = make_loop(live_server, tmp_path / "never-opened.avi")
    spool = Spool(tmp_path / "spool")
    body = {
        "scan_id": "wall-cam-1",
        "board_found": True,
        "stickies": [{"code": "ZZZZZZ", "room": None, "slot": None, "x": 1, "y": 2, "via": "qr"}],
        "hidden_cells": [],
        "warnings": [],
    }
    path = spool.add(body, unix_ms=1, camera="wall-cam")
    assert loop.flush() == 0
    assert spool.pending() == []
    assert (spool.rejected / path.name).exists()
    assert (spool.rejected / "0000000000001-wall-cam.txt").read_text() == (
        "HTTP 422: codes never issued for this event: ZZZZZZ\n"
    )
    assert scan_ids() == []
