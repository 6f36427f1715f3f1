"""Plain notes on the board: who each one is, scan after scan, and who may claim it.

The notes' fingerprints come from real pictures: the writing is drawn on a note's paper and
fingerprinted by the scanner (scanner.notes.ink_fingerprint), at other sizes and colours when a
note is seen again, as a camera would see it from another distance.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

import scanner
from app.extensions import db
from app.models import Interest, NoteCheck, Placement, Scan, Sticky, utcnow
from app.services import ServiceError, plain_notes
from app.services.claim_keys import claim_key
from app.services.codes import ALPHABET, hash_secret
from app.services.events import load_event_file
from app.services.manifest import build_manifest
from app.services.observations import parse_observations
from app.services.pictures import View, picture_shape, store_views
from app.services.recognition import recogniser
from app.services.scans import apply_scan
from app.services.stickies import SessionFields, WrongClaimKey, claim_sticky
from app.settings import app_settings, configure
from benchmarks.photographer import (
    BoardSpec,
    Camera,
    NoteSpec,
    make_board,
    note_art,
    photograph,
)
from camera.views import ViewPicker
from scanner import ocr
from scanner.notes import SAME_NOTE_SIMILARITY, fingerprint_similarity, ink_fingerprint, ink_share

A, B, T = "Hall A", "Hall B", "Terrace"
TEN, ELEVEN = "2026-09-26T10:00", "2026-09-26T11:00"
PAPER = ("yellow", "pink", "green")
# Titles whose fingerprints are far apart (checked in test_titles_look_unlike_each_other).
TITLES = (
    "Rust for Pythonistas",
    "Testing without mocks",
    "Open source funding",
    "Home automation",
    "Coffee & chaos",
    "Type hints",
)


def written(text: str, *, side: int = 228, color: str = "yellow"):
    """Return a flat picture of a 76 mm note with ``text`` handwritten on it, ``side`` px wide.

    One text is written by one hand (the photographer's seed): the same ink at any size.
    """
    spec = NoteSpec(text=text, color=color, writing_seed=len(text))
    return note_art(spec, px_per_mm=side / 76.0).image


def seen_note(text: str, cell=None, *, side: int = 228, color: str = "yellow") -> dict:
    """Return a note as a camera's scan lists it, fingerprinted from its picture."""
    picture = written(text, side=side, color=color)
    return {
        "fingerprint": ink_fingerprint(picture),
        "ink": round(ink_share(picture), 4),
        "color": color,
        "room": cell[0] if cell else None,
        "slot": cell[1] if cell else None,
    }


@pytest.fixture
def scan(event):
    """Apply a scan of plain notes (and printed stickies, by code); return the outcome."""
    counter = iter(range(1, 1000))
    start = dt.datetime(2026, 9, 26, 4, 0, tzinfo=dt.UTC)

    def apply(notes=(), *, stickies=None, hidden=(), board_found=True, wall_clock=False):
        number = next(counter)
        body = {
            "scan_id": f"s{number}",
            "board_found": board_found,
            "stickies": [
                {"code": code, "room": cell[0], "slot": cell[1], "via": "marker"}
                for code, cell in (stickies or {}).items()
            ],
            "hidden_cells": [list(c) for c in hidden],
            "warnings": [],
            "notes": list(notes),
        }
        outcome = apply_scan(
            event=event,
            observations=parse_observations(body),
            source="test",
            remove_after=3,
            # The wall clock for a claim code to be shown and used now; else a clock of its own.
            now=None if wall_clock else start + dt.timedelta(seconds=number),
        )
        db.session.commit()
        return outcome

    return apply


def notes_of(event) -> list[Sticky]:
    return plain_notes.plain_notes(event)


def where(sticky):
    db.session.refresh(sticky)
    if sticky.on_grid:
        return (sticky.board_status, sticky.room.name, sticky.slot.key)
    return (sticky.board_status,)


def test_titles_look_unlike_each_other():
    prints = [seen_note(t)["fingerprint"] for t in TITLES]
    worst = max(fingerprint_similarity(a, b) for i, a in enumerate(prints) for b in prints[i + 1 :])
    assert worst < SAME_NOTE_SIMILARITY


def test_plain_note_first_sight_makes_one_sticky_with_a_code(scan, event):
    outcome = scan([seen_note(TITLES[0], (A, TEN))])
    (note,) = notes_of(event)
    assert re.fullmatch(f"[{ALPHABET}]{{6}}", note.code)
    assert (note.plain, note.marker_id, note.kind, note.color) == (True, None, "session", "yellow")
    assert note.first_seen_dt == dt.datetime(2026, 9, 26, 4, 0, 1, tzinfo=dt.UTC)
    assert where(note) == ("placed", A, TEN)
    assert outcome.changes == [
        {
            "code": note.code,
            "title": None,
            "from": {"status": "none", "room": None, "slot": None},
            "to": {"status": "placed", "room": A, "slot": TEN},
        }
    ]
    # Its page is reached like a printed sticky's.
    assert outcome.stickies[note.code] is note


def test_plain_note_seen_again_keeps_its_code(scan, event):
    scan([seen_note(TITLES[0], (A, TEN))])
    (first,) = notes_of(event)
    # Farther away and on another paper: the ink is the same.
    outcome = scan([seen_note(TITLES[0], (A, TEN), side=180, color="pink")])
    assert [n.code for n in notes_of(event)] == [first.code]
    assert outcome.changes == []
    assert where(first) == ("placed", A, TEN)


def test_plain_note_move_keeps_code_interests_and_history(scan, event, client):
    scan([seen_note(TITLES[1], (A, TEN)), seen_note(TITLES[2], (B, TEN))])
    moved, other = notes_of(event)
    moved.claimed_dt, moved.title = dt.datetime(2026, 9, 26, 4, 1, tzinfo=dt.UTC), "Mocks"
    db.session.add(Interest(sticky_id=moved.id, browser_id="b" * 32))
    db.session.commit()
    outcome = scan([seen_note(TITLES[1], (T, ELEVEN), side=240), seen_note(TITLES[2], (B, TEN))])
    assert [n.code for n in notes_of(event)] == [moved.code, other.code]
    assert where(moved) == ("placed", T, ELEVEN)
    assert [c["code"] for c in outcome.changes] == [moved.code]
    assert db.session.scalar(select(func.count(Interest.id)).filter_by(sticky_id=moved.id)) == 1
    history = db.session.scalars(
        select(Placement).filter_by(sticky_id=moved.id).order_by(Placement.id)
    ).all()
    assert [(p.from_status, p.to_status, p.scan_id) for p in history] == [
        ("none", "placed", 1),
        ("placed", "placed", 2),
    ]
    assert client.get(f"/s/{moved.code}").status_code == 200


def test_blank_plain_note_is_ignored(scan, event):
    blank = seen_note("", (A, TEN))
    assert blank["ink"] == 0.0
    outcome = scan([blank])
    assert notes_of(event) == []
    assert outcome.changes == []


def test_look_alike_notes_in_two_cells_stay_two(scan, event):
    scan([seen_note(TITLES[3], (A, TEN))])
    (original,) = notes_of(event)
    # A copy of the same writing turns up in another cell while the first stays in its own.
    scan([seen_note(TITLES[3], (A, TEN)), seen_note(TITLES[3], (B, ELEVEN), color="green")])
    first, copy = notes_of(event)
    assert first.code == original.code
    assert (where(first), where(copy)) == (("placed", A, TEN), ("placed", B, ELEVEN))
    # Seen again, each is told by its place.
    scan([seen_note(TITLES[3], (B, ELEVEN), side=200), seen_note(TITLES[3], (A, TEN), side=260)])
    assert [n.code for n in notes_of(event)] == [first.code, copy.code]
    assert (where(first), where(copy)) == (("placed", A, TEN), ("placed", B, ELEVEN))
    assert plain_notes.open_checks(event) == []


def test_note_like_two_known_notes_is_held_and_changes_nothing(scan, event):
    scan([seen_note(TITLES[3], (A, TEN))])
    scan([seen_note(TITLES[3], (A, TEN)), seen_note(TITLES[3], (B, ELEVEN))])
    first, second = notes_of(event)
    # One of them is seen in a third cell, neither in its own: which one cannot be told.
    outcome = scan([seen_note(TITLES[3], (T, TEN))])
    assert outcome.changes == []
    assert len(notes_of(event)) == 2
    assert (where(first), where(second)) == (("placed", A, TEN), ("placed", B, ELEVEN))
    assert (first.missed_scans, second.missed_scans) == (0, 0)
    (check,) = plain_notes.open_checks(event)
    assert (check.room.name, check.slot.key, check.candidates) == (T, TEN, [first.id, second.id])
    # The same sight again is the same check, not another one.
    scan([seen_note(TITLES[3], (T, TEN), side=220)])
    assert [c.id for c in plain_notes.open_checks(event)] == [check.id]
    # The organizer says which it is: it moves there, and its place tells it apart from now on.
    assert plain_notes.resolve_check(check=check, same_as=second) is second
    db.session.commit()
    assert where(second) == ("placed", T, TEN)
    scan([seen_note(TITLES[3], (T, TEN)), seen_note(TITLES[3], (A, TEN))])
    assert (where(first), where(second)) == (("placed", A, TEN), ("placed", T, TEN))
    assert plain_notes.open_checks(event) == []


def test_two_notes_like_one_known_note_away_from_its_cell_are_held(scan, event):
    scan([seen_note(TITLES[4], (A, TEN))])
    (known,) = notes_of(event)
    outcome = scan([seen_note(TITLES[4], (B, TEN)), seen_note(TITLES[4], (T, ELEVEN))])
    assert outcome.changes == []
    assert notes_of(event) == [known]
    assert (where(known), known.missed_scans) == (("placed", A, TEN), 0)
    checks = plain_notes.open_checks(event)
    assert [(c.room.name, c.slot.key, c.candidates) for c in checks] == [
        (B, TEN, [known.id]),
        (T, ELEVEN, [known.id]),
    ]
    # "A new note": the organizer's answer makes one, in the cell where it was seen.
    new = plain_notes.resolve_check(check=checks[1], same_as=None)
    db.session.commit()
    assert (new.plain, where(new), new.fingerprint) == (
        True,
        ("placed", T, ELEVEN),
        checks[1].fingerprint,
    )
    assert [c.id for c in plain_notes.open_checks(event)] == [checks[0].id]


def test_note_seen_badly_where_a_note_sits_waits_for_a_second_look(scan, event):
    scan([seen_note(TITLES[5], (A, TEN))])
    (sitting,) = notes_of(event)
    # Half covered, the note there looks like no note: nothing is made, and it is not missed.
    outcome = scan([seen_note(TITLES[2], (A, TEN))])
    assert (outcome.changes, notes_of(event), sitting.missed_scans) == ([], [sitting], 0)
    # Seen so again, it is a new note, queued behind the one there; that one was not seen.
    scan([seen_note(TITLES[2], (A, TEN))])
    first, new = notes_of(event)
    assert (first, where(new), first.missed_scans) == (sitting, ("conflict", A, TEN), 1)


def test_moved_note_seen_badly_waits_instead_of_becoming_new(scan, event):
    scan([seen_note(TITLES[5], (A, TEN)), seen_note(TITLES[0], (B, TEN))])
    moved, stays = notes_of(event)
    # It went to another cell and the camera saw its ink badly: no note is made of it yet.
    outcome = scan([seen_note(TITLES[2], (T, ELEVEN)), seen_note(TITLES[0], (B, TEN))])
    assert (outcome.changes, notes_of(event), moved.missed_scans) == ([], [moved, stays], 1)
    # Seen well, it is the note that moved.
    scan([seen_note(TITLES[5], (T, ELEVEN)), seen_note(TITLES[0], (B, TEN))])
    assert notes_of(event) == [moved, stays]
    assert (where(moved), moved.missed_scans) == (("placed", T, ELEVEN), 0)
    # The sighting that waited is settled: it was that note.
    (waited,) = db.session.scalars(select(NoteCheck).filter_by(waiting=True)).all()
    assert waited.resolved_dt is not None


def test_plain_note_removed_after_misses(scan, event):
    scan([seen_note(TITLES[5], (A, TEN)), seen_note(TITLES[0], (B, TEN))])
    gone, stays = notes_of(event)
    scan([seen_note(TITLES[0], (B, TEN))])
    # A person in front of it breaks the row.
    scan([seen_note(TITLES[0], (B, TEN))], hidden=[(A, TEN)])
    scan([seen_note(TITLES[0], (B, TEN))])
    scan([seen_note(TITLES[0], (B, TEN))])
    assert (where(gone), gone.missed_scans) == (("placed", A, TEN), 2)
    outcome = scan([seen_note(TITLES[0], (B, TEN))])
    assert where(gone) == ("none",)
    assert [c["to"]["status"] for c in outcome.changes] == ["none"]
    assert where(stays) == ("placed", B, TEN)
    # Back on the wall, it is the same note again.
    scan([seen_note(TITLES[5], (T, TEN)), seen_note(TITLES[0], (B, TEN))])
    assert [n.code for n in notes_of(event)] == [gone.code, stays.code]
    assert where(gone) == ("placed", T, TEN)


def test_mixed_wall_first_come_first_served(scan, event, create_session):
    printed = create_session(title="Printed first")
    scan(stickies={printed.code: (A, TEN)})
    scan(
        [seen_note(TITLES[1], (A, TEN)), seen_note(TITLES[2], (B, TEN))],
        stickies={printed.code: (A, TEN)},
    )
    note, other = notes_of(event)
    assert where(printed) == ("placed", A, TEN)
    assert where(note) == ("conflict", A, TEN)
    # The printed sticky leaves: the note was next in line.
    scan(
        [seen_note(TITLES[1], (A, TEN)), seen_note(TITLES[2], (B, TEN))],
        stickies={printed.code: (T, TEN)},
    )
    assert (where(printed), where(note)) == (("placed", T, TEN), ("placed", A, TEN))
    # A printed sticky arriving in a note's cell queues behind it.
    scan(
        [seen_note(TITLES[1], (A, TEN)), seen_note(TITLES[2], (B, TEN))],
        stickies={printed.code: (B, TEN)},
    )
    assert (where(printed), where(other)) == (("conflict", B, TEN), ("placed", B, TEN))
    # The scanner's manifest lists the printed sticky only: a note has no marker to find.
    assert [s["code"] for s in build_manifest(event)["stickies"]] == [printed.code]
    assert db.session.scalar(select(func.count(Sticky.id)).filter_by(plain=True)) == 2


def test_twenty_scans_with_moves_swap_no_identity(scan, event):
    rng = random.Random(26)
    cells = [(room, slot) for room in (A, B, T) for slot in (TEN, ELEVEN)]
    titles = TITLES[:5]  # five notes in six cells: a free cell to move into
    placed = dict(zip(titles, rng.sample(cells, len(titles)), strict=True))
    scan([seen_note(t, c) for t, c in placed.items()])
    code_of = {t: n.code for t, n in zip(titles, notes_of(event), strict=True)}
    by_code = {n.code: n for n in notes_of(event)}
    swaps = moved = 0
    for number in range(2, 21):
        if number % 2:  # two notes trade places
            a, b = rng.sample(titles, 2)
            placed[a], placed[b] = placed[b], placed[a]
            moved += 2
        else:  # one note goes to the free cell
            (free,) = set(cells) - set(placed.values())
            placed[rng.choice(titles)] = free
            moved += 1
        sights = [
            seen_note(t, c, side=rng.choice((160, 220, 300, 380)), color=rng.choice(PAPER))
            for t, c in placed.items()
        ]
        rng.shuffle(sights)
        scan(sights)
        for title, cell in placed.items():
            swaps += where(by_code[code_of[title]]) != ("placed", *cell)
    assert (swaps, moved) == (0, 28)
    assert [n.code for n in notes_of(event)] == list(code_of.values())
    assert db.session.scalar(select(func.count(NoteCheck.id))) == 0


PUBLIC_PAGES = ("/", "/kiosk", "/board/grid", "/board/grid?kiosk=1", "/api/board", "/schedule.ics")


def test_plain_note_claim_code_works_once_and_only_the_wall_screen_shows_it(
    app, scan, event, organizer_client
):
    scan([seen_note(TITLES[0], (A, TEN))], wall_clock=True)
    (note,) = notes_of(event)
    (shown,) = plain_notes.wall_claim_codes(event=event)
    code = shown.code
    assert (shown.sticky, len(code), note.claim_code_hash) == (note, 6, hash_secret(code))
    assert shown.expires_dt - note.claim_code_dt == dt.timedelta(minutes=10)
    # Nothing public shows it: not the board, its feeds, the note's page, nor the wall screen
    # that nobody logged in to.
    public = app.test_client()
    for path in (*PUBLIC_PAGES, f"/s/{note.code}"):
        page = public.get(path)
        assert page.status_code == 200, path
        assert code not in page.get_data(as_text=True), path
    for path in ("/kiosk", "/board/grid?kiosk=1"):
        wall = organizer_client.get(path).get_data(as_text=True)
        assert f'<code class="kiosk-claim-code">{code}</code>' in wall
        assert f"/s/{note.code}" in wall
        # What the organizers' wall screen showed is kept for nobody else.
        assert code not in app.test_client().get(path).get_data(as_text=True)
    # The author types it on the note's page (any case), and claims the note with it.
    phone = app.test_client()
    form = phone.get(f"/s/{note.code}?k={code.lower()}")
    assert (form.status_code, "Claim" in form.get_data(as_text=True)) == (200, True)
    claimed = phone.post(f"/s/{note.code}?k={code}", data={"title": "Rust", "host": "Ann"})
    assert claimed.status_code == 302
    db.session.refresh(note)
    assert (note.title, note.host, note.claim_code_hash) == ("Rust", "Ann", None)
    assert plain_notes.wall_claim_codes(event=event) == []
    # Once only: the code is spent, even on a note made blank again.
    note.claimed_dt = note.title = note.host = note.edit_secret_hash = None
    db.session.commit()
    again = app.test_client().post(f"/s/{note.code}?k={code}", data={"title": "Mine", "host": "Bo"})
    assert again.status_code == 403
    db.session.refresh(note)
    assert note.title is None


def test_plain_note_claim_code_expires_and_the_organizer_makes_a_new_one(
    app, scan, event, organizer_client
):
    scan([seen_note(TITLES[1], (B, TEN))], wall_clock=True)
    (note,) = notes_of(event)
    old = plain_notes.issue_claim_code(sticky=note, now=utcnow() - dt.timedelta(minutes=10))
    db.session.commit()
    assert plain_notes.wall_claim_codes(event=event) == []
    assert app.test_client().get(f"/s/{note.code}?k={old}").status_code == 403
    page = organizer_client.get("/admin/notes").get_data(as_text=True)
    assert f'action="/admin/notes/claim-code/{note.code}"' in page
    made = organizer_client.post(f"/admin/notes/claim-code/{note.code}", follow_redirects=True)
    (shown,) = plain_notes.wall_claim_codes(event=event)
    assert shown.code != old
    assert f"Claim code for {note.code}: {shown.code}, for 10 minutes" in made.get_data(
        as_text=True
    )
    assert app.test_client().get(f"/s/{note.code}?k={shown.code}").status_code == 200
    assert app.test_client().get(f"/s/{note.code}?k={old}").status_code == 403
    # A printed sticky is claimed with its printed key: no code is made for it.
    assert app.test_client().post("/admin/notes/claim-code/" + note.code).status_code == 302


def test_wrong_claim_codes_are_rate_limited_like_claim_keys(app, scan, event):
    configure(app, CLAIM_KEY_LIMIT_PER_ADDRESS="3 per minute")
    scan([seen_note(TITLES[2], (T, TEN))], wall_clock=True)
    (note,) = notes_of(event)
    (shown,) = plain_notes.wall_claim_codes(event=event)
    hall = {"REMOTE_ADDR": "198.51.100.26"}
    statuses = [
        app.test_client().get(f"/s/{note.code}?k=AAAAA{n}", environ_base=hall).status_code
        for n in range(4)
    ]
    assert statuses == [403, 403, 403, 429]
    refused = app.test_client().post(
        f"/s/{note.code}?k={shown.code}", data={"title": "Mine", "host": "Bo"}, environ_base=hall
    )
    assert refused.status_code == 429
    db.session.refresh(note)
    assert (note.is_claimed, note.claim_code_hash) == (False, hash_secret(shown.code))


def test_organizer_settles_a_held_note_on_the_notes_page(app, scan, event, organizer_client):
    scan([seen_note(TITLES[3], (A, TEN))])
    scan([seen_note(TITLES[3], (A, TEN)), seen_note(TITLES[3], (B, ELEVEN))])
    first, second = notes_of(event)
    scan([seen_note(TITLES[3], (T, TEN))])
    (check,) = plain_notes.open_checks(event)
    page = organizer_client.get("/admin/notes").get_data(as_text=True)
    assert f"Same as {first.code}" in page and f"Same as {second.code}" in page
    assert 'value="new">A new note</button>' in page
    dashboard = organizer_client.get("/admin/").get_data(as_text=True)
    assert "1 plain note the camera could not tell apart from others." in dashboard
    assert 'href="/admin/notes">Check them</a>' in dashboard
    assert app.test_client().get("/admin/notes").status_code == 302  # organizers only
    sticky_page = organizer_client.get(f"/admin/stickies/{first.code}").get_data(as_text=True)
    assert f"<code>{first.code}</code> · plain note, yellow" in sticky_page
    # Not one of the notes it looks like: refused, nothing changes.
    assert (
        organizer_client.post(f"/admin/notes/{check.id}", data={"same_as": "999"}).status_code
        == 400
    )
    done = organizer_client.post(f"/admin/notes/{check.id}", data={"same_as": str(first.id)})
    assert done.status_code == 302
    assert (where(first), where(second)) == (("placed", T, TEN), ("placed", B, ELEVEN))
    assert plain_notes.open_checks(event) == []
    assert (
        organizer_client.post(f"/admin/notes/{check.id}", data={"same_as": "new"}).status_code
        == 302
    )
    assert len(notes_of(event)) == 2  # settled already: nothing made


# -- round trips: notes drawn on a board, photographed, scanned by a camera and posted -----------


def _camera_scan(client, token, assignment, *, number: int, rng) -> dict:
    """Draw the event's board with these notes, {title: (room, slot)}, photograph and scan it as
    a wall camera does, and post its JSON with the notes' views; return the answer."""
    colors = dict(zip(TITLES, ("yellow", "pink", "green", "orange", "blue", "white"), strict=True))
    notes = tuple(
        NoteSpec(
            text=title,
            color=colors[title],
            room=room,
            slot=slot,
            # Stuck again a little turned and off centre: the ink is the same.
            angle_deg=float(rng.uniform(-4, 4)),
            offset_mm=(float(rng.uniform(-8, 8)), float(rng.uniform(-6, 6))),
            writing_seed=TITLES.index(title),
        )
        for title, (room, slot) in assignment.items()
    )
    spec = BoardSpec(
        rooms=(A, B, T),
        slots=(TEN, ELEVEN),
        n_stickies=0,
        n_person_stickies=0,
        n_unplaced=0,
        n_posters=0,
        notes=notes,
    )
    board = make_board(spec, seed=1)
    photo = photograph(board, Camera.webcam_1080p(), seed=number).image
    result = scanner.scan(photo, board.manifest)
    fields = {"scan": json.dumps({**result.to_dict(), "scan_id": f"cam-{number}"})}
    # The views a wall camera sends with the scan: its notes' among them, as note:<index>.
    for key, (jpeg, score) in ViewPicker().better_views(photo, board.manifest, result).items():
        fields[f"view.{key}"] = (io.BytesIO(jpeg), f"{key}.jpg")
        fields[f"score.{key}"] = json.dumps(score)
    response = client.post(
        "/api/scans",
        data=fields,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.slow
def test_camera_round_trip_of_twenty_scans_with_moves_swaps_no_identity(client, event, token):
    """Twenty photos of five notes moving about: no note is ever taken for another.

    A note the scanner fingerprints badly in a photo may come out as a new note for a while (a
    split, counted here); a swap, a note's code on another note's writing, must never happen.
    """
    rng = np.random.default_rng(26)
    cells = [(room, slot) for room in (A, B, T) for slot in (TEN, ELEVEN)]
    titles = TITLES[:5]
    placed = dict(zip(titles, cells, strict=False))
    first = _camera_scan(client, token, placed, number=1, rng=rng)
    assert len(first["changes"]) == 5
    by_cell = {(n.room.name, n.slot.key): n for n in notes_of(event)}
    code_of = {title: by_cell[cell].code for title, cell in placed.items()}
    title_of = {code: title for title, code in code_of.items()}
    assert sorted(first["pictures"]) == sorted(code_of.values())
    swaps = wrong = 0
    for number in range(2, 21):
        if number % 2:
            a, b = (titles[i] for i in rng.choice(len(titles), 2, replace=False))
            placed[a], placed[b] = placed[b], placed[a]
        else:
            (free,) = set(cells) - set(placed.values())
            placed[titles[int(rng.integers(len(titles)))]] = free
        answer = _camera_scan(client, token, placed, number=number, rng=rng)
        assert answer["applied"] is True
        db.session.expire_all()
        # A note moved by the scan went where its own writing is, never where another's is.
        swaps += sum(
            (c["to"]["room"], c["to"]["slot"]) != placed[title_of[c["code"]]]
            for c in answer["changes"]
            if c["code"] in title_of and c["to"]["room"] is not None
        )
        wrong += sum(
            not (n.on_grid and (n.room.name, n.slot.key) == placed[title_of[n.code]])
            for n in notes_of(event)
            if n.code in title_of
        )
    splits = len(notes_of(event)) - len(titles)
    print(f"20 scans of 5 notes, {len(cells)} cells: {swaps} swaps, {splits} splits, {wrong} wrong")
    assert swaps == 0
    assert set(code_of.values()) <= {n.code for n in notes_of(event)}
    # Each note shows its writing, on its page and on the board.
    for code in code_of.values():
        assert client.get(f"/s/{code}/picture.jpg").status_code == 200


@pytest.mark.skipif(
    not ocr.engine_available("rapidocr"),
    reason="RapidOCR is not installed (pyproject installs it)",
)
def test_plain_note_picture_gets_a_title_suggestion(app, scan, event):
    from PIL import Image

    from benchmarks.ocr_bench import HANDS, HI_PX_PER_MM, photograph_sticky, write_title

    if not __import__("os").path.exists(HANDS[0].path):
        pytest.skip(f"font {HANDS[0].path} missing: apt-get install {HANDS[0].package}")
    configure(app, OCR_ENGINE="rapidocr")
    scan([seen_note(TITLES[0], (A, TEN))])
    (note,) = notes_of(event)
    # A yellow note with nothing printed on it, the title written by hand.
    side = round(76 * HI_PX_PER_MM)
    paper = Image.new("RGB", (side, side), (250, 230, 120))
    write_title(paper, "Open data", HANDS[0], px_per_mm=HI_PX_PER_MM, rng=np.random.default_rng(2))
    flat = cv2.cvtColor(np.asarray(paper), cv2.COLOR_RGB2BGR)
    image = photograph_sticky(flat, px_per_mm=6.0, seed=2)
    score = scanner.ViewScore(px_per_mm=6.0, sharpness=0.8, glare=0.0, coverage=1.0)
    kept = store_views(
        event=event,
        views=[View(code=note.code, image=image, score=score)],
        store=app_settings(app).scan.pictures_store,
        cap_bytes=app.config["PICTURES_MAX_BYTES"],
    )
    db.session.commit()
    assert kept == [note.code]
    # The whole note is kept, nothing painted over.
    assert picture_shape(note).cut is False
    assert recogniser(app).wait(120)
    db.session.expire_all()
    assert (note.suggested_title, note.title) == ("Open data", None)


def test_photo_scanned_on_the_server_puts_plain_notes_on_the_board_with_pictures(
    client, event, token
):
    """A phone sends photos and the server scans them: notes, pictures and a printed sticky."""
    notes = (
        NoteSpec(text=TITLES[0], color="yellow", room=A, slot=TEN, writing_seed=1),
        NoteSpec(text=TITLES[1], color="pink", room=B, slot=ELEVEN, writing_seed=2),
        NoteSpec(text="", color="green", room=T, slot=TEN),  # blank: left alone
    )
    spec = BoardSpec(
        rooms=(A, B, T),
        slots=(TEN, ELEVEN),
        n_stickies=0,
        n_person_stickies=0,
        n_unplaced=0,
        n_posters=0,
        notes=notes,
    )
    board = make_board(spec, seed=1)
    # The board's markers are the event's own: the same kit, printed by the app.
    kit = build_manifest(event)
    assert [(r["name"], r["marker_id"]) for r in kit["rooms"]] == [
        (r["name"], r["marker_id"]) for r in board.manifest["rooms"]
    ]
    assert [s["marker_id"] for s in kit["slots"]] == [
        s["marker_id"] for s in board.manifest["slots"]
    ]
    photo = photograph(board, Camera.webcam_1080p(), seed=3).image
    ok, data = cv2.imencode(".jpg", photo)
    answer = client.post(
        "/api/scans",
        data={"scan_id": "phone-1", "photo": (io.BytesIO(data.tobytes()), "wall.jpg")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    ).get_json()
    assert answer["applied"] is True
    first, second = notes_of(event)
    assert (where(first), where(second)) == (("placed", A, TEN), ("placed", B, ELEVEN))
    assert (first.color, second.color) == ("yellow", "pink")
    assert sorted(answer["pictures"]) == sorted([first.code, second.code])
    picture = client.get(f"/s/{first.code}/picture.jpg")
    assert (picture.status_code, picture.mimetype) == (200, "image/jpeg")
    # The scan's record keeps where the notes were, not their fingerprints.
    (record,) = db.session.scalars(select(Scan.observations)).all()
    assert sorted((n["room"], n["slot"], n["color"]) for n in record["notes"]) == [
        (A, TEN, "yellow"),
        (B, ELEVEN, "pink"),
        (T, TEN, "green"),
    ]
    assert all("fingerprint" not in n for n in record["notes"])


def test_claiming_a_plain_note_takes_its_claim_code_not_a_printed_key(scan, event):
    scan([seen_note(TITLES[4], (B, TEN))], wall_clock=True)
    (note,) = notes_of(event)
    (shown,) = plain_notes.wall_claim_codes(event=event)
    fields = SessionFields(title="Chaos", host="Ann")
    # What a printed sticky of this code would carry is no key of a note's.
    for key in (None, "", claim_key(event=event, code=note.code), note.code):
        with pytest.raises(WrongClaimKey) as refused:
            claim_sticky(sticky=note, fields=fields, key=key)
        assert str(refused.value) == (
            "this is not the note's claim code, or it has been used or has run out"
        )
    secret = claim_sticky(sticky=note, fields=fields, key=f" {shown.code.lower()} ")
    db.session.commit()
    assert (len(secret) > 20, note.title, note.claim_code_hash) == (True, "Chaos", None)


def test_held_note_keeps_its_picture_for_the_organizer_and_a_new_note_starts_with_it(
    app, scan, event, token, organizer_client
):
    scan([seen_note(TITLES[3], (A, TEN))])
    scan([seen_note(TITLES[3], (A, TEN)), seen_note(TITLES[3], (B, ELEVEN))])
    # A camera posts a third look-alike, in a third cell, with its view.
    view = written(TITLES[3], side=228)
    ok, jpeg = cv2.imencode(".jpg", view)
    body = {"scan_id": "cam-held", "board_found": True, "notes": [seen_note(TITLES[3], (T, TEN))]}
    score = {"px_per_mm": 3.0, "sharpness": 0.7, "glare": 0.0, "coverage": 1.0}
    answer = organizer_client.post(
        "/api/scans",
        data={
            "scan": json.dumps(body),
            "view.note:0": (io.BytesIO(jpeg.tobytes()), "note-0.jpg"),
            "score.note:0": json.dumps(score),
        },
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    ).get_json()
    assert (answer["applied"], answer["changes"], answer["pictures"]) == (True, [], [])
    (check,) = plain_notes.open_checks(event)
    shown = organizer_client.get(f"/admin/notes/{check.id}/picture.jpg")
    assert (shown.status_code, shown.mimetype) == (200, "image/jpeg")
    assert f'src="/admin/notes/{check.id}/picture.jpg"' in organizer_client.get(
        "/admin/notes"
    ).get_data(as_text=True)
    assert app.test_client().get(f"/admin/notes/{check.id}/picture.jpg").status_code == 302
    new = plain_notes.resolve_check(check=check, same_as=None)
    db.session.commit()
    assert where(new) == ("placed", T, TEN)
    assert organizer_client.get(f"/s/{new.code}/picture.jpg").data == shown.data


def test_organizers_wall_screen_renews_itself_when_a_claim_code_runs_out(
    app, scan, event, organizer_client
):
    scan([seen_note(TITLES[2], (A, ELEVEN))], wall_clock=True)
    (note,) = notes_of(event)
    (shown,) = plain_notes.wall_claim_codes(event=event)
    first = organizer_client.get("/board/grid?kiosk=1")
    assert shown.code in first.get_data(as_text=True)
    # The screen looks again when the code runs out, though the board did not change.
    looks_again = re.search(r'data-next-change="(\d+)"', first.get_data(as_text=True))
    assert int(looks_again.group(1)) <= int(shown.expires_dt.timestamp() * 1000)
    etag = first.headers["ETag"]
    assert (
        organizer_client.get("/board/grid?kiosk=1", headers={"If-None-Match": etag}).status_code
        == 304
    )
    note.claim_code_expires_dt = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    renewed = organizer_client.get("/board/grid?kiosk=1", headers={"If-None-Match": etag})
    assert renewed.status_code == 200
    assert shown.code not in renewed.get_data(as_text=True)
    assert renewed.headers["ETag"] != etag


def test_scanner_looks_for_plain_notes_on_a_kit_board_and_not_on_printed_stickies_alone(
    event, create_session, event_file
):
    # The kit alone: nothing printed to find, so plain notes are what the wall holds.
    assert build_manifest(event)["plain_notes"] is True
    create_session(title="Printed")
    assert build_manifest(event)["plain_notes"] is False
    # A wall that mixes both says so in its event file, and the file's word wins both ways.
    text = event_file.read_text(encoding="utf-8")
    event_file.write_text(text.replace("[event]\n", "[event]\nplain_notes = true\n", 1))
    report = load_event_file(event_file)
    db.session.commit()
    assert report.changes == ("plain_notes: None -> True",)
    assert build_manifest(event)["plain_notes"] is True
    event_file.write_text(text.replace("[event]\n", "[event]\nplain_notes = false\n", 1))
    load_event_file(event_file)
    db.session.commit()
    assert build_manifest(event)["plain_notes"] is False


def test_printed_board_that_has_met_a_plain_note_keeps_looking_for_them(
    scan, event, create_session
):
    create_session(title="Printed")
    scan([seen_note(TITLES[0], (A, TEN))])
    assert build_manifest(event)["plain_notes"] is True


def test_event_file_plain_notes_must_be_true_or_false(event_file):
    text = event_file.read_text(encoding="utf-8")
    event_file.write_text(text.replace("[event]\n", '[event]\nplain_notes = "yes"\n', 1))
    with pytest.raises(ServiceError, match=r"\[event\]: plain_notes must be true or false"):
        load_event_file(event_file)
