"""The phone camera page: pairing, the camera list on the dashboard, and a real browser as the camera.

Photo coordinates are pixels, origin top-left; the browser's camera plays synthetic photos of the
event's own board, rendered by the benchmark's photographer.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import time

import cv2
import numpy as np
import pytest
from app_helpers import log_in
from sqlalchemy import select

from app.extensions import db
from app.models import CameraPairing, Scan, StickyKind, utcnow
from app.services import cameras as camera_service
from app.services.events import load_event_file
from app.services.manifest import build_manifest
from app.services.organizers import create_token, revoke_token, set_password
from app.services.stickies import allocate_stickies
from app.settings import configure
from benchmarks.demo_wall import CAMERA as WALL_CAMERA
from benchmarks.demo_wall import CHROMIUM_ARGS as HEADLESS_ARGS
from benchmarks.demo_wall import wall_toml

CHROMIUM_ARGS = [
    *HEADLESS_ARGS,
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


@pytest.fixture
def wall(app, tmp_path, live):
    """A 3 x 3 event served at the live server's address, with three session stickies.

    It sets the organizer's password, which ends the organizer's sessions: ask for it before
    ``organizer_client``.
    """
    path = tmp_path / "wall.toml"
    path.write_text(wall_toml(base_url=live.url), encoding="utf-8")
    event = load_event_file(path).event
    allocate_stickies(event=event, count=3, kind=StickyKind.SESSION, template="note-76", paper="a4")
    set_password(username="admin", password="correct horse")
    db.session.commit()
    return event


def pairing_link(html: str) -> str:
    match = re.search(r'class="pairing-link" href="([^"]+)"', html)
    assert match, "the dashboard shows no pairing link"
    return match.group(1).replace("&amp;", "&")


def pair(client, link: str):
    return client.post("/camera/pair", json={"code": link.split("pair=", 1)[1]})


def post_photo_scan(client, token: str, scan_id: str, photo: bytes):
    return client.post(
        "/api/scans",
        data={"scan_id": scan_id, "photo": (io.BytesIO(photo), "frame.jpg")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


# ----------------------------------------------------------------------------------------------
# Pairing and the dashboard, through the test client


def test_pairing_link_pairs_one_phone_once(wall, organizer_client, app, live):
    html = organizer_client.get("/admin/").get_data(as_text=True)
    link = pairing_link(html)
    assert link.startswith(f"{live.url}/camera?pair=")
    assert '<svg class="qr" xmlns="http://www.w3.org/2000/svg"' in html
    phone = app.test_client()
    answer = pair(phone, link)
    assert answer.status_code == 201
    name, token = answer.get_json()["name"], answer.get_json()["token"]
    assert re.fullmatch(r"phone-[0-9A-HJKMNP-TV-Z]{6}", name)
    again = pair(app.test_client(), link)
    assert again.status_code == 422
    assert again.get_json() == {
        "error": "this pairing code was used already; show a new one on the organizer dashboard"
    }
    status = phone.get("/camera/status", headers={"Authorization": f"Bearer {token}"})
    assert status.get_json() == {"camera": name, "last": None}


def test_pairing_code_expired_or_forged_is_refused(app, wall, monkeypatch):
    from itsdangerous import TimestampSigner

    with monkeypatch.context() as m:
        # Made eleven minutes ago.
        m.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 660)
        old = camera_service.new_pairing_code(secret_key="test")
    with pytest.raises(camera_service.PairingError, match="more than 10 minutes old"):
        camera_service.pair_camera(code=old, secret_key="test")
    code = camera_service.new_pairing_code(secret_key="test")
    with pytest.raises(camera_service.PairingError, match="not a pairing code from this board"):
        camera_service.pair_camera(code=code, secret_key="another key")
    answer = app.test_client().post("/camera/pair", json={"code": code[:-2] + "xx"})
    assert answer.status_code == 422
    assert answer.get_json() == {"error": "this is not a pairing code from this board"}
    assert app.test_client().post("/camera/pair", data="nope").status_code == 422


def test_pairing_code_stops_working_when_a_newer_one_is_shown(wall, organizer_client, app):
    first = pairing_link(organizer_client.get("/admin/").get_data(as_text=True))
    second = pairing_link(organizer_client.get("/admin/").get_data(as_text=True))
    assert first != second
    from itsdangerous import URLSafeTimedSerializer

    signed = URLSafeTimedSerializer("test", salt=camera_service.PAIRING_SALT)
    live_names = db.session.scalars(select(CameraPairing.name)).all()
    assert live_names == [signed.loads(second.split("pair=", 1)[1])]
    replaced = pair(app.test_client(), first)
    assert (replaced.status_code, replaced.get_json()) == (
        422,
        {
            "error": "a newer pairing code was shown since this one; "
            "scan the code on the organizer dashboard now"
        },
    )
    assert pair(app.test_client(), second).status_code == 201
    # Used, it is over too: no code is live until the dashboard shows another.
    assert db.session.scalars(select(CameraPairing)).all() == []
    assert pair(app.test_client(), second).get_json() == {
        "error": "this pairing code was used already; show a new one on the organizer dashboard"
    }


def test_revoked_camera_token_is_refused_by_status_and_scans(app, wall):
    _, token = create_token(name="phone-REVOKD")
    revoke_token(name="phone-REVOKD")
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/camera/status", headers=headers).status_code == 401
    assert client.post("/api/scans", json={"scan_id": "x"}, headers=headers).status_code == 401


def test_dashboard_unpairs_a_camera(wall, organizer_client, app):
    _, token = create_token(name="phone-BBBBBB")
    db.session.commit()
    html = organizer_client.get("/admin/").get_data(as_text=True)
    assert 'name="name" value="phone-BBBBBB"' in html
    answer = organizer_client.post("/admin/cameras/revoke", data={"name": "phone-BBBBBB"})
    assert answer.status_code == 302
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/camera/status", headers=headers).status_code == 401
    html = organizer_client.get("/admin/").get_data(as_text=True)
    assert "phone-BBBBBB is unpaired" in html
    assert 'value="phone-BBBBBB"' not in html
    assert "phone, revoked" in html
    missing = organizer_client.post("/admin/cameras/revoke", data={"name": "nope"})
    assert missing.status_code == 302
    assert "no token called &#39;nope&#39;" in organizer_client.get("/admin/").get_data(
        as_text=True
    )


def test_camera_page_is_csp_clean_and_served_locally(client, wall):
    response = client.get("/camera")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script[^>]*>", html)
    # Every script is a file of the board's own, the camera's among them; none is inline.
    assert all(re.match(r'<script src="/static/[a-z-]+\.js\?v=[0-9a-f]{10}"', s) for s in scripts)
    assert re.search(r'<script src="/static/camera\.js\?v=[0-9a-f]{10}" defer>', html)
    assert " style=" not in html and "<style" not in html
    assert "http" not in re.sub(r'href="[^"]*"', "", html.split("<body", 1)[1])
    assert client.get("/static/camera.js").status_code == 200


def test_dashboard_lists_cameras_with_last_scan_thumbnail_and_quiet_warning(
    wall, organizer_client, app
):
    from benchmarks.wall_video import Wall

    manifest = build_manifest(wall)
    codes = [s["code"] for s in manifest["stickies"]]
    photo = Wall(manifest, camera=WALL_CAMERA).photo(
        {codes[0]: ("Hall A", "2026-09-26T10:00"), codes[1]: ("Hall C", "2026-09-26T12:00")}
    )
    jpeg = cv2.imencode(".jpg", photo)[1].tobytes()
    _, phone = create_token(name="phone-AAAAAA")
    _, webcam = create_token(name="hall-cam")
    db.session.commit()
    client = app.test_client()
    assert post_photo_scan(client, phone, "phone-AAAAAA-1", jpeg).status_code == 201
    status = client.get("/camera/status", headers={"Authorization": f"Bearer {phone}"}).get_json()
    last = status["last"]
    assert [(s["code"], s["room"], s["slot"]) for s in last["placed"]] == [
        (codes[0], "Hall A", "2026-09-26T10:00"),
        (codes[1], "Hall C", "2026-09-26T12:00"),
    ]
    assert (last["scan_id"], last["board_found"], last["size"]) == (
        "phone-AAAAAA-1",
        True,
        [960, 720],
    )
    # The outline runs through the four corner markers, clockwise from the top-left.
    (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = last["outline"]
    assert tlx < trx and blx < brx and tly < bly and try_ < bry
    # The webcam's last scan was five minutes ago: it has gone quiet; the phone has not.
    scan = Scan(
        event_id=wall.id,
        client_scan_id="hall-cam-1",
        source="hall-cam",
        board_found=False,
        observations={"stickies": [], "hidden_cells": [], "warnings": ["board not found"]},
        received_dt=utcnow() - dt.timedelta(minutes=5),
    )
    db.session.add(scan)
    db.session.commit()
    html = organizer_client.get("/admin/").get_data(as_text=True)
    rows = dict(re.findall(r'data-camera="([^"]+)">(.*?)</li>', html, re.S))
    assert list(rows) == ["phone-AAAAAA", "hall-cam"]
    phone_scan = db.session.scalar(select(Scan).filter_by(client_scan_id="phone-AAAAAA-1"))
    thumb = f"/admin/cameras/scans/{phone_scan.id}/thumb.jpg"
    assert (
        f'href="/admin/scans/{phone_scan.id}/image"><img class="camera-thumb" src="{thumb}"'
        in (rows["phone-AAAAAA"])
    )
    small = cv2.imdecode(
        np.frombuffer(organizer_client.get(thumb).data, np.uint8), cv2.IMREAD_COLOR
    )
    assert small.shape == (240, 320, 3)
    assert app.test_client().get(thumb).status_code == 302  # organizers only
    assert "2 placed." in rows["phone-AAAAAA"]
    assert "Gone quiet" not in rows["phone-AAAAAA"]
    assert "board not found, 1 warning." in " ".join(rows["hall-cam"].split())
    assert "Gone quiet: no scan for more than 2 minutes" in rows["hall-cam"]


def test_new_camera_is_not_quiet_before_its_first_scan(wall, organizer_client):
    create_token(name="phone-BBBBBB")
    old, _ = create_token(name="phone-CCCCCC")
    old.created_dt = utcnow() - dt.timedelta(minutes=3)
    db.session.commit()
    html = organizer_client.get("/admin/").get_data(as_text=True)
    rows = dict(re.findall(r'data-camera="([^"]+)">(.*?)</li>', html, re.S))
    assert "No scan yet." in rows["phone-BBBBBB"]
    assert "Gone quiet" not in rows["phone-BBBBBB"]
    assert "Gone quiet: no scan for more than 2 minutes" in rows["phone-CCCCCC"]


# ----------------------------------------------------------------------------------------------
# A real browser as the phone


@pytest.fixture
def board_video(tmp_path, wall):
    """An MJPEG of the wall: three stickies, one of them moving between two cells every 2.5 s."""
    from benchmarks.wall_video import Wall, write_mjpeg

    manifest = build_manifest(wall)
    s1, s2, s3 = (s["code"] for s in manifest["stickies"])
    scene = Wall(manifest, camera=WALL_CAMERA)
    here = {s2: ("Hall B", "2026-09-26T11:00"), s3: ("Hall C", "2026-09-26T12:00")}
    photos = [
        scene.photo({s1: ("Hall A", "2026-09-26T10:00"), **here}),
        scene.photo({s1: ("Hall A", "2026-09-26T11:00"), **here}),
    ]
    return write_mjpeg(tmp_path / "wall.mjpeg", photos, seconds_each=2.5), (s1, s2, s3)


def camera_scan_ids(name: str) -> list[str]:
    db.session.remove()
    query = select(Scan.client_scan_id).filter_by(source=name).order_by(Scan.id)
    return list(db.session.scalars(query))


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_browser_phone_pairs_fills_board_and_survives_server_outage(
    app, live, wall, board_video, playwright
):
    video, codes = board_video
    # A browser of its own: the fake camera's video is fixed when Chromium starts.
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={video}"],
    )
    try:
        organizer = browser.new_page()
        log_in(organizer, live.url)
        organizer.goto(f"{live.url}/admin/")
        link = organizer.get_attribute("a.pairing-link", "href")

        # A queue of three frames, so that the outage below fills it.
        configure(app, CAMERA_QUEUE_FRAMES=3)
        phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        refused = []
        phone.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        phone.goto(link + "&every=1")
        phone.wait_for_function(
            "() => window.openspacesCamera.delivered.length >= 1", timeout=15000
        )
        assert "pair=" not in phone.url
        name = phone.inner_text("#camera-name")
        phone.wait_for_function(
            "() => document.getElementById('camera-placed').textContent === '3'", timeout=15000
        )

        # Times in 24-hour format whatever the phone's locale.
        assert re.fullmatch(
            r"Last scan \d\d:\d\d:\d\d: \d stick(y|ies) in cells", phone.inner_text("#camera-last")
        )

        board = browser.new_page()
        board.goto(f"{live.url}/board")
        for code in codes:
            board.locator(f'td [data-code="{code}"]').first.wait_for(timeout=10000)

        live.stop()
        # A frame a second: the page keeps the newest three while the server is down.
        phone.wait_for_function("() => window.openspacesCamera.dropped >= 2", timeout=30000)
        assert phone.get_attribute("#camera-queue", "data-waiting") == "3"
        # The queue line is on the screen of a phone mounted at the wall, above the lists.
        box = phone.locator("#camera-queue").bounding_box()
        assert box["y"] + box["height"] <= 844
        # The line counts the frames dropped when it was last drawn: one or more.
        queue = phone.inner_text("#camera-queue")
        assert re.search(r"; (1 older frame|\d+ older frames) dropped \(queue full\)", queue), queue
        waited = phone.evaluate("window.openspacesCamera.queued.slice()")
        live.start()
        # The newest frame that waited reaches the board.
        phone.wait_for_function(
            "id => window.openspacesCamera.delivered.includes(id)", arg=waited[-1], timeout=20000
        )
        # Unpairing on the dashboard stops the page at its next frame.
        organizer.goto(f"{live.url}/admin/")
        organizer.click(f'li[data-camera="{name}"] button:has-text("unpair")')
        phone.wait_for_function("() => window.openspacesCamera.stopped", timeout=15000)
        assert "unpaired" in phone.inner_text("#camera-state")
        assert phone.evaluate("localStorage.getItem('openspaces-camera')") is None
        queued = phone.evaluate("window.openspacesCamera.queued.slice()")
        dropped = phone.evaluate("window.openspacesCamera.droppedIds.slice()")
        assert refused == []
    finally:
        browser.close()
    stored = camera_scan_ids(name)
    # Every frame the page took and kept, up to the last one the server has, in order, each once;
    # the frames dropped from the full queue are the oldest that waited, and none reached it.
    kept = [scan_id for scan_id in queued if scan_id not in dropped]
    assert len(dropped) >= 2
    assert dropped == [scan_id for scan_id in waited if scan_id not in stored][: len(dropped)]
    assert len(stored) == len(set(stored))
    assert stored == kept[: len(stored)]
    assert waited[-1] in stored


# Frames put in the page's queue before it starts, in the shape camera.js keeps them.
SEED_QUEUE = """
async (frames) => {
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open("openspaces-camera", 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore("frames", { keyPath: "seq", autoIncrement: true });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  await new Promise((resolve, reject) => {
    const t = db.transaction("frames", "readwrite");
    for (const f of frames) {
      const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
      const blob = new Blob([bytes], { type: f.type });
      t.objectStore("frames").add({ scanId: f.scanId, blob: blob, bytes: blob.size, takenMs: 0 });
    }
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
  });
  db.close();
}
"""


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_browser_phone_refused_and_failing_frames_do_not_hold_up_the_queue(
    app, live, wall, board_video, playwright, monkeypatch
):
    import base64

    from PIL import Image

    from app.views import api as api_views

    video, codes = board_video
    strip = io.BytesIO()
    Image.new("L", (1, 7000), 255).save(strip, format="PNG")
    blank = cv2.imencode(".jpg", np.full((480, 640, 3), 255, np.uint8))[1].tobytes()
    # Three frames wait before the camera's own: a strip the board refuses, a frame the board
    # fails on every time, and a blank wall that goes through.
    seeds = [
        ("seed-strip", strip.getvalue(), "image/png"),
        ("seed-failing", blank, "image/jpeg"),
        ("seed-blank", blank, "image/jpeg"),
    ]
    # The board fails on one frame, as a bug in it would: the request ends in a 500.
    failed = []
    ingest = api_views.ingest_photo

    def ingest_or_fail(**kwargs):
        if kwargs["scan_id"] == "seed-failing":
            failed.append(kwargs["scan_id"])
            raise RuntimeError("the board fails on this frame")
        return ingest(**kwargs)

    monkeypatch.setattr(api_views, "ingest_photo", ingest_or_fail)
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={video}"],
    )
    try:
        organizer = browser.new_page()
        log_in(organizer, live.url)
        organizer.goto(f"{live.url}/admin/")
        link = organizer.get_attribute("a.pairing-link", "href")

        phone = browser.new_context().new_page()
        # The network is down for the first two sends: the frame at the head waits through them.
        lost = []

        def network(route):
            if len(lost) < 2:
                lost.append(route.request.url)
                route.abort("internetdisconnected")
            else:
                route.continue_()

        phone.route("**/api/scans", network)
        phone.goto(f"{live.url}/camera")  # not paired yet: the page only says so
        phone.evaluate(
            SEED_QUEUE,
            [
                {"scanId": scan_id, "data": base64.b64encode(data).decode(), "type": kind}
                for scan_id, data, kind in seeds
            ],
        )
        phone.goto(link + "&every=1")
        phone.wait_for_function(
            "() => document.getElementById('camera-placed').textContent === '3'", timeout=30000
        )
        name = phone.inner_text("#camera-name")
        state = phone.evaluate("window.openspacesCamera")
        queue_line = phone.inner_text("#camera-queue")
    finally:
        browser.close()
    assert len(lost) == 2
    assert (state["rejectedIds"], state["givenUpIds"]) == (["seed-strip"], ["seed-failing"])
    assert failed == ["seed-failing"] * 3
    assert state["delivered"][0] == "seed-blank"
    assert state["delivered"][1].startswith(f"{name}-")
    assert (
        "1 frame refused: the photo is 1x7000 pixels: its sides must be at least 32 pixels and "
        "at most 20:1; 1 frame given up after 3 server errors each"
    ) in queue_line
    stored = camera_scan_ids(name)
    assert stored[: len(state["delivered"])] == state["delivered"]
    board = {
        s["code"]: (s["room"], s["slot"])
        for s in app.test_client().get("/api/board").json["stickies"]
    }
    # The first sticky moves between two cells in the video; the others stay.
    assert board.pop(codes[0]) in {("Hall A", "2026-09-26T10:00"), ("Hall A", "2026-09-26T11:00")}
    assert board == {
        codes[1]: ("Hall B", "2026-09-26T11:00"),
        codes[2]: ("Hall C", "2026-09-26T12:00"),
    }


# Watches the fake camera as the page sees it: the time (Date.now()) of the first frame that differs
# from the first one it saw, by the page's own change test.
FILM_WATCHER = """
() => {
  window.filmChangedAt = null;
  const watch = setInterval(() => {
    const video = document.getElementById("camera-video");
    const test = window.openspacesChange;
    if (!video || !test || video.readyState < 2 || !video.videoWidth) return;
    const thumb = test.thumbnail(video, video.videoWidth, video.videoHeight, 320);
    if (!window.filmFirst) { window.filmFirst = thumb; return; }
    if (test.changedFraction(thumb, window.filmFirst, 12) > 0.0005) {
      window.filmChangedAt = Date.now();
      clearInterval(watch);
    }
  }, 100);
}
"""


# A phone camera whose still photos have twice the video's width and height, as a phone's 12 MP
# photos beside its 1080p video: Chromium's fake camera takes photos only at its video size.
STILL_CAMERA = """
window.ImageCapture = class {
  constructor(track) { this.track = track; }
  getPhotoCapabilities() {
    const { width, height } = this.track.getSettings();
    return Promise.resolve({ imageWidth: { max: 2 * width }, imageHeight: { max: 2 * height } });
  }
  takePhoto(size) {
    const canvas = document.createElement("canvas");
    canvas.width = size.imageWidth; canvas.height = size.imageHeight;
    canvas.getContext("2d").drawImage(document.getElementById("camera-video"), 0, 0,
                                      canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }
};
"""


@pytest.fixture
def removal_video(tmp_path, wall):
    """An MJPEG of the wall: three stickies for 20 s, then the first one is gone for a minute."""
    from benchmarks.wall_video import Wall, write_mjpeg

    manifest = build_manifest(wall)
    s1, s2, s3 = (s["code"] for s in manifest["stickies"])
    scene = Wall(manifest, camera=WALL_CAMERA)
    rest = {s2: ("Hall B", "2026-09-26T11:00"), s3: ("Hall C", "2026-09-26T12:00")}
    before = scene.photo({s1: ("Hall A", "2026-09-26T10:00"), **rest})
    after = scene.photo(rest)
    photos = [before] * 2 + [after] * 6
    return write_mjpeg(tmp_path / "removal.mjpeg", photos, seconds_each=10), (s1, s2, s3)


def board_codes(url: str) -> set[str]:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{url}/api/board", timeout=5) as answer:
        return {s["code"] for s in json.load(answer)["stickies"] if s["room"] is not None}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_browser_phone_sticky_taken_off_leaves_the_board_within_15_s(
    app, live, wall, removal_video, playwright
):
    video, (gone, *kept) = removal_video
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={video}"],
    )
    try:
        organizer = browser.new_page()
        log_in(organizer, live.url)
        organizer.goto(f"{live.url}/admin/")
        link = organizer.get_attribute("a.pairing-link", "href")
        phone = browser.new_context().new_page()
        phone.add_init_script(f"window.addEventListener('DOMContentLoaded', {FILM_WATCHER})")
        phone.add_init_script(STILL_CAMERA)
        # A browser that will not keep the screen on: the page says so, and keeps saying it.
        phone.add_init_script(
            "Object.defineProperty(navigator, 'wakeLock', "
            "{value: {request: () => Promise.reject(new Error('not allowed'))}})"
        )
        phone.goto(link)  # the page's default settings: a frame every 5 s
        phone.wait_for_function(
            "() => document.getElementById('camera-placed').textContent === '3'", timeout=20000
        )
        assert board_codes(live.url) == {gone, *kept}
        phone.wait_for_function("() => window.filmChangedAt !== null", timeout=30000)
        left_wall_ms = phone.evaluate("window.filmChangedAt")
        while gone in board_codes(live.url):
            assert phone.evaluate("Date.now()") - left_wall_ms < 20000, "still on the board"
            time.sleep(0.2)
        left_board_ms = phone.evaluate("Date.now()")
        assert board_codes(live.url) == set(kept)
        phone.wait_for_function(
            "() => document.getElementById('camera-placed').textContent === '2'", timeout=10000
        )
        name = phone.inner_text("#camera-name")
        photos = phone.evaluate("window.openspacesCamera.photos")
        assert phone.is_visible("#camera-awake")
        assert phone.inner_text("#camera-awake").startswith("The screen may go dark")
        change = phone.inner_text("#camera-changes li")
        assert re.fullmatch(rf"\d\d:\d\d:\d\d · {gone}: Hall A 10:00 → off the board", change)
        assert phone.inner_text("#camera-state") == "Watching the wall"
        live.stop()
        # Between two frames, 5 s apart, the page asks the board every second whether it is there:
        # it stops saying "Watching the wall" at once.
        phone.wait_for_function(
            "() => document.getElementById('camera-state').textContent.includes('out of reach')",
            timeout=2500,
        )
    finally:
        browser.close()
    assert left_board_ms - left_wall_ms <= 15000
    db.session.remove()
    scans = list(db.session.scalars(select(Scan).filter_by(source=name).order_by(Scan.id)))
    # The wall as first seen and as changed went as still photos, the frame confirming the change
    # as a video frame.
    folder = app.config["UPLOAD_DIR"] + "/scans/"
    sizes = [
        cv2.imread(folder + s.image_path.replace("-annotated.jpg", ".jpg")).shape[:2] for s in scans
    ]
    assert photos == sizes.count((1440, 1920)) >= 2
    assert sizes[:3] == [(1440, 1920), (1440, 1920), (720, 960)]
    # Every frame carries the time it was taken: the moment its scan id names.
    assert [s.captured_dt for s in scans] == [
        dt.datetime.fromtimestamp(int(s.client_scan_id.rsplit("-", 1)[1]) / 1000, dt.UTC)
        for s in scans
    ]
