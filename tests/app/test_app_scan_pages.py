"""Organizer scan pages: a phone photo previewed and applied, the history, undo and the time-lapse."""

from __future__ import annotations

import io
import re

import cv2
import numpy as np
from app_wall import codes, expected, layouts, wall_for

from app.extensions import db
from app.models import Scan
from app.services.organizers import set_password


def login(client):
    set_password(username="admin", password="correct horse")
    db.session.commit()
    client.post("/auth/login", data={"username": "admin", "password": "correct horse"})


def photo_bytes(manifest, layout) -> bytes:
    ok, data = cv2.imencode(".jpg", wall_for(manifest).photo(layout))
    assert ok
    return data.tobytes()


def board(client) -> dict:
    data = client.get("/api/board").get_json()
    return {s["code"]: (s["room"], s["slot"], s["status"]) for s in data["stickies"]}


def test_scan_page_previews_then_applies_a_phone_photo(app, client, wall_event):
    login(client)
    s1, s2, s3, p = codes(wall_event)
    layout = layouts(wall_event)[0]
    assert 'capture="environment"' in client.get("/scan").get_data(as_text=True)
    preview = client.post(
        "/scan", data={"photo": (io.BytesIO(photo_bytes(wall_event, layout)), "wall.jpg")}
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "4 stickies read, 0 cells hidden." in html
    assert f"<code>{s1}</code>" in html and "Hall A 10:00" in html
    # Nothing changes before the organizer confirms.
    assert board(client) == {}
    assert db.session.query(Scan).count() == 0
    image_url = re.search(r'<img class="scan-photo" src="([^"]+)"', html).group(1)
    assert client.get(image_url).mimetype == "image/jpeg"

    apply_url = re.search(r'action="(/scan/[0-9a-f]{32}/apply)"', html).group(1)
    applied = client.post(apply_url)
    assert applied.status_code == 302
    assert board(client) == expected(layout)
    assert client.post(apply_url).status_code == 404  # applied once

    history = client.get("/admin/scans").get_data(as_text=True)
    assert "organizer" in history and ">4</td>" in history
    scan = db.session.query(Scan).one()
    assert client.get(f"/admin/scans/{scan.id}/image").mimetype == "image/jpeg"
    lapse = client.get("/admin/timelapse").get_data(as_text=True)
    assert f"/admin/scans/{scan.id}/public.jpg" in lapse

    client.post(f"/admin/scans/{scan.id}/undo")
    assert board(client) == {}


def test_scan_page_refuses_a_file_that_is_not_a_photo(client, wall_event):
    login(client)
    response = client.post("/scan", data={"photo": (io.BytesIO(b"%PDF-1.4 nope"), "wall.jpg")})
    assert response.status_code == 422
    assert "not an image" in response.get_data(as_text=True)
    assert db.session.query(Scan).count() == 0


def test_scan_page_photo_without_board_changes_nothing(client, wall_event):
    login(client)
    blank = cv2.imencode(".png", np.full((600, 800, 3), 255, np.uint8))[1]
    preview = client.post("/scan", data={"photo": (io.BytesIO(blank.tobytes()), "white.png")})
    html = preview.get_data(as_text=True)
    assert "The board was not found in this photo" in html
    assert "Nothing would change." in html


def test_scan_pages_require_login(client, wall_event):
    for url in ("/scan", "/admin/scans", "/admin/timelapse"):
        assert client.get(url).status_code == 302


def test_scan_detail_shows_where_the_scan_s_time_went(client, wall_event):
    login(client)
    layout = layouts(wall_event)[0]
    preview = client.post(
        "/scan", data={"photo": (io.BytesIO(photo_bytes(wall_event, layout)), "wall.jpg")}
    )
    apply_url = re.search(r'action="(/scan/[0-9a-f]{32}/apply)"', preview.text).group(1)
    client.post(apply_url)
    scan = db.session.query(Scan).one()
    timings = scan.observations["timings"]
    html = client.get(f"/admin/scans/{scan.id}").get_data(as_text=True)
    assert f"<h2>Read in {timings['total']['wall_ms']:.0f} ms</h2>" in html
    stages = re.findall(r'<tr><th scope="row">([a-z_ ]+)</th>', html)
    assert stages == [stage for stage in timings if stage != "total"]
    # One bar per stage, each its share of the whole.
    bars = re.findall(r'<meter min="0" max="([0-9.]+)" value="([0-9.]+)"', html)
    assert bars == [
        (str(timings["total"]["wall_ms"]), str(t["wall_ms"]))
        for stage, t in timings.items()
        if stage != "total"
    ]


def test_scan_detail_of_posted_observations_has_no_timings(client, wall_event):
    login(client)
    body = {"scan_id": "cam-1", "board_found": True, "stickies": [], "hidden_cells": []}
    headers = {"Authorization": f"Bearer {wall_event['token']}"}
    assert client.post("/api/scans", json=body, headers=headers).status_code == 201
    scan = db.session.query(Scan).one()
    html = client.get(f"/admin/scans/{scan.id}").get_data(as_text=True)
    assert "Read in" not in html and "<meter" not in html
