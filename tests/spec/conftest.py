"""Shared helpers for the sandboxes.yaml spec tests: fixture folders, a fixed `today`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BAD = HERE / "bad"
GOOD = HERE / "good"
TODAY = dt.date(2026, 1, 15)  # every fixture is read as of this day, never the wall clock


@pytest.fixture
def today() -> dt.date:
    return TODAY
