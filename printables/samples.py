"""Render sample sheets of every kind to PNG, for the README and for a look before printing.

Run `python -m printables.samples OUT_DIR [DPI]`. Page images are painted from the same drawing
that becomes the PDF, at `dpi` (100 by default), origin at the page's top-left.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .drawing import paint_image
from .output import _kit_pages, _out_dir, _save, _sticky_pages
from .specs import DEFAULT_MARKER_DICTIONARY, CardSpec, KitSpec, StickySpec
from .templates import get_template

BASE = "http://localhost:5000"
SAMPLE_CODES = ("7KQ2XM", "3HV9TA", "P0W4ZD", "9RN6EF", "B8XJ2K", "M5T1QC", "Z2D7WG", "4YH8NP")
SAMPLE_KEYS = ("K3Y9AB", "R8W2QD", "5TJ0MC", "HV4N7E", "2XPG6K", "QM9F1Z", "W7C3RT", "D6B0YS")


def sample_stickies(n: int) -> list[StickySpec]:
    """Return `n` sample stickies, sessions and people in turn, marker ids from 20."""
    return [
        StickySpec(
            code=code,
            qr_text=f"{BASE}/s/{code}?k={key}",
            marker_id=20 + i,
            kind="session" if i % 2 == 0 else "person",
            label="PyCon India Open Spaces",
            key=key,
        )
        for i, (code, key) in enumerate(zip(SAMPLE_CODES[:n], SAMPLE_KEYS, strict=False))
    ]


def sample_kit() -> KitSpec:
    """Return a sample kit: four corners, four rooms and four slots, ids as the app allots them."""
    rooms = ("Hall A", "Salle Économie", "会议室", "Auditorium Dr. A. P. J. Abdul Kalam, Wing B")
    return KitSpec(
        event_name="PyCon India Open Spaces",
        board_url=f"{BASE}/board",
        corners=tuple(CardSpec("corner", k, i, "") for i, k in enumerate(("tl", "tr", "br", "bl"))),
        rooms=tuple(
            CardSpec("room", r, 4 + i, r, f"{(i + 1) * 20} seats", f"{BASE}/rooms/{i + 1}")
            for i, r in enumerate(rooms)
        ),
        slots=tuple(
            CardSpec("slot", f"2026-09-26T{h}:00", 8 + i, f"{h}:00–{h}:45", "Sat 26 Sep")
            for i, h in enumerate(("10", "11", "12", "14"))
        ),
    )


def render_samples(out_dir: str | Path, *, dpi: float = 100) -> list[Path]:
    """Write sheet-TEMPLATE.png for each template's first page and kit-*.png for the kit."""
    folder = _out_dir(out_dir)
    paths = []
    for name in ("note-76", "note-102x76", "label-a4", "label-letter", "card-a6"):
        t = get_template(name)
        paper = t.papers[0]
        page = next(
            _sticky_pages(sample_stickies(t.per_page), t, paper, DEFAULT_MARKER_DICTIONARY, None)
        )
        paths.append(_save(paint_image(page, dpi=dpi), folder / f"sheet-{name}.png", dpi))
    pages = list(_kit_pages(sample_kit(), "a4", DEFAULT_MARKER_DICTIONARY, None))
    for page, name in zip(pages, ("poster", "corners", "corners-2", "rooms", "slots"), strict=True):
        if name == "corners-2":
            continue
        paths.append(_save(paint_image(page, dpi=dpi), folder / f"kit-{name}.png", dpi))
    return paths


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "docs/img"
    for path in render_samples(out, dpi=float(sys.argv[2]) if len(sys.argv) > 2 else 100):
        print(path)
