"""The board's rule for taking a sticky off counts the time it has been missing as well as the scans.

Times are UTC capture times of the scans, in seconds after a fixed start.
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.models import BoardStatus
from app.services.board import MISSING_FOR_S
from app.services.observations import parse_observations
from app.services.scans import apply_scan

A, TEN = "Hall A", "2026-09-26T10:00"
START = dt.datetime(2026, 9, 26, 10, 0, tzinfo=dt.UTC)
REMOVE_AFTER = 3


@pytest.fixture
def scan_at(event):
    """Apply a scan captured ``seconds`` after START that sees ``seen`` in Hall A at ten."""
    counter = iter(range(1, 10_000))

    def apply(seconds, seen=(), *, hidden=False):
        captured = START + dt.timedelta(seconds=seconds)
        body = {
            "scan_id": f"s{next(counter)}",
            "board_found": True,
            "captured_dt": captured.isoformat().replace("+00:00", "Z"),
            "stickies": [{"code": s.code, "room": A, "slot": TEN, "via": "marker"} for s in seen],
            "hidden_cells": [[A, TEN]] if hidden else [],
            "warnings": [],
        }
        outcome = apply_scan(
            event=event,
            observations=parse_observations(body),
            source="test",
            remove_after=REMOVE_AFTER,
            now=captured + dt.timedelta(seconds=1),
        )
        db.session.commit()
        return [(c["code"], c["to"]["status"]) for c in outcome.changes]

    return apply


def test_missing_for_s_is_four_seconds():
    assert MISSING_FOR_S == 4.0


def test_sticky_missed_twice_four_seconds_apart_comes_off(scan_at, create_session):
    sticky = create_session()
    scan_at(0, [sticky])
    assert scan_at(5) == []
    assert sticky.board_status == BoardStatus.PLACED
    assert scan_at(9) == [(sticky.code, "none")]
    assert sticky.board_status == BoardStatus.NONE
    assert (sticky.missed_scans, sticky.missed_since_dt) == (0, None)


def test_sticky_missed_twice_within_seconds_stays_until_the_third_scan(scan_at, create_session):
    sticky = create_session()
    scan_at(0, [sticky])
    assert scan_at(5) == []
    assert scan_at(8.5) == []
    assert (sticky.board_status, sticky.missed_scans) == (BoardStatus.PLACED, 2)
    assert sticky.missed_since_dt == START + dt.timedelta(seconds=5)
    assert scan_at(9) == [(sticky.code, "none")]


def test_one_scan_missing_a_sticky_never_takes_it_off_however_late(scan_at, create_session):
    sticky = create_session()
    scan_at(0, [sticky])
    assert scan_at(600) == []
    assert scan_at(601, [sticky]) == []
    assert scan_at(1200) == []
    assert (sticky.board_status, sticky.missed_scans) == (BoardStatus.PLACED, 1)


def test_hidden_cell_starts_the_missing_time_again(scan_at, create_session):
    sticky = create_session()
    scan_at(0, [sticky])
    assert scan_at(5) == []
    assert scan_at(10, hidden=True) == []
    assert (sticky.missed_scans, sticky.missed_since_dt) == (0, None)
    assert scan_at(15) == []
    assert scan_at(18) == []
    assert scan_at(19) == [(sticky.code, "none")]
