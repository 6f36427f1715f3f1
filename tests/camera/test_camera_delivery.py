"""Delivering the spool: a refused scan is set aside with the answer, a failing one waits alone."""

from __future__ import annotations

import datetime as dt
import logging

from camera_wall import A10, B11, C12, codes, expected
from sqlalchemy import select

from app.extensions import db
from app.models import Scan
from camera import Spool

START_MS = 1_790_000_000_000


def scan_body(scan_id: str, layout: dict, *, unix_ms: int) -> dict:
    captured = dt.datetime.fromtimestamp(unix_ms / 1000, dt.UTC).isoformat()
    stickies = [
        {"code": code, "room": room, "slot": slot, "x": 10.0, "y": 20.0, "via": "marker"}
        for code, (room, slot) in layout.items()
    ]
    return {
        "scan_id": scan_id,
        "board_found": True,
        "stickies": stickies,
        "hidden_cells": [],
        "warnings": [],
        "captured_dt": captured,
    }


def test_delivery_non_finite_scan_is_rejected_with_the_answer_and_the_next_goes(
    live_server, wall_event, make_loop, scan_ids, tmp_path
):
    s1 = codes(wall_event)[0]
    loop = make_loop(live_server, tmp_path / "never-opened.avi")
    spool = Spool(tmp_path / "spool")
    poison = scan_body("wall-cam-1", {s1: A10}, unix_ms=START_MS)
    poison["stickies"][0]["x"] = float("nan")
    path = spool.add(poison, unix_ms=START_MS, camera="wall-cam")
    assert '"x": NaN' in path.read_text()
    spool.add(
        scan_body("wall-cam-2", {s1: B11}, unix_ms=START_MS + 5000),
        unix_ms=START_MS + 5000,
        camera="wall-cam",
    )

    assert loop.flush() == 1
    assert spool.pending() == []
    assert '"x": NaN' in (spool.rejected / path.name).read_text()
    assert (spool.rejected / f"{START_MS:013d}-wall-cam.txt").read_text() == (
        "HTTP 422: NaN is not a number that JSON or a scan allows\n"
    )
    assert scan_ids() == ["wall-cam-2"]
    assert live_server.board() == expected({s1: B11})


def test_delivery_scan_that_keeps_failing_waits_while_newer_scans_go(
    live_server, failing_proxy, wall_event, make_loop, clock, scan_ids, caplog, tmp_path
):
    s1, s2 = codes(wall_event)[:2]
    failing_proxy.fails = lambda body: body["scan_id"] == "wall-cam-1"
    loop = make_loop(failing_proxy.url, tmp_path / "never-opened.avi")
    spool = Spool(tmp_path / "spool")
    layouts = [{s1: A10}, {s1: B11}, {s1: B11, s2: C12}]
    for i, layout in enumerate(layouts):
        unix_ms = START_MS + 5000 * i
        spool.add(
            scan_body(f"wall-cam-{i + 1}", layout, unix_ms=unix_ms),
            unix_ms=unix_ms,
            camera="wall-cam",
        )

    with caplog.at_level(logging.INFO, logger="openspaces.camera"):
        assert loop.flush() == 2
        assert [p.name for p in spool.pending()] == [f"{START_MS:013d}-wall-cam.json"]
        clock.now += 5.0
        assert loop.flush() == 0  # the failed scan waits 10 s on its own
        clock.now += 5.0
        assert loop.flush() == 0  # tried again: 500 again, now it waits 20 s
        failing_proxy.fails = lambda body: False
        clock.now += 19.0
        assert loop.flush() == 0
        clock.now += 1.0
        assert loop.flush() == 1
    assert failing_proxy.posts == {"wall-cam-1": 3, "wall-cam-2": 1, "wall-cam-3": 1}
    assert spool.pending() == []
    assert scan_ids() == ["wall-cam-2", "wall-cam-3", "wall-cam-1"]
    # It arrived after newer scans of the same camera: kept in the history, the board unchanged.
    assert live_server.board() == expected(layouts[2])
    db.session.remove()
    first = db.session.scalar(select(Scan).filter_by(client_scan_id="wall-cam-1"))
    assert first.captured_dt == dt.datetime.fromtimestamp(START_MS / 1000, dt.UTC)
    waits = [r.getMessage() for r in caplog.records if "newer scans go first" in r.getMessage()]
    assert [w.split("(")[1].split(")")[0] for w in waits] == [
        "internal server error; attempt 1",
        "internal server error; attempt 2",
    ]
    assert [w.rsplit(" ", 2)[-2] for w in waits] == ["10", "20"]


def test_delivery_server_failing_every_scan_keeps_them_in_order(
    live_server, failing_proxy, wall_event, make_loop, clock, scan_ids, tmp_path
):
    s1 = codes(wall_event)[0]
    failing_proxy.fails = lambda body: True
    loop = make_loop(failing_proxy.url, tmp_path / "never-opened.avi")
    spool = Spool(tmp_path / "spool")
    for i, cell in enumerate([A10, B11, C12]):
        unix_ms = START_MS + 5000 * i
        spool.add(
            scan_body(f"wall-cam-{i + 1}", {s1: cell}, unix_ms=unix_ms),
            unix_ms=unix_ms,
            camera="wall-cam",
        )

    assert loop.flush() == 0
    # Two failures in a row: the server is in trouble, not the scan; everything waits 1 s.
    assert failing_proxy.posts == {"wall-cam-1": 1, "wall-cam-2": 1}
    clock.now += 0.5
    assert loop.flush() == 0
    assert failing_proxy.posts == {"wall-cam-1": 1, "wall-cam-2": 1}
    failing_proxy.fails = lambda body: False
    clock.now += 0.5
    assert loop.flush() == 3
    assert scan_ids() == ["wall-cam-1", "wall-cam-2", "wall-cam-3"]
    assert live_server.board() == expected({s1: C12})
