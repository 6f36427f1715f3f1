"""Scan ingest, the one path from a scan to the board: API, phone page and CLI alike."""

from __future__ import annotations

import io
import json
import os
import re
import threading
import time

import cv2
import pytest
from app_wall import codes, expected, layouts, wall_for
from sqlalchemy import func, select

from app.db import write_lock_event
from app.extensions import db
from app.models import Placement, Scan
from app.services import scans
from app.services.ingest import (
    ingest_observations,
    ingest_photo,
    preview_photo,
    prune_pending,
)
from app.services.observations import parse_observations
from app.settings import app_settings

A, TEN = "Hall A", "2026-09-26T10:00"


def photo_bytes(manifest, layout, ext=".jpg") -> bytes:
    ok, data = cv2.imencode(ext, wall_for(manifest).photo(layout))
    assert ok
    return data.tobytes()


def scan_count() -> int:
    return db.session.scalar(select(func.count(Scan.id)))


def body_for(manifest, layout, scan_id) -> dict:
    return {
        "scan_id": scan_id,
        "board_found": True,
        "stickies": [
            {"code": code, "room": room, "slot": slot, "via": "marker"}
            for code, (room, slot) in layout.items()
        ],
        "hidden_cells": [],
        "warnings": [],
    }


def post_json(client, manifest, body):
    headers = {"Authorization": f"Bearer {manifest['token']}"}
    return client.post("/api/scans", json=body, headers=headers)


@pytest.fixture
def settings(app):
    return app_settings(app).scan


def test_ingest_same_scan_id_committed_meanwhile_is_a_duplicate(
    app, wall_event, settings, monkeypatch
):
    """A request that finds the scan id free, then another commits it first, answers duplicate."""
    from app.models import Event

    layout = layouts(wall_event)[0]
    body = body_for(wall_event, layout, "cam-race")
    main_thread = threading.get_ident()
    other: dict = {}

    def other_request():
        with app.app_context():
            event = db.session.scalars(select(Event)).one()
            other["answer"] = ingest_observations(
                event=event,
                source="other",
                settings=settings,
                observations=parse_observations(body),
            ).to_json()

    def race():
        # Just before this request first writes, another one commits the same scan id.
        if threading.get_ident() == main_thread and not other:
            worker = threading.Thread(target=other_request)
            worker.start()
            worker.join()

    def lock_after_race(event_id, **options):
        # A scan's first write takes the board's write lock (app.db.write_lock_event).
        race()
        return write_lock_event(event_id, **options)

    event = db.session.scalars(select(Event)).one()
    monkeypatch.setattr(scans, "write_lock_event", lock_after_race)
    mine = ingest_observations(
        event=event, source="mine", settings=settings, observations=parse_observations(body)
    )
    assert other["answer"]["duplicate"] is False and len(other["answer"]["changes"]) == 4
    assert mine.to_json() == {
        "scan": other["answer"]["scan"],
        "duplicate": True,
        "applied": False,
        "changes": [],
        "pictures": [],
    }
    assert scan_count() == 1
    assert db.session.scalar(select(func.count(Placement.id))) == 4
    assert db.session.scalars(select(Scan.source)).all() == ["other"]


def test_photo_is_encoded_before_the_board_is_locked(wall_event, settings, monkeypatch):
    """Encoding a large photo takes seconds; other writers (claims, other cameras) must not wait
    for it behind the board's write lock, or SQLite gives up on them ("database is locked")."""
    from app.models import Event
    from app.services import ingest

    steps = []
    encode, lock = ingest.encode_image, scans.write_lock_event

    def encode_image(*args, **kwargs):
        steps.append("encode")
        return encode(*args, **kwargs)

    def write_lock(event_id, **options):
        steps.append("lock")
        return lock(event_id, **options)

    monkeypatch.setattr(ingest, "encode_image", encode_image)
    monkeypatch.setattr(scans, "write_lock_event", write_lock)
    event = db.session.scalars(select(Event)).one()
    photo = photo_bytes(wall_event, layouts(wall_event)[0])
    ingested = ingest_photo(event=event, source="camera", settings=settings, photo=photo)
    assert ingested.to_json()["applied"] is True
    # The photo as taken and its annotated copy, then the board's write lock.
    assert steps == ["encode", "encode", "lock"]
    assert len(list(settings.scans_dir.glob("*.jpg"))) == 2


def test_api_photo_only_is_scanned_stored_and_annotated(client, wall_event, settings):
    layout = layouts(wall_event)[0]
    response = client.post(
        "/api/scans",
        data={"scan_id": "cam-1", "photo": (io.BytesIO(photo_bytes(wall_event, layout)), "w.jpg")},
        headers={"Authorization": f"Bearer {wall_event['token']}"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["applied"] is True
    scan = db.session.scalars(select(Scan)).one()
    assert scan.client_scan_id == "cam-1"
    stored = [scan.image_path.replace("-annotated", ""), scan.image_path]
    outline = f"{scan.id}-outline.json"
    assert sorted(p.name for p in settings.scans_dir.iterdir()) == sorted([*stored, outline])
    original, annotated = (cv2.imread(str(settings.scans_dir / name)) for name in stored)
    assert original.shape == annotated.shape == (720, 960, 3)
    assert cv2.absdiff(original, annotated).max() > 100  # the scanner's drawing is on it
    # The board outline the scan found is kept, so the camera page never scans the photo again.
    kept = json.loads((settings.scans_dir / outline).read_text())
    assert kept["size"] == [960, 720]
    assert len(kept["outline"]) == 4
    assert all(0 <= x < 960 and 0 <= y < 720 for x, y in kept["outline"])


def test_api_duplicate_photo_stores_nothing_more(client, wall_event, settings):
    layout = layouts(wall_event)[0]
    data = photo_bytes(wall_event, layout)
    headers = {"Authorization": f"Bearer {wall_event['token']}"}
    first = client.post(
        "/api/scans",
        data={"scan_id": "cam-1", "photo": (io.BytesIO(data), "w.jpg")},
        headers=headers,
    )
    again = client.post(
        "/api/scans",
        data={"scan_id": "cam-1", "photo": (io.BytesIO(data), "w.jpg")},
        headers=headers,
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["duplicate"] is True
    # The first scan's photo, its annotated copy and its board outline; nothing of the second.
    assert len(list(settings.scans_dir.iterdir())) == 3


def test_api_deeply_nested_json_is_422(client, wall_event):
    headers = {"Authorization": f"Bearer {wall_event['token']}"}
    nested = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/scans", data=nested, content_type="application/json", headers=headers
    )
    assert response.status_code == 422
    assert response.get_json()["error"] == "the JSON is nested too deeply to be a scan"
    in_form = client.post(
        "/api/scans",
        data={"scan": '{"scan_id": ' + nested + "}"},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert in_form.status_code == 422
    assert in_form.get_json()["error"] == "the JSON is nested too deeply to be a scan"
    assert scan_count() == 0


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_api_non_finite_number_is_422(client, wall_event, number):
    code = codes(wall_event)[0]
    seen = f'{{"code": "{code}", "room": null, "slot": null, "x": {number}, "y": 1}}'
    text = f'{{"scan_id": "n1", "board_found": true, "stickies": [{seen}]}}'
    response = client.post(
        "/api/scans",
        data=text,
        content_type="application/json",
        headers={"Authorization": f"Bearer {wall_event['token']}"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"] == f"{number} is not a number that JSON or a scan allows"
    assert scan_count() == 0


@pytest.mark.parametrize(
    "field, value, message",
    [
        # The wall event has 3 rooms x 3 slots and 4 stickies.
        ("hidden_cells", [[A, TEN]] * 10, "10 hidden cells in one scan, more than this event's"),
        ("warnings", ["card not found"] * 21, "21 warnings in one scan, more than this event's"),
        ("warnings", ["x" * 301], "a warning has at most 300 characters"),
        ("hidden_cells", [[A, TEN]] * 5000, "at most 2000 hidden cells in one scan"),
    ],
)
def test_api_lists_longer_than_the_board_are_422(client, wall_event, field, value, message):
    body = {"scan_id": "big", "board_found": True, "stickies": [], field: value}
    response = post_json(client, wall_event, body)
    assert response.status_code == 422
    assert response.get_json()["error"].startswith(message)
    assert scan_count() == 0


def test_api_lists_as_long_as_the_board_are_applied(client, wall_event):
    body = {
        "scan_id": "full",
        "board_found": True,
        "stickies": [],
        "hidden_cells": [[A, TEN]] * 9,
        "warnings": ["card not found"] * 20,
    }
    assert post_json(client, wall_event, body).status_code == 201


def test_scan_id_with_control_characters_is_422(client, wall_event):
    response = post_json(client, wall_event, {"scan_id": "cam\x00-1", "board_found": False})
    assert response.status_code == 422
    assert response.get_json()["error"] == (
        "scan_id must be printable characters only, not U+0000 at position 4"
    )


def test_preview_then_apply_moves_the_photo_and_empties_pending(
    organizer_client, wall_event, settings
):
    layout = layouts(wall_event)[0]
    preview = organizer_client.post(
        "/scan", data={"photo": (io.BytesIO(photo_bytes(wall_event, layout)), "wall.jpg")}
    )
    assert preview.status_code == 200
    # Where the scan's time went, stage by stage.
    assert re.search(r"Read in \d+ ms\s+\(decode \d+, markers \d+, qr \d+,", preview.text)
    pending = sorted(p.name for p in settings.pending_dir.iterdir())
    token = pending[0].split("-")[0]
    # The photo, its annotated copy, the observations, and a picture of each sticky read.
    views = [f"{token}-view-{code}.png" for code in sorted(layout)]
    assert pending == sorted(
        [f"{token}-annotated.jpg", f"{token}.jpg", f"{token}.json", f"{token}-views.json", *views]
    )
    assert organizer_client.post(f"/scan/{token}/apply").status_code == 302
    assert list(settings.pending_dir.iterdir()) == []
    scan = db.session.scalars(select(Scan)).one()
    assert scan.client_scan_id == f"upload-{token}"
    assert sorted(p.name for p in settings.scans_dir.iterdir()) == sorted(
        [scan.image_path.replace("-annotated", ""), scan.image_path]
    )
    assert organizer_client.post(f"/scan/{token}/apply").status_code == 404


def test_previews_nobody_applied_are_pruned_after_a_day(app, wall_event, settings):
    from app.services.events import get_current_event

    layout = layouts(wall_event)[0]
    event = get_current_event()
    stale = preview_photo(event=event, photo=photo_bytes(wall_event, layout), settings=settings)
    day_ago = time.time() - 24 * 3600 - 60
    for path in settings.pending_dir.glob(f"{stale.pending}*"):
        os.utime(path, (day_ago, day_ago))
    fresh = preview_photo(event=event, photo=photo_bytes(wall_event, layout), settings=settings)
    assert sorted(p.name for p in settings.pending_dir.iterdir()) == sorted(
        [
            f"{fresh.pending}-annotated.jpg",
            f"{fresh.pending}.jpg",
            f"{fresh.pending}.json",
            f"{fresh.pending}-views.json",
            *(f"{fresh.pending}-view-{code}.png" for code in layout),
        ]
    )
    assert prune_pending(settings) == 0
    assert scan_count() == 0


def test_cli_apply_stores_the_photo_with_the_scan(runner, wall_event, tmp_path, settings):
    layout = layouts(wall_event)[0]
    photo = tmp_path / "wall.png"
    photo.write_bytes(photo_bytes(wall_event, layout, ".png"))
    result = runner.invoke("scan", str(photo), "--apply")
    assert result.exit_code == 0, result.output
    db.session.remove()
    scan = db.session.scalars(select(Scan)).one()
    assert scan.source == "cli"
    assert (settings.scans_dir / scan.image_path).is_file()


def test_ingest_api_and_cli_reach_the_same_board(client, runner, wall_event, tmp_path):
    layout = layouts(wall_event)[3]
    photo = tmp_path / "wall.png"
    photo.write_bytes(photo_bytes(wall_event, layout, ".png"))
    assert runner.invoke("scan", str(photo), "--apply").exit_code == 0
    via_cli = client.get("/api/board").get_json()
    assert {s["code"]: (s["room"], s["slot"], s["status"]) for s in via_cli["stickies"]} == (
        expected(layout)
    )


# -- the entry points, one per input ---------------------------------------------------------------


def manifest_reads(monkeypatch) -> list[int]:
    """Count the manifest's reads from the database from now on (app.services.manifest)."""
    from app.services import manifest, pictures, scanning

    reads: list[int] = []
    build = manifest.build_manifest

    def counted(event):
        reads.append(event.id)
        return build(event)

    for module in (scanning, pictures):
        monkeypatch.setattr(module, "build_manifest", counted)
    return reads


def stored_scan() -> Scan:
    db.session.remove()
    return db.session.scalars(select(Scan)).one()


def test_ingest_observations_applies_and_records_them_as_posted(wall_event, settings):
    from app.services.events import get_current_event

    layout = layouts(wall_event)[0]
    body = body_for(wall_event, layout, "cam-typed")
    ingested = ingest_observations(
        event=get_current_event(),
        source="wall-cam",
        observations=parse_observations(body),
        settings=settings,
    )
    answer = ingested.to_json()
    assert (answer["duplicate"], answer["applied"], answer["pictures"]) == (False, True, [])
    assert sorted(c["code"] for c in answer["changes"]) == sorted(layout)
    scan = stored_scan()
    assert (scan.id, scan.client_scan_id, scan.source, scan.image_path) == (
        answer["scan"],
        "cam-typed",
        "wall-cam",
        None,
    )
    # The record is the typed observations' own JSON: positions absent in the body are null.
    assert scan.observations == {
        "scan_id": "cam-typed",
        "board_found": True,
        "stickies": [
            {"code": code, "room": room, "slot": slot, "x": None, "y": None, "via": "marker"}
            for code, (room, slot) in layout.items()
        ],
        "hidden_cells": [],
        "warnings": [],
    }


def test_ingest_observations_form_scan_id_stands_for_the_body_s_own(wall_event):
    body = body_for(wall_event, layouts(wall_event)[0], "cam-own")
    assert parse_observations(body, scan_id="cam-form").scan_id == "cam-form"
    assert parse_observations({**body, "scan_id": None}, scan_id="cam-form").scan_id == "cam-form"


def test_ingest_photo_reads_the_manifest_once_and_keeps_the_timings(
    wall_event, settings, monkeypatch
):
    import datetime as dt

    from app.services.events import get_current_event

    layout = layouts(wall_event)[0]
    event = get_current_event()
    reads = manifest_reads(monkeypatch)
    taken = dt.datetime(2026, 9, 26, 8, 0, 5, tzinfo=dt.UTC)
    ingested = ingest_photo(
        event=event,
        source="wall-cam",
        photo=photo_bytes(wall_event, layout),
        settings=settings,
        scan_id="cam-photo",
        captured_dt=taken,
    )
    # One read for scanning the photo and cutting its stickies' views alike.
    assert reads == [event.id]
    assert ingested.pictures == sorted(layout)
    scan = stored_scan()
    assert (scan.client_scan_id, scan.captured_dt.replace(tzinfo=dt.UTC)) == ("cam-photo", taken)
    seen = {s["code"]: (s["room"], s["slot"], s["via"]) for s in scan.observations["stickies"]}
    assert seen == {code: (room, slot, "marker") for code, (room, slot) in layout.items()}
    # Positions as the scan-result JSON rounds them, and where the scanner's time went.
    assert all(round(s["x"], 1) == s["x"] for s in scan.observations["stickies"])
    assert list(scan.observations["timings"])[:3] == ["decode", "markers", "qr"]
    assert scan.observations["timings"]["total"]["wall_ms"] > 0


def test_ingest_photo_seen_before_reads_neither_photo_nor_manifest(
    wall_event, settings, monkeypatch
):
    from app.services.events import get_current_event

    event = get_current_event()
    photo = photo_bytes(wall_event, layouts(wall_event)[0])
    first = ingest_photo(event=event, source="cam", photo=photo, settings=settings, scan_id="p-1")
    reads = manifest_reads(monkeypatch)
    again = ingest_photo(
        event=event, source="cam", photo=b"not a photo", settings=settings, scan_id="p-1"
    )
    assert (again.duplicate, again.scan.id, reads) == (True, first.scan.id, [])


def test_ingest_result_uses_the_callers_manifest(wall_event, settings, monkeypatch):
    import scanner
    from app.services.events import get_current_event
    from app.services.ingest import ingest_result
    from app.services.scanning import event_manifest

    layout = layouts(wall_event)[1]
    event = get_current_event()
    photo = photo_bytes(wall_event, layout, ".png")
    manifest = event_manifest(event)
    result = scanner.scan(scanner.load_image(photo), manifest)
    reads = manifest_reads(monkeypatch)
    ingested = ingest_result(
        event=event,
        source="cli",
        result=result,
        photo=photo,
        scan_id="cli-typed",
        settings=settings,
        manifest=manifest,
    )
    assert reads == []
    assert (ingested.duplicate, ingested.pictures) == (False, sorted(layout))
    scan = stored_scan()
    assert scan.observations["stickies"] == [s.to_dict() for s in result.stickies]
    assert scan.observations["timings"] == result.timings_dict()


def test_ingest_pending_applies_the_preview_once(wall_event, settings, monkeypatch):
    from app.services.events import get_current_event
    from app.services.ingest import PendingGone, ingest_pending

    layout = layouts(wall_event)[2]
    event = get_current_event()
    reads = manifest_reads(monkeypatch)
    preview = preview_photo(event=event, photo=photo_bytes(wall_event, layout), settings=settings)
    assert reads == [event.id]
    ingested = ingest_pending(
        event=event, source="organizer", pending=preview.pending, settings=settings
    )
    assert reads == [event.id]
    assert (ingested.duplicate, ingested.changes) == (False, preview.changes)
    assert ingested.pictures == preview.pictures == sorted(layout)
    scan = stored_scan()
    assert scan.client_scan_id == f"upload-{preview.pending}"
    assert scan.observations == preview.result
    assert list(settings.pending_dir.iterdir()) == []
    with pytest.raises(PendingGone, match="^this scan was applied already or has expired$"):
        ingest_pending(event=event, source="organizer", pending=preview.pending, settings=settings)


def test_observations_from_result_match_the_result_s_json_parsed(wall_event):
    import scanner
    from app.services.events import get_current_event
    from app.services.observations import observations_from_result
    from app.services.scanning import event_manifest

    image = scanner.load_image(photo_bytes(wall_event, layouts(wall_event)[0]))
    result = scanner.scan(image, event_manifest(get_current_event()))
    typed = observations_from_result(result, scan_id="cam-1")
    assert typed == parse_observations({**result.to_dict(), "scan_id": "cam-1"})
    assert typed.to_json() == {
        **result.to_dict(),
        "scan_id": "cam-1",
        "timings": result.timings_dict(),
    }


def test_ingest_photo_scans_with_the_settings_scanner_knobs(wall_event, settings):
    import dataclasses

    from app.services.events import get_current_event

    layout = layouts(wall_event)[0]
    # A boundary margin of half a cell leaves every sticky on the grid in doubt: none placed.
    doubtful = dataclasses.replace(settings, scan_params={"boundary_margin": 0.5})
    ingest_photo(
        event=get_current_event(),
        source="cam",
        photo=photo_bytes(wall_event, layout),
        settings=doubtful,
        scan_id="cam-knobs",
    )
    scan = stored_scan()
    on_grid = sorted(code for code, (room, _) in layout.items() if room is not None)
    assert [s["code"] for s in scan.observations["stickies"] if s["room"]] == []
    assert [w for w in scan.observations["warnings"] if "too close to a cell boundary" in w] == [
        f"sticky {code}: too close to a cell boundary; not placed" for code in on_grid
    ]
