"""Sticky pictures: the best view wins, files follow the transaction, a camera's views are checked."""

import cv2
import numpy as np
import pytest

from app.extensions import db
from app.models import Sticky
from app.services.board import rebuild_from_history
from app.services.observations import parse_observations
from app.services.pictures import (
    InvalidView,
    View,
    drop_picture,
    picture_path,
    read_posted_views,
    store_views,
)
from app.services.scans import apply_scan, undo_scan
from app.settings import app_settings


def _store(app, event, *views, cap=None):
    kept = store_views(
        event=event,
        views=views,
        store=app_settings(app).scan.pictures_store,
        cap_bytes=cap or app.config["PICTURES_MAX_BYTES"],
    )
    db.session.commit()
    return kept


def test_store_views_first_view_is_kept(app, event, create_stickies, make_view):
    (sticky,) = create_stickies(1)
    assert _store(app, event, make_view(sticky.code)) == [sticky.code]
    path = picture_path(app.config["PICTURE_DIR"], sticky)
    assert path.is_file()
    assert path.stat().st_size == sticky.picture_bytes
    assert sticky.picture_quality == 1.4
    assert sticky.picture_score == {
        "px_per_mm": 2.0,
        "sharpness": 0.6,
        "glare": 0.0,
        "coverage": 1.0,
        "quality": 1.4,
        "picture": {"width": 152, "height": 152, "crop_mm": [0.0, 0.0, 76.0, 76.0], "cut": False},
    }
    assert cv2.imread(str(path)).shape == (152, 152, 3)


def test_store_views_worse_view_never_replaces_better(app, event, create_stickies, make_view):
    (sticky,) = create_stickies(1)
    _store(app, event, make_view(sticky.code, px_per_mm=6.0, seed=1))
    first = sticky.picture_file
    assert _store(app, event, make_view(sticky.code, px_per_mm=1.0, seed=2)) == []
    assert _store(app, event, make_view(sticky.code, px_per_mm=6.0, seed=3)) == []
    assert _store(app, event, make_view(sticky.code, px_per_mm=6.0, sharpness=0.1, seed=4)) == []
    assert sticky.picture_file == first
    assert picture_path(app.config["PICTURE_DIR"], sticky).is_file()


def test_store_views_better_view_replaces_and_removes_old_file(
    app, event, create_stickies, make_view
):
    (sticky,) = create_stickies(1)
    _store(app, event, make_view(sticky.code, px_per_mm=1.0, seed=1))
    old = picture_path(app.config["PICTURE_DIR"], sticky)
    assert _store(app, event, make_view(sticky.code, px_per_mm=5.0, seed=2)) == [sticky.code]
    new = picture_path(app.config["PICTURE_DIR"], sticky)
    assert new != old
    assert new.is_file()
    assert not old.exists()
    assert sticky.picture_quality == 3.5


def test_store_views_rollback_keeps_old_picture_and_drops_new_file(
    app, event, create_stickies, make_view
):
    (sticky,) = create_stickies(1)
    _store(app, event, make_view(sticky.code, px_per_mm=1.0, seed=1))
    old = picture_path(app.config["PICTURE_DIR"], sticky)
    store_views(
        event=event,
        views=[make_view(sticky.code, px_per_mm=5.0, seed=2)],
        store=app_settings(app).scan.pictures_store,
        cap_bytes=10**9,
    )
    written = picture_path(app.config["PICTURE_DIR"], sticky)
    assert written.is_file()
    db.session.rollback()
    sticky = db.session.get(Sticky, sticky.id)
    assert picture_path(app.config["PICTURE_DIR"], sticky) == old
    assert old.is_file()
    assert not written.exists()


def test_store_views_over_cap_is_not_kept(app, event, create_stickies, make_view):
    a, b = create_stickies(2)
    _store(app, event, make_view(a.code))
    cap = a.picture_bytes + 1000  # a second picture of random pixels takes far more
    assert _store(app, event, make_view(b.code), cap=cap) == []
    assert b.picture_file is None
    # Replacing a's picture with a better one of the same size stays under the cap.
    assert _store(app, event, make_view(a.code, px_per_mm=4.0), cap=cap) == [a.code]


def test_store_views_near_the_cap_counts_what_other_processes_kept(
    app, event, create_stickies, make_view
):
    a, b, c = create_stickies(3)
    _store(app, event, make_view(a.code))  # this process's tally: a's picture
    # Another process kept a picture of b meanwhile: the tally has not seen it.
    b.picture_file, b.picture_bytes, b.picture_quality = "b-other.jpg", 900_000, 1.0
    db.session.commit()
    # By the tally, c's picture (152 x 152 pixels at most) would take the event near the cap, so
    # the bytes are counted, b's with them, and c's picture is not kept.
    cap = int((a.picture_bytes + 152 * 152 * 3) / 0.9) - 1
    assert a.picture_bytes + 152 * 152 * 3 < cap < a.picture_bytes + 900_000
    assert _store(app, event, make_view(c.code, seed=1), cap=cap) == []
    assert c.picture_file is None


def test_store_views_unknown_code_is_skipped(app, event, create_stickies, make_view):
    create_stickies(1)
    assert _store(app, event, make_view("ZZZZZZ")) == []


def test_drop_picture_next_view_is_kept_whatever_it_is(app, event, create_stickies, make_view):
    (sticky,) = create_stickies(1)
    _store(app, event, make_view(sticky.code, px_per_mm=6.0))
    sticky.suggested_title = "Rust for Pythonistas"
    old = picture_path(app.config["PICTURE_DIR"], sticky)
    drop_picture(sticky=sticky, store=app_settings(app).scan.pictures_store)
    db.session.commit()
    assert not old.exists()
    assert (sticky.picture_file, sticky.picture_quality, sticky.suggested_title) == (
        None,
        None,
        None,
    )
    assert sticky.picture_bytes == 0
    assert _store(app, event, make_view(sticky.code, px_per_mm=1.0, seed=5)) == [sticky.code]


def test_undo_and_rebuild_keep_the_picture(app, event, create_stickies, make_view):
    (sticky,) = create_stickies(1)
    body = {
        "scan_id": "cam-1",
        "board_found": True,
        "stickies": [{"code": sticky.code, "room": "Hall A", "slot": "2026-09-26T10:00"}],
    }
    outcome = apply_scan(
        event=event, observations=parse_observations(body), source="cam", remove_after=3
    )
    _store(app, event, make_view(sticky.code, px_per_mm=6.0))
    kept = sticky.picture_file
    undo_scan(scan=outcome.scan)
    rebuild_from_history(event)
    db.session.commit()
    assert sticky.board_status == "none"
    assert sticky.picture_file == kept
    assert picture_path(app.config["PICTURE_DIR"], sticky).is_file()


def _jpeg(size=64):
    img = np.full((size, size, 3), 200, np.uint8)
    return cv2.imencode(".jpg", img)[1].tobytes()


SCORE = {"px_per_mm": 2.0, "sharpness": 0.6, "glare": 0.0, "coverage": 1.0}


def test_read_posted_views_returns_views(app, event, create_stickies):
    (sticky,) = create_stickies(1)
    (view,) = read_posted_views(
        event=event, files={sticky.code: _jpeg()}, scores={sticky.code: SCORE}
    )
    assert view.code == sticky.code
    assert view.jpeg == _jpeg()  # kept as it came, never decoded
    assert view.image is None
    assert view.score.quality == 1.4


def test_read_posted_views_png_is_decoded(app, event, create_stickies):
    (sticky,) = create_stickies(1)
    png = cv2.imencode(".png", np.full((40, 30, 3), 7, np.uint8))[1].tobytes()
    (view,) = read_posted_views(event=event, files={sticky.code: png}, scores={sticky.code: SCORE})
    assert (view.image.shape, view.jpeg) == ((40, 30, 3), None)


@pytest.mark.parametrize(
    ("files", "scores", "message"),
    [
        (
            {"ZZZZZZ": b"x"},
            {"ZZZZZZ": SCORE},
            "views for codes never issued for this event: ZZZZZZ",
        ),
        ({"{code}": b"GIF89a"}, {"{code}": SCORE}, "the view of {code} is not a JPEG or PNG image"),
        (
            {"{code}": b"\xff\xd8\xff\xe0garbage"},
            {"{code}": SCORE},
            "the view of {code} is not a readable image",
        ),
        ({"{code}": "big"}, {"{code}": SCORE}, "the view of {code} is 3000 bytes; at most 2000"),
        ({"{code}": "jpeg"}, {}, "the view of {code} has no score (a field score.{code})"),
        ({}, {"{code}": SCORE}, "the view of {code} has no image (a file field view.{code})"),
        (
            {"{code}": "jpeg"},
            {"{code}": {**SCORE, "glare": 2}},
            "the view of {code}: score.glare 2 is out of range",
        ),
    ],
)
def test_read_posted_views_bad_view_raises(app, event, create_stickies, files, scores, message):
    (sticky,) = create_stickies(1)
    content = {"big": b"\xff\xd8\xff" + bytes(2997), "jpeg": _jpeg()}
    files = {k.format(code=sticky.code): content.get(v, v) for k, v in files.items()}
    scores = {k.format(code=sticky.code): v for k, v in scores.items()}
    with pytest.raises(InvalidView) as exc:
        read_posted_views(event=event, files=files, scores=scores, max_bytes=2000)
    assert str(exc.value).startswith(message.format(code=sticky.code))


def _written_view(code, title, *, px_per_mm, seed=1):
    from benchmarks.ocr_bench import HANDS, photograph_sticky, sticky_with_title
    from scanner import ViewScore

    flat, _ = sticky_with_title(title, HANDS[0], seed=seed)
    image = photograph_sticky(flat, px_per_mm=px_per_mm, seed=seed)
    score = ViewScore(px_per_mm=px_per_mm, sharpness=0.7, glare=0.0, coverage=1.0)
    return View(code=code, image=image, score=score)


def _ink_rows(picture) -> tuple[int, int]:
    """Return the first and last row of the picture with dark ink in it."""
    gray = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    rows = np.flatnonzero((gray < 0.6 * np.median(gray)).sum(axis=1) >= 2)
    return int(rows[0]), int(rows[-1])


@pytest.mark.parametrize("px_per_mm", [2.0, 4.0])
def test_store_views_handwriting_is_cut_to_the_ink_and_enlarged(
    app, event, create_stickies, px_per_mm
):
    (sticky,) = create_stickies(1)
    _store(app, event, _written_view(sticky.code, "Open data", px_per_mm=px_per_mm))
    shown = sticky.picture_score["picture"]
    x0, y0, x1, y1 = shown["crop_mm"]
    # Under the code printed at the top (the writing area starts at 33.3 mm; a first line may
    # reach 6 mm higher), within the sticky's margins.
    assert shown["cut"] is True
    assert 25.3 <= y0 < y1 <= 72.0 and 0.0 <= x0 < x1 <= 76.0
    # One title line: a crop about as tall as the writing and its margins, not the sticky.
    assert 12.0 <= y1 - y0 <= 24.0
    picture = cv2.imread(str(picture_path(app.config["PICTURE_DIR"], sticky)))
    assert picture.shape[:2] == (shown["height"], shown["width"])
    # Enlarged to 10 px/mm of sticky, at most 5 times the view.
    assert abs(shown["width"] - (x1 - x0) * min(10.0, 5 * px_per_mm)) <= 2
    first, last = _ink_rows(picture)
    assert first <= 0.25 * shown["height"] and last >= 0.6 * shown["height"]


def test_store_views_printed_sticky_without_writing_is_kept_whole(app, event, create_stickies):
    (sticky,) = create_stickies(1)
    _store(app, event, _written_view(sticky.code, "", px_per_mm=3.0, seed=3))
    assert sticky.picture_score["picture"] == {
        "width": 228,
        "height": 228,
        "crop_mm": [0.0, 0.0, 76.0, 76.0],
        "cut": False,
    }


def test_store_views_cut_picture_shows_no_qr_code_or_key(app, event, create_stickies):
    from printables import get_template

    (sticky,) = create_stickies(1)
    # A title whose last word runs into the QR code's corner.
    _store(app, event, _written_view(sticky.code, "Pair programming kata", px_per_mm=6.0, seed=2))
    picture = cv2.imread(str(picture_path(app.config["PICTURE_DIR"], sticky)))
    x0, y0, x1, _ = sticky.picture_score["picture"]["crop_mm"]
    scale = picture.shape[1] / (x1 - x0)
    assert x1 > 50.0  # the crop reaches over the QR code's column
    for left, top, _, _ in get_template("note-76").key_areas:
        area = picture[max(0, round((top - y0) * scale)) :, max(0, round((left - x0) * scale)) :]
        assert area.size == 0 or float(area.reshape(-1, 3).std(axis=0).max()) < 6.0
