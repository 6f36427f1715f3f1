"""Helpers the app tests share: the sample event file, UTC times, CSRF tokens and thread races.

Fixtures live in conftest.py; these are plain functions and values that tests import.
"""

from __future__ import annotations

import datetime as dt
import re
import threading

from benchmarks.demo_wall import event_toml

EVENT_TOML = event_toml(
    name="PyCon India Open Spaces",
    slug="pycon-india",
    timezone="Asia/Kolkata",
    rooms=[("Hall A", 40), ("Hall B", 2), "Terrace"],
    slots=[("2026-09-26T10:00", "2026-09-26T10:45"), ("2026-09-26T11:00", "2026-09-26T11:45")],
)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def run_together(count: int, work) -> list:
    """Run ``work(index, barrier)`` in ``count`` real threads; each waits at the barrier, then races.

    Return the results in index order; an exception in a thread is returned in its place.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = work(index, barrier)
        except Exception as exc:  # noqa: BLE001 - the test looks at every thread's outcome
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
