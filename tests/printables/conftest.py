"""Fixtures for the printables tests."""

from __future__ import annotations

import pytest
from printables_testkit import make_kit, make_stickies

from printables import KitSpec, StickySpec


@pytest.fixture
def stickies() -> list[StickySpec]:
    return make_stickies(9)


@pytest.fixture
def kit() -> KitSpec:
    return make_kit()
