"""Races, bad input and abuse, reproduced against the app served by waitress over real HTTP."""

from __future__ import annotations

import re

import pytest
from app_helpers import csrf_token, run_together
from sqlalchemy import select

from app.extensions import db
from app.models import Sticky
from app.settings import configure

CLAIMERS = 20


def _claim_form(token: str, title: str) -> dict:
    return {"csrf_token": token, "title": title, "host": "Racer", "tags": "race"}


def test_claim_race_has_exactly_one_winner(live_server):
    (code,) = live_server.stickies(1)
    scanned = live_server.claim_path(code)
    phones = [live_server.session() for _ in range(CLAIMERS)]
    tokens = [live_server.form_token(phone, scanned) for phone in phones]

    def claim(index, barrier):
        barrier.wait()
        form = _claim_form(tokens[index], f"Talk number {index}")
        return live_server.post(phones[index], scanned, data=form)

    responses = run_together(CLAIMERS, claim)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302] + [409] * (CLAIMERS - 1)
    (winner,) = [i for i, r in enumerate(responses) if r.status_code == 302]
    for index, response in enumerate(responses):
        if index != winner:
            assert "claimed" in response.text
            assert f'value="Talk number {index}"' in response.text
    with live_server.app.app_context():
        sticky = db.session.scalar(select(Sticky).filter_by(code=code))
        assert sticky.title == f"Talk number {winner}"
    # Only the winner's browser may edit: its cookie holds the one edit secret that was kept.
    edit = live_server.get(phones[winner], f"/s/{code}/edit")
    assert edit.status_code == 200
    for index in {0, 1, CLAIMERS - 1} - {winner}:
        assert live_server.get(phones[index], f"/s/{code}/edit").status_code == 403
    assert re.search(r"Talk number \d+", live_server.get(phones[0], f"/s/{code}").text)


@pytest.mark.slow
def test_cameras_and_claimers_at_once_get_no_errors(live_server):
    from app.services.organizers import create_token
    from benchmarks.write_load import drive

    codes = live_server.stickies(60)
    with live_server.app.app_context():
        tokens = [create_token(name=f"cam-{i}")[1] for i in range(6)]
        db.session.commit()
    figures = drive(
        live_server.url,
        tokens=tokens,
        scan_codes=codes[:4],
        claims=[live_server.claim_path(code) for code in codes[4:]],
        claimers=10,
        seconds=3,
    )
    assert figures.errors == {}
    kinds = {kind for kind, *_ in figures.rows()}
    assert {"camera scan (POST /api/scans)", "claim (POST)"} <= kinds


def test_api_token_last_use_is_written_at_most_once_a_minute(live_server):
    from app.models import ApiToken
    from app.services.organizers import create_token

    with live_server.app.app_context():
        _, secret = create_token(name="cam")
        db.session.commit()
    camera = live_server.session()
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"board_found": False, "stickies": [], "hidden_cells": [], "warnings": []}
    stamps = []
    for n in range(3):
        response = live_server.post(
            camera, "/api/scans", json={**body, "scan_id": f"s{n}"}, headers=headers
        )
        assert response.status_code == 201
        with live_server.app.app_context():
            stamps.append(db.session.scalar(select(ApiToken.last_used_dt)))
    assert stamps[0] is not None
    assert stamps == [stamps[0]] * 3


def _organizer(live_server):
    """Return an HTTP client logged in as an organizer."""
    from app.services.organizers import authenticate, set_password

    with live_server.app.app_context():
        # Setting the password again would end the sessions of the clients made before.
        if authenticate(username="admin", password="correct horse") is None:
            set_password(username="admin", password="correct horse")
            db.session.commit()
    http = live_server.session()
    token = live_server.form_token(http, "/auth/login")
    response = live_server.post(
        http,
        "/auth/login",
        data={"csrf_token": token, "username": "admin", "password": "correct horse"},
    )
    assert response.status_code == 302
    return http


def _cli(live_server, *args, cwd):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    env.pop("OPENSPACES_DATABASE_URL", None)
    uri = live_server.app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite"):
        env["OPENSPACES_DATABASE_URL"] = uri
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--instance", live_server.app.instance_path, *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_concurrent_prints_from_cli_and_web_all_succeed(live_server, tmp_path):
    from app.models import PrintBatch

    organizers = [_organizer(live_server) for _ in range(4)]
    tokens = [live_server.form_token(http, "/admin/print/") for http in organizers]
    printers = [
        _cli(live_server, "print", "stickies", "--count", "4", "-o", f"cli{i}.pdf", cwd=tmp_path)
        for i in range(2)
    ]

    def web_print(index, barrier):
        form = {
            "csrf_token": tokens[index],
            "count": "3",
            "kind": "session",
            "template": "note-76",
            "paper": "a4",
        }
        barrier.wait()
        return live_server.post(organizers[index], "/admin/print/", data=form)

    responses = run_together(4, web_print)
    outcomes = [printer.communicate(timeout=120) for printer in printers]
    assert [r.status_code for r in responses] == [200] * 4
    assert all(r.content.startswith(b"%PDF") for r in responses)
    assert [p.returncode for p in printers] == [0, 0], outcomes
    assert all("Traceback" not in err for _, err in outcomes)
    with live_server.app.app_context():
        batches = db.session.scalars(select(PrintBatch)).all()
        markers = db.session.scalars(select(Sticky.marker_id)).all()
    assert sorted(b.count for b in batches) == [3, 3, 3, 3, 4, 4]
    assert len(markers) == len(set(markers)) == 20


# Bad input: cleaned or refused at the boundary, never a 500, and nothing stored when refused.


def _claim(live_server, code: str, **fields):
    phone = live_server.session()
    scanned = live_server.claim_path(code)
    token = live_server.form_token(phone, scanned)
    form = {"csrf_token": token, "title": "A talk", "host": "Priya", **fields}
    return phone, live_server.post(phone, scanned, data=form)


def _place(live_server, code: str, room: str = "Hall A", slot: str = "2026-09-26T10:00"):
    from app.models import PlacementSource, Room, Slot
    from app.services.board import place_sticky
    from app.services.stickies import get_sticky

    with live_server.app.app_context():
        place_sticky(
            sticky=get_sticky(code),
            room=db.session.scalar(select(Room).filter_by(name=room)),
            slot=next(s for s in db.session.scalars(select(Slot)) if s.key == slot),
            source=PlacementSource.ORGANIZER,
        )
        db.session.commit()


def test_control_characters_in_a_title_are_stripped_before_the_feeds(live_server):
    import xml.etree.ElementTree as ET

    (code,) = live_server.stickies(1)
    _, response = _claim(
        live_server, code, title="Bell\x07 and\x00 escape\x1b[31m red", tags="a\x0bb"
    )
    assert response.status_code == 302
    _place(live_server, code)
    http = live_server.session()
    feed = live_server.get(http, "/schedule.xml")
    assert feed.status_code == 200
    titles = [el.text for el in ET.fromstring(feed.content).iter("title")]
    assert "Bell and escape[31m red" in titles
    calendar = live_server.get(http, f"/s/{code}/calendar.ics")
    assert calendar.status_code == 200
    controls = {ch for ch in calendar.text if ord(ch) < 32} - {"\r", "\n"}
    assert controls == set()
    assert "SUMMARY:Bell and escape[31m red" in calendar.text


def test_line_breaks_in_a_title_become_spaces_and_the_calendar_works(live_server):
    (code,) = live_server.stickies(1)
    _, response = _claim(live_server, code, title="Line one\r\nLine two\rthree", host="Ann\nLee")
    assert response.status_code == 302
    _place(live_server, code)
    calendar = live_server.get(live_server.session(), f"/s/{code}/calendar.ics")
    assert calendar.status_code == 200
    assert "SUMMARY:Line one Line two three" in calendar.text
    with live_server.app.app_context():
        sticky = db.session.scalar(select(Sticky).filter_by(code=code))
        assert (sticky.title, sticky.host) == ("Line one Line two three", "Ann Lee")


def test_nul_in_a_scan_id_is_refused_with_422(live_server):
    from app.models import Scan
    from app.services.organizers import create_token

    with live_server.app.app_context():
        _, secret = create_token(name="cam")
        db.session.commit()
    body = {"scan_id": "a\x00b", "board_found": False, "stickies": [], "hidden_cells": []}
    response = live_server.post(
        live_server.session(),
        "/api/scans",
        json=body,
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 422
    assert (
        response.json()["error"]
        == "scan_id must be printable characters only, not U+0000 at position 2"
    )
    with live_server.app.app_context():
        assert db.session.scalars(select(Scan)).all() == []


def test_nul_in_a_login_name_is_a_wrong_login_not_a_500(live_server):
    http = live_server.session()
    token = live_server.form_token(http, "/auth/login")
    response = live_server.post(
        http,
        "/auth/login",
        data={"csrf_token": token, "username": "ad\x00min", "password": "x" * 9},
    )
    assert response.status_code == 401
    assert "Wrong user name or password." in response.text


def test_nul_in_an_organizer_search_finds_what_the_visible_text_finds(live_server):
    code = live_server.session_sticky(title="Rust for beginners")
    http = _organizer(live_server)
    page = live_server.get(http, "/admin/stickies", params={"q": "ru\x00st"})
    assert page.status_code == 200
    assert code in page.text


def test_nul_in_a_title_stores_the_title_without_it(live_server):
    (code,) = live_server.stickies(1)
    _, response = _claim(live_server, code, title="\x00Null\x00 island\x00")
    assert response.status_code == 302
    with live_server.app.app_context():
        assert db.session.scalar(select(Sticky.title).filter_by(code=code)) == "Null island"


def test_host_made_of_invisible_characters_is_missing(live_server):
    (code,) = live_server.stickies(1)
    phone, response = _claim(live_server, code, host="\u200b\u200d\u2060\ufeff \u00ad")
    assert response.status_code == 400
    assert "This field is required." in response.text
    with live_server.app.app_context():
        assert db.session.scalar(select(Sticky.claimed_dt).filter_by(code=code)) is None


def test_ids_beyond_64_bits_in_admin_urls_are_404(live_server):
    http = _organizer(live_server)
    huge = str(2**64 + 5)
    for path in (
        f"/admin/rooms/{huge}",
        f"/admin/scans/{huge}/image",
        f"/admin/print/batch/{huge}.pdf",
        f"/admin/print/batch/{huge}.zip",
        f"/rooms/{huge}",
        f"/rooms/{huge}/schedule.ics",
    ):
        assert live_server.get(http, path).status_code == 404, path
    token = live_server.form_token(http, "/admin/")
    for path in (f"/admin/scans/{huge}/undo", f"/admin/rooms/{huge}/delete"):
        assert live_server.post(http, path, data={"csrf_token": token}).status_code == 404, path
    (code,) = live_server.stickies(1)
    response = live_server.post(
        http,
        f"/admin/stickies/{code}/place",
        data={"csrf_token": token, "cell": f"{huge}:{huge}"},
    )
    assert response.status_code == 302
    page = live_server.get(http, response.headers["Location"])
    assert "choose a cell" in page.text


# Abuse: throttled logins and interest marks, hidden stickies, cookies behind HTTPS.


def _login(live_server, http, token: str, username: str, password: str):
    return live_server.post(
        http,
        "/auth/login",
        data={"csrf_token": token, "username": username, "password": password},
    )


def test_login_attempts_are_throttled_per_account_at_one_address(live_server):
    from app.services.organizers import set_password

    with live_server.app.app_context():
        set_password(username="admin", password="correct horse")
        db.session.commit()
    configure(live_server.app, LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS="3 per minute")
    http = live_server.session()
    token = live_server.form_token(http, "/auth/login")
    statuses = [
        _login(live_server, http, token, "admin", f"guess {n}").status_code for n in range(3)
    ]
    assert statuses == [401, 401, 401]
    blocked = _login(live_server, http, token, "Admin", "correct horse")
    assert blocked.status_code == 429
    assert (
        "Too many log-in attempts from your address. Wait a minute, then try again." in blocked.text
    )
    # Another account from the same address is not locked out by this one.
    assert _login(live_server, http, token, "bob", "guess").status_code == 401


def test_login_attempts_are_throttled_per_address_and_unknown_names_cost_a_hash(live_server):
    from app.services import organizers

    organizers._dummy_hash.cache_clear()
    configure(live_server.app, LOGIN_LIMIT_PER_ADDRESS="3 per minute")
    http = live_server.session()
    token = live_server.form_token(http, "/auth/login")
    statuses = [
        _login(
            live_server,
            http,
            token,
            f"name{n}",
            "guess",
        ).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 401]
    # The check ran against a dummy hash, as long as a real one takes.
    assert organizers._dummy_hash.cache_info().currsize == 1
    # A forged X-Forwarded-For changes nothing when no proxy is trusted.
    spoofed = live_server.post(
        http,
        "/auth/login",
        data={"csrf_token": token, "username": "name9", "password": "guess"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert spoofed.status_code == 429
    assert live_server.get(http, "/api/board").status_code == 200


def test_interest_marks_with_fresh_cookies_are_limited_per_address(live_server):
    configure(live_server.app, INTEREST_LIMIT_PER_ADDRESS="5 per minute")
    code = live_server.session_sticky()
    statuses = []
    for _ in range(8):
        browser = live_server.session()  # a fresh cookie each time
        token = live_server.form_token(browser, f"/s/{code}")
        statuses.append(
            live_server.post(browser, f"/s/{code}/interest", data={"csrf_token": token}).status_code
        )
    assert statuses == [302] * 5 + [429] * 3
    with live_server.app.app_context():
        from app.models import Interest

        assert len(db.session.scalars(select(Interest)).all()) == 5


def test_hidden_sticky_is_frozen_for_its_owner_and_for_interest(live_server):
    from app.models import Interest
    from app.services.stickies import get_sticky, set_hidden

    (code,) = live_server.stickies(1)
    owner, response = _claim(live_server, code, title="Before hiding")
    assert response.status_code == 302
    edit_form = live_server.form_token(owner, f"/s/{code}/edit")
    interest_form = live_server.form_token(owner, f"/s/{code}")
    with live_server.app.app_context():
        set_hidden(sticky=get_sticky(code), hidden=True)
        db.session.commit()
    edit = live_server.post(
        owner,
        f"/s/{code}/edit",
        data={"csrf_token": edit_form, "title": "After hiding", "host": "Priya"},
    )
    assert edit.status_code == 404
    interest = live_server.post(owner, f"/s/{code}/interest", data={"csrf_token": interest_form})
    assert interest.status_code == 404
    with live_server.app.app_context():
        assert db.session.scalar(select(Sticky.title).filter_by(code=code)) == "Before hiding"
        assert db.session.scalars(select(Interest)).all() == []
    organizer = _organizer(live_server)
    token = live_server.form_token(organizer, f"/s/{code}/edit")
    saved = live_server.post(
        organizer,
        f"/s/{code}/edit",
        data={"csrf_token": token, "title": "Fixed by organizers", "host": "Priya"},
    )
    assert saved.status_code == 302


def _set_cookie_headers(response) -> dict[str, str]:
    return {
        header.split("=", 1)[0]: header for header in response.raw.headers.getlist("Set-Cookie")
    }


def test_cookies_are_secure_and_hsts_is_sent_over_https_behind_a_proxy(live_server):
    from app import trust_proxy

    (code,) = live_server.stickies(1)
    scanned = live_server.claim_path(code)
    https = {"X-Forwarded-Proto": "https"}
    # Without proxy mode the header is not trusted: plain cookies, no HSTS.
    plain = live_server.get(live_server.session(), scanned, headers=https)
    assert "Secure" not in _set_cookie_headers(plain)["session"]
    assert "Strict-Transport-Security" not in plain.headers

    trust_proxy(live_server.app)
    phone = live_server.session()
    page = live_server.get(phone, scanned, headers=https)
    assert "; Secure" in _set_cookie_headers(page)["session"]
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    token = csrf_token(page.text)
    claim = live_server.post(
        phone,
        scanned,
        data={"csrf_token": token, "title": "Over HTTPS", "host": "Ann"},
        headers={
            **https,
            # Over HTTPS the CSRF check also wants the page's own address as the referrer.
            "Referer": live_server.url.replace("http:", "https:") + scanned,
            # The proxy speaks plain HTTP to us, so the client library keeps Secure cookies back.
            "Cookie": "; ".join(f"{c.name}={c.value}" for c in phone.cookies),
        },
    )
    assert claim.status_code == 302
    cookies = _set_cookie_headers(claim)
    assert "; Secure" in cookies[f"osb_edit_{code}"]
    assert "; HttpOnly" in cookies[f"osb_edit_{code}"]
    assert "; Secure" in cookies["session"]
    browser = live_server.get(live_server.session(), f"/s/{code}", headers=https)
    assert "; Secure" in _set_cookie_headers(browser)["osb_browser"]
    # Plain HTTP through the same proxy still gets plain cookies (a local test set-up, say).
    local = live_server.get(live_server.session(), f"/s/{code}")
    assert "Secure" not in _set_cookie_headers(local)["session"]


@pytest.mark.slow
def test_serve_behind_proxy_trusts_forwarded_https(tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import requests

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OPENSPACES_INSTANCE": str(tmp_path / "i")}
    env.pop("OPENSPACES_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--behind-proxy"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # gunicorn listens before its worker is ready: give a busy machine half a minute.
        for _ in range(300):
            try:
                response = requests.get(
                    f"http://127.0.0.1:{port}/auth/login",
                    headers={"X-Forwarded-Proto": "https"},
                    timeout=5,
                )
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert "; Secure" in response.headers["Set-Cookie"]
    finally:
        server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        output, _ = server.communicate(timeout=10)
    assert "Trusting X-Forwarded-* headers from one reverse proxy." in output


# Live streams, the CLI and the README.


def test_closed_live_stream_frees_its_slot_within_two_seconds(live_server):
    import socket
    import time
    from urllib.parse import urlsplit

    streams = live_server.app.extensions["openspaces.live_streams"]
    free = streams._value
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as phone:
        phone.sendall(b"GET /board/events HTTP/1.1\r\nHost: board\r\n\r\n")
        received = b""
        while b"retry: 1500" not in received:
            chunk = phone.recv(4096)
            assert chunk, received
            received += chunk
        assert streams._value == free - 1
    closed = time.monotonic()
    while streams._value != free and time.monotonic() - closed < 10:
        time.sleep(0.05)
    assert streams._value == free
    assert time.monotonic() - closed < 2


def test_revoked_token_name_can_be_created_again(runner, client, event):
    first = runner.invoke("token", "create", "cam").output.strip().splitlines()[-1]
    assert runner.invoke("token", "revoke", "cam").exit_code == 0
    again = runner.invoke("token", "create", "cam")
    assert again.exit_code == 0, again.output
    second = again.output.strip().splitlines()[-1]
    assert second != first
    body = {"scan_id": "t1", "board_found": False, "stickies": [], "hidden_cells": []}
    old = client.post("/api/scans", json=body, headers={"Authorization": f"Bearer {first}"})
    new = client.post("/api/scans", json=body, headers={"Authorization": f"Bearer {second}"})
    assert (old.status_code, new.status_code) == (401, 201)
    live = runner.invoke("token", "create", "cam")
    assert live.exit_code == 1
    assert "a token called 'cam' exists already" in live.output


@pytest.mark.slow
def test_readme_token_line_works_twice(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    (line,) = [line for line in readme.splitlines() if line.startswith("TOKEN=$(openspaces token")]
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OPENSPACES_INSTANCE": str(tmp_path / "i")}
    env.pop("OPENSPACES_DATABASE_URL", None)
    script = (
        f'openspaces() {{ "{sys.executable}" -m app "$@"; }}\n'
        f'{line}\necho "first=$TOKEN"\n{line}\necho "second=$TOKEN"\n'
    )
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    tokens = dict(
        line.split("=", 1)
        for line in result.stdout.splitlines()
        if line.startswith(("first=", "second="))
    )
    assert len(tokens["first"]) == 32, result.stderr
    assert len(tokens["second"]) == 32, result.stderr
    assert tokens["first"] != tokens["second"]


def test_event_load_refuses_an_unknown_key_by_name(runner, event, event_file):
    text = event_file.read_text().replace("capacity = 40", "capacity = 40\ncapacty = 4")
    event_file.write_text(text)
    result = runner.invoke("event", "load", str(event_file))
    assert result.exit_code == 1
    assert (
        f"Error: {event_file} room 1: unknown key 'capacty'; the keys here are name, capacity"
        in result.output
    )


def test_event_load_without_changes_keeps_loaded_time(runner, app, event, event_file):
    from app.models import Event

    before = db.session.scalar(select(Event.loaded_dt))
    result = runner.invoke("event", "load", str(event_file))
    assert result.exit_code == 0
    assert "no changes" in result.output
    assert db.session.scalar(select(Event.loaded_dt)) == before


def test_event_load_renaming_a_room_keeps_its_marker_id(runner, app, event, event_file):
    from app.models import Room

    markers = dict(db.session.execute(select(Room.name, Room.marker_id)).all())
    event_file.write_text(event_file.read_text().replace('"Hall B"', '"Hall Blue"'))
    result = runner.invoke("event", "load", str(event_file))
    assert result.exit_code == 0, result.output
    assert "renamed room 'Hall B' to 'Hall Blue'" in result.output
    after = dict(db.session.execute(select(Room.name, Room.marker_id)).all())
    assert after == {
        "Hall A": markers["Hall A"],
        "Hall Blue": markers["Hall B"],
        "Terrace": markers["Terrace"],
    }


def test_demo_video_is_ignored_by_git():
    import subprocess
    from pathlib import Path

    root = Path(__file__).parents[2]
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "demo-wall.avi"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == "demo-wall.avi"


def _readme_block(name: str) -> list[str]:
    """Return the lines of the README's fenced block after `<!-- ci:NAME`, as .ci/run reads them."""
    from pathlib import Path

    lines = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"<!-- ci:{name}"))
    assert lines[start + 1] == "```sh"
    end = lines.index("```", start + 2)
    return lines[start + 2 : end]


def _apt_packages(line: str) -> set[str]:
    import re
    import shlex

    (command,) = re.findall(r"apt-get install ([^&]*)", line)
    return {w for w in shlex.split(command) if not w.startswith("-")}


def test_readme_set_up_is_two_lines_that_ci_runs_as_written():
    from pathlib import Path

    setup = _readme_block("setup")
    assert len(setup) == 2
    assert _apt_packages(setup[0]) == {
        "python3-venv",
        "libzbar0",
        "fonts-dejavu-core",
        "fonts-droid-fallback",
    }
    # sudo only when not root, the distribution's own python3, and the base install alone.
    assert setup[0].startswith('S=$([ "$(id -u)" = 0 ] || echo sudo); $S apt-get update')
    assert setup[0].endswith("python3 -m venv .venv && .venv/bin/pip install -q -e .")
    assert setup[1] == ".venv/bin/openspaces demo"
    ci = (Path(__file__).parents[2] / ".ci" / "run").read_text()
    # CI installs nothing of its own: what it runs is what the README says.
    assert "apt-get install" not in ci
    assert "readme_block setup" in ci and "readme_block test" in ci


def test_readme_test_lines_add_the_test_stack_and_run_pytest():
    testing = _readme_block("test")
    assert len(testing) == 2
    assert {"chromium", "chromium-driver", "postgresql", "redis-server"} <= _apt_packages(
        testing[0]
    )
    assert (
        ".venv/bin/pip install -q uv && .venv/bin/uv pip install -q --compile-bytecode "
        "--python .venv/bin/python -e '.[test]'"
    ) in testing[0]
    # The Matrix hook tests' homeserver, in an environment of its own.
    assert testing[0].endswith(
        ".venv/bin/uv venv -q --allow-existing .venv-synapse -p /usr/bin/python3 && "
        ".venv/bin/uv pip install -q --python .venv-synapse/bin/python 'matrix-synapse>=1.100'"
    )
    assert testing[1] == ".venv/bin/python -m pytest"
