"""A live region's changed parts: only what differs, or nothing when more than parts changed."""

import pytest

from app.live.parts import changed_parts, split_parts

OLD = (
    '<span hidden data-part="clock" data-now="1"></span>'
    "<table><tr>"
    '<td class="cell" data-part="cell-1-1" data-room="A" data-slot="10:00"></td>'
    '<td class="cell" data-part="cell-2-1" data-room="B" data-slot="10:00">'
    '<a class="note"><span>Rust</span></a></td>'
    "</tr></table>"
)


def test_split_parts_cuts_each_part_out_of_the_skeleton():
    skeleton, parts = split_parts(OLD)
    assert list(parts) == ["clock", "cell-1-1", "cell-2-1"]
    assert parts["cell-2-1"].endswith("<span>Rust</span></a></td>")
    assert skeleton == "\x00clock\x00<table><tr>\x00cell-1-1\x00\x00cell-2-1\x00</tr></table>"


def test_changed_parts_returns_only_the_parts_that_differ():
    moved = '<td class="cell" data-part="cell-1-1" data-room="A" data-slot="10:00"><a>Go</a></td>'
    new = OLD.replace(
        '<td class="cell" data-part="cell-1-1" data-room="A" data-slot="10:00"></td>', moved
    )
    assert changed_parts(OLD, new) == {"cell-1-1": moved}
    assert changed_parts(OLD, OLD) == {}


@pytest.mark.parametrize(
    "new",
    [
        OLD.replace("<table>", '<table class="grid">'),  # outside the parts
        OLD.replace(
            '<td class="cell" data-part="cell-1-1" data-room="A" data-slot="10:00"></td>', ""
        ),
        OLD.replace("</td></tr>", "</tr>"),  # a part left open
        OLD.replace('data-part="cell-1-1"', 'data-part="cell-2-1"'),  # a key twice
    ],
    ids=["skeleton", "part-gone", "unclosed", "duplicate-key"],
)
def test_changed_parts_is_none_when_more_than_parts_changed(new):
    assert changed_parts(OLD, new) is None
