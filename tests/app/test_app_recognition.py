"""Suggested titles: a new best picture is read in the background and its title suggested."""

import logging

import pytest

from app.extensions import db
from app.models import Sticky
from app.services.pictures import View, store_views
from app.services.recognition import (
    SHOW_CONFIDENCE,
    keep_suggestion,
    recogniser,
    wall_title,
    writing_area,
)
from app.settings import app_settings, configure
from scanner import ViewScore, ocr

WAIT_S = 120  # a bound, not a pace: the first reading loads the models


def _handwritten_view(code, title, *, hand="dkg", px_per_mm=6.0, seed=2, seen_px_per_mm=None):
    from benchmarks.ocr_bench import HANDS, photograph_sticky, sticky_with_title

    (h,) = [h for h in HANDS if h.name == hand]
    flat, _ = sticky_with_title(title, h, seed=seed)
    image = photograph_sticky(flat, px_per_mm=px_per_mm, seed=seed)
    seen = seen_px_per_mm or px_per_mm
    score = ViewScore(px_per_mm=seen, sharpness=0.8, glare=0.0, coverage=1.0)
    return View(code=code, image=image, score=score)


def _store(app, event, *views):
    kept = store_views(
        event=event,
        views=views,
        store=app_settings(app).scan.pictures_store,
        cap_bytes=app.config["PICTURES_MAX_BYTES"],
    )
    db.session.commit()
    return kept


def _suggestion(sticky_id):
    db.session.expire_all()
    return db.session.get(Sticky, sticky_id).suggested_title


@pytest.mark.skipif(
    not ocr.engine_available("rapidocr"), reason="RapidOCR is not installed (pyproject installs it)"
)
@pytest.mark.parametrize("drop_print", [False, True])
def test_recognition_stored_picture_leads_to_suggestion(app, event, create_stickies, drop_print):
    from benchmarks.ocr_bench import HANDS

    if not __import__("os").path.exists(HANDS[0].path):
        pytest.skip(f"font {HANDS[0].path} missing: apt-get install {HANDS[0].package}")
    configure(app, OCR_ENGINE="rapidocr")
    # Taking the print away draws the sticky as printed for each reading, and leaves no file.
    configure(app, OCR_DROP_PRINT=drop_print)
    (sticky,) = create_stickies(1)
    assert _store(app, event, _handwritten_view(sticky.code, "Open data")) == [sticky.code]
    assert recogniser(app).wait(WAIT_S)
    assert _suggestion(sticky.id) == "Open data"
    assert db.session.get(Sticky, sticky.id).title is None
    worker = recogniser(app)
    assert worker.drop_print is drop_print
    assert list(worker.blank_dir.iterdir()) == []


@pytest.mark.skipif(
    not ocr.engine_available("rapidocr"), reason="RapidOCR is not installed (pyproject installs it)"
)
def test_recognition_catches_up_on_pictures_a_stopped_process_left_unread(
    app, client, event, create_stickies, create_session
):
    """Pictures stored while no recogniser ran (a process stopped with them queued) are read
    after the next process's first request; titled or already suggested stickies are not."""
    (unread, suggested) = create_stickies(2)
    titled = create_session(title="Typed already")
    _store(
        app,
        event,
        _handwritten_view(unread.code, "Open data"),
        _handwritten_view(suggested.code, "Open data"),
        _handwritten_view(titled.code, "Open data"),
    )
    suggested.suggested_title = "Kept as it is"
    db.session.commit()
    configure(app, OCR_ENGINE="rapidocr")
    assert client.get("/healthz").status_code == 200
    worker = recogniser(app)
    assert worker.wait(WAIT_S)
    assert _suggestion(unread.id) == "Open data"
    assert _suggestion(suggested.id) == "Kept as it is"
    assert _suggestion(titled.id) is None
    assert worker.catch_up() == 0  # once per process


def test_recognition_catch_up_leaves_a_picture_another_worker_has_read(
    app, event, create_stickies, monkeypatch
):
    """Every worker catches up after a restart: a sticky that another one has read meanwhile is
    not read again, and the others still are."""
    import threading
    from pathlib import Path

    from app.services import recognition

    (first, second) = create_stickies(2)
    _store(
        app,
        event,
        _handwritten_view(first.code, "Open data", px_per_mm=2.0),
        _handwritten_view(second.code, "Open data", px_per_mm=2.0),
    )
    go_on = threading.Event()
    monkeypatch.setattr(recognition, "wait_for_quiet", lambda stop, **_: go_on.wait(WAIT_S))
    read = []

    def note_reading(*, path, **options):
        # Which pictures are read is the question here; what they say, the tests above.
        read.append(Path(path).name)

    monkeypatch.setattr(recognition, "read_picture_title", note_reading)
    configure(app, OCR_ENGINE="engine-not-installed")
    worker = recogniser(app)
    assert worker.catch_up() == 2
    first.suggested_title = "Open data"  # read by the other worker while this one waited
    db.session.commit()
    go_on.set()
    assert worker.wait(WAIT_S)
    assert read == [Path(second.picture_file).name]


def test_recognition_typed_title_is_not_read(app, event, create_session, caplog):
    configure(app, OCR_ENGINE="engine-not-installed")
    sticky = create_session(title="Testing without mocks")
    with caplog.at_level(logging.WARNING, logger="scanner.ocr"):
        _store(app, event, _handwritten_view(sticky.code, "Open data", px_per_mm=2.0))
        assert recogniser(app).wait(WAIT_S)
    assert _suggestion(sticky.id) is None
    # The sticky was skipped before any engine was asked.
    assert caplog.records == []


def test_recognition_missing_engine_leaves_suggestion_empty(app, event, create_stickies, caplog):
    configure(app, OCR_ENGINE="engine-not-installed")
    (sticky,) = create_stickies(1)
    with caplog.at_level(logging.WARNING, logger="scanner.ocr"):
        _store(app, event, _handwritten_view(sticky.code, "Open data", px_per_mm=2.0))
        assert recogniser(app).wait(WAIT_S)
    assert _suggestion(sticky.id) is None
    assert [r.getMessage() for r in caplog.records] == [
        "text recognition with engine-not-installed unavailable: not installed"
    ]


def test_recognition_view_enlarged_from_a_coarse_camera_is_not_read(
    app, event, create_stickies, caplog
):
    configure(app, OCR_ENGINE="engine-not-installed")
    (sticky,) = create_stickies(1)
    view = _handwritten_view(sticky.code, "Open data", px_per_mm=2.0, seen_px_per_mm=1.0)
    with caplog.at_level(logging.WARNING, logger="scanner.ocr"):
        _store(app, event, view)
        assert recogniser(app).wait(WAIT_S)
    assert _suggestion(sticky.id) is None
    # Too coarse to read: the engine was never asked, so it never said it is missing.
    assert caplog.records == []


def test_recognition_rolled_back_picture_is_not_queued(app, event, create_stickies):
    configure(app, OCR_ENGINE="engine-not-installed")
    (sticky,) = create_stickies(1)
    store_views(
        event=event,
        views=[_handwritten_view(sticky.code, "Open data", px_per_mm=2.0)],
        store=app_settings(app).scan.pictures_store,
        cap_bytes=app.config["PICTURES_MAX_BYTES"],
    )
    db.session.rollback()
    assert recogniser(app).queue.unfinished_tasks == 0


def test_recognition_disabled_makes_no_worker(app, event, create_stickies):
    (sticky,) = create_stickies(1)
    _store(app, event, _handwritten_view(sticky.code, "Open data", px_per_mm=2.0))
    assert recogniser(app) is None
    assert "openspaces.recognition" not in app.extensions


def test_recognition_full_queue_drops_and_logs_once(app, caplog):
    configure(app, OCR_ENGINE="engine-not-installed")
    configure(app, OCR_QUEUE_SIZE=2)
    worker = recogniser(app)
    worker.stop(timeout=5)  # nothing reads the queue: it fills up
    with caplog.at_level(logging.WARNING, logger="app.services.recognition"):
        assert [worker.submit(i) for i in (1, 2, 3, 4, 2)] == [True, True, False, False, False]
    assert [r.getMessage() for r in caplog.records] == [
        "title recognition is 2 stickies behind; new pictures are not read until it catches up "
        "(OCR_QUEUE_SIZE)"
    ]


def test_keep_suggestion_never_replaces_a_title(app, create_session):
    sticky = create_session(title="Testing without mocks")
    sticky.picture_file = "x.jpg"
    assert keep_suggestion(sticky=sticky, picture_file="x.jpg", text="Open data") is False
    assert sticky.suggested_title is None


def test_keep_suggestion_of_replaced_picture_is_thrown_away(app, create_stickies):
    (sticky,) = create_stickies(1)
    sticky.picture_file = "new.jpg"
    assert keep_suggestion(sticky=sticky, picture_file="old.jpg", text="Open data") is False
    assert keep_suggestion(sticky=sticky, picture_file="new.jpg", text="  Open \n data ") is True
    assert sticky.suggested_title == "Open data"


def test_writing_area_every_template_lies_inside_the_sticky():
    from printables.templates import TEMPLATES

    for name in TEMPLATES:
        area = writing_area(name)
        x0, y0, x1, y1 = area.box
        assert 0 < x0 < area.keepout[0] < x1 < 1, name
        assert 0.2 < y0 < area.keepout[1] < y1 < 1, name


def test_wait_for_quiet_waits_for_a_pause_in_requests_but_not_for_ever(app):
    import threading
    import time

    from app.services import recognition

    stop = threading.Event()
    recognition.note_request(app)
    started = time.monotonic()
    assert recognition.wait_for_quiet(stop, quiet_s=0.3, longest_s=5.0)
    assert 0.3 <= time.monotonic() - started < 1.0
    # Requests that never pause: reading goes ahead after the longest wait.
    keep_busy = threading.Event()

    def busy():
        while not keep_busy.is_set():
            recognition.note_request(app)
            time.sleep(0.02)

    thread = threading.Thread(target=busy)
    thread.start()
    try:
        started = time.monotonic()
        assert recognition.wait_for_quiet(stop, quiet_s=0.3, longest_s=0.6)
        assert 0.6 <= time.monotonic() - started < 1.5
    finally:
        keep_busy.set()
        thread.join()
    stop.set()
    assert recognition.wait_for_quiet(stop) is False


@pytest.mark.slow
@pytest.mark.skipif(
    not ocr.engine_available("rapidocr"), reason="RapidOCR is not installed (pyproject installs it)"
)
def test_recognition_runs_in_the_served_app_with_gevent_workers(
    app, event, create_stickies, tmp_path
):
    """`openspaces serve` on gunicorn's gevent workers reads a camera's view of a handwritten
    sticky and offers its title, as the app does in a thread elsewhere."""
    import importlib.util
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    import cv2
    import requests

    from app.services.organizers import create_token
    from benchmarks.servers import free_port

    if importlib.util.find_spec("gevent") is None:
        pytest.skip("gunicorn with gevent is not installed")
    (sticky,) = create_stickies(1)
    code = sticky.code
    _, secret = create_token(name="wall-cam")
    db.session.commit()
    ok, jpeg = cv2.imencode(".jpg", _handwritten_view(code, "Open data").image)
    port = free_port()
    env = {**os.environ, "OPENSPACES_INSTANCE": app.instance_path}
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--server", "gunicorn", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # Ready when the worker answers /healthz. On a busy machine starting gunicorn and the app
        # takes a while, and a slow answer is not a missing one: wait up to the deadline.
        deadline = time.monotonic() + WAIT_S
        while True:
            assert server.poll() is None, f"the server stopped:\n{log.read_text()}"
            try:
                if requests.get(f"{base}/healthz", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"no answer in {WAIT_S} s:\n{log.read_text()}"
            time.sleep(0.2)
        scan = {
            "scan_id": "hand-1",
            "board_found": True,
            "stickies": [{"code": code, "room": "Hall A", "slot": "2026-09-26T10:00"}],
        }
        score = {"px_per_mm": 6.0, "sharpness": 0.8, "glare": 0.0, "coverage": 1.0}
        posted = requests.post(
            f"{base}/api/scans",
            headers={"Authorization": f"Bearer {secret}"},
            data={"scan": json.dumps(scan), f"score.{code}": json.dumps(score)},
            files={f"view.{code}": (f"{code}.jpg", jpeg.tobytes(), "image/jpeg")},
            timeout=30,
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["pictures"] == [code]
        suggested = None
        until = time.monotonic() + WAIT_S
        while suggested is None and time.monotonic() < until:
            board = requests.get(f"{base}/api/board", timeout=30).json()
            (mine,) = [s for s in board["stickies"] if s["code"] == code]
            suggested = mine["suggested_title"]
            time.sleep(0.5)
        assert suggested == "Open data"
        assert mine["title"] is None
    finally:
        os.killpg(server.pid, signal.SIGINT)  # gunicorn's quick shutdown
        server.wait(30)


def _placed_with_reading(app, event, sticky, make_view, text, confidence):
    from app.services.board import place_sticky

    place_sticky(
        sticky=sticky, room=event.rooms[0], slot=event.slots[0], source="organizer", scan=None
    )
    store_views(
        event=event,
        views=[make_view(sticky.code)],
        store=app_settings(app).scan.pictures_store,
        cap_bytes=app.config["PICTURES_MAX_BYTES"],
    )
    assert keep_suggestion(
        sticky=sticky, picture_file=sticky.picture_file, text=text, confidence=confidence
    )
    db.session.commit()


def _summaries(client):
    import icalendar

    return [
        str(e["SUMMARY"])
        for e in icalendar.Calendar.from_ical(client.get("/schedule.ics").data).walk("VEVENT")
    ]


def test_confident_reading_is_the_title_on_board_and_feeds_until_a_title_is_typed(
    app, client, event, create_stickies, make_view
):
    (sticky,) = create_stickies(1)
    _placed_with_reading(app, event, sticky, make_view, "Rust for <Pythonistas>", 0.97)
    assert wall_title(sticky) == "Rust for <Pythonistas>"
    html = client.get("/board").get_data(as_text=True)
    assert (
        '<span class="note-title read-from-wall">Rust for &lt;Pythonistas&gt;</span>'
        '<span class="suggestion">read from the wall</span>'
    ) in html
    assert "looks like" not in html
    assert _summaries(client)[0] == "Rust for <Pythonistas> (read from the wall)"
    # Someone types (or confirms) the title: that is the title from now on.
    sticky.title = "Rust for Pythonistas"
    db.session.commit()
    assert wall_title(sticky) is None
    assert _summaries(client)[0] == "Rust for Pythonistas"
    assert "read from the wall" not in client.get("/board").get_data(as_text=True)


def test_unsure_reading_stays_a_suggestion(app, client, event, create_stickies, make_view):
    (sticky,) = create_stickies(1)
    _placed_with_reading(
        app, event, sticky, make_view, "Rust for Pythonistas", SHOW_CONFIDENCE - 0.01
    )
    assert wall_title(sticky) is None
    html = client.get("/board").get_data(as_text=True)
    assert "looks like: Rust for Pythonistas" in html
    assert "read from the wall" not in html
    assert _summaries(client)[0] == f"Session {sticky.code} (handwritten)"


def test_reading_of_a_replaced_picture_is_not_shown_as_title(
    app, event, create_stickies, make_view
):
    (sticky,) = create_stickies(1)
    _placed_with_reading(app, event, sticky, make_view, "Rust for Pythonistas", 0.99)
    # A new best picture comes with a score of its own: the old reading's confidence goes.
    sticky.picture_score = {"px_per_mm": 9.0}
    assert wall_title(sticky) is None
    assert sticky.suggested_title == "Rust for Pythonistas"
