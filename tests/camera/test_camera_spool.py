"""Scans that wait for the board: kept while it is away, delivered once, set aside when refused."""

from __future__ import annotations

import logging

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


def test_camera_loop_unwritable_spool_posts_straight_to_the_board(
    live_server, wall_event, video, clock, make_loop, scan_ids, caplog, tmp_path
):
    blocker = tmp_path / "spool"
    blocker.write_text("a file where the spool folder should be")
    loop = make_loop(live_server, video, spool=blocker, heartbeat_s=5.0)
    caplog.clear()
    reports = []
    with caplog.at_level(logging.INFO, logger="openspaces.camera"):
        for _ in range(3):
            reports.append(loop.step())
            clock.now += 5.0
        assert live_server.board() == expected(layouts(wall_event)[1])  # video at 0, 5 and 10 s
        live_server.stop()
        reports.append(loop.step())
    assert [r.outcome for r in reports] == ["posted", "posted", "posted", "lost"]
    assert scan_ids() == [r.scan_id for r in reports[:3]]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2  # once for the manifest, once for the scans; not on every tick
    assert errors[1].startswith(f"cannot write the spool {blocker}: ")
    assert (
        reports[3]
        .line()
        .endswith(f"lost {reports[3].scan_id}: neither spooled nor taken by the board")
    )
