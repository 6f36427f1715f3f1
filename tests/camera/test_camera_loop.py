"""The camera loop against a live board: a video of a changing wall, confirmations, heartbeats."""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.request

from camera_wall import A10, B11, C12, codes, expected, layouts, wall_for, write_video
from sqlalchemy import select

from app.extensions import db
from app.models import Scan
from camera import Spool


def test_camera_loop_video_board_follows_every_layout(
    live_server, wall_event, video, clock, make_loop, scan_ids, tmp_path
):
    loop = make_loop(live_server, video)
    outcomes, boards = [], []
    while (report := loop.step()) is not None:
        outcomes.append(report.outcome)
        boards.append(live_server.board())
        clock.now += 5.0
    steps = layouts(wall_event)
    assert outcomes == ["posted", "unchanged"] * 5
    assert boards == [expected(layout) for layout in steps for _ in range(2)]
    assert len(scan_ids()) == 5
    assert scan_ids()[0] == "wall-cam-1790000000000"
    assert loop.frames == 10
    assert loop.scans == 5
    assert Spool(tmp_path / "spool").pending() == []


def test_camera_loop_confirms_a_removal_so_the_board_drops_it_in_seconds(
    live_server, wall_event, clock, make_loop, tmp_path
):
    s1, s2, s3, _ = codes(wall_event)
    wall = wall_for(wall_event)
    before, after = {s1: A10, s2: B11, s3: C12}, {s1: A10, s2: B11}
    later = wall.photo(after, seed=2)
    video = write_video(
        tmp_path / "removal.avi", [wall.photo(before, seed=1), later, later], seconds_each=10.0
    )
    loop = make_loop(live_server, video, confirm_scans=2)
    outcomes, on_board = [], []
    while (report := loop.step()) is not None:
        outcomes.append(report.outcome)
        on_board.append(live_server.board())
        clock.now += 5.0
    assert outcomes == ["posted", "unchanged", "posted", "posted", "posted", "unchanged"]
    # The server takes a sticky off once two scans 4 s apart or more miss it: the change, and the
    # confirmation one tick (5 s) later.
    assert on_board[2] == expected(before)
    assert on_board[3] == expected(after)


def test_camera_loop_skips_unchanged_frames_and_posts_heartbeat(
    live_server, wall_event, clock, make_loop, scan_ids, tmp_path
):
    wall = wall_for(wall_event)
    layout = layouts(wall_event)[0]
    s1 = codes(wall_event)[0]
    photos = [wall.photo(layout), wall.photo(layout, nudge_mm={s1: (12.0, -8.0)})]
    video = write_video(tmp_path / "still.avi", photos, seconds_each=5.0)
    loop = make_loop(live_server, video, every_s=1.0, heartbeat_s=60.0)
    reports = []
    while (report := loop.step()) is not None:
        reports.append(report)
        clock.now += 25.0
    # Ticks at 0, 25, 50, ... s; frames 0-4 show the first photo, 5-9 the nudged sticky.
    assert [(r.outcome, r.heartbeat) for r in reports] == [
        ("posted", False),
        ("unchanged", False),
        ("unchanged", False),
        ("posted", True),
        ("unchanged", False),
        ("skipped", False),
        ("posted", True),
        ("unchanged", False),
        ("unchanged", False),
        ("posted", True),
    ]
    assert [r.seen for r in reports] == [4] * 10
    assert [r.off_grid for r in reports] == [1] * 10
    assert len(scan_ids()) == 4
    assert loop.scans == 2


def test_camera_loop_video_plays_in_real_time_only_when_asked(
    live_server, video, clock, make_loop, tmp_path
):
    fast = make_loop(live_server, video, spool=tmp_path / "fast")
    assert fast.run(max_ticks=3) == 3
    assert clock.sleeps == []
    paced = make_loop(live_server, video, spool=tmp_path / "paced")
    assert paced.run(max_ticks=3, realtime=True) == 3
    assert clock.sleeps == [5.0, 5.0, 5.0]


def _camera_records(caplog):
    """Return the camera's own log records (the test server may log too, when it is busy)."""
    return [r for r in caplog.records if r.name.startswith("openspaces.camera")]


def test_camera_loop_started_while_server_down_waits_with_one_log_line(
    live_server, wall_event, video, clock, make_loop, caplog, tmp_path
):
    live_server.stop()
    loop = make_loop(live_server, video)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="openspaces.camera"):
        assert loop.run(max_ticks=7) == 0
    # No manifest, none kept: each tick waits for the board, a little longer each time.
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert [r.getMessage().split(" (")[0] for r in _camera_records(caplog)] == [
        "the board is not answering",
    ] + [
        f"{loop._now_dt(1_790_000_000.0):%Y-%m-%d %H:%M:%S}  no-manifest: cannot fetch the manifest"
        f" from {live_server.url}/api/manifest and none is kept in {tmp_path / 'spool'}; waiting"
        " for the board, trying again with a pause growing up to 30 s"
    ]
    assert Spool(tmp_path / "spool").pending() == []

    live_server.start()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="openspaces.camera"):
        report = loop.step()
    assert report.outcome == "posted"
    assert live_server.board() == expected(layouts(wall_event)[0])
    assert [r.getMessage() for r in _camera_records(caplog)][:2] == [
        f"the board at {live_server.url} answers again",
        f"manifest from {live_server.url}: 3 rooms, 3 slots, 4 stickies",
    ]


def test_camera_loop_server_down_scans_into_the_spool_with_the_kept_manifest(
    live_server, wall_event, video, clock, make_loop, scan_ids, caplog, tmp_path
):
    first = make_loop(live_server, video)
    assert first.run(max_ticks=1) == 1  # fetches the manifest and keeps it in the spool
    live_server.stop()
    clock.now += 60.0
    started = clock.now
    restarted = make_loop(live_server, video)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="openspaces.camera"):
        assert restarted.run(max_ticks=10, realtime=True) == 10
    assert clock.sleeps == [5.0] * 10
    messages = [r.getMessage() for r in _camera_records(caplog)]
    assert [m.split(" (")[0] for m in messages if "  " not in m] == [
        "the board is not answering",
        "no manifest from the board",
    ]
    assert "scanning with the one kept in" in messages[1]
    assert len(messages) == 12  # and one line per tick
    spool = Spool(tmp_path / "spool")
    waiting = [p.name for p in spool.pending()]
    assert waiting == [f"{int((started + 10 * k) * 1000):013d}-wall-cam.json" for k in range(5)]

    live_server.start()
    clock.now += 600.0
    assert restarted.flush() == 5
    assert spool.pending() == []
    assert live_server.board() == expected(layouts(wall_event)[-1])
    spooled = [f"wall-cam-{int((started + 10 * k) * 1000)}" for k in range(5)]
    assert scan_ids() == ["wall-cam-1790000000000", *spooled]
    # Each scan keeps the time it was taken, not the time it reached the board.
    db.session.remove()
    captured = db.session.scalars(select(Scan.captured_dt).order_by(Scan.id)).all()[1:]
    assert captured == [dt.datetime.fromtimestamp(started + 10 * k, dt.UTC) for k in range(5)]


def test_camera_loop_posts_only_views_that_beat_those_sent_before(
    live_server, wall_event, video, clock, make_loop, tmp_path
):
    loop = make_loop(live_server, video, max_views_per_scan=3)
    reports = []
    while (report := loop.step()) is not None:
        reports.append(report)
        clock.now += 5.0
    # The first frame gives four views: the three best go with its scan, the fourth with the next
    # scanned frame's; moved stickies seen as sharp as before send none again.
    assert [r.views for r in reports] == [3, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert reports[0].line().endswith(f"posted {reports[0].scan_id} with 3 sticky views")
    with urllib.request.urlopen(live_server.url + "/api/board", timeout=10) as response:
        board = json.load(response)
    pictures = {s["code"]: s["picture"] for s in board["stickies"]}
    assert sorted(pictures) == sorted(codes(wall_event))
    base_url = wall_event["event"]["base_url"]
    assert all(url.startswith(f"{base_url}/s/{code}/picture.jpg") for code, url in pictures.items())
    path = pictures[codes(wall_event)[0]].removeprefix(base_url)
    with urllib.request.urlopen(live_server.url + path, timeout=10) as response:
        assert response.headers["Content-Type"] == "image/jpeg"


def test_camera_loop_view_the_board_refuses_never_costs_the_scan(
    live_server, wall_event, make_loop, scan_ids, tmp_path
):
    s1 = codes(wall_event)[0]
    loop = make_loop(live_server, tmp_path / "never-opened.avi")
    spool = Spool(tmp_path / "spool")
    body = {
        "scan_id": "wall-cam-1",
        "board_found": True,
        "stickies": [{"code": s1, "room": A10[0], "slot": A10[1], "x": 1, "y": 2, "via": "marker"}],
        "hidden_cells": [],
        "warnings": [],
    }
    score = {"px_per_mm": 2.0, "sharpness": 0.5, "glare": 0.0, "coverage": 1.0}
    path = spool.add(
        body, unix_ms=1, camera="wall-cam", views={s1: (b"not a picture at all", score)}
    )
    assert loop.flush() == 1
    assert spool.pending() == []
    assert scan_ids() == ["wall-cam-1"]
    assert live_server.board() == expected({s1: A10})
    refused = spool.rejected / "0000000000001-wall-cam.views"
    assert sorted(p.name for p in refused.iterdir()) == [f"{s1}.jpg", f"{s1}.json"]
    assert (spool.rejected / "0000000000001-wall-cam.views.txt").read_text() == (
        f"HTTP 422: the view of {s1} is not a JPEG or PNG image\n"
    )
    assert not path.exists()


def test_camera_loop_remembers_a_header_card_someone_stands_in_front_of(
    live_server, wall_event, clock, make_loop, tmp_path
):
    import cv2
    import numpy as np

    import scanner

    wall = wall_for(wall_event)
    layout = layouts(wall_event)[0]
    photo = wall.photo(layout, seed=1)
    first = scanner.scan(photo, wall_event)
    hall_b = next(r["marker_id"] for r in wall_event["rooms"] if r["name"] == "Hall B")
    corners = dict(first.view.markers)[hall_b]
    covered = photo.copy()
    centre = np.mean(corners, axis=0)
    side = float(np.linalg.norm(np.subtract(corners[1], corners[0])))
    # A dark shoulder over Hall B's card, and nothing else changed.
    cv2.circle(covered, tuple(int(v) for v in centre), int(1.5 * side), (40, 40, 50), -1)
    # Alone, the covered frame cannot tell Hall B's cells: they count as hidden.
    alone = scanner.scan(covered, wall_event).to_dict()
    assert alone["hidden_cells"] == [["Hall B", slot["start"]] for slot in wall_event["slots"]]

    video = write_video(tmp_path / "covered.avi", [photo, covered], seconds_each=5.0)
    loop = make_loop(live_server, video)
    outcomes = []
    while (report := loop.step()) is not None:
        outcomes.append(report.outcome)
        clock.now += 5.0
    # The covered frame is scanned (it changed) with the board the camera saw before: it says
    # what the first frame said, so there is nothing to post.
    assert outcomes == ["posted", "skipped"]
    assert loop.scans == 2
    assert live_server.board() == expected(layout)


def test_step_report_line_says_one_sticky_view_in_the_singular():
    from camera.loop import StepReport

    moment = dt.datetime(2026, 9, 26, 10, 0, tzinfo=dt.UTC)
    one = StepReport(moment, "posted", seen=1, placed=1, scan_id="cam-1", views=1)
    two = StepReport(moment, "posted", seen=2, placed=2, scan_id="cam-2", views=2)
    assert one.line().endswith("posted cam-1 with 1 sticky view")
    assert two.line().endswith("posted cam-2 with 2 sticky views")


def test_camera_plural_matches_the_boards():
    from app.services.text import plural as board_plural
    from camera.loop import plural

    cases = [(0, "sticky"), (1, "sticky"), (1, "room"), (3, "slot"), (2, "scan"), (1, "frame")]
    assert [plural(n, noun) for n, noun in cases] == [board_plural(n, noun) for n, noun in cases]
    assert [plural(n, noun) for n, noun in cases[:3]] == ["0 stickies", "1 sticky", "1 room"]
