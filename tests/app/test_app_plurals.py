"""Counts read "1 sticky" and "2 stickies": one helper picks the noun for the CLI and the pages."""

import pytest

from app.services.text import plural

ONE_ROOM_TOML = """
[event]
name = "Small camp"
slug = "small"
timezone = "UTC"
base_url = "http://localhost:5000"

[[rooms]]
name = "Hall A"
capacity = 1

[[slots]]
start = "2026-09-26T10:00"
end = "2026-09-26T10:45"
"""


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (0, "sticky", "0 stickies"),
        (1, "sticky", "1 sticky"),
        (2, "sticky", "2 stickies"),
        (1, "room", "1 room"),
        (5, "room", "5 rooms"),
        (2, "day", "2 days"),
        (2, "box", "2 boxes"),
        (1, "session sticky", "1 session sticky"),
    ],
)
def test_plural_picks_the_noun_for_the_count(count, noun, expected):
    assert plural(count, noun) == expected


def test_plural_takes_an_irregular_form():
    assert [plural(n, "person", "people") for n in (1, 3)] == ["1 person", "3 people"]


def test_event_load_of_one_room_and_one_slot_says_so_in_the_singular(runner, tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(ONE_ROOM_TOML, encoding="utf-8")
    result = runner.invoke("event", "load", str(path))
    assert result.output.splitlines()[-1] == "Event 'small': 1 room, 1 slot (UTC)."
    shown = runner.invoke("event", "show")
    assert "  1. Hall A, 1 seat (marker 4)" in shown.output.splitlines()


def test_print_one_sticky_and_its_manifest_say_sticky(runner, event, tmp_path):
    result = runner.invoke("print", "stickies", "--count", "1", "-o", str(tmp_path / "one.pdf"))
    assert result.exit_code == 0, result.output
    assert "Batch 1: 1 session sticky (note-76, a4)" in result.output
    manifest = tmp_path / "manifest.json"
    written = runner.invoke("manifest", "-o", str(manifest))
    assert written.output == f"Manifest with 1 sticky written to {manifest}.\n"
