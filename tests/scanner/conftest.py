"""Fixtures for the scanner tests."""

import pytest
from scanner_shots import CLOSE, CLOSE_CAMERA, shot_of


@pytest.fixture
def small_shot():
    return shot_of()


@pytest.fixture
def close_shot():
    """Return a photo close enough for the stickies' QR codes to read (about 3 px per module)."""
    return shot_of(CLOSE, CLOSE_CAMERA, seed=2)
