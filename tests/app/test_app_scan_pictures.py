"""Every scan with a photo keeps the stickies' best pictures: API, phone page, CLI and camera views."""

from __future__ import annotations

import dataclasses
import io
import json

import cv2
import numpy as np
import pytest
from app_wall import CAMERA, codes, layouts, wall_for
from sqlalchemy import func, select

from app.extensions import db
from app.models import Scan, Sticky
from app.services.organizers import set_password

SCORE = {"px_per_mm": 3.0, "sharpness": 0.7, "glare": 0.0, "coverage": 1.0}
# A phone held close to the middle of the board: three stickies in view, no corner or header card.
CLOSE_UP = dataclasses.replace(CAMERA, width=1600, height=1200, fill=2.0)


def jpeg(image, ext=".jpg") -> bytes:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


def pictures() -> dict[str, float]:
    rows = db.session.execute(
        select(Sticky.code, Sticky.picture_quality).where(Sticky.picture_file.is_not(None))
    )
    return dict(rows.all())


def post(client, manifest, **fields):
    return client.post(
        "/api/scans",
        data=fields,
        headers={"Authorization": f"Bearer {manifest['token']}"},
        content_type="multipart/form-data",
    )


@pytest.fixture
def wall_photo(wall_event):
    """Photograph the wall with the first layout and handwriting on every sticky."""

    def shoot(camera=CAMERA, layout=None):
        layout = layout or layouts(wall_event)[0]
        writing = {code: f"Talk {i}" for i, code in enumerate(layout)}
        return wall_for(wall_event).photo(layout, camera=camera, handwriting=writing)

    return shoot


def test_api_photo_keeps_a_picture_of_every_sticky_read(client, wall_event, wall_photo):
    response = post(client, wall_event, photo=(io.BytesIO(jpeg(wall_photo())), "wall.jpg"))
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["applied"] is True
    assert answer["pictures"] == sorted(codes(wall_event))
    assert sorted(pictures()) == sorted(codes(wall_event))
    for code in codes(wall_event):
        assert client.get(f"/s/{code}/picture.jpg").status_code == 200


def test_api_worse_photo_keeps_the_better_pictures(client, wall_event, wall_photo):
    post(client, wall_event, photo=(io.BytesIO(jpeg(wall_photo(CLOSE_UP))), "close.jpg"))
    before = pictures()
    assert len(before) == 3
    response = post(client, wall_event, photo=(io.BytesIO(jpeg(wall_photo())), "wall.jpg"))
    # Only the sticky the close-up missed gets a picture from the farther photo.
    assert response.get_json()["pictures"] == sorted(set(codes(wall_event)) - set(before))
    after = pictures()
    assert {code: after[code] for code in before} == before


def test_api_close_up_updates_pictures_and_moves_nothing(client, wall_event, wall_photo):
    response = post(client, wall_event, photo=(io.BytesIO(jpeg(wall_photo(CLOSE_UP))), "c.jpg"))
    assert response.status_code == 201
    answer = response.get_json()
    assert (answer["applied"], answer["changes"]) == (False, [])
    assert len(answer["pictures"]) == 3
    assert db.session.scalar(select(func.count(Sticky.id)).where(Sticky.room_id.is_not(None))) == 0


def test_api_camera_views_are_kept(client, wall_event):
    s1, s2, *_ = codes(wall_event)
    view = np.full((152, 152, 3), 200, np.uint8)
    body = {"scan_id": "cam-1", "board_found": False, "stickies": []}
    response = post(
        client,
        wall_event,
        scan=json.dumps(body),
        **{
            f"view.{s1}": (io.BytesIO(jpeg(view)), f"{s1}.jpg"),
            f"score.{s1}": json.dumps(SCORE),
            f"view.{s2}": (io.BytesIO(jpeg(view, ".png")), f"{s2}.png"),
            f"score.{s2}": json.dumps({**SCORE, "px_per_mm": 1.0}),
        },
    )
    assert response.status_code == 201
    assert response.get_json()["pictures"] == sorted([s1, s2])
    assert pictures() == {s1: 2.325, s2: 0.775}
    # The camera's JPEG is kept encoded afresh (app.services.images): its pixels, nothing else,
    # and its QR code and claim key painted over (at 2 px/mm: the QR from x, y = 85 on, the key
    # from x = 56, y = 123 on).
    served = client.get(f"/s/{s1}/picture.jpg").data
    assert served[:3] == b"\xff\xd8\xff"
    assert cv2.imdecode(np.frombuffer(served, np.uint8), cv2.IMREAD_COLOR).shape == view.shape
    grey = cv2.imdecode(np.frombuffer(served, np.uint8), cv2.IMREAD_GRAYSCALE)
    samples = {(y, x): int(grey[y, x]) for y, x in [(20, 20), (100, 60), (100, 100), (140, 60)]}
    assert samples == {(20, 20): 200, (100, 60): 200, (100, 100): 176, (140, 60): 176}


@pytest.mark.parametrize(
    ("view", "score", "message"),
    [
        (b"not an image", SCORE, "is not a JPEG or PNG image"),
        (b"\xff\xd8\xff" + bytes(3 * 1024 * 1024), SCORE, "at most 2097152 bytes per view"),
        (None, "{nope", "score.{code} is not JSON"),
        (None, {**SCORE, "coverage": -1}, "score.coverage -1 is out of range"),
    ],
    ids=["not-an-image", "too-large", "score-not-json", "score-out-of-range"],
)
def test_api_bad_view_is_refused_and_nothing_stored(client, wall_event, view, score, message):
    code = codes(wall_event)[0]
    view = view if view is not None else jpeg(np.full((50, 50, 3), 200, np.uint8))
    body = {"scan_id": "cam-1", "board_found": True, "stickies": []}
    response = post(
        client,
        wall_event,
        scan=json.dumps(body),
        **{
            f"view.{code}": (io.BytesIO(view), "v.jpg"),
            f"score.{code}": score if isinstance(score, str) else json.dumps(score),
        },
    )
    assert response.status_code == 422
    assert message.format(code=code) in response.get_json()["error"]
    assert db.session.scalar(select(func.count(Scan.id))) == 0
    assert pictures() == {}


def test_api_view_for_code_never_issued_is_refused(client, wall_event):
    body = {"scan_id": "cam-1", "board_found": True, "stickies": []}
    response = post(
        client,
        wall_event,
        scan=json.dumps(body),
        **{
            "view.ZZZZZZ": (io.BytesIO(jpeg(np.zeros((9, 9, 3), np.uint8))), "v.jpg"),
            "score.ZZZZZZ": json.dumps(SCORE),
        },
    )
    assert response.status_code == 422
    assert response.get_json()["error"] == "views for codes never issued for this event: ZZZZZZ"
    assert db.session.scalar(select(func.count(Scan.id))) == 0


def test_api_duplicate_scan_stores_no_view(client, wall_event):
    s1 = codes(wall_event)[0]
    body = json.dumps({"scan_id": "cam-1", "board_found": True, "stickies": []})
    assert post(client, wall_event, scan=body).status_code == 201
    again = post(
        client,
        wall_event,
        scan=body,
        **{
            f"view.{s1}": (io.BytesIO(jpeg(np.full((50, 50, 3), 9, np.uint8))), "v.jpg"),
            f"score.{s1}": json.dumps(SCORE),
        },
    )
    assert again.status_code == 200
    assert again.get_json()["pictures"] == []
    assert pictures() == {}


def test_scan_page_close_up_says_pictures_updated_and_nothing_moved(
    app, client, wall_event, wall_photo
):
    set_password(username="admin", password="correct horse")
    db.session.commit()
    client.post("/auth/login", data={"username": "admin", "password": "correct horse"})
    preview = client.post(
        "/scan", data={"photo": (io.BytesIO(jpeg(wall_photo(CLOSE_UP))), "close.jpg")}
    )
    html = preview.get_data(as_text=True)
    assert "Applying it updates 3 sticky pictures; no board in view, nothing moves." in html
    pending = html.split("/scan/pending/")[1].split(".jpg")[0]
    applied = client.post(f"/scan/{pending}/apply", follow_redirects=True)
    assert "3 sticky pictures updated; no board in view, nothing moved." in applied.get_data(
        as_text=True
    )
    assert len(pictures()) == 3


def test_cli_scan_apply_keeps_pictures(runner, wall_event, wall_photo, tmp_path):
    photo = tmp_path / "wall.png"
    photo.write_bytes(jpeg(wall_photo(), ".png"))
    result = runner.invoke("scan", str(photo), "--apply")
    assert result.exit_code == 0, result.output
    assert sorted(pictures()) == sorted(codes(wall_event))


def test_concurrent_views_of_one_sticky_keep_the_best(live_server):
    """Eight cameras post a view of the same sticky at once: the best one is kept, on both databases."""
    from app_helpers import run_together

    from app.services.organizers import create_token

    (code,) = live_server.stickies(1)
    with live_server.app.app_context():
        secrets = [create_token(name=f"race-cam-{i}")[1] for i in range(8)]
        db.session.commit()
    view = jpeg(np.full((60, 60, 3), 200, np.uint8))

    def send(index, barrier):
        http = live_server.session()
        score = {**SCORE, "px_per_mm": 1.0 + index}
        barrier.wait()
        return live_server.post(
            http,
            "/api/scans",
            headers={"Authorization": f"Bearer {secrets[index]}"},
            data={
                "scan": json.dumps({"scan_id": f"race-{index}", "board_found": False}),
                f"score.{code}": json.dumps(score),
            },
            files={f"view.{code}": ("v.jpg", view, "image/jpeg")},
        ).status_code

    assert run_together(8, send) == [201] * 8
    with live_server.app.app_context():
        kept = db.session.scalars(select(Sticky.picture_score).where(Sticky.code == code)).one()
    assert kept["px_per_mm"] == 8.0
