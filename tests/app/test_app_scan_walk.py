"""The walk of one ``POST /api/scans`` through the app, as docs/architecture.md's hop list says."""

from __future__ import annotations

import sys
from pathlib import Path

from app_wall import layouts

import app as app_package

ROOT = Path(app_package.__file__).parent.parent


def _module(code) -> str | None:
    path = Path(code.co_filename)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT / "app") else None


def calls_between_modules(call) -> list[tuple[str | None, str, str]]:
    """Return every call a ``call`` makes from one module into an ``app/`` module, in order, as
    (calling module or None outside ``app/``, called module, function)."""
    calls = []

    def profile(frame, event, arg):
        if event != "call":
            return
        callee = _module(frame.f_code)
        caller = _module(frame.f_back.f_code) if frame.f_back else None
        if callee is not None and caller != callee:
            calls.append((caller, callee, frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return calls


def test_post_scan_walks_the_hop_list(client, wall_event):
    body = {
        "scan_id": "cam-walk",
        "board_found": True,
        "stickies": [
            {"code": code, "room": room, "slot": slot, "via": "marker"}
            for code, (room, slot) in layouts(wall_event)[0].items()
        ],
        "hidden_cells": [],
        "warnings": [],
    }
    headers = {"Authorization": f"Bearer {wall_event['token']}"}
    answers = []
    calls = calls_between_modules(
        lambda: answers.append(client.post("/api/scans", json=body, headers=headers))
    )
    assert answers[0].status_code == 201
    # Steps 1-5 of the hop list: the view (which parses the body into typed observations), ingest,
    # the scan rules, the board rules, the news of the moves.
    hops = [
        "views/api",
        "services/observations",
        "services/ingest",
        "services/scans",
        "services/board",
        "services/outbox",
    ]
    first = list(dict.fromkeys(callee for _, callee, _ in calls))
    assert [m for m in first if m.removeprefix("app/").removesuffix(".py") in hops] == [
        f"app/{hop}.py" for hop in hops
    ]
    # The body is parsed once, at the API's edge (then the scan's record is the typed value's
    # own JSON); the scan rules are entered once, by ingest.
    into = {}
    for caller, callee, name in calls:
        into.setdefault(callee, []).append((caller, name))
    assert into["app/services/observations.py"] == [
        ("app/views/api.py", "read_observations"),
        ("app/services/scans.py", "to_json"),
    ]
    assert into["app/services/scans.py"] == [("app/services/ingest.py", "apply_scan")]
    # Ingest is entered from the view once for the scan, and from nowhere else.
    into_ingest = {
        (caller, name) for caller, callee, name in calls if callee.endswith("/ingest.py")
    }
    assert ("app/views/api.py", "ingest_observations") in into_ingest
    assert {caller for caller, _ in into_ingest} <= {"app/views/api.py", "app/services/ingest.py"}
