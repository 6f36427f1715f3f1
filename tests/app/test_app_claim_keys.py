"""Claiming needs the sticky: its claim key is printed on it, in its QR code and beside it, only."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import cv2
import numpy as np
import zxingcpp
from app_helpers import claim_path, printed_key, printed_qr
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from app.extensions import db
from app.models import Event, Scan
from app.services.claim_keys import claim_key
from app.services.pictures import View, store_views
from app.services.published import sticky_url
from app.services.scanning import scan_photo
from app.services.stickies import SessionFields, claim_sticky, get_sticky
from app.settings import app_settings, configure
from printables import get_template, sticky_image
from scanner import ViewScore

TAKEOVER = {"title": "Crypto giveaway", "host": "Mallory"}


def _place(post, sticky, room="Hall A", slot="2026-09-26T10:00", scan_id="wall-1"):
    """Let the wall camera put ``sticky`` into a cell, as it does with a handwritten one."""
    stickies = [{"code": sticky.code, "room": room, "slot": slot, "via": "marker"}]
    body = {"scan_id": scan_id, "board_found": True, "stickies": stickies}
    response = post({**body, "hidden_cells": [], "warnings": []})
    assert response.status_code == 201


def _blank(sticky) -> tuple:
    db.session.refresh(sticky)
    return (sticky.claimed_dt, sticky.title, sticky.host, sticky.edit_secret_hash)


def test_remote_claim_of_a_placed_blank_sticky_from_the_board_api_is_refused(
    client, create_stickies, post
):
    (sticky,) = create_stickies(1)
    _place(post, sticky)
    # The script reads the board, finds a handwritten session and claims it by its code alone.
    (seen,) = client.get("/api/board").get_json()["stickies"]
    assert (seen["code"], seen["status"], seen["title"]) == (sticky.code, "placed", None)
    response = client.post(f"/s/{seen['code']}", data=TAKEOVER)
    assert response.status_code == 403
    assert "To claim this sticky, scan its QR code at the wall" in response.get_data(as_text=True)
    assert _blank(sticky) == (None, None, None, None)
    assert client.get_cookie(f"osb_edit_{sticky.code}") is None
    assert client.get("/api/board").get_json()["stickies"][0]["title"] is None


def test_blank_sticky_without_its_key_shows_where_to_find_it(client, create_stickies):
    (sticky,) = create_stickies(1)
    response = client.get(f"/s/{sticky.code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "To claim this sticky, scan its QR code at the wall (or type the claim key" in page
    assert f'<form method="get" action="/s/{sticky.code}" class="form">' in page
    assert '<input id="claim-key" name="k"' in page
    assert 'name="title"' not in page and 'name="host"' not in page


def test_claim_with_the_key_from_the_printed_qr_works(client, create_stickies):
    (sticky,) = create_stickies(1)
    qr = printed_qr(sticky)
    assert qr == f"http://localhost:5000/s/{sticky.code}?k={printed_key(sticky)}"
    form = client.get(claim_path(sticky))
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "private, no-store"
    assert "Claim this sticky for your session" in form.get_data(as_text=True)
    response = client.post(
        claim_path(sticky), data={"title": "Rust for Pythonistas", "host": "Mei"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/s/{sticky.code}"
    db.session.refresh(sticky)
    assert (sticky.title, sticky.host) == ("Rust for Pythonistas", "Mei")
    secret = client.get_cookie(f"osb_edit_{sticky.code}").value
    page = client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert f"/s/{sticky.code}/edit?key={secret}" in page
    # First come, first served: the key claims a blank sticky only.
    again = client.post(claim_path(sticky), data=TAKEOVER)
    assert again.status_code == 409
    db.session.refresh(sticky)
    assert (sticky.title, sticky.host) == ("Rust for Pythonistas", "Mei")


def test_claim_with_a_typed_key_in_any_case_with_spaces_works(client, create_stickies):
    (sticky,) = create_stickies(1)
    key = printed_key(sticky)
    typed = f"{key[:3].lower()} {key[3:]}".replace("0", "o").replace("1", "l")
    assert client.get(f"/s/{sticky.code}?k={typed}").status_code == 200
    response = client.post(f"/s/{sticky.code}?k={typed}", data={"title": "Typed", "host": "Ann"})
    assert response.status_code == 302
    db.session.refresh(sticky)
    assert sticky.title == "Typed"


def test_claim_with_a_wrong_key_is_refused_and_changes_nothing(client, create_stickies):
    (sticky,) = create_stickies(1)
    wrong = "ZZZZZZ" if printed_key(sticky) != "ZZZZZZ" else "YYYYYY"
    page = client.get(f"/s/{sticky.code}?k={wrong}")
    assert page.status_code == 403
    assert "That key does not fit this sticky" in page.get_data(as_text=True)
    response = client.post(f"/s/{sticky.code}?k={wrong}", data=TAKEOVER)
    assert response.status_code == 403
    assert "nothing was changed" in response.get_data(as_text=True)
    assert _blank(sticky) == (None, None, None, None)


def test_claim_key_of_another_sticky_does_not_fit(client, create_stickies):
    mine, other = create_stickies(2)
    response = client.post(f"/s/{other.code}?k={printed_key(mine)}", data=TAKEOVER)
    assert response.status_code == 403
    assert _blank(other) == (None, None, None, None)


def test_claim_service_without_the_key_raises(create_stickies):
    from app.services.stickies import WrongClaimKey

    (sticky,) = create_stickies(1)
    for key in (None, "", sticky.code, "K3Y9AB!"):
        try:
            claim_sticky(sticky=sticky, fields=SessionFields(**TAKEOVER), key=key)
        except WrongClaimKey as exc:
            assert str(exc) == "this is not the key printed on this sticky"
        else:
            raise AssertionError(f"claimed with {key!r}")
    assert _blank(sticky) == (None, None, None, None)


def test_wrong_keys_from_one_address_stop_it_trying_any_key(app, create_stickies):
    configure(app, CLAIM_KEY_LIMIT_PER_ADDRESS="3 per minute")
    first, second = create_stickies(2)
    hall = {"REMOTE_ADDR": "198.51.100.20"}
    statuses = [
        app.test_client().get(f"/s/{first.code}?k=AAAAA{n}", environ_base=hall).status_code
        for n in range(4)
    ]
    assert statuses == [403, 403, 403, 429]
    # Past the limit even the right key gets no answer from that address, for any sticky.
    refused = app.test_client().post(claim_path(second), data=TAKEOVER, environ_base=hall)
    assert refused.status_code == 429
    assert "Too many wrong claim keys came from your network" in refused.get_data(as_text=True)
    assert _blank(second) == (None, None, None, None)
    # Another address is not held up, and a right key never counts against its own.
    phone = {"REMOTE_ADDR": "203.0.113.7"}
    for sticky in (first, second):
        claimed = app.test_client().post(
            claim_path(sticky), data={"title": "Mine", "host": "Ann"}, environ_base=phone
        )
        assert claimed.status_code == 302


def test_wrong_keys_are_logged_once_a_minute_per_address(app, client, create_stickies, caplog):
    configure(app, CLAIM_KEY_LIMIT_PER_ADDRESS="1 per minute")
    (sticky,) = create_stickies(1)
    for n in range(5):
        client.get(f"/s/{sticky.code}?k=AAAAA{n}")
    refusals = [r.getMessage() for r in caplog.records if "claim keys from" in r.getMessage()]
    assert refusals == [
        "claim keys from 127.0.0.1 refused for a while: more wrong keys than 1 per minute"
    ]


def test_organizer_claims_a_blank_sticky_without_its_key(organizer_client, create_stickies):
    (sticky,) = create_stickies(1)
    page = organizer_client.get(f"/s/{sticky.code}").get_data(as_text=True)
    assert "Claim this sticky for someone" in page
    response = organizer_client.post(f"/s/{sticky.code}", data={"title": "On behalf", "host": "Jo"})
    assert response.status_code == 302
    db.session.refresh(sticky)
    assert (sticky.title, sticky.host) == ("On behalf", "Jo")
    # The organizer hands the author the edit link the page shows once.
    edit_link = re.search(
        r'id="edit-link"[^>]*>(http://localhost/s/\w+/edit\?key=[^<]+)</textarea>',
        organizer_client.get(f"/s/{sticky.code}").get_data(as_text=True),
    )
    assert edit_link is not None


def test_lowercase_code_keeps_the_key_on_its_redirect(client, create_stickies):
    (sticky,) = create_stickies(1)
    key = printed_key(sticky)
    response = client.get(f"/s/{sticky.code.lower()}?k={key}")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/s/{sticky.code}?k={key}"


def test_reprint_of_an_old_batch_prints_keys_and_keeps_claimed_content(
    runner, client, event, create_stickies, tmp_path
):
    # A batch printed before claim keys: its QR codes held the sticky's page only. Its blank
    # stickies can be claimed by organizers only, and one of them was.
    old, claimed = create_stickies(2)
    codes = [old.code, claimed.code]
    old_qr = sticky_url(event, old.code)
    claim_sticky(sticky=claimed, fields=SessionFields(title="Kept", host="Ann"), by_organizer=True)
    db.session.commit()
    old_page = old_qr.removeprefix("http://localhost:5000")
    assert client.post(old_page, data=TAKEOVER).status_code == 403

    def reprint(folder: str) -> dict[str, str]:
        result = runner.invoke(
            "print", "batch", "1", "--format", "png", "-o", str(tmp_path / folder)
        )
        assert result.exit_code == 0, result.output
        assert "Batch 1 reprinted" in result.output
        return {
            path.stem: zxingcpp.read_barcodes(cv2.imread(str(path)))[0].text
            for path in sorted(Path(tmp_path / folder).iterdir())
        }

    first, second = reprint("first"), reprint("second")
    # The reprint has the same codes, each QR with its key; printing again gives the same keys.
    assert first == second
    db.session.remove()
    old, claimed = get_sticky(codes[0]), get_sticky(codes[1])
    assert first == {
        s.code: f"http://localhost:5000/s/{s.code}?k={claim_key(event=s.event, code=s.code)}"
        for s in (old, claimed)
    }
    scanned = first[old.code].removeprefix("http://localhost:5000")
    assert client.post(scanned, data={"title": "Now mine", "host": "Mei"}).status_code == 302
    db.session.refresh(old)
    db.session.refresh(claimed)
    assert (old.title, old.host) == ("Now mine", "Mei")
    assert (claimed.title, claimed.host) == ("Kept", "Ann")


def test_claim_key_is_nowhere_in_what_the_board_publishes(
    app, client, create_stickies, create_session, organizer_client, post, token
):
    blank, person = create_stickies(1)[0], create_stickies(1, kind="person")[0]
    session = create_session(title="Testing without mocks")
    _place(post, blank)
    _place(post, session, room="Hall B", scan_id="wall-2")
    keys = {printed_key(s) for s in (blank, person, session)}
    visitor = app.test_client()
    pages = [
        "/",
        "/board",
        "/board/grid",
        "/kiosk",
        "/people",
        "/rooms/1",
        "/api/board",
        "/api/schedule",
        "/schedule.json",
        "/schedule.xml",
        "/schedule.ics",
        "/rooms/1/schedule.ics",
        f"/s/{blank.code}",
        f"/s/{person.code}",
        f"/s/{session.code}",
        f"/s/{session.code}/where",
        f"/s/{session.code}/calendar.ics",
    ]
    for path in pages:
        response = visitor.get(path)
        assert response.status_code == 200, path
        assert not keys & set(re.findall(r"[0-9A-Z]{6}", response.get_data(as_text=True))), path
    # Nor in what a camera's token or an organizer's log-in gets.
    camera = {"Authorization": f"Bearer {token}"}
    manifest = client.get("/api/manifest", headers=camera).get_json()
    assert {s["qr"] for s in manifest["stickies"]} == {
        f"http://localhost:5000/s/{s.code}" for s in (blank, person, session)
    }
    for response in (
        client.get("/api/manifest", headers=camera),
        organizer_client.get("/admin/export.csv"),
        organizer_client.get(f"/admin/stickies/{blank.code}"),
    ):
        assert not keys & set(re.findall(r"[0-9A-Z]{6}", response.get_data(as_text=True)))
    stored = json.dumps([scan.observations for scan in db.session.scalars(select(Scan))])
    assert not keys & set(re.findall(r"[0-9A-Z]{6}", stored))


def _printed(sticky, px_per_mm: float = 8.0) -> np.ndarray:
    """Return the sticky as the print path draws it, flat and upright, as a BGR image."""
    from app.services.printing import sticky_specs

    (spec,) = [s for s in sticky_specs(sticky.event, sticky.batch) if s.code == sticky.code]
    rgb = np.asarray(sticky_image(spec, template=sticky.batch.template, dpi=px_per_mm * 25.4))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _qr_texts(image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_stored_picture_leaves_out_the_qr_code_and_the_key(app, client, create_stickies):
    (sticky,) = create_stickies(1)
    flat = _printed(sticky)
    assert _qr_texts(flat) == [printed_qr(sticky)]
    score = ViewScore(px_per_mm=8.0, sharpness=0.9, glare=0.0, coverage=1.0)
    kept = store_views(
        event=sticky.event,
        views=[View(code=sticky.code, image=flat, score=score)],
        store=app_settings(app).scan.pictures_store,
        cap_bytes=app.config["PICTURES_MAX_BYTES"],
    )
    db.session.commit()
    assert kept == [sticky.code]
    data = client.get(f"/s/{sticky.code}/picture.jpg").data
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert picture.shape == (608, 608)
    assert _qr_texts(picture) == []
    # Both areas, 3 mm wider all round, are one flat grey; the code above them is not.
    template = get_template("note-76")
    for left, top, _, _ in template.key_areas:
        # Away from the edge by a JPEG block, whose ringing the flat grey does not have.
        corner = picture[int((top - 3) * 8) + 8 :, int((left - 3) * 8) + 8 :]
        assert abs(int(corner.min()) - 176) <= 2 and abs(int(corner.max()) - 176) <= 2
    assert int(picture[100:160, 30:200].min()) < 60  # the printed code, 7 characters of ink


def test_scanned_close_up_maps_the_keyed_qr_and_keeps_no_key(client, event, create_stickies, token):
    (sticky,) = create_stickies(1)
    flat = _printed(sticky)
    h, w = flat.shape[:2]
    # A phone held close: the sticky at about 5 px/mm, turned a little, on a grey wall.
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[520, 330], [890, 360], [870, 730], [500, 700]])
    photo = np.full((1000, 1400, 3), (150, 160, 170), np.uint8)
    cv2.warpPerspective(
        flat,
        cv2.getPerspectiveTransform(src, dst),
        (1400, 1000),
        photo,
        borderMode=cv2.BORDER_TRANSPARENT,
    )
    assert _qr_texts(photo) == [printed_qr(sticky)]
    # The scanner knows the QR by the app's manifest, which lists it without the key.
    read = scan_photo(event, photo).codes
    assert [(c.text, c.via) for c in read if c.via != "aruco"] == [
        (f"http://localhost:5000/s/{sticky.code}", "zxing")
    ]
    ok, jpeg = cv2.imencode(".jpg", photo)
    response = client.post(
        "/api/scans",
        data={"scan_id": "phone-1", "photo": (io.BytesIO(jpeg.tobytes()), "close.jpg")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert response.get_json()["pictures"] == [sticky.code]
    (scan,) = db.session.scalars(select(Scan))
    # The scanner reads the QR as the manifest lists it, its key left out: no scan keeps a key.
    assert printed_key(sticky) not in json.dumps(scan.observations)
    data = client.get(f"/s/{sticky.code}/picture.jpg").data
    assert _qr_texts(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)) == []


def test_migration_gives_each_event_a_claim_secret_and_keeps_claims(app, event, create_session):
    code = create_session(title="Kept", host="Ann").code
    db.session.commit()
    db.session.remove()
    downgrade(revision="3afa0f4af92b")
    assert "claim_secret" not in {c["name"] for c in inspect(db.engine).get_columns("events")}
    upgrade()
    db.session.remove()
    (loaded,) = db.session.scalars(select(Event))
    assert len(loaded.claim_secret) == 43
    kept = get_sticky(code)
    assert (kept.title, kept.host, kept.is_claimed) == ("Kept", "Ann", True)
