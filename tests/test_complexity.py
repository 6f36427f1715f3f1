"""Functions small enough to read: radon's cyclomatic complexity, at most 15 in the app and 20 in
the scanner (whose image stages branch on what a photo holds)."""

from __future__ import annotations

from pathlib import Path

import pytest
from radon.complexity import cc_visit
from radon.visitors import Class

ROOT = Path(__file__).resolve().parents[1]
LIMITS = {"app": 15, "scanner": 20}


def blocks(path: Path):
    """Yield each function and method in ``path`` with its complexity."""
    for block in cc_visit(path.read_text(encoding="utf-8")):
        if isinstance(block, Class):
            yield from block.methods
        else:
            yield block


@pytest.mark.parametrize("package", sorted(LIMITS))
def test_complexity_no_function_above_the_packages_limit(package):
    limit = LIMITS[package]
    too_complex = [
        f"{path.relative_to(ROOT)}:{block.lineno} {block.name} ({block.complexity})"
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for block in blocks(path)
        if block.complexity > limit
    ]
    assert too_complex == []
