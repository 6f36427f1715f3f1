"""Handwritten stickies that the OCR tests share: real fonts, photographed and rectified."""

import os
from functools import cache

import pytest

from benchmarks.ocr_bench import HANDS, area_for, photograph_sticky, sticky_with_title
from scanner import ocr

HAND = {h.name: h for h in HANDS}
NOTE_76 = area_for("note-76")

needs_engine = pytest.mark.skipif(
    not ocr.engine_available(ocr.DEFAULT_ENGINE),
    reason=f"the {ocr.DEFAULT_ENGINE} text recogniser is not installed (pyproject installs it)",
)


def needs_hand(name: str):
    """Skip unless the handwriting font `name` is installed (.ci/run installs its package)."""
    hand = HAND[name]
    return pytest.mark.skipif(
        not os.path.exists(hand.path),
        reason=f"font {hand.path} missing: apt-get install {hand.package}",
    )


@cache
def handwritten(title: str, hand: str, px_per_mm: float, seed: int):
    """Return a rectified photo (BGR) of a note-76 sticky with `title` written in `hand`."""
    flat, _ = sticky_with_title(title, HAND[hand], seed=seed)
    return photograph_sticky(flat, px_per_mm=px_per_mm, seed=seed)
