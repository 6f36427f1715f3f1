"""Odd images are refused with a 422 that says what is wrong, and the board stays as it was.

A photo or a sticky view is checked from its header, before its pixels are decoded: a strip one
pixel wide, a view the JPEG encoder cannot hold, and a few bytes claiming 30000 x 30000 pixels.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from app_wall import codes
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Scan, Sticky
from app.services.organizers import set_password
from app.services.uploads import InvalidUpload, read_photo

SCORE = {"px_per_mm": 3.0, "sharpness": 0.7, "glare": 0.0, "coverage": 1.0}
THIN = "its sides must be at least 32 pixels and at most 20:1"


def png(width: int, height: int) -> bytes:
    """Return a white PNG of width x height pixels: a 1 x 7000 one is about a hundred bytes."""
    buffer = io.BytesIO()
    Image.new("L", (width, height), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """Return an 8 x 8 PNG whose header claims width x height pixels, its checksum made good."""
    data = bytearray(png(8, 8))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def board(client) -> dict:
    data = client.get("/api/board").get_json()
    return {s["code"]: (s["room"], s["slot"], s["status"]) for s in data["stickies"]}


def post_scan(client, manifest, **fields):
    return client.post(
        "/api/scans",
        data=fields,
        headers={"Authorization": f"Bearer {manifest['token']}"},
        content_type="multipart/form-data",
    )


@pytest.fixture
def placed(client, wall_event):
    """Place the first sticky in Hall A at 10:00 with one camera scan; return the board."""
    s1 = codes(wall_event)[0]
    body = {
        "scan_id": "cam-1",
        "board_found": True,
        "stickies": [{"code": s1, "room": "Hall A", "slot": "2026-09-26T10:00", "via": "marker"}],
    }
    answer = client.post(
        "/api/scans", json=body, headers={"Authorization": f"Bearer {wall_event['token']}"}
    )
    assert answer.status_code == 201
    before = board(client)
    assert before == {s1: ("Hall A", "2026-09-26T10:00", "placed")}
    return before


def scans_and_pictures() -> tuple[int, int]:
    scans = db.session.scalar(select(func.count(Scan.id)))
    pictures = db.session.scalar(
        select(func.count(Sticky.id)).where(Sticky.picture_file.is_not(None))
    )
    return scans, pictures


ODD_PHOTOS = [
    (png(1, 7000), f"the photo is 1x7000 pixels: {THIN}"),
    (png(7000, 1), f"the photo is 7000x1 pixels: {THIN}"),
    (png_claiming(30000, 30000), "the photo is 30000x30000 pixels: at most 70 megapixels"),
]
ODD_PHOTO_IDS = ["1x7000", "7000x1", "claims-30000x30000"]


def test_odd_pngs_are_as_small_as_they_look():
    assert [len(photo) < 110 for photo, _ in ODD_PHOTOS] == [True, True, True]


# ----------------------------------------------------------------------------------------------
# The camera API


@pytest.mark.parametrize(("photo", "message"), ODD_PHOTOS, ids=ODD_PHOTO_IDS)
def test_api_odd_photo_is_422_and_board_unchanged(client, wall_event, placed, photo, message):
    response = post_scan(
        client, wall_event, scan_id="phone-1", photo=(io.BytesIO(photo), "frame.png")
    )
    assert response.status_code == 422
    assert response.get_json() == {"error": message, "status": 422}
    assert board(client) == placed
    assert scans_and_pictures() == (1, 0)


@pytest.mark.parametrize(
    ("view", "message"),
    [
        (
            png_claiming(30000, 30000),
            "the view of {code} is 30000x30000 pixels: at most 4 megapixels",
        ),
        (
            png(1, 70000),
            "the view of {code} is 1x70000 pixels: its sides must be at least 8 pixels and at most "
            "20:1",
        ),
    ],
    ids=["claims-30000x30000", "1x70000"],
)
def test_api_odd_view_is_422_and_board_unchanged(client, wall_event, placed, view, message):
    s1, s2, *_ = codes(wall_event)
    # The scan would move the first sticky and place the second, were its view not refused.
    body = {
        "scan_id": "cam-2",
        "board_found": True,
        "stickies": [
            {"code": s1, "room": "Hall B", "slot": "2026-09-26T11:00", "via": "marker"},
            {"code": s2, "room": "Hall C", "slot": "2026-09-26T12:00", "via": "marker"},
        ],
    }
    response = post_scan(
        client,
        wall_event,
        scan=json.dumps(body),
        **{f"view.{s2}": (io.BytesIO(view), f"{s2}.png"), f"score.{s2}": json.dumps(SCORE)},
    )
    assert response.status_code == 422
    assert response.get_json() == {"error": message.format(code=s2), "status": 422}
    assert board(client) == placed
    assert scans_and_pictures() == (1, 0)


# ----------------------------------------------------------------------------------------------
# The organizer's photo page


@pytest.mark.parametrize(("photo", "message"), ODD_PHOTOS, ids=ODD_PHOTO_IDS)
def test_scan_page_odd_photo_is_422_with_its_reason(app, client, placed, photo, message):
    set_password(username="admin", password="correct horse")
    db.session.commit()
    client.post("/auth/login", data={"username": "admin", "password": "correct horse"})
    response = client.post("/scan", data={"photo": (io.BytesIO(photo), "wall.png")})
    assert response.status_code == 422
    assert f'<p class="flash flash-error" role="status">{message}</p>' in response.get_data(
        as_text=True
    )
    assert board(client) == placed
    assert scans_and_pictures() == (1, 0)
    assert list((Path(app.config["UPLOAD_DIR"]) / "pending").glob("*")) == []


# ----------------------------------------------------------------------------------------------
# The upload check itself


def test_read_photo_odd_size_raises_before_decoding():
    # The header claims 9 x 7000 pixels; the pixels that follow are 8 x 8, and never decoded.
    with pytest.raises(InvalidUpload) as exc:
        read_photo(png_claiming(9, 7000))
    assert str(exc.value) == f"the photo is 9x7000 pixels: {THIN}"


def test_scan_photo_scanner_refusal_raises_invalid_upload(wall_event):
    import numpy as np

    from app.services.events import get_current_event
    from app.services.scanning import scan_photo

    with pytest.raises(InvalidUpload) as exc:
        scan_photo(get_current_event(), np.zeros((7000, 1, 3), np.uint8))
    assert str(exc.value) == f"the photo cannot be scanned: the image is 1x7000 pixels: {THIN}"
