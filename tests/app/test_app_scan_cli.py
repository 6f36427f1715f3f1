"""``openspaces scan``: apply a photo to the local board, and watch a video against a live server."""

from __future__ import annotations

import json

import cv2
import pytest
from app_wall import codes, expected, layouts, scan_ids, wall_for, write_video


def test_scan_apply_places_stickies_then_same_photo_is_noop(runner, wall_event, tmp_path):
    s1, s2, s3, p = codes(wall_event)
    photo = tmp_path / "wall.jpg"
    cv2.imwrite(str(photo), wall_for(wall_event).photo(layouts(wall_event)[0]))

    first = runner.invoke("scan", str(photo), "--apply")
    assert first.exit_code == 0, first.output
    digest_id = scan_ids()
    assert len(digest_id) == 1 and digest_id[0].startswith("cli-") and len(digest_id[0]) == 68
    assert first.output.splitlines()[-5:] == [
        "  applied as scan 1: 4 changes",
        f"    {s1}: not on the board -> Hall A 2026-09-26T10:00",
        f"    {s2}: not on the board -> Hall B 2026-09-26T11:00",
        f"    {s3}: not on the board -> Hall C 2026-09-26T12:00",
        f"    {p}: not on the board -> off grid",
    ]

    again = runner.invoke("scan", str(photo), "--apply")
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == "  applied before as scan 1: no changes"
    assert scan_ids() == digest_id


def test_scan_apply_json_carries_the_changes(runner, wall_event, tmp_path):
    photo = tmp_path / "wall.png"
    layout = layouts(wall_event)[3]
    cv2.imwrite(str(photo), wall_for(wall_event).photo(layout))
    result = runner.invoke("scan", str(photo), "--apply", "--json")
    payload = json.loads(result.output)
    assert payload["applied"]["duplicate"] is False
    assert {
        c["code"]: (c["to"]["room"], c["to"]["slot"]) for c in payload["applied"]["changes"]
    } == (layout)


def test_scan_apply_with_manifest_is_refused(runner, wall_event, tmp_path):
    result = runner.invoke("scan", "photo.jpg", "--apply", "--manifest", "m.json")
    assert result.exit_code == 2
    assert "--apply scans against the local instance's event" in result.output


@pytest.mark.slow
def test_scan_camera_video_posts_each_change(runner, server, wall_event, tmp_path):
    wall = wall_for(wall_event)
    steps = layouts(wall_event)[:3]
    video = write_video(tmp_path / "wall.avi", [wall.photo(s) for s in steps], seconds_each=10.0)
    spool = tmp_path / "spool"
    result = runner.invoke(
        "scan",
        "--camera",
        str(video),
        "--every",
        "5",
        "--post",
        server.url,
        "--token",
        wall_event["token"],
        "--spool",
        str(spool),
        "--name",
        "hall cam",
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines.pop(0) == f"manifest from {server.url}: 3 rooms, 3 slots, 4 stickies"
    # Each change is posted, then confirmed by the next scan (--confirm 2 by default).
    assert [line.split("  ")[-1].split(" ")[0] for line in lines[:6]] == [
        "posted",
        "skipped",
        "posted",
        "posted",
        "posted",
        "posted",
    ]
    assert lines[0].split("  ")[1:5] == ["seen 4", "placed 3", "off-grid 1", "hidden 0"]
    assert lines[-1] == f"6 frames, 3 scanned; 0 scans wait in {spool}"
    assert server.board() == expected(steps[-1])
    assert [s.rsplit("-", 1)[0] for s in scan_ids()] == ["hall-cam"] * 5


def test_scan_camera_max_scans_stops_early(runner, server, wall_event, tmp_path):
    wall = wall_for(wall_event)
    video = write_video(
        tmp_path / "wall.avi", [wall.photo(layouts(wall_event)[0])], seconds_each=20.0
    )
    result = runner.invoke(
        "scan",
        "--camera",
        str(video),
        "--post",
        server.url,
        "--token",
        wall_event["token"],
        "--max-scans",
        "2",
        "--spool",
        str(tmp_path / "spool"),
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("2 frames, 1 scanned;")


def test_scan_camera_spools_in_the_instance_folder_without_spool_option(
    runner, app, server, wall_event, tmp_path, monkeypatch
):
    from pathlib import Path

    wall = wall_for(wall_event)
    video = write_video(
        tmp_path / "wall.avi", [wall.photo(layouts(wall_event)[0])], seconds_each=20.0
    )
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = runner.invoke(
        "scan",
        "--camera",
        str(video),
        "--post",
        server.url,
        "--token",
        wall_event["token"],
        "--max-scans",
        "2",
    )
    assert result.exit_code == 0, result.output
    spool = Path(app.instance_path) / "camera-spool"
    assert result.output.splitlines()[-1] == f"2 frames, 1 scanned; 0 scans wait in {spool}"
    assert (spool / "manifest.json").is_file()
    assert list(work.iterdir()) == []


def test_scan_camera_without_post_is_usage_error(runner, tmp_path):
    result = runner.invoke("scan", "--camera", "0", "--token", "t")
    assert result.exit_code == 2
    assert "--camera needs --post URL" in result.output


def test_scan_camera_wrong_token_is_clear_error(runner, server, wall_event, tmp_path):
    video = tmp_path / "wall.avi"
    result = runner.invoke("scan", "--camera", str(video), "--post", server.url, "--token", "wrong")
    assert result.exit_code == 1
    assert "refused the token (401)" in result.output


def test_scan_all_codes_json_lists_every_code_known_or_not(runner, wall_event, tmp_path):
    photo = tmp_path / "wall.png"
    cv2.imwrite(str(photo), wall_for(wall_event).photo(layouts(wall_event)[0]))
    result = runner.invoke("scan", str(photo), "--all-codes", "--json")
    assert result.exit_code == 0, result.output
    codes_seen = json.loads(result.output)["codes"]
    assert all(set(c) == {"text", "via", "x", "y"} for c in codes_seen)
    markers = {c["text"] for c in codes_seen if c["text"].startswith("marker:")}
    expected_ids = [0, 1, 2, 3] + [s["marker_id"] for s in wall_event["stickies"]]
    assert {f"marker:DICT_4X4_1000:{i}" for i in expected_ids} <= markers


def test_scan_json_says_where_the_time_went_stage_by_stage(runner, wall_event, tmp_path):
    photo = tmp_path / "wall.png"
    cv2.imwrite(str(photo), wall_for(wall_event).photo(layouts(wall_event)[0]))
    result = runner.invoke("scan", str(photo), "--json")
    assert result.exit_code == 0, result.output
    timings = json.loads(result.output)["timings"]
    stages = ["decode", "markers", "qr", "locate", "grid", "stickies", "placement", "cells"]
    assert list(timings)[: len(stages)] == stages and list(timings)[-1] == "total"
    assert all(set(t) == {"wall_ms", "cpu_ms"} for t in timings.values())
    wall = sum(t["wall_ms"] for name, t in timings.items() if name != "total")
    assert abs(timings["total"]["wall_ms"] - wall) < 0.1 * len(timings)
    # The text output stays as it was: the timings are for --json.
    assert "wall_ms" not in runner.invoke("scan", str(photo)).output


def test_scan_not_an_image_says_so_and_exits_1(runner, wall_event, tmp_path):
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("these are my notes, not a photo")
    result = runner.invoke("scan", str(bogus), "--all-codes")
    assert result.exit_code == 1
    assert "notes.jpg:" in result.output and "Traceback" not in result.output


@pytest.fixture
def wall_photo(wall_event, tmp_path):
    photo = tmp_path / "wall.png"
    cv2.imwrite(str(photo), wall_for(wall_event).photo(layouts(wall_event)[0]))
    return photo


@pytest.mark.parametrize(
    "target, message",
    [
        ("out/annotated", "out/annotated: give a file name ending in .jpg, .jpeg, .png"),
        ("wall.png/x.jpg", "is a file, not a folder"),
        (".", ". is a folder; give a file name"),
    ],
)
def test_scan_annotate_where_nothing_can_be_written_is_refused_first(
    runner, wall_event, wall_photo, tmp_path, monkeypatch, target, message
):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke("scan", str(wall_photo), "--annotate", target)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_scan_annotate_makes_a_missing_folder(runner, wall_event, wall_photo, tmp_path):
    target = tmp_path / "new" / "deeper" / "wall.jpg"
    result = runner.invoke("scan", str(wall_photo), "--annotate", str(target))
    assert result.exit_code == 0, result.output
    assert f"annotated: {target}" in result.output
    assert cv2.imread(str(target)).shape == (720, 960, 3)


def test_scan_annotate_that_cannot_be_written_says_so(runner, wall_event, wall_photo):
    result = runner.invoke("scan", str(wall_photo), "--annotate", "/proc/x.jpg")
    assert result.exit_code == 1
    assert "cannot write the annotated photo to /proc/x.jpg" in result.output
    assert "annotated: /proc/x.jpg" not in result.output
